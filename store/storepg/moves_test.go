package storepg_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
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
	url := pgtest.URL(t)
	st := openOn(t, url)
	ctx := t.Context()
	conn := connect(t, url)

	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := newApp(t, st, ids, now)
	hook := newWebhook(t, st, ids, app, hookd.WebhookPaused, now)
	const events = 12_000 // more than two chunks
	publishMany(t, st, ids, app, events, now)
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

// TestAutoDisableFailsLargeBacklogs disables a webhook through a recorded
// attempt (410 Gone) while it has more open deliveries than one
// transaction moves, and checks that all of them fail.
func TestAutoDisableFailsLargeBacklogs(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	st := openOn(t, url)
	ctx := t.Context()
	conn := connect(t, url)
	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := newApp(t, st, ids, now)
	hook := newWebhook(t, st, ids, app, hookd.WebhookActive, now)
	const events = 12_000
	publishMany(t, st, ids, app, events, now)

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
	deadline := time.Now().Add(30 * time.Second)
	for {
		var failed int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND status = 'failed'`, hook.ID).Scan(&failed); err != nil {
			t.Fatal(err)
		}
		if failed == events {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries failed 30 s after the webhook was disabled", failed, events)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publishMany publishes n events to app, in batches of 1,000.
func publishMany(t *testing.T, st *storepg.Store, ids *ident.Generator, app *hookd.App, n int, now time.Time) {
	t.Helper()
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
}

// TestFailedMoveIsLoggedAndRetried fails the first background chunk of a
// re-activation (a trigger raises on the second update of deliveries) and
// checks that the store logs it and moves everything anyway.
func TestFailedMoveIsLoggedAndRetried(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	var logs syncBuffer
	st := openWith(t, url, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := t.Context()
	conn := connect(t, url)
	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := newApp(t, st, ids, now)
	hook := newWebhook(t, st, ids, app, hookd.WebhookPaused, now)
	const events = 7_000 // two chunks
	publishMany(t, st, ids, app, events, now)
	if _, err := conn.Exec(ctx, `CREATE SEQUENCE move_updates;
		CREATE FUNCTION fail_second_move() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('move_updates') = 2 THEN RAISE EXCEPTION 'injected failure'; END IF;
			RETURN NULL;
		END $$;
		CREATE TRIGGER fail_second_move AFTER UPDATE ON deliveries FOR EACH STATEMENT EXECUTE FUNCTION fail_second_move();`); err != nil {
		t.Fatal(err)
	}
	w, err := st.GetWebhook(ctx, app.ID, hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.Status = hookd.WebhookActive
	if err := st.UpdateWebhook(ctx, w, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var pending int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND status = 'pending'`, hook.ID).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == events {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries pending 30 s after the re-activation", pending, events)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := logs.String(); !strings.Contains(got, "move deliveries") || !strings.Contains(got, "injected failure") {
		t.Errorf("the failed chunk was not logged; the log holds:\n%s", got)
	}
}

// syncBuffer is a bytes.Buffer that a logger may write to from another
// goroutine while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
