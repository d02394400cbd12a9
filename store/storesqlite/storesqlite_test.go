package storesqlite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/logtest"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storesqlite"
	"github.com/hookd/hookd/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T, sealer store.Sealer) store.Store {
		return openWith(t, filepath.Join(t.TempDir(), "hookd.db"), sealer)
	})
}

// newKey returns a random encryption key.
func newKey(tb testing.TB) []byte {
	tb.Helper()
	key := make([]byte, seal.KeySize)
	if _, err := rand.Read(key); err != nil {
		tb.Fatalf("key: %v", err)
	}
	return key
}

// openStore opens the SQLite store at path under key and closes it when
// the test ends.
func openStore(tb testing.TB, path string, key []byte) *storesqlite.Store {
	tb.Helper()
	sealer, err := seal.New(key)
	if err != nil {
		tb.Fatalf("sealer: %v", err)
	}
	return openWith(tb, path, sealer)
}

// openWith opens the SQLite store at path with sealer.
func openWith(tb testing.TB, path string, sealer store.Sealer) *storesqlite.Store {
	tb.Helper()
	st, err := storesqlite.Open(tb.Context(), storesqlite.Config{Path: path, Sealer: sealer, NewID: ident.New(nil).New})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return st
}

var t0 = time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)

// seed stores an app with one webhook and publishes one event to it at t0.
func seed(tb testing.TB, st store.Store) (*hookd.App, *hookd.Webhook, *hookd.Event) {
	tb.Helper()
	ctx, ids := tb.Context(), ident.New(nil)
	app := &hookd.App{ID: ids.New("app"), UID: "acme", Name: "Acme", Profile: hookd.DefaultProfile(),
		DefaultSecret: "whsec_default_plaintext_marker", CreatedAt: t0, UpdatedAt: t0}
	if err := st.CreateApp(ctx, app); err != nil {
		tb.Fatalf("create app: %v", err)
	}
	w := &hookd.Webhook{ID: ids.New("wh"), AppID: app.ID, URL: "https://receiver.example.com/hook", Events: []string{"*"},
		Status: hookd.WebhookActive, Name: "hook", Secret: "whsec_webhook_plaintext_marker",
		Headers:        map[string]string{"Authorization": "Bearer header_plaintext_marker", "X-Api-Key": "key_plaintext_marker"},
		PreviousSecret: "whsec_previous_plaintext_marker", PreviousSecretExpiresAt: t0.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0}
	if err := st.CreateWebhook(ctx, w, 0); err != nil {
		tb.Fatalf("create webhook: %v", err)
	}
	ev := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "user.created", Data: []byte(`{"n":1}`),
		Payload: []byte(`{"type":"user.created","data":{"n":1}}`), CreatedAt: t0}
	if _, err := st.Publish(ctx, &store.PublishParams{AppID: app.ID, Now: t0, Events: []*store.PublishEvent{{Event: ev}}}); err != nil {
		tb.Fatalf("publish: %v", err)
	}
	return app, w, ev
}

