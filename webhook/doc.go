// Package webhook signs and verifies webhook requests. It is what hookd uses
// to sign its deliveries and to check inbound ones (its own schemes and
// those of third-party providers), and it is meant to be
// imported on its own by the services that receive hookd's webhooks: it
// depends on nothing but the standard library.
//
// A receiver reads the raw request body, before any JSON parsing, and hands
// it with the request headers to [Verify]:
//
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	...
//	err = webhook.Verify(webhook.Options{Scheme: webhook.Standard}, []string{secret}, r.Header, body)
//	if err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
//
// # Schemes
//
// Each [Scheme] is one way of signing; all of them use HMAC-SHA256.
//
//   - [Standard] follows the Standard Webhooks specification: headers
//     webhook-id, webhook-timestamp and webhook-signature: v1,<base64>; the
//     signed bytes are "{id}.{timestamp}.{body}" and the key is the
//     base64-decoded part of the secret after "whsec_".
//   - [Stripe]: {prefix}-Signature: t=<timestamp>,v1=<hex>[,v1=<hex>...] over
//     "{timestamp}.{body}", keyed by the secret string as is.
//   - [HMACHex]: {prefix}-Signature: <hex> over the body alone, keyed by the
//     secret string as is.
//   - [TimestampedHex]: {prefix}-Signature: <hex> and {prefix}-Timestamp:
//     <timestamp> over "{timestamp}.{body}", keyed by the secret string as is.
//
// # Providers
//
// The provider schemes sign as the provider publishes, under the
// provider's own header names: Options.HeaderPrefix does not apply. Each is
// keyed by the secret string as is (the provider's webhook or signing
// secret). The stripe scheme with an empty prefix is Stripe's own
// Stripe-Signature, read as Stripe's libraries read it.
//
//   - [GitHub]: X-Hub-Signature-256: sha256=<hex> over the body. No
//     timestamp is signed.
//   - [Linear]: Linear-Signature: <hex> over the body. Linear puts the send
//     time in the body instead, as the top-level field webhookTimestamp in
//     Unix milliseconds; where a signed body has one, Verify holds it to
//     the tolerance (Linear suggests a minute: set Options.Tolerance). Sign
//     leaves the body as the caller wrote it.
//   - [Shopify]: X-Shopify-Hmac-Sha256: <base64> over the body. No
//     timestamp is signed.
//   - [Slack]: X-Slack-Signature: v0=<hex> over
//     "v0:{timestamp}:{body}", with the timestamp in
//     X-Slack-Request-Timestamp.
//
// Without a signed timestamp (GitHub, Shopify, HMACHex, a Linear body
// without webhookTimestamp) Verify cannot refuse a replay: a receiver
// deduplicates on the provider's delivery id instead.
//
// A Standard message's id is signed: deduplicate on the id
// [VerifyMessage] returns, which is the one the signature covers, never on
// a header read again (http.Header.Get answers the first value, and a
// replay may put an empty webhook-id before the real one). Verify refuses
// a Standard message that carries two ids.
//
// Timestamps are Unix seconds unless said otherwise. Header names are
// matched without regard to case when verifying; [Sign] returns them
// spelled exactly as they should go on the wire.
//
// # Rotation
//
// Secrets are passed newest first. [Sign] signs with all of them where the
// scheme can carry several signatures (Standard, Stripe) and with the newest
// alone where it cannot (HMACHex, TimestampedHex and the providers other
// than Stripe). [Verify] accepts a request
// whose signature matches any of the secrets, so a receiver may list the new
// and the old secret while a rotation is under way.
//
// # Errors
//
// Every error [Verify] returns because of the request itself wraps exactly
// one of [ErrMissingHeader], [ErrInvalidSignature] (a malformed header, or a
// malformed webhookTimestamp in a Linear body, included) or
// [ErrTimestampOutOfTolerance]; test them with errors.Is. Errors
// that come from the caller's configuration wrap [ErrUnknownScheme] or
// [ErrInvalidSecret]. Verify never panics, whatever the headers hold.
package webhook
