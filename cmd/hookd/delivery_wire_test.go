package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
)

// TestDeliverySecretRotationGrace rotates a secret with a grace period:
// deliveries carry the new signature and the old one, each valid under its
// own secret; a rotation without grace leaves only the new one.
func TestDeliverySecretRotationGrace(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	rc := newReceiver(t, nil)
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}})
	old := w.Secret

	rot, err := e.c.RotateWebhookSecret(e.ctx, e.app.ID, w.ID, time.Hour)
	if err != nil || rot.Secret == "" || rot.Secret == old {
		t.Fatalf("rotate with grace: secret %q, %v", rot.Secret, err)
	}
	e.publishType("order.paid", 1)
	got := rc.waitFor(t, 1, dlvWait)[0]
	sigs := dlvSignatures(got.Header)
	id, ts := got.Header.Get("webhook-id"), got.Header.Get("webhook-timestamp")
	if len(sigs) != 2 {
		t.Fatalf("during the grace period webhook-signature = %q, want two v1, signatures", got.Header.Get("webhook-signature"))
	}
	if want := dlvSign(t, rot.Secret, id, ts, got.Body); sigs[0] != want {
		t.Errorf("first signature %q does not verify with the new secret", sigs[0])
	}
	if want := dlvSign(t, old, id, ts, got.Body); sigs[1] != want {
		t.Errorf("second signature %q does not verify with the old secret", sigs[1])
	}

	rot2, err := e.c.RotateWebhookSecret(e.ctx, e.app.ID, w.ID, 0)
	if err != nil || rot2.Secret == "" || rot2.Secret == rot.Secret {
		t.Fatalf("rotate without grace: secret %q, %v", rot2.Secret, err)
	}
	e.publishType("order.paid", 2)
	got = rc.waitFor(t, 2, dlvWait)[1]
	sigs = dlvSignatures(got.Header)
	id, ts = got.Header.Get("webhook-id"), got.Header.Get("webhook-timestamp")
	if len(sigs) != 1 || sigs[0] != dlvSign(t, rot2.Secret, id, ts, got.Body) {
		t.Errorf("after a rotation with grace 0 webhook-signature = %q, want the new secret's signature alone", got.Header.Get("webhook-signature"))
	}
}

// TestDeliveryHeaders checks the custom headers, the User-Agent and the
// Content-Type that go with every delivery, on the wire and in the log.
func TestDeliveryHeaders(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	rc := newReceiver(t, nil)
	custom := map[string]string{"X-Tenant": "acme", "X-Api-Key": "k-123"}
	e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}, Headers: custom})
	pub := e.publishType("order.paid", 1)
	got := rc.waitFor(t, 1, dlvWait)[0]
	want := map[string]string{"User-Agent": "hookd/" + hookd.Version, "Content-Type": "application/json"}
	for k, v := range custom {
		want[k] = v
	}
	for k, v := range want {
		if g := got.Header.Get(k); g != v {
			t.Errorf("received %s = %q, want %q", k, g, v)
		}
	}
	d := e.waitStatus(e.onlyDelivery(pub.ID), "succeeded")
	want["X-Api-Key"] = "[redacted]" // a credential: sent, never logged
	for k, v := range want {
		if g, _ := dlvHeader(d.Attempts[0].RequestHeaders, k); g != v {
			t.Errorf("logged %s = %q, want %q", k, g, v)
		}
	}
}

// TestDeliveryResponseHeaders checks that an attempt logs the headers
// the receiver answered with, credential values it echoed hidden.
func TestDeliveryResponseHeaders(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Receiver", "yes")
		w.Header().Set("X-Echo", r.Header.Get("X-Api-Key"))
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.Close)
	e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}, Headers: map[string]string{"X-Api-Key": "k-12345"}})
	pub := e.publishType("order.paid", 1)
	d := e.waitStatus(e.onlyDelivery(pub.ID), "succeeded")
	a := d.Attempts[0]
	want := map[string]string{"X-Receiver": "yes", "X-Echo": "[redacted]", "Set-Cookie": "a=1, b=2", "Content-Length": "0"}
	for k, v := range want {
		if g := a.ResponseHeaders[k]; g != v {
			t.Errorf("attempt response header %s = %q, want %q (all: %v)", k, g, v, a.ResponseHeaders)
		}
	}

	// The dashboard's delivery page shows them beside the request's.
	u := newUIClient(t, e.srv)
	u.signIn(testAdminToken)
	resp, page := u.do("GET", "/ui/apps/"+e.app.ID+"/deliveries/"+d.ID, nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Response headers") || !strings.Contains(page, "X-Receiver: yes") {
		t.Errorf("delivery page answered %d without the response header X-Receiver: yes:\n%s", resp.StatusCode, page)
	}
}

