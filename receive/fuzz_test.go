package receive

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

var fuzzProviders = []string{
	hookd.ProviderStandard, hookd.ProviderStripe, hookd.ProviderGitHub, hookd.ProviderLinear,
	hookd.ProviderShopify, hookd.ProviderSlack, hookd.ProviderHMACHex, hookd.ProviderTimestampedHex,
}

// FuzzIdentify reads the type and provider id out of arbitrary bodies and
// header values for every provider, as a received request is read: what
// goes to the store is valid UTF-8, without NUL, at most inboundTextLimit
// bytes, and a prefix of what the sender wrote where that was plain text.
func FuzzIdentify(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","type":"invoice.paid"}`), "push", "d-1", "application/json")
	f.Add([]byte(`{"action":"opened","type":"Issue","event":{"type":"app_mention"},"event_id":"Ev1"}`), "issues", "72d3162e", "")
	f.Add([]byte(`{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`), "", "", "text/plain")
	f.Add([]byte(`{"action":"a\u0000b","type":"\ud800","event":"x\u0000"}`), "\xff\xfe", strings.Repeat("é", 200), "\xc3")
	f.Add([]byte(`{"event":{"type":1},"id":{}}`), "a\x00", "", "")
	f.Fuzz(func(t *testing.T, body []byte, event, delivery, contentType string) {
		for _, p := range fuzzProviders {
			h := http.Header{}
			for _, name := range []string{"X-GitHub-Event", "X-Shopify-Topic"} {
				h.Set(name, event)
			}
			for _, name := range []string{"webhook-id", "X-GitHub-Delivery", "Linear-Delivery", "X-Shopify-Webhook-Id", "X-Hook-Id"} {
				h.Set(name, delivery)
			}
			typ, id := identify(p, "X-Hook", h, body, delivery)
			for what, raw := range map[string]string{"type": typ, "provider id": id, "content type": contentType} {
				s := hookd.StorableText(raw, inboundTextLimit)
				if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || len(s) > inboundTextLimit {
					t.Fatalf("%s: %s %q is stored as %q", p, what, raw, s)
				}
				if utf8.ValidString(raw) && !strings.ContainsRune(raw, 0) && !strings.HasPrefix(raw, s) {
					t.Fatalf("%s: %s %q is stored as %q, not a prefix of it", p, what, raw, s)
				}
			}
			_ = slackChallenge(p, body)
		}
	})
}
