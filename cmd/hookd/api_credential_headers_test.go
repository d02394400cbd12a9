package main

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/pgtest"
)

// onEachStore runs f with a configuration for the embedded store and one
// for PostgreSQL (skipped where PostgreSQL is unreachable, outside CI),
// whichever HOOKD_TEST_STORE names.
func onEachStore(t *testing.T, f func(t *testing.T, configure func(*Config))) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, func(c *Config) { c.Database, c.EncryptionKey = "", "" })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := pgtest.URL(t)
		f(t, func(c *Config) { c.Database, c.EncryptionKey = url, testEncryptionKey })
	})
}

// storedBytes returns what srv keeps at rest, to search for values that
// must not be there in clear: every file of the embedded store's data dir
// (the database, its WAL, the key file), or, on PostgreSQL, every row of
// every table of its schema as text.
func storedBytes(tb testing.TB, srv *testServer) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	if url := srv.Main.Config.Database; url != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Fatalf("connect to look at the rows: %v", err)
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
		if err != nil {
			tb.Fatalf("list tables: %v", err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(tables) == 0 {
			tb.Fatalf("list tables: %v (%d)", err, len(tables))
		}
		for _, table := range tables {
			rows, err := conn.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
			if err != nil {
				tb.Fatalf("read %s: %v", table, err)
			}
			texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				tb.Fatalf("read %s: %v", table, err)
			}
			out["table "+table] = []byte(strings.Join(texts, "\n"))
		}
		return out
	}
	err := filepath.WalkDir(srv.Main.Config.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out["file "+path] = b
		return nil
	})
	if err != nil {
		tb.Fatalf("read the data dir: %v", err)
	}
	return out
}

// wantStored fails unless some of what srv keeps holds want (so that a
// search for something else is not proven by an empty database), and
// reports where any of absent is held in clear.
func wantStored(tb testing.TB, srv *testServer, want string, absent ...string) {
	tb.Helper()
	seen := false
	for where, b := range storedBytes(tb, srv) {
		seen = seen || bytes.Contains(b, []byte(want))
		for _, a := range absent {
			if bytes.Contains(b, []byte(a)) {
				tb.Errorf("%s holds %q in clear", where, a)
			}
		}
	}
	if !seen {
		tb.Fatalf("nothing stored holds %q; the search proves nothing", want)
	}
}

