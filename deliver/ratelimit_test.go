package deliver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/deliver"
	"github.com/hookd/hookd/internal/pgtest"
)

// TestRateLimitHoldsAcrossProcesses runs two engines, each on a store of
// its own opened on one PostgreSQL schema, as two processes share a
// database, beside a backlog for one rate-limited webhook, and checks that
// the receiver sees the webhook's rate in total, not once per process.
func TestRateLimitHoldsAcrossProcesses(t *testing.T) {
	t.Parallel()
	const perSecond, window = 20, 3 * time.Second
	var mu sync.Mutex
	var times []time.Time
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
	}))
	t.Cleanup(rc.Close)

	dbURL := pgtest.URL(t)
	sealer := testSealer(t)
	a, b := openPostgres(t, dbURL, sealer), openPostgres(t, dbURL, sealer)
	app := a.newApp(t)
	a.newWebhook(t, app, rc.URL+"/limited", perSecond)
	cfg := deliver.Config{Workers: 8, Timeout: 5 * time.Second, PollInterval: 50 * time.Millisecond}
	startEngine(t, a, cfg)
	startEngine(t, b, cfg)
	a.publish(t, app, 100, "")
	b.publish(t, app, 100, "")

	waitFor(t, 10*time.Second, "the first delivery", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(times) > 0
	})
	mu.Lock()
	first := times[0]
	mu.Unlock()
	time.Sleep(time.Until(first.Add(window)))
	mu.Lock()
	n := 0
	for _, at := range times {
		if at.Before(first.Add(window)) {
			n++
		}
	}
	mu.Unlock()
	// The shared bucket grants at most its burst plus the rate over the
	// window; tokens may be spent for up to 200 ms after they are taken.
	most := int(perSecond*(window+200*time.Millisecond).Seconds()) + max(1, perSecond/10)
	if n > most {
		t.Errorf("the receiver saw %d deliveries in %v of a webhook limited to %d/s by two processes, want at most %d", n, window, perSecond, most)
	}
	if least := int(perSecond * window.Seconds() / 2); n < least {
		t.Errorf("the receiver saw %d deliveries in %v, want at least %d: the limit starves the webhook", n, window, least)
	}
	t.Logf("%d deliveries in %v at %d/s across two processes", n, window, perSecond)
}
