package receive

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hookd/hookd"
)

// identify reads what kind of event a provider sent and the provider's own
// id of it, from the headers and the body where that provider puts them.
// Either may be empty.
func identify(provider, prefix string, h http.Header, body []byte) (eventType, providerID string) {
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
	switch provider {
	case hookd.ProviderStandard:
		return doc.Type, h.Get("webhook-id")
	case hookd.ProviderStripe:
		return doc.Type, doc.ID
	case hookd.ProviderGitHub:
		return withAction(h.Get("X-GitHub-Event")), h.Get("X-GitHub-Delivery")
	case hookd.ProviderLinear:
		return withAction(doc.Type), h.Get("Linear-Delivery")
	case hookd.ProviderShopify:
		id := h.Get("X-Shopify-Webhook-Id")
		if id == "" {
			id = h.Get("X-Shopify-Event-Id")
		}
		return h.Get("X-Shopify-Topic"), id
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
		return typ, h.Get(prefix + "-Id")
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