func TestRestartForgetsLeases(t *testing.T) {
	t.Parallel()
	path, key := filepath.Join(t.TempDir(), "hookd.db"), newKey(t)
	st := openStore(t, path, key)
	ctx := t.Context()
	seed(t, st)

	jobs, err := st.ClaimDue(ctx, &store.ClaimParams{Owner: "dead", Now: t0, Limit: 10, LeaseFor: time.Hour})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	if again, err := st.ClaimDue(ctx, &store.ClaimParams{Owner: "other", Now: t0.Add(time.Second), Limit: 10, LeaseFor: time.Minute}); err != nil || len(again) != 0 {
		t.Fatalf("claim of a leased delivery: %d jobs, %v", len(again), err)
	}
	// The process dies holding the lease. The one that starts next finds
	// the delivery due at once, not an hour later.
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	st = openStore(t, path, key)
	n, err := st.ReleaseLeases(ctx)
	if err != nil || n != 0 {
		t.Fatalf("release: %d, %v; want none written to the database", n, err)
	}
	again, err := st.ClaimDue(ctx, &store.ClaimParams{Owner: "alive", Now: t0.Add(time.Second), Limit: 10, LeaseFor: time.Minute})
	if err != nil || len(again) != 1 || again[0].Delivery.ID != jobs[0].Delivery.ID {
		t.Fatalf("claim after restart: %v, %v", again, err)
	}
	// The dead owner's late result does not apply.
	a := &hookd.Attempt{DeliveryID: jobs[0].Delivery.ID, WebhookID: jobs[0].Webhook.ID, Attempt: 1, At: t0.Add(2 * time.Second), StatusCode: 200}
	if _, err := st.RecordAttempts(ctx, []*store.AttemptResult{{Owner: "dead", AttemptReport: hookd.AttemptReport{Attempt: a}}}); err != nil {
		t.Fatalf("record: %v", err)
	}
	d, err := st.GetDelivery(ctx, jobs[0].Delivery.AppID, jobs[0].Delivery.ID)
	if err != nil || d.Status != hookd.DeliveryPending {
		t.Fatalf("delivery after the dead owner's result: %+v, %v", d, err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	path, key := filepath.Join(t.TempDir(), "hookd.db"), newKey(t)
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: path, Sealer: sealer, NewID: ident.New(nil).New})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	app, w, ev := seed(t, st)
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	st2 := openStore(t, path, key)
	ctx := t.Context()
	got, err := st2.GetApp(ctx, "acme")
	if err != nil || got.ID != app.ID || got.DefaultSecret != app.DefaultSecret {
		t.Fatalf("app after reopen: %+v, %v", got, err)
	}
	gw, err := st2.GetWebhook(ctx, app.ID, w.ID)
	if err != nil || gw.Secret != w.Secret || gw.PreviousSecret != w.PreviousSecret || !gw.PreviousSecretExpiresAt.Equal(w.PreviousSecretExpiresAt) {
		t.Fatalf("webhook after reopen: %+v, %v", gw, err)
	}
	ge, err := st2.GetEvent(ctx, app.ID, ev.ID)
	if err != nil || !bytes.Equal(ge.Payload, ev.Payload) || len(ge.Deliveries) != 1 {
		t.Fatalf("event after reopen: %+v, %v", ge, err)
	}
	jobs, err := st2.ClaimDue(ctx, &store.ClaimParams{Owner: "w", Now: t0, Limit: 10, LeaseFor: time.Minute})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("the queue after reopen: %d jobs, %v", len(jobs), err)
	}

	// Another key cannot read the secrets.
	if err := st2.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	st3 := openStore(t, path, newKey(t))
	if _, err := st3.GetWebhook(ctx, app.ID, w.ID); err == nil {
		t.Errorf("a store opened with another key read a webhook's secret")
	}
}

// TestSecretsNotInFile looks for the plaintext secrets in the bytes SQLite
// wrote, which the conformance suite cannot do for every database.
func TestSecretsNotInFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := openStore(t, filepath.Join(dir, "hookd.db"), newKey(t))
	seed(t, st)
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "hookd.db*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("database files: %v, %v", files, err)
	}
	var sawData bool
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sawData = sawData || bytes.Contains(b, []byte("receiver.example.com"))
		for _, secret := range []string{"plaintext_marker"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds a secret in plaintext", filepath.Base(name))
			}
		}
	}
	if !sawData {
		t.Fatalf("the database files hold none of the seeded data; the check proves nothing")
	}
}

