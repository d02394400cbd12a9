package storepg_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/logtest"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
)

// TestStatusChangesMoveLargeBacklogs pauses and re-activates a webhook
// with more open deliveries than one transaction moves, and checks that
// every delivery follows, and that a store opened on the database
// finishes a move that was left half done.
func TestStatusChangesMoveLargeBacklogs(t *testing.T) {
	t.Parallel()
	url, st, conn := freshStore(t)
	ctx := t.Context()
	const events = 12_000 // more than two chunks
	_, hook := backlog(t, st, hookd.WebhookPaused, events)
	if n := countDeliveries(t, conn, hook.ID, hookd.DeliveryHeld); n != events {
		t.Fatalf("published behind a paused webhook: %d held, want %d", n, events)
	}
	setWebhookStatus(t, st, hook, hookd.WebhookActive)
	waitForDeliveries(t, conn, hook.ID, hookd.DeliveryPending, events, "re-activated")
	setWebhookStatus(t, st, hook, hookd.WebhookPaused)
	waitForDeliveries(t, conn, hook.ID, hookd.DeliveryHeld, events, "paused")
	setWebhookStatus(t, st, hook, hookd.WebhookActive)
	waitForDeliveries(t, conn, hook.ID, hookd.DeliveryPending, events, "re-activated again")

	// A process that died half way through a re-activation leaves held
	// deliveries behind an active webhook; the next store to open on the
	// database finishes the move.
	if _, err := conn.Exec(ctx, `UPDATE deliveries SET status = 'held' WHERE id IN (
		SELECT id FROM deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT 7000)`, hook.ID); err != nil {
		t.Fatal(err)
	}
	openOn(t, url)
	waitForDeliveries(t, conn, hook.ID, hookd.DeliveryPending, events, "after a restart")
}

// TestAutoDisableFailsLargeBacklogs disables a webhook through a recorded
// attempt (410 Gone) while it has more open deliveries than one
// transaction moves, and checks that all of them fail.
func TestAutoDisableFailsLargeBacklogs(t *testing.T) {
	t.Parallel()
	_, st, conn := freshStore(t)
	ctx := t.Context()
	const events = 12_000
	app, hook := backlog(t, st, hookd.WebhookActive, events)

	now := time.Now()
	jobs, err := st.ClaimDue(ctx, &store.ClaimParams{Owner: "test", Now: now, Limit: 1, LeaseFor: time.Minute})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	a := &hookd.Attempt{DeliveryID: jobs[0].Delivery.ID, WebhookID: hook.ID, Attempt: 1, At: now, StatusCode: 410}
	if _, err := st.RecordAttempts(ctx, []*store.AttemptResult{{Owner: "test", AttemptReport: hookd.AttemptReport{Attempt: a, DisableReason: "410 Gone"}}}); err != nil {
		t.Fatal(err)
	}
	if w, err := st.GetWebhook(ctx, app.ID, hook.ID); err != nil || w.Status != hookd.WebhookDisabled {
		t.Fatalf("webhook after a 410: %+v, %v", w, err)
	}
	waitForDeliveries(t, conn, hook.ID, hookd.DeliveryFailed, events, "disabled")
}

