package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
)

// statsWant is what receivers saw, bucketed by minute as hookd buckets
// attempts.
type statsWant struct {
	attempts, succeeded, failed int64
	minutes                     map[time.Time][3]int64 // attempts, succeeded, failed
	nearEdge                    bool                   // a request came within a second of a minute's turn
}

func receiverStats(got []received, ok func(r received, again bool) bool) statsWant {
	w := statsWant{minutes: map[time.Time][3]int64{}}
	seen := map[string]bool{}
	for _, r := range got {
		id := r.Header.Get("Webhook-Id")
		again := seen[id]
		seen[id] = true
		m := r.At.UTC().Truncate(time.Minute)
		c := w.minutes[m]
		c[0]++
		w.attempts++
		if ok(r, again) {
			c[1]++
			w.succeeded++
		} else {
			c[2]++
			w.failed++
		}
		w.minutes[m] = c
		if r.At.Sub(m) < time.Second || m.Add(time.Minute).Sub(r.At) < time.Second {
			w.nearEdge = true
		}
	}
	return w
}

// checkDeliveryStats compares statistics with what receivers saw.
func checkDeliveryStats(t *testing.T, what string, st *hookd.DeliveryStats, want statsWant, exhausted int64, since, until time.Time) {
	t.Helper()
	tot := st.Totals
	if tot.Attempts != want.attempts || tot.Succeeded != want.succeeded || tot.Failed != want.failed || tot.Exhausted != exhausted {
		t.Errorf("%s totals: %+v; receivers saw %d attempts, %d answered 2xx, %d not, and %d deliveries exhausted",
			what, tot, want.attempts, want.succeeded, want.failed, exhausted)
	}
	if (tot.Attempts > 0) != (tot.DurationP50 != nil && tot.DurationP99 != nil) {
		t.Errorf("%s: duration percentiles %v, %v for %d attempts", what, tot.DurationP50, tot.DurationP99, tot.Attempts)
	}
	if st.Interval != hookd.StatsMinute || !st.Since.Equal(since.Truncate(time.Minute)) || !st.Until.Equal(until) {
		t.Errorf("%s: interval %s over [%v, %v), want minute over [%v, %v)", what, st.Interval, st.Since, st.Until, since.Truncate(time.Minute), until)
	}
	if n := int(until.Sub(st.Since)+time.Minute-1) / int(time.Minute); len(st.Buckets) != n {
		t.Fatalf("%s: %d buckets, want %d", what, len(st.Buckets), n)
	}
	for i, b := range st.Buckets {
		if want := st.Since.Add(time.Duration(i) * time.Minute); !b.Start.Equal(want) {
			t.Fatalf("%s: bucket %d starts %v, want %v (contiguous, oldest first)", what, i, b.Start, want)
		}
		c := want.minutes[b.Start]
		if (b.Attempts != c[0] || b.Succeeded != c[1] || b.Failed != c[2]) && !want.nearEdge {
			t.Errorf("%s: bucket %v holds %d attempts, %d succeeded, %d failed; receivers saw %v", what, b.Start, b.Attempts, b.Succeeded, b.Failed, c)
		}
	}
}

