package main

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// TestDeliveryGoneDisablesWebhook answers 410: the webhook is disabled at
// once, with no retry, and later events create no delivery to it while
// the app's other webhooks keep receiving.
func TestDeliveryGoneDisablesWebhook(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	gone := newReceiver(t, func(int, *http.Request) int { return http.StatusGone })
	ok := newReceiver(t, nil)
	wGone := e.webhook(&client.WebhookInput{URL: client.Ptr(gone.URL + "/hook"), Events: []string{"order.paid"}})
	wOK := e.webhook(&client.WebhookInput{URL: client.Ptr(ok.URL + "/hook"), Events: []string{"order.paid"}})

	first := e.publishType("order.paid", 1)
	if first.Deliveries != 2 {
		t.Fatalf("first event got %d deliveries, want 2", first.Deliveries)
	}
	var goneID string
	for _, d := range e.event(first.ID).Deliveries {
		if d.WebhookID != nil && *d.WebhookID == wGone.ID {
			goneID = d.ID
		}
	}
	d := e.waitStatus(goneID, "failed")
	if d.AttemptCount != 1 || d.NextAttemptAt != nil {
		t.Errorf("410 delivery: attempt_count %d, next_attempt_at %v; want 1 and null (no retry)", d.AttemptCount, d.NextAttemptAt)
	}
	w := e.getWebhook(wGone.ID)
	if w.Status != "disabled" || w.Enabled {
		t.Errorf("after 410 the webhook is %s (enabled %t), want disabled", w.Status, w.Enabled)
	}
	if w.DisabledReason == nil || !strings.Contains(*w.DisabledReason, "410") {
		t.Errorf("disabled_reason = %v, want one that names the 410", w.DisabledReason)
	}

	second := e.publishType("order.paid", 2)
	ev := e.event(second.ID)
	if second.Deliveries != 1 || len(ev.Deliveries) != 1 || ev.Deliveries[0].WebhookID == nil || *ev.Deliveries[0].WebhookID != wOK.ID {
		t.Fatalf("event after the 410: %d deliveries %+v, want one, to the healthy webhook", second.Deliveries, ev.Deliveries)
	}
	ok.waitFor(t, 2, dlvWait)
	if n := len(gone.Received()); n != 1 {
		t.Errorf("the gone endpoint got %d requests, want 1", n)
	}
}

// TestDeliveryAutoDisableAfterConsecutiveFailures checks that exhausted
// deliveries count up, a success resets the count, and the profile's
// threshold of consecutive failed deliveries disables the webhook.
func TestDeliveryAutoDisableAfterConsecutiveFailures(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, `{"retry":{"schedule_seconds":[0.05],"max_attempts":2,"jitter":0},"auto_disable_after":3}`, "order.paid")
	var healthy atomic.Bool
	rc := newReceiver(t, func(int, *http.Request) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusInternalServerError
	})
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}})
	n := 0
	deliver := func(wantStatus string, wantFailures int) {
		t.Helper()
		n++
		e.waitStatus(e.onlyDelivery(e.publishType("order.paid", n).ID), wantStatus)
		got := e.getWebhook(w.ID)
		if got.ConsecutiveFailures != wantFailures {
			t.Fatalf("after event %d (%s): consecutive_failures = %d, want %d", n, wantStatus, got.ConsecutiveFailures, wantFailures)
		}
		if wantFailures < 3 && (got.Status != "active" || got.DisabledReason != nil) {
			t.Fatalf("after event %d: webhook %s (reason %v) below the threshold", n, got.Status, got.DisabledReason)
		}
	}
	deliver("failed", 1)
	deliver("failed", 2)
	healthy.Store(true)
	deliver("succeeded", 0)
	healthy.Store(false)
	deliver("failed", 1)
	deliver("failed", 2)
	deliver("failed", 3)

	got := e.getWebhook(w.ID)
	if got.Status != "disabled" || got.Enabled {
		t.Fatalf("after 3 consecutive failed deliveries the webhook is %s, want disabled", got.Status)
	}
	if got.DisabledReason == nil || !strings.Contains(*got.DisabledReason, "3 consecutive") {
		t.Errorf("disabled_reason = %v, want it to give the 3 consecutive failures", got.DisabledReason)
	}
	if pub := e.publishType("order.paid", 99); pub.Deliveries != 0 {
		t.Errorf("an event after auto-disable got %d deliveries, want 0", pub.Deliveries)
	}
}

