package storepg_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
)

// Credential headers are sealed in the webhooks table; one an older hookd
// stored in clear is read as it is, and sealed when its webhook is next
// written.
func TestCredentialHeadersSealedInRows(t *testing.T) {
	t.Parallel()
	_, st, conn := freshStore(t)
	ctx, ids, now := t.Context(), ident.New(nil), time.Now().UTC().Truncate(time.Millisecond)
	app := &hookd.App{ID: ids.New("app"), Name: "Acme", Profile: hookd.DefaultProfile(), DefaultSecret: testSecret, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	w := &hookd.Webhook{ID: ids.New("wh"), AppID: app.ID, URL: "https://receiver.example.com/hook", Events: []string{"*"}, Status: hookd.WebhookActive,
		Secret: testSecret, Headers: map[string]string{"Authorization": "Bearer row_plaintext_marker", "X-Tenant": "t1"}, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(ctx, w, 0); err != nil {
		t.Fatal(err)
	}
	row := func() string {
		t.Helper()
		var s string
		if err := conn.QueryRow(ctx, `SELECT w::text FROM webhooks w WHERE id = $1`, w.ID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if r := row(); strings.Contains(r, "row_plaintext_marker") || !strings.Contains(r, "t1") {
		t.Fatalf("webhook row %s, want Authorization sealed and X-Tenant as is", r)
	}
	if got, err := st.GetWebhook(ctx, app.ID, w.ID); err != nil || got.Headers["Authorization"] != "Bearer row_plaintext_marker" {
		t.Fatalf("read back %v, %v, want the real Authorization", got, err)
	}

	if _, err := conn.Exec(ctx, `UPDATE webhooks SET headers = '{"Authorization":"Bearer legacy"}', version = version + 1 WHERE id = $1`, w.ID); err != nil {
		t.Fatalf("store headers in clear: %v", err)
	}
	got, err := st.GetWebhook(ctx, app.ID, w.ID)
	if err != nil || got.Headers["Authorization"] != "Bearer legacy" {
		t.Fatalf("read of clear-text headers: %v, %v", got, err)
	}
	got.UpdatedAt = now.Add(time.Second)
	if err := st.UpdateWebhook(ctx, got, got.UpdatedAt); err != nil {
		t.Fatal(err)
	}
	if r := row(); strings.Contains(r, "legacy") {
		t.Fatalf("after an update the row holds %s, want Authorization sealed", r)
	}
}
