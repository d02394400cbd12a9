package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/service"
)

// printedTokens returns the admin tokens p printed.
func (p *hookdProcess) printedTokens() []string {
	var out []string
	for _, line := range p.stderr() {
		if m := generatedAdminToken.FindStringSubmatch(line); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// adminStatus is the status of an admin-only request to url with token.
func adminStatus(tb testing.TB, url, token string) int {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url+"/v1/apps", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s/v1/apps: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Two processes started at once on one PostgreSQL database without
// HOOKD_ADMIN_TOKEN agree on one generated admin token: one of them
// prints it, and both accept it. A process given HOOKD_ADMIN_TOKEN makes
// that the token of every process started after it.
func TestAdminTokenSharedOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs hookd binaries; skipped with -short")
	}
	t.Parallel()
	dbURL := pgtest.URL(t)
	bin := buildHookd(t)
	key := []string{"HOOKD_ENCRYPTION_KEY=" + testEncryptionKey}
	dirs := []string{t.TempDir(), t.TempDir()}
	a := spawnHookd(t, bin, key, "--database", dbURL, "--data-dir", dirs[0])
	b := spawnHookd(t, bin, key, "--database", dbURL, "--data-dir", dirs[1])
	urlA, urlB := a.serving(t), b.serving(t)

	tokens := append(a.printedTokens(), b.printedTokens()...)
	if len(tokens) != 1 {
		t.Fatalf("the two processes printed %d admin tokens, want exactly one; stderr:\n%s\n---\n%s",
			len(tokens), strings.Join(a.stderr(), "\n"), strings.Join(b.stderr(), "\n"))
	}
	generated := tokens[0]
	for _, url := range []string{urlA, urlB} {
		if got := adminStatus(t, url, generated); got != http.StatusOK {
			t.Errorf("%s answers the printed token with %d, want 200", url, got)
		}
		if got := adminStatus(t, url, generated[:len(generated)-1]+"x"); got != http.StatusUnauthorized {
			t.Errorf("%s answers another token with %d, want 401", url, got)
		}
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "admin-token.sha256")); err == nil {
			t.Errorf("a process on PostgreSQL kept the admin token's hash in its data dir %s", dir)
		}
	}

	// HOOKD_ADMIN_TOKEN replaces the generated token for what starts next.
	c := spawnHookd(t, bin, append(key, "HOOKD_ADMIN_TOKEN="+testAdminToken), "--database", dbURL, "--data-dir", t.TempDir())
	urlC := c.serving(t)
	d := spawnHookd(t, bin, key, "--database", dbURL, "--data-dir", t.TempDir())
	urlD := d.serving(t)
	if n := len(c.printedTokens()) + len(d.printedTokens()); n != 0 {
		t.Errorf("processes started after the token was stored printed %d more", n)
	}
	for _, url := range []string{urlC, urlD} {
		if got := adminStatus(t, url, testAdminToken); got != http.StatusOK {
			t.Errorf("%s answers HOOKD_ADMIN_TOKEN with %d, want 200", url, got)
		}
		if got := adminStatus(t, url, generated); got != http.StatusUnauthorized {
			t.Errorf("%s answers the replaced generated token with %d, want 401", url, got)
		}
	}
}

// A HOOKD_ADMIN_TOKEN shorter than 16 bytes stops hookd from starting,
// with a message that says so, on either store.
func TestShortAdminTokenRefused(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"x", "fifteen-bytes!!"} {
		m := NewMain(io.Discard, io.Discard)
		m.Config = Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AdminToken: token, Timeout: time.Second}
		if usePostgres() {
			m.Config.Database, m.Config.EncryptionKey = pgtest.URL(t), testEncryptionKey
		}
		err := m.Run(context.Background())
		if err == nil {
			m.Close()
			t.Fatalf("hookd started with the %d-byte admin token %q", len(token), token)
		}
		if !strings.Contains(err.Error(), "HOOKD_ADMIN_TOKEN must be at least 16 bytes") {
			t.Fatalf("start with a %d-byte token failed with %q, want it to say the token is too short", len(token), err)
		}
	}
	// Sixteen bytes are enough.
	startServer(t, func(c *Config) { c.AdminToken = "sixteen-bytes!!!" })
}

// The serve command refuses a short HOOKD_ADMIN_TOKEN before it opens
// anything, and says why on stderr.
func TestServeRefusesShortAdminToken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hookd binary; skipped with -short")
	}
	t.Parallel()
	bin := buildHookd(t)
	p := spawnHookd(t, bin, []string{"HOOKD_ADMIN_TOKEN=short-token"}, "--data-dir", t.TempDir())
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("hookd with a short admin token is still running after 30s")
	}
	if err := p.cmd.Wait(); err == nil {
		t.Fatal("hookd with a short admin token exited 0")
	}
	if out := strings.Join(p.stderr(), "\n"); !strings.Contains(out, "HOOKD_ADMIN_TOKEN must be at least 16 bytes, and it has 11") {
		t.Fatalf("stderr %q does not say the admin token is too short", out)
	}
}

// On an upgrade to a database that keeps no admin token yet, the first
// process offers the hash an older hookd kept in its data dir, so the
// token its operator has keeps working, on every process.
func TestAdminTokenFromDataDirMovesToPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	const kept = "hka_kept-by-an-older-hookd-0123456789"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin-token.sha256"), []byte(service.HashToken(kept)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	onPostgres := func(dataDir string) func(*Config) {
		return func(c *Config) {
			c.Database, c.EncryptionKey, c.DataDir, c.AdminToken = url, testEncryptionKey, dataDir, ""
		}
	}
	first := startServer(t, onPostgres(dir))
	second := startServer(t, onPostgres(t.TempDir()))
	for _, srv := range []*testServer{first, second} {
		if got := adminStatus(t, srv.URL, kept); got != http.StatusOK {
			t.Errorf("%s answers the kept admin token with %d, want 200", srv.URL, got)
		}
	}
}
