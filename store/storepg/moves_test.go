package storepg_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/store"
)

// TestStatusChangesMoveLargeBacklogs pauses and re-activates a webhook
// with more open deliveries than one transaction moves, and checks that
// every delivery follows, and that a store opened on the database
// finishes a move that was left half done.
func TestStatusChangesMoveLargeBacklogs(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	st := openOn(t, url)
	ctx := t.Context()
	conn := connect(t, url)

	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := newApp(t, st, ids, now)
	hook := newWebhook(t, st, ids, app, hookd.WebhookPaused, now)
	const events = 12_000 // more than two chunks
	for b := range events / 1000 {
		p := &store.PublishParams{AppID: app.ID, Now: now}
		for i := range 1000 {
			ev := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "a", Data: fmt.Appendf(nil, `{"n":%d}`, b*1000+i), CreatedAt: now}
			ev.Payload = ev.Data
			p.Events = append(p.Events, &store.PublishEvent{Event: ev})
		}
		if _, err := st.Publish(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	count := func(status string) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND status = $2`, hook.ID, status).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor := func(what string, status string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for count(status) != events {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d deliveries are %s after 30 s", what, count(status), events, status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if n := count(hookd.DeliveryHeld); n != events {
		t.Fatalf("published behind a paused webhook: %d held, want %d", n, events)
	}
	setStatus := func(status string) {
		t.Helper()
		w, err := st.GetWebhook(ctx, app.ID, hook.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.Status = status
		if err := st.UpdateWebhook(ctx, w, time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	setStatus(hookd.WebhookActive)
	waitFor("re-activated", hookd.DeliveryPending)
	setStatus(hookd.WebhookPaused)
	waitFor("paused", hookd.DeliveryHeld)
	setStatus(hookd.WebhookActive)
	waitFor("re-activated again", hookd.DeliveryPending)

	// A process that died half way through a re-activation leaves held
	// deliveries behind an active webhook; the next store to open on the
	// database finishes the move.
	if _, err := conn.Exec(ctx, `UPDATE deliveries SET status = 'held' WHERE id IN (
		SELECT id FROM deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT 7000)`, hook.ID); err != nil {
		t.Fatal(err)
	}
	openOn(t, url)
	waitFor("after a restart", hookd.DeliveryPending)
}
