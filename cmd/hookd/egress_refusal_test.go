package main

import (
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/dnstest"
)

// refusalDNS answers the refusal test's names: internal.hookd.test is on a
// private network, loop.hookd.test on loopback, and rebind.hookd.test is
// public until rebound, then loopback. It counts the questions per name.
type refusalDNS struct {
	rebound atomic.Bool
	mu      sync.Mutex
	asked   map[string]int
}

func (d *refusalDNS) answer(name string, qtype uint16) ([]netip.Addr, bool) {
	d.mu.Lock()
	d.asked[name]++
	d.mu.Unlock()
	if qtype != 1 { // A records only: the names have no IPv6 address
		return nil, strings.HasSuffix(name, ".hookd.test")
	}
	switch {
	case name == "internal.hookd.test":
		return []netip.Addr{netip.MustParseAddr("10.1.2.3")}, true
	case name == "loop.hookd.test", name == "rebind.hookd.test" && d.rebound.Load():
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, true
	case strings.HasSuffix(name, ".hookd.test"):
		return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, true
	}
	return nil, false
}

func (d *refusalDNS) count(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.asked[name]
}

// A URL whose host resolves to a blocked address is refused wherever it
// is given, and at dial time, with words that say so and never the
// address: what an internal name resolves to is the operator's secret.
func TestURLRefusalsRevealNoAddress(t *testing.T) {
	t.Parallel()
	dns := &refusalDNS{asked: map[string]int{}}
	srv := startServer(t, func(c *Config) {
		c.AllowPrivateNetworks = false
		c.Resolver = dnstest.NewResolver(t, dns.answer)
	})
	e := dlvSetupOn(t, srv, `{"retry":{"schedule_seconds":[0.05],"max_attempts":1,"jitter":0}}`, "refusal.ping")
	app := e.app.ID
	const resolves = "host resolves to a private, loopback or link-local address"
	noAddress := func(t *testing.T, msg string) {
		t.Helper()
		for _, addr := range []string{"10.1.2.3", "127.0.0.1"} {
			if strings.Contains(msg, addr) {
				t.Errorf("message %q reveals the address %s", msg, addr)
			}
		}
	}

	t.Run("webhook create", func(t *testing.T) {
		r := apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/webhooks", map[string]any{"url": "https://internal.hookd.test/hook"})
		noAddress(t, apiWantError(t, r, http.StatusBadRequest, "BAD_REQUEST", "url "+resolves))
	})
	t.Run("webhook patch", func(t *testing.T) {
		w := e.webhook(&client.WebhookInput{URL: client.Ptr("https://public.hookd.test/hook"), Events: []string{"refusal.ping"}})
		r := apiAdmin(t, srv, "PATCH", "/v1/apps/"+app+"/webhooks/"+w.ID, map[string]any{"url": "https://loop.hookd.test/hook"})
		noAddress(t, apiWantError(t, r, http.StatusBadRequest, "BAD_REQUEST", "url "+resolves))
		apiWant(t, apiAdmin(t, srv, "DELETE", "/v1/apps/"+app+"/webhooks/"+w.ID, nil), http.StatusOK)
	})
	t.Run("one-off webhook_url", func(t *testing.T) {
		r := apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events", map[string]any{"type": "refusal.ping", "data": map[string]any{}, "webhook_url": "https://loop.hookd.test/hook"})
		noAddress(t, apiWantError(t, r, http.StatusBadRequest, "BAD_REQUEST", "webhook_url "+resolves))
	})
	t.Run("source forward_url", func(t *testing.T) {
		r := apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/sources", map[string]any{"name": "in", "provider": "github", "secret": "s3cret", "forward_url": "https://internal.hookd.test/in"})
		noAddress(t, apiWantError(t, r, http.StatusBadRequest, "BAD_REQUEST", "forward_url "+resolves))
	})
	t.Run("batch resolves each host once", func(t *testing.T) {
		hosts := []string{"a.hookd.test", "b.hookd.test", "c.hookd.test"}
		var events []map[string]any
		for i := range 300 {
			events = append(events, map[string]any{"type": "refusal.ping", "data": map[string]any{"n": i}, "webhook_url": "https://" + hosts[i%3] + "/hook"})
		}
		events[250]["webhook_url"] = "https://internal.hookd.test/hook"
		events[280]["webhook_url"] = "https://internal.hookd.test/other"
		before := dns.count("internal.hookd.test")
		r := apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events/batch", map[string]any{"events": events})
		noAddress(t, apiWantError(t, r, http.StatusBadRequest, "BAD_REQUEST", "events[250].webhook_url "+resolves))
		// A and AAAA, once each per distinct host.
		for _, h := range hosts {
			if n := dns.count(h); n > 2 {
				t.Errorf("%s was asked about %d times for one batch, want at most twice (A and AAAA)", h, n)
			}
		}
		if n := dns.count("internal.hookd.test") - before; n > 2 {
			t.Errorf("internal.hookd.test was asked about %d times for one batch, want at most twice", n)
		}
	})
	t.Run("dial time", func(t *testing.T) {
		e.webhook(&client.WebhookInput{URL: client.Ptr("https://rebind.hookd.test:1/hook"), Events: []string{"refusal.ping"}})
		dns.rebound.Store(true)
		defer dns.rebound.Store(false)
		d := e.waitStatus(e.onlyDelivery(e.publishType("refusal.ping", 1).ID), "failed")
		if len(d.Attempts) != 1 || d.Attempts[0].Error == nil {
			t.Fatalf("delivery %+v, want one attempt with an error", d)
		}
		msg := *d.Attempts[0].Error
		noAddress(t, msg)
		if want := "refused rebind.hookd.test: it resolves to a private, loopback, link-local or otherwise not allowed address"; !strings.Contains(msg, want) {
			t.Errorf("attempt error = %q, want it to say %q", msg, want)
		}
	})
}
