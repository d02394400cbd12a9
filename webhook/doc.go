// Package webhook signs and verifies webhook requests. It is what hookd uses
// to sign its deliveries and to check inbound ones, and it is meant to be
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
// Timestamps are Unix seconds. Header names are matched without regard to
// case when verifying; [Sign] returns them spelled exactly as they should go
// on the wire.
//
// # Rotation
//
// Secrets are passed newest first. [Sign] signs with all of them where the
// scheme can carry several signatures (Standard, Stripe) and with the newest
// alone where it cannot (HMACHex, TimestampedHex). [Verify] accepts a request
// whose signature matches any of the secrets, so a receiver may list the new
// and the old secret while a rotation is under way.
//
// # Errors
//
// Every error [Verify] returns because of the request itself wraps exactly
// one of [ErrMissingHeader], [ErrInvalidSignature] (a malformed header
// included) or [ErrTimestampOutOfTolerance]; test them with errors.Is. Errors
// that come from the caller's configuration wrap [ErrUnknownScheme] or
// [ErrInvalidSecret]. Verify never panics, whatever the headers hold.
package webhook
