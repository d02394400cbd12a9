package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// TestDeliveryLargeRecoverAndReactivate holds more deliveries than a
// request moves (5,000) behind a paused webhook, fails them all by
// disabling it, recovers them, pauses and re-activates it: each change
// and the recovery answer at once with the work left to the background,
// and in the end every event reaches the receiver, none lost.
func TestDeliveryLargeRecoverAndReactivate(t *testing.T) {
	if testing.Short() {
		t.Skip("delivers 11,000 events; skipped with -short")
	}
	t.Parallel()
	const events = 11_000
	e := dlvSetup(t, `{"auto_disable_after":0}`, "order.paid")
	rc := newReceiver(t, nil)
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}, Status: client.Ptr("paused")})
	since := time.Now().Add(-time.Minute).UTC()
	for b := range events / 1000 {
		items := make([]string, 1000)
		for i := range items {
			items[i] = fmt.Sprintf(`{"type":"order.paid","data":{"n":%d}}`, b*1000+i)
		}
		body := json.RawMessage(`{"events":[` + strings.Join(items, ",") + `]}`)
		if _, err := e.c.Do(e.ctx, http.MethodPost, "/v1/apps/"+e.app.ID+"/events/batch", body, nil); err != nil {
			t.Fatalf("publish batch %d: %v", b, err)
		}
	}
	// none waits until no delivery of the webhook has status.
	none := func(status string) {
		t.Helper()
		eventually(t, 2*time.Minute, "no "+status+" delivery", func() bool {
			var page struct {
				Deliveries []json.RawMessage `json:"deliveries"`
			}
			_, err := e.c.Do(e.ctx, http.MethodGet, "/v1/apps/"+e.app.ID+"/webhooks/"+w.ID+"/deliveries?limit=1&status="+status, nil, &page)
			if err != nil {
				t.Fatalf("list %s deliveries: %v", status, err)
			}
			return len(page.Deliveries) == 0
		})
	}

	e.patch(w.ID, map[string]string{"status": "disabled"})
	none("held")
	var rec struct {
		Recovered int  `json:"recovered"`
		Complete  bool `json:"complete"`
	}
	status, err := e.c.Do(e.ctx, http.MethodPost, "/v1/apps/"+e.app.ID+"/webhooks/"+w.ID+"/recover",
		map[string]string{"since": since.Format(time.RFC3339)}, &rec)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("recover: status %d, %v", status, err)
	}
	if rec.Recovered != 5000 || rec.Complete {
		t.Errorf("recover answered %+v, want the first 5,000 and complete false", rec)
	}
	none("failed")
	if n := len(rc.Received()); n != 0 {
		t.Fatalf("the disabled webhook received %d deliveries", n)
	}

	e.patch(w.ID, map[string]string{"status": "paused"})
	none("pending")
	start := time.Now()
	e.patch(w.ID, map[string]string{"status": "active"})
	t.Logf("re-activation with %d held answered in %v", events, time.Since(start))
	got := rc.waitFor(t, events, 3*time.Minute)
	seen := map[string]bool{}
	for _, r := range got {
		seen[r.Header.Get("webhook-id")] = true
	}
	if len(seen) != events {
		t.Errorf("the receiver got %d distinct events in %d requests, want %d", len(seen), len(got), events)
	}
	none("held")
	none("pending")
}
