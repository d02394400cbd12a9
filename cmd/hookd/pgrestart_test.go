package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// privatePostgres is a PostgreSQL cluster of the test's own, so that the
// test can stop and start it without disturbing anything else.
type privatePostgres struct {
	bin, dir string
	port     int
}

// startPrivatePostgres initialises and starts a throw-away cluster. It
// needs the server binaries and, as PostgreSQL will not run as root, the
// postgres user when the test runs as root.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL server binaries are missing under CI")
		}
		t.Skip("skipping: PostgreSQL server binaries (initdb) not found")
	}
	sort.Strings(bins)
	pg := &privatePostgres{bin: filepath.Dir(bins[len(bins)-1])}
	pg.dir = filepath.Join(t.TempDir(), "pg")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if err := os.MkdirAll(pg.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// The temp dirs above it must be reachable by the postgres user.
		for d := pg.dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755)
		}
		os.Chmod(pg.dir, 0o700)
		if out, err := exec.Command("chown", "postgres:postgres", pg.dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v: %s", err, out)
		}
	}
	pg.run(t, "initdb", "-D", pg.dir, "-A", "trust", "-U", "postgres", "--no-sync")
	pg.start(t)
	t.Cleanup(func() { pg.ctl(t, "stop", "-m", "immediate") })
	return pg
}

func (pg *privatePostgres) run(t *testing.T, tool string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(pg.bin, tool), args...)
	if os.Geteuid() == 0 {
		quoted := filepath.Join(pg.bin, tool)
		for _, a := range args {
			quoted += " " + strconv.Quote(a)
		}
		cmd = exec.Command("su", "postgres", "-s", "/bin/sh", "-c", quoted)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
}

func (pg *privatePostgres) ctl(t *testing.T, args ...string) {
	t.Helper()
	pg.run(t, "pg_ctl", append([]string{"-D", pg.dir, "-w", "-l", filepath.Join(pg.dir, "log")}, args...)...)
}

func (pg *privatePostgres) start(t *testing.T) {
	t.Helper()
	pg.ctl(t, "start", "-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", pg.port, pg.dir))
}

func (pg *privatePostgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

// TestPostgresRestartLosesNothing restarts PostgreSQL under a running
// hookd: /readyz reports not ready while it is gone, hookd reconnects by
// itself, and every event it acknowledged with 202 is delivered.
func TestPostgresRestartLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster; skipped with -short")
	}
	pg := startPrivatePostgres(t)
	srv := startServer(t, func(c *Config) {
		c.Database, c.EncryptionKey = pg.url(), testEncryptionKey
	})
	ctx := context.Background()
	c := srv.Client
	rc := newReceiver(t, nil)
	if _, err := c.CreateEventType(ctx, "db.restart", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateApp(ctx, &client.AppInput{Name: client.Ptr("restart"), UID: client.Ptr("restart")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWebhook(ctx, "restart", &client.WebhookInput{URL: client.Ptr(rc.URL)}); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	publish := func(n int) (ok, failed int) {
		for i := range n {
			p, status, err := c.Publish(ctx, "restart", &client.PublishInput{Type: "db.restart", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
			if err == nil && status == http.StatusAccepted {
				acked[p.ID] = true
				ok++
			} else {
				failed++
			}
		}
		return ok, failed
	}
	ready := func() int {
		resp, err := checkedHTTP(t).Get(srv.URL + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	publish(50)
	pg.ctl(t, "stop", "-m", "fast")
	eventually(t, 10*time.Second, "/readyz to report not ready", func() bool { return ready() == http.StatusServiceUnavailable })
	if ok, _ := publish(5); ok != 0 {
		t.Errorf("%d publishes were acknowledged while the database was down", ok)
	}
	// Refused with 503 UNAVAILABLE, which tells the client to try again.
	apiWantError(t, apiAdmin(t, srv, http.MethodPost, "/v1/apps/restart/events", map[string]any{"type": "db.restart", "data": map[string]any{}}),
		http.StatusServiceUnavailable, "UNAVAILABLE", "the database does not answer")
	pg.start(t)
	eventually(t, 30*time.Second, "/readyz to report ready again", func() bool { return ready() == http.StatusOK })
	eventually(t, 30*time.Second, "publishing to work again", func() bool { ok, _ := publish(1); return ok == 1 })
	publish(50)

	eventually(t, 60*time.Second, "every acknowledged event delivered", func() bool {
		got := map[string]bool{}
		for _, r := range rc.Received() {
			got[r.Header.Get("webhook-id")] = true
		}
		for id := range acked {
			if !got[id] {
				return false
			}
		}
		return true
	})
	t.Logf("%d events acknowledged and delivered across a PostgreSQL restart", len(acked))
}