// TestDeliveryPausedHoldsUntilReactivated pauses a webhook: new deliveries
// are held and nothing is sent until it is active again.
func TestDeliveryPausedHoldsUntilReactivated(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	rc := newReceiver(t, nil)
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}})
	if got := e.patch(w.ID, map[string]string{"status": "paused"}); got.Status != "paused" {
		t.Fatalf("PATCH status paused answered status %s", got.Status)
	}
	var ids []string
	for i := range 2 {
		ids = append(ids, e.onlyDelivery(e.publishType("order.paid", i).ID))
	}
	for _, id := range ids {
		if d := e.delivery(id); d.Status != "held" {
			t.Errorf("delivery to a paused webhook is %s, want held", d.Status)
		}
	}
	dlvQuiet(t, 500*time.Millisecond, "while paused", func() int { return len(rc.Received()) })
	for _, id := range ids {
		if d := e.delivery(id); d.Status != "held" || d.AttemptCount != 0 {
			t.Errorf("delivery to a paused webhook is %s with %d attempts, want held and 0", d.Status, d.AttemptCount)
		}
	}

	if got := e.patch(w.ID, map[string]string{"status": "active"}); got.Status != "active" || !got.Enabled {
		t.Fatalf("PATCH status active answered status %s enabled %t", got.Status, got.Enabled)
	}
	rc.waitFor(t, 2, dlvWait)
	for _, id := range ids {
		e.waitStatus(id, "succeeded")
	}
}

// TestDeliveryDisableThenRecover disables a webhook by PATCH while it has
// pending deliveries (they fail), recovers them with since, and checks they
// are sent once the webhook is enabled again.
func TestDeliveryDisableThenRecover(t *testing.T) {
	t.Parallel()
	// The first failure schedules the next try a minute away, so the
	// deliveries sit pending while the test disables the webhook.
	e := dlvSetup(t, `{"retry":{"schedule_seconds":[60],"max_attempts":3,"jitter":0},"auto_disable_after":0}`, "order.paid")
	var healthy atomic.Bool
	rc := newReceiver(t, func(int, *http.Request) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusInternalServerError
	})
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}})
	since := time.Now().Add(-time.Minute).UTC()
	var ids []string
	for i := range 2 {
		id := e.onlyDelivery(e.publishType("order.paid", i).ID)
		e.waitDelivery(id, "to be pending after one failed try", func(d *client.Delivery) bool {
			return d.Status == "pending" && d.AttemptCount == 1 && d.NextAttemptAt != nil
		})
		ids = append(ids, id)
	}

	got := e.patch(w.ID, map[string]string{"status": "disabled"})
	if got.Status != "disabled" || got.Enabled || got.DisabledReason == nil {
		t.Fatalf("PATCH status disabled answered status %s enabled %t reason %v", got.Status, got.Enabled, got.DisabledReason)
	}
	for _, id := range ids {
		if d := e.delivery(id); d.Status != "failed" || d.NextAttemptAt != nil {
			t.Errorf("pending delivery of a disabled webhook is %s with next_attempt_at %v, want failed and null", d.Status, d.NextAttemptAt)
		}
	}

	healthy.Store(true)
	var rec struct {
		Recovered int `json:"recovered"`
	}
	status, err := e.c.Do(e.ctx, http.MethodPost, "/v1/apps/"+e.app.ID+"/webhooks/"+w.ID+"/recover",
		map[string]string{"since": since.Format(time.RFC3339)}, &rec)
	if err != nil || (status != 200 && status != 202) {
		t.Fatalf("recover: status %d, %v", status, err)
	}
	if rec.Recovered != 2 {
		t.Errorf("recover re-queued %d deliveries, want 2", rec.Recovered)
	}
	dlvQuiet(t, 500*time.Millisecond, "recovered but still disabled", func() int { return len(rc.Received()) })

	e.patch(w.ID, map[string]string{"status": "active"})
	rc.waitFor(t, 4, dlvWait)
	for _, id := range ids {
		e.waitStatus(id, "succeeded")
	}
}