// TestStatsMatchReceivers delivers to three receivers, one that always
// answers 200, one that fails every other request and one that always
// fails, and compares every statistics route with what they saw.
func TestStatsMatchReceivers(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, `{"retry":{"schedule_seconds":[0.05],"max_attempts":2,"jitter":0},"auto_disable_after":0}`, "order.paid")
	start := time.Now().UTC()
	good := newReceiver(t, nil)
	// flaky fails each delivery's first attempt, and takes its retry.
	var mu sync.Mutex
	seen := map[string]bool{}
	flaky := newReceiver(t, func(_ int, r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get("Webhook-Id")
		if seen[id] {
			return http.StatusOK
		}
		seen[id] = true
		return http.StatusInternalServerError
	})
	dead := newReceiver(t, func(int, *http.Request) int { return http.StatusServiceUnavailable })
	hooks := map[*receiver]*client.Webhook{}
	for _, rc := range []*receiver{good, flaky, dead} {
		hooks[rc] = e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL), Events: []string{"order.paid"}})
	}
	const events = 6
	for range events {
		e.publishType("order.paid", 1)
	}
	good.waitFor(t, events, dlvWait)
	flaky.waitFor(t, 2*events, dlvWait)
	dead.waitFor(t, 2*events, dlvWait)

	until := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
	q := hookd.StatsQuery{Since: start.Add(-2 * time.Minute), Until: until, Interval: hookd.StatsMinute}
	oks := map[*receiver]func(r received, again bool) bool{
		good: func(received, bool) bool { return true }, flaky: func(_ received, again bool) bool { return again },
		dead: func(received, bool) bool { return false },
	}
	exhausted := map[*receiver]int64{dead: events}
	var all statsWant
	// The recorder writes in batches a moment after the receivers
	// answer: wait until every attempt is counted.
	eventually(t, dlvWait, "every attempt counted", func() bool {
		st, err := e.c.AppStats(e.ctx, e.app.ID, q)
		return err == nil && st.Totals.Attempts == events*5 && st.Totals.Exhausted == events
	})
	all.minutes = map[time.Time][3]int64{}
	for rc, hook := range hooks {
		want := receiverStats(rc.Received(), oks[rc])
		st, err := e.c.WebhookStats(e.ctx, e.app.ID, hook.ID, q)
		if err != nil {
			t.Fatalf("webhook stats: %v", err)
		}
		checkDeliveryStats(t, "webhook at "+rc.URL, st, want, exhausted[rc], q.Since, until)
		all.attempts += want.attempts
		all.succeeded += want.succeeded
		all.failed += want.failed
		all.nearEdge = all.nearEdge || want.nearEdge
		for m, c := range want.minutes {
			a := all.minutes[m]
			all.minutes[m] = [3]int64{a[0] + c[0], a[1] + c[1], a[2] + c[2]}
		}

		// The health fields come from the same kept values.
		w := e.getWebhook(hook.ID)
		if w.DeliveryCount != events {
			t.Errorf("webhook at %s: delivery_count %d, want %d", rc.URL, w.DeliveryCount, events)
		}
		if rate := float64(want.succeeded) / float64(want.attempts); w.SuccessRate24h == nil || *w.SuccessRate24h != rate {
			t.Errorf("webhook at %s: success_rate_24h %v, want %v", rc.URL, w.SuccessRate24h, rate)
		}
	}
	st, err := e.c.AppStats(e.ctx, e.app.ID, q)
	if err != nil {
		t.Fatalf("app stats: %v", err)
	}
	checkDeliveryStats(t, "app", st, all, events, q.Since, until)
	server, err := e.c.ServerStats(e.ctx, q)
	if err != nil {
		t.Fatalf("server stats: %v", err)
	}
	checkDeliveryStats(t, "server", &server.DeliveryStats, all, events, q.Since, until)
	if server.Pending != 0 || server.OldestPendingSeconds != 0 {
		t.Errorf("server stats: %d pending, oldest %vs; want none", server.Pending, server.OldestPendingSeconds)
	}

	// Hour and day buckets hold the same totals; the default interval of
	// the default day is minute-free.
	for _, iv := range []hookd.StatsInterval{hookd.StatsHour, hookd.StatsDay, ""} {
		st, err := e.c.AppStats(e.ctx, e.app.ID, hookd.StatsQuery{Interval: iv})
		if err != nil {
			t.Fatalf("app stats by %q: %v", iv, err)
		}
		if st.Totals.Attempts != all.attempts || st.Totals.Succeeded != all.succeeded {
			t.Errorf("app stats by %q: totals %+v, want %d attempts, %d succeeded", iv, st.Totals, all.attempts, all.succeeded)
		}
		if iv == "" && st.Interval != hookd.StatsHour {
			t.Errorf("the default interval of a day is %q, want hour", st.Interval)
		}
	}
}