// TestDeliveryRateLimit sends 15 events to a webhook limited to 5 a second:
// they cannot all arrive in much under 3 s. Only a lower bound is checked.
func TestDeliveryRateLimit(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	rc := newReceiver(t, nil)
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}, RateLimit: client.Ptr(5)})
	if w.RateLimit == nil || *w.RateLimit != 5 {
		t.Fatalf("webhook rate_limit = %v, want 5", w.RateLimit)
	}
	batch := make([]*client.PublishInput, 15)
	for i := range batch {
		batch[i] = &client.PublishInput{Type: "order.paid", Data: json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`)}
	}
	if _, err := e.c.PublishBatch(e.ctx, e.app.ID, batch); err != nil {
		t.Fatal(err)
	}
	got := rc.waitFor(t, 15, 60*time.Second)
	if span := got[14].At.Sub(got[0].At); span < 2*time.Second {
		t.Errorf("15 deliveries at 5/s arrived within %v, want at least 2s", span)
	}
}

// TestDeliveryOrderedWebhook publishes 20 events quickly to an ordered
// webhook: they arrive one at a time, in publish order.
func TestDeliveryOrderedWebhook(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	var inFlight, most atomic.Int32
	srv := dlvNewServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		now := inFlight.Add(1)
		for {
			m := most.Load()
			if now <= m || most.CompareAndSwap(m, now) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond) // widen the window for a second request to overlap
		inFlight.Add(-1)
		w.WriteHeader(http.StatusOK)
	})
	e.webhook(&client.WebhookInput{URL: client.Ptr(srv.URL + "/hook"), Events: []string{"order.paid"}, Ordered: client.Ptr(true)})
	var ids []string
	for i := range 20 {
		ids = append(ids, e.publishType("order.paid", i).ID)
	}
	got := srv.waitFor(t, 20, dlvWait)
	var order []string
	for _, g := range got {
		order = append(order, g.Header.Get("webhook-id"))
	}
	if !slices.Equal(order, ids) {
		t.Errorf("ordered webhook received\n %v\nwant publish order\n %v", order, ids)
	}
	if m := most.Load(); m != 1 {
		t.Errorf("ordered webhook had %d requests in flight at once, want 1", m)
	}
}

// TestDeliveryOrderedHeadBlocks fails the head of an ordered webhook's
// queue twice: the event behind it must wait until the head succeeds.
func TestDeliveryOrderedHeadBlocks(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, `{"retry":{"schedule_seconds":[0.2],"max_attempts":5,"jitter":0},"auto_disable_after":0}`, "order.paid")
	var mu sync.Mutex
	var headID string
	headTries := 0
	rc := newReceiver(t, func(n int, r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("webhook-id") == headID {
			headTries++
			if headTries <= 2 {
				return http.StatusInternalServerError
			}
		}
		return http.StatusOK
	})
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}, Ordered: client.Ptr(true)})
	// Pause so that both events are queued before the head is tried.
	e.patch(w.ID, map[string]string{"status": "paused"})
	head := e.publishType("order.paid", 1)
	mu.Lock()
	headID = head.ID
	mu.Unlock()
	next := e.publishType("order.paid", 2)
	e.patch(w.ID, map[string]string{"status": "active"})

	got := rc.waitFor(t, 4, dlvWait)
	var order []string
	for _, g := range got {
		order = append(order, g.Header.Get("webhook-id"))
	}
	want := []string{head.ID, head.ID, head.ID, next.ID}
	if !slices.Equal(order, want) {
		t.Errorf("ordered webhook received %v, want the head three times (2 failures, 1 success) then the next: %v", order, want)
	}
	e.waitStatus(e.onlyDelivery(next.ID), "succeeded")
}

// TestDeliveryOrderedExhaustedHeadReleases lets the head of an ordered
// webhook's queue run out of attempts: the event behind it goes next.
func TestDeliveryOrderedExhaustedHeadReleases(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, `{"retry":{"schedule_seconds":[0.05],"max_attempts":2,"jitter":0},"auto_disable_after":0}`, "order.paid")
	var headID atomic.Value
	headID.Store("")
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if r.Header.Get("webhook-id") == headID.Load().(string) {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}, Ordered: client.Ptr(true)})
	e.patch(w.ID, map[string]string{"status": "paused"})
	head := e.publishType("order.paid", 1)
	headID.Store(head.ID)
	next := e.publishType("order.paid", 2)
	e.patch(w.ID, map[string]string{"status": "active"})

	got := rc.waitFor(t, 3, dlvWait)
	var order []string
	for _, g := range got {
		order = append(order, g.Header.Get("webhook-id"))
	}
	if want := []string{head.ID, head.ID, next.ID}; !slices.Equal(order, want) {
		t.Errorf("ordered webhook received %v, want the head twice (exhausted) then the next: %v", order, want)
	}
	e.waitStatus(e.onlyDelivery(head.ID), "failed")
	e.waitStatus(e.onlyDelivery(next.ID), "succeeded")
}
