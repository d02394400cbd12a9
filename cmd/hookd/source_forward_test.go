package main

import (
	"bytes"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// srcE2EStandardRequest builds a Standard Webhooks request of message id
// msgID signed with secret now.
func srcE2EStandardRequest(tb testing.TB, secret, msgID string, body []byte) http.Header {
	tb.Helper()
	ts := srcE2EUnix(time.Now())
	return http.Header{"Content-Type": {"application/json"}, "Webhook-Id": {msgID}, "Webhook-Timestamp": {ts},
		"Webhook-Signature": {srcE2ESignStandard(tb, secret, msgID, ts, body)}}
}

// srcE2EPost sends a signed Standard Webhooks request to a source.
func srcE2EPost(tb testing.TB, src *srcE2ESource, secret, msgID string, body []byte) *srcE2EResp {
	tb.Helper()
	return srcE2EReceive(tb, src.ReceiveURL, srcE2EStandardRequest(tb, secret, msgID, body), body)
}

// A paused source stores what it receives and holds the forward until it
// is made active again; then the held forward goes out.
func TestSourcePausedHoldsForward(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	rc := newReceiver(t, nil)
	src := env.create(map[string]any{"name": "Paused", "forward_url": rc.URL})
	secret := *src.Secret
	if p := env.patch(src.ID, map[string]any{"status": "paused"}); p.Status != "paused" || !p.Enabled {
		t.Fatalf("PATCH status paused answered status %q enabled %t, want paused and true", p.Status, p.Enabled)
	}
	body := []byte(`{"type":"order.paid","data":{"n":1}}`)
	id := srcE2EWantReceived(t, srcE2EPost(t, src, secret, "msg_paused_1", body))
	evs := env.events(src.ID)
	if len(evs) != 1 || evs[0].ID != id {
		t.Fatalf("paused source stored %+v, want the event %s", evs, id)
	}
	d := env.onlyDelivery(src.ID)
	if d.Status != "held" || d.EventID != id {
		t.Fatalf("delivery of a paused source is %+v, want held for %s", d, id)
	}
	srcE2EQuietFor(t, srcE2EQuiet, "forwards of a paused source", func() int { return len(rc.Received()) })
	if n := len(rc.Received()); n != 0 {
		t.Fatalf("a paused source forwarded %d requests", n)
	}

	if p := env.patch(src.ID, map[string]any{"status": "active"}); p.Status != "active" || !p.Enabled {
		t.Fatalf("PATCH status active answered %q %t", p.Status, p.Enabled)
	}
	fwd := rc.waitFor(t, 1, srcE2EWait)[0]
	if !bytes.Equal(fwd.Body, body) {
		t.Fatalf("released forward %q, want %q", fwd.Body, body)
	}
	srcE2EHookdSigned(t, fwd, id, env.defaultSecret)
	env.waitDelivery(d.ID, "to succeed once released", func(d *srcE2EDelivery) bool { return d.Status == "succeeded" && d.AttemptCount == 1 })
}

// A disabled source answers 410 and stores nothing; enabled again, it
// receives.
func TestSourceDisabledIsGone(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	rc := newReceiver(t, nil)
	src := env.create(map[string]any{"name": "Disabled", "forward_url": rc.URL})
	secret := *src.Secret
	if p := env.patch(src.ID, map[string]any{"enabled": false}); p.Status != "disabled" || p.Enabled {
		t.Fatalf("PATCH enabled false answered status %q enabled %t", p.Status, p.Enabled)
	}
	body := []byte(`{"type":"x"}`)
	srcE2EWantError(t, srcE2EPost(t, src, secret, "msg_gone", body), http.StatusGone, "GONE")
	env.wantNothingStored(src.ID)

	env.patch(src.ID, map[string]any{"enabled": true})
	id := srcE2EWantReceived(t, srcE2EPost(t, src, secret, "msg_gone", body))
	if evs := env.events(src.ID); len(evs) != 1 || evs[0].ID != id {
		t.Fatalf("re-enabled source stored %+v, want %s", evs, id)
	}
	rc.waitFor(t, 1, srcE2EWait)
}

// A body over 256 KiB is 413 and stores nothing; one of exactly 256 KiB
// is received.
func TestSourceBodyLimit(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	src := env.create(map[string]any{"name": "Big"})
	secret := *src.Secret
	sized := func(n int) []byte {
		head, tail := `{"type":"big","pad":"`, `"}`
		return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
	}
	over := sized(256<<10 + 1)
	srcE2EWantError(t, srcE2EPost(t, src, secret, "msg_big", over), http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	env.wantNothingStored(src.ID)

	limit := sized(256 << 10)
	id := srcE2EWantReceived(t, srcE2EPost(t, src, secret, "msg_limit", limit))
	evs := env.events(src.ID)
	if len(evs) != 1 || evs[0].ID != id || len(evs[0].Body) != 256<<10 {
		t.Fatalf("a body of exactly 256 KiB was not stored whole")
	}
}

// A forward that fails is retried by the delivery engine on the app's
// schedule, every attempt recorded, until the destination recovers.
func TestSourceForwardRetries(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, srcE2EFast)
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	src := env.create(map[string]any{"name": "Flaky destination", "forward_url": rc.URL + "/hook"})
	body := []byte(`{"type":"charge.refunded","data":{"amount":100}}`)
	id := srcE2EWantReceived(t, srcE2EPost(t, src, *src.Secret, "msg_retry", body))

	got := rc.waitFor(t, 3, srcE2EWait)
	for i, g := range got {
		if !bytes.Equal(g.Body, body) {
			t.Fatalf("attempt %d sent %q, want the same raw body %q", i+1, g.Body, body)
		}
		srcE2EHookdSigned(t, g, id, env.defaultSecret)
	}
	listed := env.onlyDelivery(src.ID)
	d := env.waitDelivery(listed.ID, "to succeed on the third attempt", func(d *srcE2EDelivery) bool { return d.Status == "succeeded" })
	if d.AttemptCount != 3 || d.LastStatusCode == nil || *d.LastStatusCode != 200 || d.EventID != id {
		t.Fatalf("delivery %+v, want 3 attempts ending in 200 for %s", d, id)
	}
	if len(d.Attempts) != 3 {
		t.Fatalf("delivery shows %d attempts, want 3", len(d.Attempts))
	}
	for i, a := range d.Attempts {
		want := 500
		if i == 2 {
			want = 200
		}
		if a.Attempt != i+1 || a.StatusCode == nil || *a.StatusCode != want {
			t.Fatalf("attempt %d: %+v, want number %d status %d", i, a, i+1, want)
		}
		if v, _ := srcE2EHeaderOf(a.RequestHeaders, "webhook-id"); v != id {
			t.Fatalf("attempt %d logged webhook-id %q, want %s", i+1, v, id)
		}
		if a.ResponseBody == nil || !strings.Contains(*a.ResponseBody, "answer") {
			t.Fatalf("attempt %d logged response body %v", i+1, a.ResponseBody)
		}
	}
	listed = env.onlyDelivery(src.ID)
	if listed.Status != "succeeded" || listed.AttemptCount != 3 {
		t.Fatalf("source deliveries list shows %+v, want succeeded after 3 attempts", listed)
	}
	evs := env.events(src.ID)
	if len(evs) != 1 || len(evs[0].Deliveries) != 1 || evs[0].Deliveries[0].AttemptCount != 3 {
		t.Fatalf("event %+v does not show its delivery with 3 attempts", evs)
	}
}

// A forward that exhausted its attempts is failed; a manual retry sends it
// again once the destination is back.
func TestSourceForwardManualRetry(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, `{"retry":{"schedule_seconds":[0.05],"max_attempts":2,"jitter":0},"auto_disable_after":0}`)
	var down atomic.Bool
	down.Store(true)
	rc := newReceiver(t, func(int, *http.Request) int {
		if down.Load() {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	src := env.create(map[string]any{"name": "Down destination", "forward_url": rc.URL})
	body := []byte(`{"type":"invoice.voided"}`)
	id := srcE2EWantReceived(t, srcE2EPost(t, src, *src.Secret, "msg_manual", body))
	dlv := env.onlyDelivery(src.ID)
	d := env.waitDelivery(dlv.ID, "to fail", func(d *srcE2EDelivery) bool { return d.Status == "failed" })
	if d.AttemptCount != 2 || len(d.Attempts) != 2 {
		t.Fatalf("failed delivery %+v, want 2 attempts", d)
	}
	if ds := env.call(http.MethodGet, env.sourcesPath()+"/"+src.ID+"/deliveries?status=failed", nil); ds.Status != 200 || !strings.Contains(string(ds.Raw), dlv.ID) {
		t.Fatalf("deliveries?status=failed = %d %s, want it to list %s", ds.Status, ds.Raw, dlv.ID)
	}

	down.Store(false)
	r := env.call(http.MethodPost, "/v1/apps/"+env.appID+"/deliveries/"+dlv.ID+"/retry", nil)
	if r.Status != http.StatusOK && r.Status != http.StatusAccepted {
		t.Fatalf("manual retry = %d %s, want 200 or 202", r.Status, r.Raw)
	}
	d = env.waitDelivery(dlv.ID, "to succeed after the manual retry", func(d *srcE2EDelivery) bool { return d.Status == "succeeded" })
	if d.AttemptCount != 3 || len(d.Attempts) != 3 || d.Attempts[2].StatusCode == nil || *d.Attempts[2].StatusCode != http.StatusNoContent {
		t.Fatalf("retried delivery %+v, want a third attempt answered 204", d)
	}
	got := rc.waitFor(t, 3, srcE2EWait)
	last := got[len(got)-1]
	if !bytes.Equal(last.Body, body) {
		t.Fatalf("manual retry sent %q, want %q", last.Body, body)
	}
	srcE2EHookdSigned(t, last, id, env.defaultSecret)
}

// POST .../sources/{id}/test pushes a synthetic, provider-signed event
// through the real receive path: it is stored marked test and forwarded.
func TestSourceTestEvent(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	for _, p := range srcE2EProviders {
		t.Run(p.provider, func(t *testing.T) {
			t.Parallel()
			env := *env
			env.tb = t
			rc := newReceiver(t, nil)
			in := map[string]any{"name": "Test " + p.provider, "provider": p.provider, "forward_url": rc.URL}
			if p.secret != "" {
				in["secret"] = p.secret
			}
			if p.prefix != "" {
				in["header_prefix"] = p.prefix
			}
			src := env.create(in)
			r := env.call(http.MethodPost, env.sourcesPath()+"/"+src.ID+"/test", nil)
			if r.Status != http.StatusOK && r.Status != http.StatusAccepted {
				t.Fatalf("test = %d %s, want 200 or 202", r.Status, r.Raw)
			}
			var ev srcE2EEvent
			r.decode(t, &ev)
			if !ev.Test || !strings.HasPrefix(ev.ID, "evt_") || ev.SourceID != src.ID {
				t.Fatalf("test answer %s, want a test event of %s", r.Raw, src.ID)
			}
			evs := env.events(src.ID)
			if len(evs) != 1 || evs[0].ID != ev.ID || !evs[0].Test || evs[0].Body == "" {
				t.Fatalf("source events %+v, want the test event %s marked test", evs, ev.ID)
			}
			fwd := rc.waitFor(t, 1, srcE2EWait)[0]
			if string(fwd.Body) != evs[0].Body {
				t.Fatalf("forwarded %q, want the stored body %q", fwd.Body, evs[0].Body)
			}
			srcE2EHookdSigned(t, fwd, ev.ID, env.defaultSecret)
			// It was signed by the provider's scheme with the source's secret:
			// the provider's signature header came along.
			if p.sigHeader != "webhook-signature" && fwd.Header.Get(p.sigHeader) == "" {
				t.Fatalf("the test event's forward lacks the provider's %s", p.sigHeader)
			}
			d := env.onlyDelivery(src.ID)
			if !d.Test {
				t.Fatalf("the test event's delivery %+v is not marked test", d)
			}
			env.waitDelivery(d.ID, "to succeed", func(d *srcE2EDelivery) bool { return d.Status == "succeeded" })
		})
	}
}

// Disabling a source fails its held forwards; once it is enabled again a
// manual retry sends them.
func TestSourceDisableFailsHeldForwards(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	rc := newReceiver(t, nil)
	src := env.create(map[string]any{"name": "Held then disabled", "forward_url": rc.URL})
	env.patch(src.ID, map[string]any{"status": "paused"})
	body := []byte(`{"type":"held"}`)
	id := srcE2EWantReceived(t, srcE2EPost(t, src, *src.Secret, "msg_held", body))
	d := env.onlyDelivery(src.ID)
	if d.Status != "held" {
		t.Fatalf("delivery %+v, want held", d)
	}
	env.patch(src.ID, map[string]any{"status": "disabled"})
	if got := env.delivery(d.ID); got.Status != "failed" {
		t.Fatalf("after disabling, the held delivery is %q, want failed", got.Status)
	}
	env.patch(src.ID, map[string]any{"status": "active"})
	srcE2EQuietFor(t, srcE2EQuiet, "forwards of a failed delivery before a retry", func() int { return len(rc.Received()) })
	if n := len(rc.Received()); n != 0 {
		t.Fatalf("a failed forward went out by itself (%d requests)", n)
	}
	r := env.call(http.MethodPost, "/v1/apps/"+env.appID+"/deliveries/"+d.ID+"/retry", nil)
	if r.Status != http.StatusOK && r.Status != http.StatusAccepted {
		t.Fatalf("manual retry = %d %s", r.Status, r.Raw)
	}
	fwd := rc.waitFor(t, 1, srcE2EWait)[0]
	srcE2EHookdSigned(t, fwd, id, env.defaultSecret)
	env.waitDelivery(d.ID, "to succeed", func(d *srcE2EDelivery) bool { return d.Status == "succeeded" })
}