// backlog creates an app with one webhook of status and publishes n
// events to it, in batches of 1,000.
func backlog(t *testing.T, st *storepg.Store, status string, n int) (*hookd.App, *hookd.Webhook) {
	t.Helper()
	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := newApp(t, st, ids, now)
	hook := newWebhook(t, st, ids, app, status, now)
	for b := 0; b < n; b += 1000 {
		p := &store.PublishParams{AppID: app.ID, Now: now}
		for i := b; i < min(b+1000, n); i++ {
			ev := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "a", Data: fmt.Appendf(nil, `{"n":%d}`, i), CreatedAt: now}
			ev.Payload = ev.Data
			p.Events = append(p.Events, &store.PublishEvent{Event: ev})
		}
		if _, err := st.Publish(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	return app, hook
}

// TestFailedMoveIsLoggedAndRetried fails the first background chunk of a
// re-activation (a trigger raises on the second update of deliveries) and
// checks that the store logs it and moves everything anyway.
func TestFailedMoveIsLoggedAndRetried(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	var logs logtest.Buffer
	st := openWith(t, url, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := t.Context()
	conn := connect(t, url)
	const events = 7_000 // two chunks
	_, hook := backlog(t, st, hookd.WebhookPaused, events)
	if _, err := conn.Exec(ctx, `CREATE SEQUENCE move_updates;
		CREATE FUNCTION fail_second_move() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('move_updates') = 2 THEN RAISE EXCEPTION 'injected failure'; END IF;
			RETURN NULL;
		END $$;
		CREATE TRIGGER fail_second_move AFTER UPDATE ON deliveries FOR EACH STATEMENT EXECUTE FUNCTION fail_second_move();`); err != nil {
		t.Fatal(err)
	}
	setWebhookStatus(t, st, hook, hookd.WebhookActive)
	waitForDeliveries(t, conn, hook.ID, hookd.DeliveryPending, events, "re-activated")
	if got := logs.String(); !strings.Contains(got, "move deliveries") || !strings.Contains(got, "injected failure") {
		t.Errorf("the failed chunk was not logged; the log holds:\n%s", got)
	}
}

// A claim's lease leaves each delivery on its page: the table keeps room
// for it, so that PostgreSQL can update the row without new index entries
// (a HOT update). Packed full, the leased versions would move to new pages.
func TestLeaseKeepsDeliveriesOnTheirPages(t *testing.T) {
	_, st, conn := freshStore(t)
	_, hook := backlog(t, st, hookd.WebhookActive, 300)
	pages := func() map[string]string {
		rows, err := conn.Query(t.Context(), `SELECT id, (ctid::text::point)[0]::text FROM deliveries WHERE webhook_id = $1`, hook.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var id, page string
			if err := rows.Scan(&id, &page); err != nil {
				t.Fatal(err)
			}
			out[id] = page
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := pages()
	jobs, err := st.ClaimDue(t.Context(), &store.ClaimParams{Owner: "test", Now: time.Now().Add(time.Second), Limit: 300, LeaseFor: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 300 {
		t.Fatalf("claimed %d deliveries, want 300", len(jobs))
	}
	moved := 0
	for id, page := range pages() {
		if before[id] != page {
			moved++
		}
	}
	if moved > 0 {
		t.Errorf("%d of 300 leased deliveries moved to another page", moved)
	}
}

// TestRecoveryResumesAfterRestart checks that a recovery of more failed
// deliveries than one transaction re-queues finishes in the background,
// and that one a process left half done (its record still in the
// database) is finished by the next store to open on the database, by
// that record alone.
func TestRecoveryResumesAfterRestart(t *testing.T) {
	t.Parallel()
	url, st, conn := freshStore(t)
	ctx := t.Context()
	const events = 12_000
	app, hook := backlog(t, st, hookd.WebhookPaused, events)
	setWebhookStatus(t, st, hook, hookd.WebhookDisabled)
	waitForDeliveries(t, conn, hook.ID, hookd.DeliveryFailed, events, "disabled")
	since := time.Now().Add(-time.Hour)
	n, done, err := st.RecoverWebhook(ctx, &store.RecoverParams{AppID: app.ID, WebhookID: hook.ID, Since: since, Now: time.Now()})
	if err != nil || n != 5000 || done {
		t.Fatalf("RecoverWebhook = %d, %v, %v; want the first 5,000 and more to come", n, done, err)
	}
	waitForDeliveries(t, conn, hook.ID, hookd.DeliveryPending, events, "recovered")

	// Fail them again, and leave a recovery's record as a process that
	// died after its first chunk would.
	if _, err := conn.Exec(ctx, `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = $2 WHERE webhook_id = $1`,
		hook.ID, time.Now().Add(-time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO recoveries (id, webhook_id, since, until, before) VALUES ('rcv_left', $1, $2, $3, $4)`,
		hook.ID, since.UnixMilli(), int64(1<<62), time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	openOn(t, url)
	waitForDeliveries(t, conn, hook.ID, hookd.DeliveryPending, events, "after a restart")
	eventuallyNone := time.Now().Add(30 * time.Second)
	for {
		var left int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM recoveries`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(eventuallyNone) {
			t.Fatalf("%d recoveries still recorded after every delivery was re-queued", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