// TestStatsValidation: the statistics routes refuse what they cannot
// answer, and show nothing of another app.
func TestStatsValidation(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "stats"}), "id")
	other := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "other"}), "id")
	hook := apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": "https://example.com/hook"}), "id")
	key := apiMustCreateKey(t, srv, app)
	base := "/v1/apps/" + app
	for _, path := range []string{base + "/webhooks/" + hook + "/stats", base + "/stats", "/v1/stats"} {
		for _, c := range []struct{ query, msg string }{
			{"interval=week", "interval"},
			{"since=yesterday", "since"},
			{"until=2026-02-30T00:00:00Z", "until"},
			{"since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z", "since must be before until"},
			{"since=2030-01-01T00:00:00Z&until=2030-01-01T00:00:00Z", "since must be before until"},
			{"since=2030-01-01T00:00:00Z&until=2030-01-02T01:01:00Z&interval=minute", "1500"},
			{"since=2020-01-01T00:00:00Z&until=2030-01-01T00:00:00Z", "1500"},
		} {
			apiWantError(t, apiAdmin(t, srv, "GET", path+"?"+c.query, nil), http.StatusBadRequest, "BAD_REQUEST", c.msg)
		}
		// Exactly 1,500 buckets is an answer.
		body := apiWant(t, apiAdmin(t, srv, "GET", path+"?since=2030-01-01T00:00:00Z&until=2030-01-02T01:00:00Z&interval=minute", nil), http.StatusOK)
		if b, _ := body["buckets"].([]any); len(b) != 1500 {
			t.Errorf("%s: %d buckets, want 1500", path, len(b))
		}
	}
	// Another app's webhook, or one of another app seen through it, is
	// not found; an app key is refused the server's statistics.
	apiWantError(t, apiAdmin(t, srv, "GET", "/v1/apps/"+other+"/webhooks/"+hook+"/stats", nil), http.StatusNotFound, "NOT_FOUND", "")
	apiWantError(t, apiRequest(t, srv, key, "GET", "/v1/apps/"+other+"/stats", nil), http.StatusNotFound, "NOT_FOUND", "")
	apiWant(t, apiRequest(t, srv, key, "GET", base+"/stats", nil), http.StatusOK)
	apiWantError(t, apiRequest(t, srv, key, "GET", "/v1/stats", nil), http.StatusUnauthorized, "UNAUTHORIZED", "admin")
	apiWantError(t, apiAdmin(t, srv, "GET", base+"/sources/src_missing/stats", nil), http.StatusNotFound, "NOT_FOUND", "")
	apiWantError(t, apiRequest(t, srv, "", "GET", base+"/stats", nil), http.StatusUnauthorized, "UNAUTHORIZED", "")
}

// TestSourceStatsMatchRequests sends a source good, bad and repeated
// requests and forwards some of them to a receiver that fails the first,
// and compares its statistics with what was sent and what the receiver
// saw.
func TestSourceStatsMatchRequests(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, dlvFast)
	rc := newReceiver(t, func(n int, _ *http.Request) int { return map[bool]int{true: 502, false: 200}[n == 1] })
	src := env.create(map[string]any{"name": "Counted", "forward_url": rc.URL})
	secret := *src.Secret
	start := time.Now().UTC()
	for i := range 3 {
		srcE2EWantReceived(t, srcE2EPost(t, src, secret, fmt.Sprintf("msg_%d", i), []byte(`{"type":"order.paid"}`)))
	}
	srcE2EPost(t, src, secret, "msg_0", []byte(`{"type":"order.paid"}`)) // a duplicate
	for range 2 {
		r := srcE2EPost(t, src, "whsec_"+"d3Jvbmcgc2VjcmV0IHdyb25nIHNlY3JldA==", "msg_bad", []byte(`{}`))
		srcE2EWantError(t, r, http.StatusUnauthorized, "UNAUTHORIZED")
	}
	rc.waitFor(t, 4, srcE2EWait) // three forwards, the first retried
	q := hookd.StatsQuery{Since: start.Add(-time.Minute), Until: time.Now().Add(time.Minute), Interval: hookd.StatsMinute}
	var st *hookd.SourceStats
	// Refusals are counted in memory and flushed every second; forwards
	// are recorded in batches.
	eventually(t, srcE2EWait, "source statistics complete", func() bool {
		var err error
		st, err = env.srv.Client.SourceStats(context.Background(), env.appID, src.ID, q)
		return err == nil && st.Totals.Rejected == 2 && st.Totals.Forwarded+st.Totals.ForwardFailed == 4
	})
	want := hookd.SourceBucket{Received: 3, Rejected: 2, Duplicates: 1, Forwarded: 3, ForwardFailed: 1}
	if st.Totals != want {
		t.Errorf("source stats totals %+v, want %+v", st.Totals, want)
	}
	var sum hookd.SourceBucket
	for _, b := range st.Buckets {
		sum.Received += b.Received
		sum.Rejected += b.Rejected
		sum.Duplicates += b.Duplicates
		sum.Forwarded += b.Forwarded
		sum.ForwardFailed += b.ForwardFailed
	}
	if sum != want {
		t.Errorf("source stats buckets sum to %+v, want %+v", sum, want)
	}
	if got := env.source(src.ID); got.EventCount != 3 {
		t.Errorf("event_count %d, want 3", got.EventCount)
	}
}
