package main

import (
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/pgtest"
)

// TestRateLimitHoldsAcrossProcesses runs two hookd processes on one
// PostgreSQL database, publishes half of the events through each, faster
// than they may go, to one webhook limited to 20 deliveries a second, and checks at the receiver
// that over any window the two together sent no more than the limit
// allows, not once per process, and that every event arrived exactly once.
func TestRateLimitHoldsAcrossProcesses(t *testing.T) {
	if !usePostgres() {
		t.Skip("the shared rate limit needs several processes on one PostgreSQL database: run with HOOKD_TEST_STORE=postgres")
	}
	t.Parallel()
	const (
		perSecond = 20
		burst     = perSecond / 10 // deliver's burst: a tenth of the rate, at least 1
		events    = 200
		// tokenLife is how long an engine may spend tokens it took from
		// the shared bucket (deliver.tokenLife): the limit holds within
		// that much more of the rate.
		tokenLife = 200 * time.Millisecond
		// jitter covers the clock granularity of the receiver's
		// timestamps and the spread between an attempt spending its token
		// and its request arriving (worker pick-up, dialling, reading the
		// request) on a loaded machine.
		jitter = 50 * time.Millisecond
	)
	db := pgtest.URL(t)
	onDB := func(c *Config) { c.Database, c.EncryptionKey = db, testEncryptionKey }
	first := startServer(t, onDB)
	second := startServer(t, onDB)
	e := dlvSetupOn(t, first, dlvFast, "order.paid")
	rc := newReceiver(t, nil)
	e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}, RateLimit: client.Ptr(perSecond)})

	// Each process publishes half the events, faster than the limit
	// (25/s each), and is handed its own publishes' deliveries: a limit
	// kept by each process alone would let both send at the full rate.
	var mu sync.Mutex
	published := map[string]bool{}
	var wg sync.WaitGroup
	for i, srv := range []*testServer{first, second} {
		c := client.New(srv.URL, testAdminToken, nil)
		wg.Go(func() {
			tick := time.NewTicker(40 * time.Millisecond)
			defer tick.Stop()
			for j := range events / 2 {
				<-tick.C
				data := json.RawMessage(`{"n":` + strconv.Itoa(i*events/2+j) + `}`)
				pub, _, err := c.Publish(e.ctx, e.app.ID, &client.PublishInput{Type: "order.paid", Data: data})
				if err != nil {
					t.Errorf("publish through process %d: %v", i+1, err)
					return
				}
				mu.Lock()
				published[pub.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(published) != events {
		t.Fatalf("%d of %d events published", len(published), events)
	}

	// 200 at 20/s take 10 s at the least.
	got := rc.waitFor(t, events, 60*time.Second)
	time.Sleep(time.Second) // a duplicate would come now
	got = rc.Received()
	seen := map[string]int{}
	for _, g := range got {
		seen[g.Header.Get("webhook-id")]++
	}
	for id := range published {
		if seen[id] != 1 {
			t.Errorf("event %s arrived %d times, want exactly once", id, seen[id])
		}
	}
	if len(got) != events {
		t.Errorf("the receiver got %d requests for %d events", len(got), events)
	}

	span := got[len(got)-1].At.Sub(got[0].At)
	for _, window := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second} {
		most := mostInWindow(got, window)
		bound := burst + int(perSecond*(window+tokenLife+jitter).Seconds())
		if most > bound {
			t.Errorf("%d deliveries arrived within %v, want at most %d (burst %d + %d/s over the window, tokenLife and jitter): the limit does not hold across processes",
				most, window, bound, burst, perSecond)
		}
		t.Logf("window %v: at most %d deliveries (bound %d)", window, most, bound)
	}
	t.Logf("%d deliveries over %v: %.1f/s at a limit of %d/s", len(got), span, float64(len(got)-1)/span.Seconds(), perSecond)
}

// mostInWindow returns the most requests, of got in arrival order, that
// arrived within any span of window.
func mostInWindow(got []received, window time.Duration) int {
	most, lo := 0, 0
	for hi := range got {
		for got[hi].At.Sub(got[lo].At) >= window {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}
