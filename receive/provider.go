package receive

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hookd/hookd"
)

// idHeaders names the headers a provider puts its own delivery id in, in
// the order they are read; none where the id is in the body (Stripe,
// Slack), whose signature covers it.
func idHeaders(provider, prefix string) []string {
	switch provider {
	case hookd.ProviderStandard:
		if prefix == "" {
			prefix = "webhook"
		}
		return []string{prefix + "-id"}
	case hookd.ProviderStripe, hookd.ProviderSlack:
		return nil
	case hookd.ProviderGitHub:
		return []string{"X-GitHub-Delivery"}
	case hookd.ProviderLinear:
		return []string{"Linear-Delivery"}
	case hookd.ProviderShopify:
		return []string{"X-Shopify-Webhook-Id", "X-Shopify-Event-Id"}
	default: // hmac-hex, timestamped-hex
		return []string{prefix + "-Id"}
	}
}

// checkIDHeaders refuses a request that names more than one delivery id:
// deduplication must rest on one id, the one the provider sent, and a
// replay that adds a second id header must not pass for a new delivery.
// Empty values are passed over, as verification passes over them.
func checkIDHeaders(provider, prefix string, h http.Header) error {
	for _, name := range idHeaders(provider, prefix) {
		if n := nonEmptyValues(h, name); n > 1 {
			return hookd.Errorf(hookd.EINVALID, "the %s header is given %d times; a delivery has one id", name, n)
		}
	}
	return nil
}

// nonEmptyValues counts the non-empty values of header name.
func nonEmptyValues(h http.Header, name string) int {
	n := 0
	for _, v := range h.Values(name) {
		if v != "" {
			n++
		}
	}
	return n
}

// firstValue is the first non-empty value of header name: after
// checkIDHeaders, its only one. (http.Header.Get would answer an empty
// value sent before it.)
func firstValue(h http.Header, name string) string {
	for _, v := range h.Values(name) {
		if v != "" {
			return v
		}
	}
	return ""
}

// identify reads what kind of event a provider sent and the provider's own
// id of it, from the headers and the body where that provider puts them.
// signedID is the message id the signature covered, where the provider's
// signature covers one (Standard Webhooks): that, not a header read
// again, is the id. Either result may be empty.
func identify(provider, prefix string, h http.Header, body []byte, signedID string) (eventType, providerID string) {
	var doc struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Event     json.RawMessage `json:"event"`
		Action    string          `json:"action"`
		EventID   string          `json:"event_id"`
		Challenge string          `json:"challenge"`
	}
	_ = json.Unmarshal(body, &doc) // bodies need not be JSON
	withAction := func(typ string) string {
		if typ != "" && doc.Action != "" {
			return typ + "." + doc.Action
		}
		return typ
	}
	fromHeaders := func() string {
		for _, name := range idHeaders(provider, prefix) {
			if v := firstValue(h, name); v != "" {
				return v
			}
		}
		return ""
	}
	switch provider {
	case hookd.ProviderStandard:
		return doc.Type, signedID
	case hookd.ProviderStripe:
		return doc.Type, doc.ID
	case hookd.ProviderGitHub:
		return withAction(h.Get("X-GitHub-Event")), fromHeaders()
	case hookd.ProviderLinear:
		return withAction(doc.Type), fromHeaders()
	case hookd.ProviderShopify:
		return h.Get("X-Shopify-Topic"), fromHeaders()
	case hookd.ProviderSlack:
		var inner struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(doc.Event, &inner) == nil && inner.Type != "" {
			return inner.Type, doc.EventID
		}
		return doc.Type, doc.EventID
	default: // hmac-hex, timestamped-hex
		typ := doc.Type
		if typ == "" {
			_ = json.Unmarshal(doc.Event, &typ)
		}
		return typ, fromHeaders()
	}
}

// slackChallenge returns the challenge of Slack's url_verification request,
// which Slack expects echoed back.
func slackChallenge(provider string, body []byte) string {
	if provider != hookd.ProviderSlack {
		return ""
	}
	var doc struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.Type == "url_verification" {
		return doc.Challenge
	}
	return ""
}

// droppedHeaders are not kept or forwarded: they belong to the hop, not to
// the provider's message, or they are credentials.
var droppedHeaders = map[string]bool{
	"Authorization": true, "Cookie": true, "Connection": true, "Keep-Alive": true, "Proxy-Authorization": true,
	"Proxy-Connection": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true, "Host": true, "Accept-Encoding": true, "Content-Type": true,
	"X-Forwarded-For": true, "X-Forwarded-Host": true, "X-Forwarded-Proto": true, "X-Real-Ip": true, "Forwarded": true,
}

// keptHeaders flattens the provider's headers for storing and forwarding,
// made storable: their values may hold bytes that are not UTF-8.
func keptHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if droppedHeaders[http.CanonicalHeaderKey(k)] {
			continue
		}
		out[hookd.StorableText(k, 0)] = hookd.StorableText(strings.Join(v, ", "), 0)
	}
	return out
}
