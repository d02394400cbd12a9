package storepg_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
)

// TestDeletesWaitForWrites deletes an app, a webhook and a source in a
// transaction left open while a publish (or a receive) writes under them,
// then commits the delete. Events and deliveries carry no foreign keys to
// these rows (migration 7): the write must wait for the delete, as the
// keys' checks did, and then find nothing to write under, so that no row
// is left pointing at what was deleted.
func TestDeletesWaitForWrites(t *testing.T) {
	t.Parallel()
	url, st, conn := freshStore(t)
	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	publish := func(app *hookd.App) func() error {
		return func() error {
			ev := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "a", Data: []byte(`{}`), Payload: []byte(`{}`), CreatedAt: now}
			_, err := st.Publish(context.Background(), &store.PublishParams{AppID: app.ID, Now: now, Events: []*store.PublishEvent{{Event: ev}}})
			return err
		}
	}
	tests := []struct {
		name string
		// prepare makes what the write goes under and returns the delete,
		// the write, and the query that counts rows the delete must leave
		// behind none of.
		prepare func(t *testing.T) (deleteSQL, id string, write func() error, leftQuery string)
		// wantErr: the write fails (its app is gone) rather than writing
		// nothing.
		wantErr bool
	}{
		{
			name: "webhook",
			prepare: func(t *testing.T) (string, string, func() error, string) {
				app := newApp(t, st, ids, now)
				w := newWebhook(t, st, ids, app, hookd.WebhookActive, now)
				return `DELETE FROM webhooks WHERE id = $1`, w.ID, publish(app), `SELECT count(*) FROM deliveries WHERE webhook_id = $1`
			},
		},
		{
			name: "app",
			prepare: func(t *testing.T) (string, string, func() error, string) {
				// No webhook: the app's own lock, not its webhooks', must
				// hold the publish back.
				app := newApp(t, st, ids, now)
				return `DELETE FROM apps WHERE id = $1`, app.ID, publish(app), `SELECT (SELECT count(*) FROM events WHERE app_id = $1) + (SELECT count(*) FROM deliveries WHERE app_id = $1)`
			},
			wantErr: true,
		},
		{
			name: "source",
			prepare: func(t *testing.T) (string, string, func() error, string) {
				app := newApp(t, st, ids, now)
				src := &hookd.Source{ID: ids.New("src"), AppID: app.ID, Name: "s", Provider: "standard", Status: hookd.SourceActive,
					ForwardURL: "https://example.com/in", Events: []string{}, ToleranceSeconds: 300, Secret: "whsec_c2VjcmV0", CreatedAt: now, UpdatedAt: now}
				if err := st.CreateSource(t.Context(), src); err != nil {
					t.Fatal(err)
				}
				receive := func() error {
					ev := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "a", Data: []byte(`{}`), Payload: []byte(`{}`), CreatedAt: now,
						Inbound: &hookd.Inbound{SourceID: src.ID, Headers: map[string]string{}, ContentType: "application/json"}}
					_, _, err := st.Receive(context.Background(), &store.ReceiveParams{Event: ev, ForwardURL: src.ForwardURL})
					return err
				}
				return `DELETE FROM sources WHERE id = $1`, src.ID, receive, `SELECT (SELECT count(*) FROM events WHERE source_id = $1) + (SELECT count(*) FROM deliveries WHERE source_id = $1)`
			},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			deleteSQL, id, write, leftQuery := tt.prepare(t)
			deleter := connect(t, url)
			tx, err := deleter.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, deleteSQL, id); err != nil {
				t.Fatal(err)
			}

			done := make(chan error, 1)
			go func() { done <- write() }()
			waitForLockWait(t, conn, done, "%FOR KEY SHARE%")
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the write did not end after the delete committed")
			}
			switch {
			case tt.wantErr && !hookd.IsNotFound(err):
				t.Errorf("write under a deleted %s: error = %v, want not found", tt.name, err)
			case !tt.wantErr && err != nil:
				t.Errorf("write under a deleted %s: %v", tt.name, err)
			}
			var left int
			if err := conn.QueryRow(ctx, leftQuery, id).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Errorf("%d rows left under the deleted %s", left, tt.name)
			}
		})
	}
}

