package storepg_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store/storepg"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// openOn opens a store on url, closed at cleanup.
func openOn(t *testing.T, url string) *storepg.Store {
	t.Helper()
	return openWith(t, url, nil)
}

// openWith opens a store on url that logs to log, closed at cleanup.
func openWith(t *testing.T, url string, log *slog.Logger) *storepg.Store {
	t.Helper()
	key := make([]byte, seal.KeySize)
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storepg.Open(t.Context(), storepg.Config{URL: url, Sealer: sealer, NewID: ident.New(nil).New, MaxConns: 4, Log: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// freshStore opens a store on a schema of its own, and a plain
// connection to look at its tables; it returns the schema's URL too.
func freshStore(t *testing.T) (string, *storepg.Store, *pgx.Conn) {
	t.Helper()
	url := pgtest.URL(t)
	return url, openOn(t, url), connect(t, url)
}

// connect opens a plain connection on url, to look at the tables
// themselves; it is closed at cleanup.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// newApp creates an app, created at when.
func newApp(t *testing.T, st *storepg.Store, ids *ident.Generator, when time.Time) *hookd.App {
	t.Helper()
	app := &hookd.App{ID: ids.New("app"), Name: "a", Profile: hookd.DefaultProfile(), DefaultSecret: testSecret, CreatedAt: when, UpdatedAt: when}
	if err := st.CreateApp(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	return app
}

// newWebhook creates a webhook of app for every event type, with status.
func newWebhook(t *testing.T, st *storepg.Store, ids *ident.Generator, app *hookd.App, status string, when time.Time) *hookd.Webhook {
	t.Helper()
	w := &hookd.Webhook{ID: ids.New("wh"), AppID: app.ID, URL: "https://example.com/hook", Events: []string{"*"},
		Status: status, Secret: testSecret, CreatedAt: when, UpdatedAt: when}
	if err := st.CreateWebhook(t.Context(), w, 0); err != nil {
		t.Fatal(err)
	}
	return w
}

// countDeliveries counts a webhook's deliveries with status, in the table.
func countDeliveries(t *testing.T, conn *pgx.Conn, webhookID, status string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND status = $2`, webhookID, status).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitForDeliveries waits up to 30 s until a webhook has want deliveries
// with status; what names the moment in the failure.
func waitForDeliveries(t *testing.T, conn *pgx.Conn, webhookID, status string, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for n := countDeliveries(t, conn, webhookID, status); n != want; n = countDeliveries(t, conn, webhookID, status) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d deliveries are %s after 30 s", what, n, want, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setWebhookStatus changes a webhook's status through the store.
func setWebhookStatus(t *testing.T, st *storepg.Store, w *hookd.Webhook, status string) {
	t.Helper()
	cur, err := st.GetWebhook(t.Context(), w.AppID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	cur.Status = status
	if err := st.UpdateWebhook(t.Context(), cur, time.Now()); err != nil {
		t.Fatal(err)
	}
}