// A credential header an older hookd stored in clear is read as it is,
// and sealed when its webhook is next written.
func TestClearTextCredentialHeadersStillRead(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	st := openStore(t, path, newKey(t))
	app, w, _ := seed(t, st)
	raw := storesqlite.OpenRaw(path)
	defer raw.Close()
	if _, err := raw.ExecContext(t.Context(), `UPDATE webhooks SET headers = '{"Authorization":"Bearer legacy","X-Tenant":"t1"}', version = version + 1 WHERE id = ?`, w.ID); err != nil {
		t.Fatalf("store headers in clear: %v", err)
	}
	got, err := st.GetWebhook(t.Context(), app.ID, w.ID)
	if err != nil {
		t.Fatalf("read a webhook with clear-text headers: %v", err)
	}
	if got.Headers["Authorization"] != "Bearer legacy" || got.Headers["X-Tenant"] != "t1" {
		t.Fatalf("headers read %v, want the clear-text ones", got.Headers)
	}
	got.UpdatedAt = got.UpdatedAt.Add(time.Second)
	if err := st.UpdateWebhook(t.Context(), got, got.UpdatedAt); err != nil {
		t.Fatalf("update: %v", err)
	}
	var stored string
	if err := raw.QueryRowContext(t.Context(), `SELECT headers FROM webhooks WHERE id = ?`, w.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, "legacy") || !strings.Contains(stored, "t1") {
		t.Fatalf("after an update the headers column holds %s, want Authorization sealed and X-Tenant as is", stored)
	}
	if again, err := st.GetWebhook(t.Context(), app.ID, w.ID); err != nil || again.Headers["Authorization"] != "Bearer legacy" {
		t.Fatalf("read after the update: %v, %v", again, err)
	}
}

func TestOpenValidates(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	if _, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: path, NewID: ident.New(nil).New}); err == nil {
		t.Errorf("Open without a Sealer: no error")
	}
	// Migrate alone prepares a file that Open then takes as it is.
	if err := storesqlite.Migrate(t.Context(), path, nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	st := openStore(t, path, newKey(t))
	if err := st.Ping(t.Context()); err != nil {
		t.Fatalf("ping after migrate: %v", err)
	}
}

