package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/pgtest"
)

const testAdminToken = "test-admin-token"

// testEncryptionKey is the key of servers on PostgreSQL.
const testEncryptionKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// usePostgres reports whether the end-to-end tests run on PostgreSQL
// (HOOKD_TEST_STORE=postgres) instead of the embedded store.
func usePostgres() bool { return os.Getenv("HOOKD_TEST_STORE") == "postgres" }

// testServer is a hookd started in-process the way `hookd serve` starts,
// on a loopback port and a temporary data dir.
type testServer struct {
	Main   *Main
	URL    string
	Client *client.Client // authenticated as the admin
}

// startServer starts hookd with private networks allowed (receivers are
// httptest servers on loopback). configure may adjust the config first.
func startServer(tb testing.TB, configure ...func(*Config)) *testServer {
	tb.Helper()
	m := NewMain(io.Discard, io.Discard)
	m.Config = Config{
		Addr:                 "127.0.0.1:0",
		DataDir:              tb.TempDir(),
		AllowPrivateNetworks: true,
		AdminToken:           testAdminToken,
		Timeout:              5 * time.Second,
	}
	if usePostgres() {
		m.Config.Database = pgtest.URL(tb)
		m.Config.EncryptionKey = testEncryptionKey
	}
	for _, f := range configure {
		f(&m.Config)
	}
	m.Logger = slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := m.Run(context.Background()); err != nil {
		tb.Fatalf("start hookd: %v", err)
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Errorf("close hookd: %v", err)
		}
	})
	url := "http://" + m.Addr()
	return &testServer{Main: m, URL: url, Client: client.New(url, testAdminToken, checkedHTTP(tb))}
}

// tbWriter routes log lines to the test's log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(p))
	return len(p), nil
}

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// receiver is a webhook endpoint on loopback that records what it gets and
// answers with respond (200 when nil).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	notify   chan struct{}
	respond  func(n int, r *http.Request) int
	requests int
}

func newReceiver(tb testing.TB, respond func(n int, r *http.Request) int) *receiver {
	tb.Helper()
	rc := &receiver{notify: make(chan struct{}, 1), respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.requests++
		n := rc.requests
		rc.got = append(rc.got, received{Header: r.Header.Clone(), Body: body, At: time.Now()})
		rc.mu.Unlock()
		select {
		case rc.notify <- struct{}{}:
		default:
		}
		status := http.StatusOK
		if rc.respond != nil {
			status = rc.respond(n, r)
		}
		w.WriteHeader(status)
		io.WriteString(w, "answer "+http.StatusText(status))
	}))
	tb.Cleanup(rc.Close)
	return rc
}

// Received returns a copy of what has arrived so far.
func (rc *receiver) Received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitFor waits until at least n requests have arrived and returns them.
func (rc *receiver) waitFor(tb testing.TB, n int, timeout time.Duration) []received {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		if got := rc.Received(); len(got) >= n {
			return got
		}
		select {
		case <-rc.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			tb.Fatalf("receiver got %d requests, want %d within %v", len(rc.Received()), n, timeout)
		}
	}
}

// eventually polls cond until it holds or the timeout passes.
func eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
