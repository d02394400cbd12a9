package storepg_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/store"
)

// TestDeletesLeaveNoRows checks, in the tables themselves, that deleting
// a webhook, pruning events and deleting an app remove the deliveries and
// attempts that belonged to them, and nothing else: deliveries and
// attempts carry no foreign keys to their events and deliveries, so the
// store's triggers must do what ON DELETE CASCADE did.
func TestDeletesLeaveNoRows(t *testing.T) {
	t.Parallel()
	_, st, conn := freshStore(t)
	ctx := t.Context()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	rows := func(appID string) (deliveries, attempts int) {
		t.Helper()
		deliveries = count(`SELECT count(*) FROM deliveries WHERE app_id = $1`, appID)
		attempts = count(`SELECT count(*) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.app_id = $1`, appID)
		if orphans := count(`SELECT count(*) FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id)`); orphans > 0 {
			t.Fatalf("%d attempts outlived their deliveries", orphans)
		}
		if orphans := count(`SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id)`); orphans > 0 {
			t.Fatalf("%d deliveries outlived their events", orphans)
		}
		return deliveries, attempts
	}

	ids := ident.New(nil)
	long := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Millisecond)
	// deliver makes an app with two webhooks and delivers three events to
	// both, at when; it returns the app and the webhooks.
	deliver := func(when time.Time) (*hookd.App, []*hookd.Webhook) {
		t.Helper()
		app := newApp(t, st, ids, when)
		hooks := []*hookd.Webhook{
			newWebhook(t, st, ids, app, hookd.WebhookActive, when),
			newWebhook(t, st, ids, app, hookd.WebhookActive, when),
		}
		p := &store.PublishParams{AppID: app.ID, Now: when}
		made := ident.New(func() time.Time { return when }) // ids carry their time (see Prune)
		for range 3 {
			ev := &hookd.Event{ID: made.New("evt"), AppID: app.ID, Type: "a", Data: []byte(`{}`), Payload: []byte(`{}`), CreatedAt: when}
			p.Events = append(p.Events, &store.PublishEvent{Event: ev})
		}
		if _, err := st.Publish(ctx, p); err != nil {
			t.Fatal(err)
		}
		jobs, err := st.ClaimDue(ctx, &store.ClaimParams{Owner: "test", Now: when, Limit: 100, LeaseFor: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		var results []*store.AttemptResult
		for _, j := range jobs {
			if j.Delivery.AppID != app.ID {
				continue
			}
			a := &hookd.Attempt{DeliveryID: j.Delivery.ID, WebhookID: j.Delivery.WebhookID, Attempt: 1, At: when, StatusCode: 200}
			results = append(results, &store.AttemptResult{Owner: "test", AttemptReport: hookd.AttemptReport{Attempt: a}})
		}
		if _, err := st.RecordAttempts(ctx, results); err != nil {
			t.Fatal(err)
		}
		if d, a := rows(app.ID); d != 6 || a != 6 {
			t.Fatalf("after delivering: %d deliveries and %d attempts, want 6 and 6", d, a)
		}
		return app, hooks
	}

	pruned, prunedHooks := deliver(long)
	kept, keptHooks := deliver(long)
	deleted, _ := deliver(time.Now().UTC().Truncate(time.Millisecond)) // too young to prune

	if err := st.DeleteWebhook(ctx, pruned.ID, prunedHooks[0].ID); err != nil {
		t.Fatal(err)
	}
	if d, a := rows(pruned.ID); d != 3 || a != 3 {
		t.Fatalf("after deleting a webhook: %d deliveries and %d attempts, want 3 and 3", d, a)
	}
	if n := count(`SELECT count(*) FROM deliveries WHERE webhook_id = $1`, prunedHooks[1].ID); n != 3 {
		t.Fatalf("the other webhook has %d deliveries left, want 3", n)
	}

	// Prune what is older than a day, except the kept app's events: a
	// pending delivery holds an event back.
	if _, err := st.RetryDelivery(ctx, kept.ID, firstDelivery(t, conn, keptHooks[0].ID), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Prune(ctx, time.Now().Add(-24*time.Hour), 100); err != nil {
		t.Fatal(err)
	}
	if d, a := rows(pruned.ID); d != 0 || a != 0 {
		t.Fatalf("after pruning: %d deliveries and %d attempts, want none", d, a)
	}
	if d, a := rows(kept.ID); d != 2 || a != 2 {
		t.Fatalf("the kept app after pruning: %d deliveries and %d attempts, want those of the event still pending (2 and 2)", d, a)
	}

	if err := st.DeleteApp(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	if d, a := rows(deleted.ID); d != 0 || a != 0 {
		t.Fatalf("after deleting the app: %d deliveries and %d attempts, want none", d, a)
	}
	if d, a := rows(kept.ID); d != 2 || a != 2 {
		t.Fatalf("another app's rows after deleting an app: %d deliveries and %d attempts, want 2 and 2", d, a)
	}
}

// firstDelivery returns the id of a webhook's first delivery.
func firstDelivery(t *testing.T, conn *pgx.Conn, webhookID string) string {
	t.Helper()
	var id string
	if err := conn.QueryRow(t.Context(), `SELECT min(id) FROM deliveries WHERE webhook_id = $1`, webhookID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