// TestEventDataInPayload checks that an event whose payload holds its
// data byte for byte stores the data only inside the payload, and that
// data the payload does not hold is stored apart (the conformance suite's
// Publish/DataInPayload checks that both read back whole).
func TestEventDataInPayload(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	st := openStore(t, path, newKey(t))
	ids := ident.New(nil)
	app, _, _ := seed(t, st)
	data := []byte(`{"customer":{"email":"ada@example.com","name":"Ada Lovelace"},"items":[1,2,3],"note":"é"}`)
	embedded := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "x", Data: data,
		Payload: append(append([]byte(`{"type":"x","data":`), data...), `}`...), CreatedAt: t0}
	apart := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "x", Data: data, Payload: []byte(`{"type":"x"}`), CreatedAt: t0}
	if _, err := st.Publish(t.Context(), &store.PublishParams{AppID: app.ID, Now: t0, Events: []*store.PublishEvent{{Event: embedded}, {Event: apart}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	db := storesqlite.OpenRaw(path)
	defer db.Close()
	for id, want := range map[string]int{embedded.ID: 0, apart.ID: len(data)} {
		var stored int
		if err := db.QueryRowContext(t.Context(), `SELECT length(data) FROM events WHERE id = ?`, id).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != want {
			t.Errorf("event %s stores %d bytes of data apart from its payload, want %d", id, stored, want)
		}
	}
}

func BenchmarkDeliveryPath(b *testing.B) {
	storetest.BenchmarkDeliveryPath(b, openBench, 256)
}

// countStatus counts the webhook's deliveries of one status.
func countStatus(tb testing.TB, st store.Store, appID, webhookID, status string) int {
	tb.Helper()
	n, page := 0, store.Page{Limit: 250}
	for {
		ds, next, err := st.ListDeliveries(tb.Context(), store.DeliveryFilter{AppID: appID, WebhookID: webhookID, Status: status}, page)
		if err != nil {
			tb.Fatalf("list deliveries: %v", err)
		}
		n += len(ds)
		if next == "" {
			return n
		}
		page.After = next
	}
}

// TestStatusChangesMoveLargeBacklogsInChunks pauses and re-activates a
// webhook with more deliveries than one transaction moves, and checks that
// a re-activation cut short (as by a crash) is finished at the next start.
func TestStatusChangesMoveLargeBacklogsInChunks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	key := newKey(t)
	st := openStore(t, path, key)
	ctx := t.Context()
	app, w, _ := seed(t, st)
	const events = 12_001 // more than two chunks of 5,000, with seed's
	publishMany(t, st, app, events-1)
	// The first chunk moves with the change, the rest in the background.
	waitStatus := func(what, status string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for n := 0; n != events; n = countStatus(t, st, app.ID, w.ID, status) {
			if time.Now().After(deadline) {
				t.Fatalf("%s after 60 s: %d, want %d", what, n, events)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	w.Status = hookd.WebhookPaused
	if err := st.UpdateWebhook(ctx, w, t0); err != nil {
		t.Fatal(err)
	}
	waitStatus("held after pausing", hookd.DeliveryHeld)
	w.Status = hookd.WebhookActive
	if err := st.UpdateWebhook(ctx, w, t0); err != nil {
		t.Fatal(err)
	}
	waitStatus("pending after re-activating", hookd.DeliveryPending)

	// Pause again, then mark the webhook active behind the store's back,
	// as a re-activation that died after its first chunk would leave it.
	w.Status = hookd.WebhookPaused
	if err := st.UpdateWebhook(ctx, w, t0); err != nil {
		t.Fatal(err)
	}
	waitStatus("held after pausing again", hookd.DeliveryHeld)
	st.Close()
	db := storesqlite.OpenRaw(path)
	if _, err := db.Exec(`UPDATE webhooks SET status = 'active' WHERE id = ?`, w.ID); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st = openStore(t, path, key)
	if _, err := st.ReleaseLeases(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countStatus(t, st, app.ID, w.ID, hookd.DeliveryPending); n != events {
		t.Fatalf("pending after the start-up reconciliation: %d, want %d", n, events)
	}
}

// TestConnectionSettings checks what every connection of both pools runs
// with: durability and integrity, and the settings the delivery path's
// speed depends on.
func TestConnectionSettings(t *testing.T) {
	t.Parallel()
	st := openStore(t, filepath.Join(t.TempDir(), "hookd.db"), newKey(t))
	writer, readers := st.Pools()
	want := map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": "10000",
		"temp_store":   "2", // MEMORY
		"page_size":    "16384",
	}
	for name, db := range map[string]*sql.DB{"writer": writer, "reader": readers} {
		for pragma, value := range want {
			var got string
			if err := db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", name, pragma, err)
			}
			if got != value {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, pragma, got, value)
			}
		}
	}
}

func BenchmarkBacklogDrain(b *testing.B) {
	storetest.BenchmarkBacklogDrain(b, openBench, 384, 192)
}

func openBench(b *testing.B, sealer store.Sealer) store.Store {
	return openWith(b, filepath.Join(b.TempDir(), "hookd.db"), sealer)
}

// TestFailedMoveIsLoggedAndRetried makes the background part of a
// re-activation fail (a trigger raises while a flag is set), and checks
// that the failure is logged and the move finished once it stops failing.
func TestFailedMoveIsLoggedAndRetried(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	sealer, err := seal.New(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	var logs logtest.Buffer
	st, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: path, Sealer: sealer, NewID: ident.New(nil).New, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	app, w, _ := seed(t, st)
	w.Status = hookd.WebhookPaused
	if err := st.UpdateWebhook(ctx, w, t0); err != nil {
		t.Fatal(err)
	}
	const events = 7_001 // with seed's; the request moves 5,000, the background the rest
	publishMany(t, st, app, events-1)
	// While the flag is set, a delivery may not become pending once 5,000
	// are: the request's chunk goes through, the background's fails.
	db := storesqlite.OpenRaw(path)
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE fail_moves (fail INTEGER);
		INSERT INTO fail_moves VALUES (1);
		CREATE TRIGGER fail_moves BEFORE UPDATE OF status ON deliveries
		WHEN NEW.status = 'pending' AND (SELECT fail FROM fail_moves) = 1
		  AND (SELECT count(*) FROM deliveries WHERE status = 'pending') >= 5000
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END;`); err != nil {
		t.Fatal(err)
	}
	w.Status = hookd.WebhookActive
	if err := st.UpdateWebhook(ctx, w, t0); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logs.String(), "injected failure"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no failed move logged in 30 s; the log holds:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "move deliveries") {
		t.Errorf("the failure is not logged as a move; the log holds:\n%s", logs.String())
	}
	if n := countStatus(t, st, app.ID, w.ID, hookd.DeliveryPending); n != 5000 {
		t.Errorf("%d pending while the move fails, want the request's 5,000", n)
	}
	if _, err := db.Exec(`UPDATE fail_moves SET fail = 0`); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); countStatus(t, st, app.ID, w.ID, hookd.DeliveryPending) != events; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the move was not retried: %d of %d pending 30 s after it stopped failing", countStatus(t, st, app.ID, w.ID, hookd.DeliveryPending), events)
		}
	}
}

// publishMany publishes n events of app at t0, a thousand to a request.
func publishMany(t *testing.T, st *storesqlite.Store, app *hookd.App, n int) {
	t.Helper()
	ids := ident.New(nil)
	for done := 0; done < n; {
		p := &store.PublishParams{AppID: app.ID, Now: t0}
		for ; done < n && len(p.Events) < 1000; done++ {
			p.Events = append(p.Events, &store.PublishEvent{Event: &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "x",
				Data: []byte(`{}`), Payload: []byte(`{}`), CreatedAt: t0}})
		}
		if _, err := st.Publish(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnreadIndexesMigration upgrades a database holding attempts past
// migration 5, which copies attempts into a table with no index of ids
// and drops deliveries_app: the attempts read back whole and in order, and
// the two indexes are gone.
func TestUnreadIndexesMigration(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookd.db")
	db := storesqlite.OpenRaw(path)
	if err := storesqlite.MigrateTo(ctx, db, 4); err != nil {
		t.Fatalf("migrate to 4: %v", err)
	}
	for _, q := range []string{
		`INSERT INTO apps (id, name, profile, default_secret, created_at, updated_at) VALUES ('app_m', 'm', '{}', x'00', 1000, 1000)`,
		`INSERT INTO events (id, app_id, type, data, payload, created_at) VALUES ('evt_m', 'app_m', 'a.b', x'7b7d', x'7b7d', 1000)`,
		`INSERT INTO deliveries (id, app_id, event_id, url, status, attempt_count, created_at, updated_at)
			VALUES ('dlv_m', 'app_m', 'evt_m', 'https://receiver.example.com/', 'failed', 2, 1000, 3000)`,
		`INSERT INTO attempts (id, delivery_id, attempt, at, duration_ms, status_code, request_headers, response_body, error)
			VALUES ('att_2', 'dlv_m', 2, 3000, 7, 500, '{"a":"b"}', 'oops', '')`,
		`INSERT INTO attempts (id, delivery_id, attempt, at, duration_ms, status_code, request_headers, response_body, error)
			VALUES ('att_1', 'dlv_m', 1, 2000, 5, NULL, '{}', '', 'refused')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st := openStore(t, path, newKey(t)) // migrates to the last version
	d, err := st.GetDelivery(ctx, "app_m", "dlv_m")
	if err != nil {
		t.Fatalf("get delivery: %v", err)
	}
	if len(d.Attempts) != 2 {
		t.Fatalf("attempts after the migration: %d, want 2", len(d.Attempts))
	}
	first, second := d.Attempts[0], d.Attempts[1]
	if first.ID != "att_1" || first.Attempt != 1 || first.Error != "refused" || first.StatusCode != 0 || first.Duration != 5*time.Millisecond {
		t.Errorf("first attempt: %+v", first)
	}
	if second.ID != "att_2" || second.Attempt != 2 || second.StatusCode != 500 || second.ResponseBody != "oops" || second.RequestHeaders["a"] != "b" {
		t.Errorf("second attempt: %+v", second)
	}

	w, _ := st.Pools()
	rows, err := w.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('attempts', 'deliveries')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	indexes := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		indexes[name] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"sqlite_autoindex_attempts_1", "deliveries_app"} {
		if indexes[gone] {
			t.Errorf("index %s is still there", gone)
		}
	}
	for _, kept := range []string{"attempts_delivery", "attempts_webhook_at", "deliveries_webhook"} {
		if !indexes[kept] {
			t.Errorf("index %s is missing (have %v)", kept, indexes)
		}
	}
}

// TestRecoveryResumesAfterRestart checks that a recovery a process left
// half done, its record still in the file, is finished by the next start
// (ReleaseLeases), by that record alone.
func TestRecoveryResumesAfterRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	key := newKey(t)
	st := openStore(t, path, key)
	ctx := t.Context()
	app, w, _ := seed(t, st)
	const events = 6_001
	publishMany(t, st, app, events-1)
	st.Close()
	db := storesqlite.OpenRaw(path)
	now := time.Now()
	if _, err := db.Exec(`UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = ? WHERE webhook_id = ?`,
		now.Add(-time.Minute).UnixMilli(), w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO recoveries (id, webhook_id, since, until, before) VALUES ('rcv_left', ?, 0, ?, ?)`,
		w.ID, int64(1<<62), now.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st = openStore(t, path, key)
	if _, err := st.ReleaseLeases(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for n := 0; n != events; n = countStatus(t, st, app.ID, w.ID, hookd.DeliveryPending) {
		if time.Now().After(deadline) {
			t.Fatalf("pending after a restart: %d, want %d", n, events)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, done, err := st.RecoverWebhook(ctx, &store.RecoverParams{AppID: app.ID, WebhookID: w.ID, Since: time.Time{}.Add(time.Millisecond), Now: time.Now()}); err != nil || n != 0 || !done {
		t.Errorf("RecoverWebhook once all are re-queued = %d, %v, %v; want none, done", n, done, err)
	}
}

// A record whose transaction cannot begin (the writer busy past the
// record's deadline, the store closing) returns an error, so that the
// recorder keeps its batch and tries again; the delivery stays leased to
// its owner, untouched.
func TestRecordThatCannotBeginReturnsItsError(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "hookd.db"), newKey(t))
	seed(t, st)
	ctx := t.Context()
	jobs, err := st.ClaimDue(ctx, &store.ClaimParams{Owner: "me", Now: t0.Add(time.Second), Limit: 10, LeaseFor: time.Minute})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	expired, cancel := context.WithCancel(ctx)
	cancel()
	a := &hookd.Attempt{DeliveryID: jobs[0].Delivery.ID, WebhookID: jobs[0].Webhook.ID, Attempt: 1, At: t0.Add(2 * time.Second), StatusCode: 500}
	notices, err := st.RecordAttempts(expired, []*store.AttemptResult{{Owner: "me", AttemptReport: hookd.AttemptReport{Attempt: a}}})
	if !errors.Is(err, context.Canceled) || notices != nil {
		t.Fatalf("record under a cancelled context: %v, %v; want context.Canceled and no notices", notices, err)
	}
	d, err := st.GetDelivery(ctx, jobs[0].Delivery.AppID, jobs[0].Delivery.ID)
	if err != nil || d.AttemptCount != 0 {
		t.Fatalf("delivery after a record that did not begin: %+v, %v", d, err)
	}
}
