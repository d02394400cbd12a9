package deliver_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/deliver"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
	"github.com/hookd/hookd/store/storesqlite"
)

// testStore is a real store and what makes its ids.
type testStore struct {
	store.Store
	ids *ident.Generator
}

// eachStore runs f on a fresh SQLite store and on a fresh PostgreSQL
// schema (skipped, or under CI failed, where PostgreSQL is unreachable).
func eachStore(t *testing.T, f func(t *testing.T, st *testStore)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, openSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, openPostgres(t, pgtest.URL(t)))
	})
}

func testSealer(tb testing.TB) store.Sealer {
	tb.Helper()
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	s, err := seal.New(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func openSQLite(tb testing.TB) *testStore {
	tb.Helper()
	ids := ident.New(nil)
	st, err := storesqlite.Open(context.Background(), storesqlite.Config{Path: filepath.Join(tb.TempDir(), "hookd.db"), Sealer: testSealer(tb), NewID: ids.New})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return &testStore{Store: st, ids: ids}
}

// openPostgres opens a store on the schema of dbURL; stores opened on one
// URL share it, as processes share a database.
func openPostgres(tb testing.TB, dbURL string, sealer ...store.Sealer) *testStore {
	tb.Helper()
	ids := ident.New(nil)
	s := testSealer(tb)
	if len(sealer) > 0 {
		s = sealer[0]
	}
	st, err := storepg.Open(context.Background(), storepg.Config{URL: dbURL, Sealer: s, NewID: ids.New})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return &testStore{Store: st, ids: ids}
}

// testWriter routes a logger to the test's log.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// startEngine runs an engine on st, handed the publishes of st as a
// server's is, until the test ends.
func startEngine(tb testing.TB, st *testStore, cfg deliver.Config) *deliver.Engine {
	tb.Helper()
	if cfg.Owner == "" {
		cfg.Owner = st.ids.New("worker")
	}
	client := &http.Client{Timeout: cfg.Timeout}
	e, err := deliver.New(st, client, nil, slog.New(slog.NewTextHandler(testWriter{tb}, nil)), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if h, ok := st.Store.(store.Handover); ok {
		h.HandTo(e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	return e
}

func (st *testStore) newApp(tb testing.TB) *hookd.App {
	tb.Helper()
	now := time.Now()
	app := &hookd.App{ID: st.ids.New("app"), Name: "a", Profile: hookd.DefaultProfile(), DefaultSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(context.Background(), app); err != nil {
		tb.Fatal(err)
	}
	return app
}

func (st *testStore) newWebhook(tb testing.TB, app *hookd.App, url string, rateLimit int) *hookd.Webhook {
	tb.Helper()
	now := time.Now()
	w := &hookd.Webhook{ID: st.ids.New("wh"), AppID: app.ID, URL: url, Events: []string{"*"}, Status: hookd.WebhookActive,
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", RateLimit: rateLimit, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(context.Background(), w, 0); err != nil {
		tb.Fatal(err)
	}
	return w
}

// publish commits n events of app in one publish, each to oneOff if it is
// set, else to the app's webhooks.
func (st *testStore) publish(tb testing.TB, app *hookd.App, n int, oneOff string) {
	tb.Helper()
	now := time.Now()
	p := &store.PublishParams{AppID: app.ID, Now: now}
	for range n {
		id := st.ids.New("evt")
		p.Events = append(p.Events, &store.PublishEvent{OneOffURL: oneOff, Event: &hookd.Event{ID: id, AppID: app.ID, Type: "t",
			Data: []byte(`{}`), Payload: []byte(`{"id":"` + id + `"}`), CreatedAt: now}})
	}
	if _, err := st.Publish(context.Background(), p); err != nil {
		tb.Fatal(err)
	}
}

// receiver counts requests by the first segment of their path ("group"),
// how many are in flight at once per group and at most, and the distinct
// deliveries seen. Requests to a group in hang wait until release is
// called (or the request ends).
type receiver struct {
	*httptest.Server
	hang map[string]bool

	mu       sync.Mutex
	inFlight map[string]int
	maxIn    map[string]int
	seen     map[string]map[string]bool // group → webhook-id + path
	released chan struct{}
	once     sync.Once
}

func newReceiver(tb testing.TB, hang ...string) *receiver {
	tb.Helper()
	r := &receiver{hang: map[string]bool{}, inFlight: map[string]int{}, maxIn: map[string]int{}, seen: map[string]map[string]bool{},
		released: make(chan struct{})}
	for _, g := range hang {
		r.hang[g] = true
	}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(func() { r.release(); r.Close() })
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	group, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	r.mu.Lock()
	r.inFlight[group]++
	r.maxIn[group] = max(r.maxIn[group], r.inFlight[group])
	if r.seen[group] == nil {
		r.seen[group] = map[string]bool{}
	}
	r.seen[group][req.Header.Get("webhook-id")+" "+req.URL.Path] = true
	r.mu.Unlock()
	if r.hang[group] {
		select {
		case <-r.released:
		case <-req.Context().Done():
		}
	}
	r.mu.Lock()
	r.inFlight[group]--
	r.mu.Unlock()
}

func (r *receiver) release() { r.once.Do(func() { close(r.released) }) }

// counts returns a group's requests in flight, its most at once, and the
// distinct deliveries it has seen.
func (r *receiver) counts(group string) (inFlight, most, seen int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inFlight[group], r.maxIn[group], len(r.seen[group])
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up after %v waiting for %s", d, what)
		}
	}
}

// TestAppCapBoundsSlowWebhooks gives one app five webhooks whose endpoints
// hang, and checks that the app never has more than its cap of attempts
// in flight, though each webhook's own cap would allow more; that another
// app's deliveries go through meanwhile; and that the held-back
// deliveries are all delivered once the endpoints answer.
func TestAppCapBoundsSlowWebhooks(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st *testStore) {
		const perWebhook, perApp = 4, 6
		rc := newReceiver(t, "noisy")
		startEngine(t, st, deliver.Config{Workers: 16, PerWebhook: perWebhook, PerApp: perApp, Timeout: 30 * time.Second, PollInterval: 50 * time.Millisecond})
		t.Cleanup(rc.release) // before the engine stops: it waits for its attempts
		noisy, healthy := st.newApp(t), st.newApp(t)
		for i := range 5 {
			st.newWebhook(t, noisy, fmt.Sprintf("%s/noisy/%d", rc.URL, i), 0)
		}
		st.newWebhook(t, healthy, rc.URL+"/healthy", 0)

		st.publish(t, noisy, 10, "") // 50 deliveries
		waitFor(t, 10*time.Second, "the noisy app to fill its slots", func() bool {
			n, _, _ := rc.counts("noisy")
			return n >= perApp
		})
		for range 4 {
			st.publish(t, healthy, 5, "")
		}
		waitFor(t, 20*time.Second, "the healthy app's 20 deliveries beside the hanging ones", func() bool {
			_, _, seen := rc.counts("healthy")
			return seen == 20
		})
		time.Sleep(200 * time.Millisecond) // room for an attempt over the cap to show
		if _, most, _ := rc.counts("noisy"); most != perApp {
			t.Errorf("the noisy app had up to %d attempts in flight, want its cap %d (5 webhooks of %d each)", most, perApp, perWebhook)
		}
		rc.release()
		waitFor(t, 30*time.Second, "the noisy app's 50 deliveries after its endpoints answer", func() bool {
			_, _, seen := rc.counts("noisy")
			return seen == 50
		})
		if _, most, _ := rc.counts("noisy"); most > perApp {
			t.Errorf("the noisy app had up to %d attempts in flight, want at most %d", most, perApp)
		}
	})
}

// TestHostCapBoundsOneOffDeliveries sends two apps' one-off deliveries to
// one hanging host, and checks that the host never has more than its cap
// of attempts in flight, whichever app they come from; that one-off
// deliveries to another host go through meanwhile; and that the
// held-back deliveries all arrive once the host answers.
func TestHostCapBoundsOneOffDeliveries(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st *testStore) {
		const perHost = 3
		rc := newReceiver(t, "slow")
		startEngine(t, st, deliver.Config{Workers: 16, PerHost: perHost, Timeout: 30 * time.Second, PollInterval: 50 * time.Millisecond})
		t.Cleanup(rc.release) // before the engine stops: it waits for its attempts
		a, b := st.newApp(t), st.newApp(t)
		st.publish(t, a, 12, rc.URL+"/slow/a")
		st.publish(t, b, 12, rc.URL+"/slow/b")
		waitFor(t, 10*time.Second, "the slow host's slots to fill", func() bool {
			n, _, _ := rc.counts("slow")
			return n >= perHost
		})
		// The same server by another name is another host.
		other := strings.Replace(rc.URL, "127.0.0.1", "localhost", 1)
		st.publish(t, b, 10, other+"/fast")
		waitFor(t, 20*time.Second, "10 one-off deliveries to another host", func() bool {
			_, _, seen := rc.counts("fast")
			return seen == 10
		})
		time.Sleep(200 * time.Millisecond)
		if _, most, _ := rc.counts("slow"); most != perHost {
			t.Errorf("the slow host had up to %d attempts in flight, want its cap %d", most, perHost)
		}
		rc.release()
		waitFor(t, 30*time.Second, "the 24 one-off deliveries to the slow host after it answers", func() bool {
			_, _, seen := rc.counts("slow")
			return seen == 24
		})
		if _, most, _ := rc.counts("slow"); most > perHost {
			t.Errorf("the slow host had up to %d attempts in flight, want at most %d", most, perHost)
		}
	})
}
