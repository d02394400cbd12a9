package main

import (
	"net/http"
	"testing"
	"time"
)

// srcE2EIDHeader is a provider whose delivery id travels in a header.
type srcE2EIDHeader struct {
	provider srcE2EProvider
	header   string   // the header its delivery id travels in
	all      []string // every header the provider's id may travel in
}

// srcE2EIDHeaders lists every provider whose delivery id travels in a
// header (Stripe's and Slack's are in the signed body), with that header.
func srcE2EIDHeaders(tb testing.TB) []srcE2EIDHeader {
	tb.Helper()
	headers := map[string][]string{
		"standard":        {"webhook-id"},
		"github":          {"X-GitHub-Delivery"},
		"linear":          {"Linear-Delivery"},
		"shopify":         {"X-Shopify-Webhook-Id", "X-Shopify-Event-Id"},
		"hmac-hex":        {"X-Alloy-Id"},
		"timestamped-hex": {"X-Wazza-Id"},
	}
	var out []srcE2EIDHeader
	for _, p := range srcE2EProviders {
		for _, name := range headers[p.provider] {
			out = append(out, srcE2EIDHeader{provider: p, header: name, all: headers[p.provider]})
		}
	}
	if len(out) != 7 {
		tb.Fatalf("found %d provider id headers, want 7", len(out))
	}
	return out
}

// createFor creates a source of provider p forwarding to url and returns
// it with its secret.
func (e *srcE2EEnv) createFor(p srcE2EProvider, url string) (*srcE2ESource, string) {
	e.tb.Helper()
	in := map[string]any{"name": "From " + p.provider, "provider": p.provider, "forward_url": url}
	if p.secret != "" {
		in["secret"] = p.secret
	}
	if p.prefix != "" {
		in["header_prefix"] = p.prefix
	}
	src := e.create(in)
	return src, *src.Secret
}

// A Standard Webhooks request replayed word for word, but with an empty
// webhook-id header sent before the real one, is the delivery already
// recorded: it answers the first event and is neither stored nor
// forwarded again.
func TestSourceReplayWithEmptyIDHeaderFirst(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	rc := newReceiver(t, nil)
	standard := srcE2EProviders[0]
	src, secret := env.createFor(standard, rc.URL)
	h, body := standard.signed(t, secret, "msg_2Lh6fJ0replayed", time.Now())
	id := srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, body))
	rc.waitFor(t, 1, srcE2EWait)

	replay := h.Clone()
	replay["Webhook-Id"] = []string{"", h.Get("webhook-id")}
	r := srcE2EReceive(t, src.ReceiveURL, replay, body)
	if again := srcE2EWantReceived(t, r); again != id || r.Body["duplicate"] != true {
		t.Fatalf("replay answered %s, want the first event %s as a duplicate", r.Raw, id)
	}
	srcE2EQuietFor(t, srcE2EQuiet, "forwards after the replay", func() int { return len(rc.Received()) })
	if evs := env.events(src.ID); len(evs) != 1 {
		t.Fatalf("after the replay the source has %d events, want 1: %v", len(evs), evs)
	}
	if n := len(env.deliveries(src.ID)); n != 1 {
		t.Fatalf("after the replay the source has %d deliveries, want 1", n)
	}
}

// For every provider whose delivery id travels in a header: the id given
// twice (two ids, or one id twice) is refused with 400 and nothing is
// stored or forwarded; an empty id header before the real one does not
// hide the id from deduplication.
func TestSourceDuplicateIDHeaders(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	for _, c := range srcE2EIDHeaders(t) {
		t.Run(c.provider.provider+"/"+c.header, func(t *testing.T) {
			t.Parallel()
			env := *env
			env.tb = t
			p := c.provider
			rc := newReceiver(t, nil)
			src, secret := env.createFor(p, rc.URL)
			// signedWith signs a delivery of id pid, then sends its id
			// header as ids.
			signedWith := func(pid string, ids ...string) (http.Header, []byte) {
				h, body := p.message(pid, time.Now())
				for _, name := range c.all {
					h.Del(name)
				}
				h.Set(c.header, pid)
				p.sign(t, h, secret, time.Now(), body)
				h[http.CanonicalHeaderKey(c.header)] = ids
				return h, body
			}
			for _, ids := range [][]string{{"dup-a", "dup-b"}, {"dup-a", "dup-a"}, {"dup-a", "", "dup-b"}} {
				h, body := signedWith("dup-a", ids...)
				msg := srcE2EWantError(t, srcE2EReceive(t, src.ReceiveURL, h, body), http.StatusBadRequest, "BAD_REQUEST")
				t.Logf("%s %q: 400 %q", c.header, ids, msg)
			}
			env.wantNothingStored(src.ID)
			if n := len(env.deliveries(src.ID)); n != 0 {
				t.Fatalf("refused requests made %d deliveries", n)
			}

			h, body := signedWith("one-id", "one-id")
			id := srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, body))
			rc.waitFor(t, 1, srcE2EWait)
			h, body = signedWith("one-id", "", "one-id")
			r := srcE2EReceive(t, src.ReceiveURL, h, body)
			if again := srcE2EWantReceived(t, r); again != id || r.Body["duplicate"] != true {
				t.Fatalf("resend with an empty %s first answered %s, want the first event %s as a duplicate", c.header, r.Raw, id)
			}
			srcE2EQuietFor(t, srcE2EQuiet, "forwards after the resend", func() int { return len(rc.Received()) })
			evs := env.events(src.ID)
			if len(evs) != 1 || evs[0].ProviderEventID == nil || *evs[0].ProviderEventID != "one-id" {
				t.Fatalf("source has events %v, want one with provider_event_id one-id", evs)
			}
		})
	}
}