// Credential headers of a webhook reach the receiver as given, are shown
// as [redacted] in every webhook answer and in attempts' request headers,
// survive a PATCH that sends the placeholder back, and are not kept in
// clear by either store.
func TestWebhookCredentialHeaders(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, configure func(*Config)) {
		srv := startServer(t, configure)
		auth, apiKey, cookie := leakMarker(t, "Bearer auth-", 12), leakMarker(t, "apikey-", 12), leakMarker(t, "session=", 12)
		tenant := leakMarker(t, "tenant-", 12)
		app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "Credentials"}), "id")
		rc := newReceiver(t, nil)
		base := "/v1/apps/" + app + "/webhooks"
		headers := map[string]string{"Authorization": auth, "X-Api-Key": apiKey, "Cookie": cookie, "X-Tenant": tenant}
		wantShown := func(what string, body map[string]any) {
			t.Helper()
			h, _ := body["headers"].(map[string]any)
			want := map[string]any{"Authorization": "[redacted]", "X-Api-Key": "[redacted]", "Cookie": "[redacted]", "X-Tenant": tenant}
			if len(h) != len(want) {
				t.Fatalf("%s shows headers %v, want %v", what, body["headers"], want)
			}
			for k, v := range want {
				if h[k] != v {
					t.Fatalf("%s shows headers %v, want %v", what, body["headers"], want)
				}
			}
		}
		created := apiWant(t, apiAdmin(t, srv, "POST", base, map[string]any{"url": rc.URL, "events": []string{"*"}, "headers": headers}), http.StatusCreated)
		wantShown("create answer", created)
		id := apiStr(t, created, "id")
		wantShown("GET", apiWant(t, apiAdmin(t, srv, "GET", base+"/"+id, nil), http.StatusOK))
		list, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", base, nil), http.StatusOK), "webhooks")
		if len(list) != 1 {
			t.Fatalf("list holds %d webhooks, want 1", len(list))
		}
		wantShown("list", list[0])

		// The receiver gets the real values; the attempt log does not.
		wantReceived := func(n int, authWant string) {
			t.Helper()
			got := rc.waitFor(t, n, 20*time.Second)[n-1]
			if got.Header.Get("Authorization") != authWant || got.Header.Get("X-Api-Key") != apiKey || got.Header.Get("Cookie") != cookie ||
				got.Header.Get("X-Tenant") != tenant {
				t.Fatalf("delivery %d carried Authorization %q X-Api-Key %q Cookie %q X-Tenant %q, want the real values",
					n, got.Header.Get("Authorization"), got.Header.Get("X-Api-Key"), got.Header.Get("Cookie"), got.Header.Get("X-Tenant"))
			}
		}
		pub := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events", map[string]any{"type": "user.created", "data": map[string]any{"n": 1}}), http.StatusAccepted)
		wantReceived(1, auth)
		ev := apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+app+"/events/"+apiStr(t, pub, "id"), nil), http.StatusOK)
		dls, _ := ev["deliveries"].([]any)
		if len(dls) != 1 {
			t.Fatalf("event has deliveries %v, want 1", ev["deliveries"])
		}
		dlv := apiStr(t, dls[0].(map[string]any), "id")
		var attempt map[string]any
		eventually(t, 20*time.Second, "the attempt to be logged", func() bool {
			d := apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+app+"/deliveries/"+dlv, nil), http.StatusOK)
			as, _ := d["attempts"].([]any)
			if len(as) == 0 {
				return false
			}
			attempt = as[0].(map[string]any)
			return true
		})
		rh, _ := attempt["request_headers"].(map[string]any)
		for k, want := range map[string]string{"Authorization": "[redacted]", "X-Api-Key": "[redacted]", "Cookie": "[redacted]", "X-Tenant": tenant} {
			if rh[k] != want {
				t.Fatalf("attempt request_headers %v: %s = %v, want %q", rh, k, rh[k], want)
			}
		}
		if sig, _ := rh["webhook-signature"].(string); !strings.HasPrefix(sig, "v1,") {
			t.Fatalf("attempt request_headers %v: hookd's own webhook-signature should be shown", rh)
		}

		// A PATCH that sends a read back keeps the values; a new value
		// replaces one; the placeholder for a header that has none is
		// refused.
		got := apiWant(t, apiAdmin(t, srv, "GET", base+"/"+id, nil), http.StatusOK)
		wantShown("PATCH answer", apiWant(t, apiAdmin(t, srv, "PATCH", base+"/"+id, map[string]any{"headers": got["headers"]}), http.StatusOK))
		apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events", map[string]any{"type": "user.created", "data": map[string]any{"n": 2}}), http.StatusAccepted)
		wantReceived(2, auth)
		auth2 := leakMarker(t, "Bearer auth2-", 12)
		patched := map[string]any{"Authorization": auth2, "X-Api-Key": "[redacted]", "Cookie": "[redacted]", "X-Tenant": tenant}
		wantShown("PATCH answer", apiWant(t, apiAdmin(t, srv, "PATCH", base+"/"+id, map[string]any{"headers": patched}), http.StatusOK))
		apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events", map[string]any{"type": "user.created", "data": map[string]any{"n": 3}}), http.StatusAccepted)
		wantReceived(3, auth2)
		patched["X-Auth-Token"] = "[redacted]"
		apiWantError(t, apiAdmin(t, srv, "PATCH", base+"/"+id, map[string]any{"headers": patched}), http.StatusBadRequest, "BAD_REQUEST", "X-Auth-Token")

		wantStored(t, srv, tenant, strings.TrimPrefix(auth, "Bearer "), strings.TrimPrefix(auth2, "Bearer "), apiKey, strings.TrimPrefix(cookie, "session="))
	})
}