// waitForLockWait waits until some backend of the database waits for a
// lock in a statement LIKE query: the write has reached the rows an open
// transaction holds. It fails the test if the write ends first.
func waitForLockWait(t *testing.T, conn *pgx.Conn, done <-chan error, query string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("the write ended (err %v) without waiting for the open transaction", err)
		default:
		}
		var waiting int
		err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`, query).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the write never waited for the open transaction")
}

// TestRecordLocksWebhooksOnlyToMoveThem checks that recording successes
// on a webhook that counts no failures goes on while another transaction
// holds the webhook's row (a move of a re-activated backlog does, chunk by
// chunk), and that recording a failure waits for it, then counts it.
func TestRecordLocksWebhooksOnlyToMoveThem(t *testing.T) {
	t.Parallel()
	url, st, conn := freshStore(t)
	ctx := t.Context()
	r := newRecording(t, st, 2)
	holder := connect(t, url)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT id FROM webhooks WHERE id = $1 FOR NO KEY UPDATE`, r.webhookID); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- r.record(r.jobs[0], 200, time.Time{}) }()
	waitDone(t, done, "record a success while another transaction holds its webhook")

	go func() { done <- r.record(r.jobs[1], 500, r.now.Add(time.Minute)) }()
	waitForLockWait(t, conn, done, "%FOR NO KEY UPDATE%")
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, done, "record a failure once the webhook is free")
	var since *int64
	if err := conn.QueryRow(ctx, `SELECT failing_since FROM webhooks WHERE id = $1`, r.webhookID).Scan(&since); err != nil {
		t.Fatal(err)
	}
	if since == nil || *since != r.now.UnixMilli() {
		t.Errorf("failing_since = %v after a failure at %d", since, r.now.UnixMilli())
	}
}

// TestRecordOfADeletedWebhooksDelivery records a success, which does not
// lock its webhook for update, while a delete of the webhook is open: the
// record waits for it, and once the delete commits it ends without error
// and leaves no attempt behind.
func TestRecordOfADeletedWebhooksDelivery(t *testing.T) {
	t.Parallel()
	url, st, conn := freshStore(t)
	ctx := t.Context()
	r := newRecording(t, st, 1)
	deleter := connect(t, url)
	tx, err := deleter.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, r.webhookID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.record(r.jobs[0], 200, time.Time{}) }()
	waitForLockWait(t, conn, done, "%FOR KEY SHARE%")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, done, "record after the webhook's delete committed")
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM attempts WHERE webhook_id = $1`, r.webhookID).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d attempts left of the deleted webhook", left)
	}
}

// recording is n deliveries to one webhook, claimed by "w", ready to
// record.
type recording struct {
	st        *storepg.Store
	webhookID string
	jobs      []*store.Job
	now       time.Time
}

func newRecording(t *testing.T, st *storepg.Store, n int) *recording {
	t.Helper()
	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := newApp(t, st, ids, now)
	w := newWebhook(t, st, ids, app, hookd.WebhookActive, now)
	p := &store.PublishParams{AppID: app.ID, Now: now}
	for range n {
		ev := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "a", Data: []byte(`{}`), Payload: []byte(`{}`), CreatedAt: now}
		p.Events = append(p.Events, &store.PublishEvent{Event: ev})
	}
	if _, err := st.Publish(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	jobs, err := st.ClaimDue(t.Context(), &store.ClaimParams{Owner: "w", Now: now, Limit: 10, LeaseFor: time.Minute})
	if err != nil || len(jobs) != n {
		t.Fatalf("claimed %d jobs (err %v), want %d", len(jobs), err, n)
	}
	return &recording{st: st, webhookID: w.ID, jobs: jobs, now: now}
}

// record records an attempt of j that answered code, due again at next
// (zero for none).
func (r *recording) record(j *store.Job, code int, next time.Time) error {
	a := &hookd.Attempt{DeliveryID: j.Delivery.ID, WebhookID: r.webhookID, Attempt: 1, At: r.now, StatusCode: code}
	_, err := r.st.RecordAttempts(context.Background(), []*store.AttemptResult{
		{Owner: "w", AttemptReport: hookd.AttemptReport{Attempt: a, NextAttemptAt: next}}})
	return err
}

// waitDone waits up to 10 s for what sends to done, and fails the test
// if it fails or does not end.
func waitDone(t *testing.T, done <-chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: did not end", what)
	}
}
