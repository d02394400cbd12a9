package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// statsModel is what the suite expects the kept statistics to hold, built
// from the attempts it records.
type statsModel map[store.StatsKey]*store.DeliveryCounts

func (m statsModel) add(scope string, a *hookd.Attempt, exhausted bool) {
	for _, res := range []int{store.StatsMinute, store.StatsHour} {
		k := store.StatsKey{Scope: scope, Res: res, Bucket: store.StatsBucket(a.At, res)}
		c := m[k]
		if c == nil {
			c = &store.DeliveryCounts{Start: time.UnixMilli(k.Bucket).UTC(), Durations: make([]int64, hookd.DurationBuckets)}
			m[k] = c
		}
		c.Attempts++
		if a.Succeeded() {
			c.Succeeded++
		} else {
			c.Failed++
		}
		if exhausted {
			c.Exhausted++
		}
		c.Durations[hookd.DurationBucket(a.Duration)]++
	}
}

// check compares what the store keeps of scope at res over [since, until)
// with the model, bucket for bucket.
func (m statsModel) check(f *fixture, what, scope string, res int, since, until time.Time) {
	f.Helper()
	got, err := f.st.ReadDeliveryStats(f.ctx, scope, res, since, until)
	f.must(err, "read statistics of %s", what)
	var want []store.DeliveryCounts
	for b := store.StatsBucket(since, res); b < until.UnixMilli(); b += int64(res) * 1000 {
		if c := m[store.StatsKey{Scope: scope, Res: res, Bucket: b}]; c != nil && b >= since.UnixMilli() {
			want = append(want, *c)
		}
	}
	if len(got) != len(want) {
		f.Fatalf("%s at %ds: %d buckets, want %d:\n got %v\nwant %v", what, res, len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Start.Equal(w.Start) || g.Attempts != w.Attempts || g.Succeeded != w.Succeeded || g.Failed != w.Failed ||
			g.Exhausted != w.Exhausted || fmt.Sprint(g.Durations) != fmt.Sprint(w.Durations) {
			f.Errorf("%s at %ds, bucket %d:\n got %+v\nwant %+v", what, res, i, g, w)
		}
	}
}

func testStats(t *testing.T, open opener) {
	run(t, open, "Deliveries", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"a"} })
		w2 := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"b"} })
		w3 := f.newWebhook(other, func(w *hookd.Webhook) { w.Events = []string{"a"} })
		model := statsModel{}
		// Attempts at 05:59:30 and on, across a minute and an hour
		// boundary; the retries of failures land in later minutes.
		start := t0.Truncate(time.Hour).Add(59*time.Minute + 30*time.Second)
		type step struct {
			app    *hookd.App
			typ    string
			offset time.Duration
			codes  []int // one attempt each; the last failure exhausts
			dur    time.Duration
		}
		steps := []step{
			{app, "a", 0, []int{200}, 3 * time.Millisecond},
			{app, "a", 10 * time.Second, []int{500, 200}, 40 * time.Millisecond},
			{app, "a", 20 * time.Second, []int{0, 503, 500}, 900 * time.Millisecond},
			{app, "b", 25 * time.Second, []int{204}, 7 * time.Millisecond},
			{other, "a", 29 * time.Second, []int{200, 200}, time.Second}, // a repeat of a success is a new delivery
			{app, "a", 35 * time.Second, []int{410}, 2 * time.Millisecond},
		}
		deliveries, tried, ok := 0, 0, 0
		var last time.Time
		for _, s := range steps {
			when := start.Add(s.offset)
			f.publishType(s.app, s.typ, when)
			for i, code := range s.codes {
				at := when.Add(time.Duration(i) * 40 * time.Second)
				jobs := f.claim("worker", at, 10)
				if len(jobs) != 1 {
					f.Fatalf("claim at %v: %d jobs, want 1", at, len(jobs))
				}
				r := result(jobs[0], "worker", at, code)
				r.Attempt.Duration = s.dur + time.Duration(i)*time.Millisecond
				failed := code < 200 || code > 299
				exhausted := failed && i == len(s.codes)-1
				if failed && !exhausted {
					r.NextAttemptAt = at.Add(40 * time.Second)
				}
				if code == 410 {
					r.DisableReason = "410 Gone"
				}
				f.record(r)
				if code == 200 && i == 0 && len(s.codes) == 2 {
					f.publishType(s.app, s.typ, at) // the second code is a second delivery
				}
				scope := r.Attempt.WebhookID
				model.add(scope, r.Attempt, exhausted)
				model.add(s.app.ID, r.Attempt, exhausted)
				model.add(store.StatsServer, r.Attempt, exhausted)
				if scope == w.ID {
					if i == 0 {
						deliveries++
					}
					if at.After(last) {
						last = at
					}
					tried++
					if code >= 200 && code < 300 {
						ok++
					}
				}
			}
		}
		since, until := start.Add(-time.Hour), start.Add(2*time.Hour)
		for _, res := range []int{store.StatsMinute, store.StatsHour} {
			model.check(f, "webhook", w.ID, res, since, until)
			model.check(f, "second webhook", w2.ID, res, since, until)
			model.check(f, "other app's webhook", w3.ID, res, since, until)
			model.check(f, "app", app.ID, res, since, until)
			model.check(f, "other app", other.ID, res, since, until)
			model.check(f, "server", store.StatsServer, res, since, until)
		}
		// A window that starts inside the data leaves earlier buckets out.
		model.check(f, "webhook from 06:00", w.ID, store.StatsMinute, start.Add(30*time.Second), until)

		h, err := healthOf(f.ctx, f.st, w.ID, start.Add(10*time.Minute))
		f.must(err, "health")
		equal(f, "delivery count", h.DeliveryCount, int64(deliveries))
		sameTimePtr(f, "last delivery at", h.LastDeliveryAt, last)
		if want := float64(ok) / float64(tried); h.SuccessRate24h == nil || *h.SuccessRate24h != want {
			f.Errorf("success rate: got %v, want %d/%d", h.SuccessRate24h, ok, tried)
		}
		// A list's page reads its webhooks' health at once: each as read
		// alone, and zero for one that is gone.
		now := start.Add(10 * time.Minute)
		all, err := f.st.WebhookHealth(f.ctx, []string{w.ID, w2.ID, w3.ID, "wh_gone"}, now)
		f.must(err, "health of several")
		if len(all) != 4 {
			f.Fatalf("health of four webhooks: %d answers", len(all))
		}
		for _, id := range []string{w.ID, w2.ID, w3.ID} {
			one, err := healthOf(f.ctx, f.st, id, now)
			f.must(err, "health")
			if got := all[id]; got == nil || got.DeliveryCount != one.DeliveryCount || !sameTimeOrNil(got.LastDeliveryAt, one.LastDeliveryAt) ||
				!sameRate(got.SuccessRate24h, one.SuccessRate24h) {
				f.Errorf("health of %s read with others %+v, alone %+v", id, all[id], one)
			}
		}
		if gone := all["wh_gone"]; gone == nil || gone.DeliveryCount != 0 || gone.LastDeliveryAt != nil || gone.SuccessRate24h != nil {
			f.Errorf("health of a webhook that is gone: %+v", gone)
		}
	})

	run(t, open, "Percentiles", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		now := at(time.Hour).Truncate(time.Minute)
		var results []*store.AttemptResult
		for i := range 100 {
			f.publishType(app, "a", now)
			r := result(f.claimOne("worker", now), "worker", now, 200)
			r.Attempt.Duration = time.Duration(i+1) * time.Millisecond // 1..100 ms
			results = append(results, r)
		}
		f.record(results...) // one batch: one row per scope and bucket
		got, err := f.st.ReadDeliveryStats(f.ctx, w.ID, store.StatsMinute, now, now.Add(time.Minute))
		f.must(err, "read statistics")
		if len(got) != 1 || got[0].Attempts != 100 {
			f.Fatalf("statistics: %+v, want one bucket of 100 attempts", got)
		}
		for _, q := range []struct {
			q    float64
			want float64
		}{{0.5, 50}, {0.99, 99}} {
			p := hookd.DurationPercentile(got[0].Durations, q.q)
			if p == nil || *p < q.want/hookd.DurationGrowth || *p > q.want*hookd.DurationGrowth {
				f.Errorf("p%v: got %v ms, want %v ms within the histogram's resolution", q.q*100, p, q.want)
			}
		}
	})

	run(t, open, "Sources", func(f *fixture) {
		app := f.newApp()
		src, quiet := f.srcNew(app), f.srcNew(app, srcNoForward)
		minute := at(2 * time.Hour).Truncate(time.Hour).Add(-time.Minute) // the last minute of an hour
		f.srcGot(src, "x", minute)
		f.srcReceive(f.srcParams(src, "x", "evt_same", minute.Add(10*time.Second)))
		_, dup := f.srcReceive(f.srcParams(src, "x", "evt_same", minute.Add(70*time.Second)))
		equal(f, "duplicate", dup, true)
		f.srcGot(quiet, "x", minute)
		f.must(f.st.AddRejections(f.ctx, []store.Rejections{
			{SourceID: src.ID, At: minute.Add(5 * time.Second), Count: 3},
			{SourceID: src.ID, At: minute.Add(65 * time.Second), Count: 1},
		}), "add rejections")
		// Two forwards: one succeeds, one fails and is retried.
		jobs := f.claim("worker", minute.Add(20*time.Second), 10)
		equal(f, "forwards due", len(jobs), 2)
		f.record(result(jobs[0], "worker", minute.Add(20*time.Second), 200),
			retryAt(result(jobs[1], "worker", minute.Add(20*time.Second), 502), minute.Add(time.Hour)))

		got, err := f.st.ReadSourceStats(f.ctx, src.ID, store.StatsMinute, minute.Add(-time.Hour), minute.Add(time.Hour))
		f.must(err, "read source statistics")
		want := []store.SourceCounts{
			{Start: minute, Received: 2, Rejected: 3, Forwarded: 1, ForwardFailed: 1},
			{Start: minute.Add(time.Minute), Rejected: 1, Duplicates: 1},
		}
		equal(f, "minute buckets", fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want))
		got, err = f.st.ReadSourceStats(f.ctx, src.ID, store.StatsHour, minute.Add(-time.Hour), minute.Add(time.Hour))
		f.must(err, "read source statistics")
		want = []store.SourceCounts{
			{Start: minute.Truncate(time.Hour), Received: 2, Rejected: 3, Forwarded: 1, ForwardFailed: 1},
			{Start: minute.Add(time.Minute), Rejected: 1, Duplicates: 1},
		}
		equal(f, "hour buckets", fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want))

		h := f.srcStats(src.ID)
		equal(f, "event count", h.EventCount, 2)
		sameTimePtr(f, "last event", h.LastEventAt, minute.Add(10*time.Second))
		equal(f, "event count of the other source", f.srcStats(quiet.ID).EventCount, 1)
	})

	run(t, open, "Prune", func(f *fixture) {
		app := f.newApp()
		w, doomed := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"a"} }), f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"b"} })
		old, recent := at(time.Hour).Truncate(time.Minute), at(30*time.Hour).Truncate(time.Minute)
		for _, when := range []time.Time{old, recent} {
			for _, typ := range []string{"a", "b"} {
				f.publishType(app, typ, when)
				f.record(result(f.claimOne("worker", when), "worker", when, 200))
			}
		}
		f.must(f.st.DeleteWebhook(f.ctx, app.ID, doomed.ID), "delete webhook")
		n, err := f.st.PruneStats(f.ctx, store.StatsMinute, recent.Add(-24*time.Hour), 1000)
		f.must(err, "prune statistics")
		// The old minute of each of the two webhooks, the app and the
		// server, and the deleted webhook's all-time row.
		equal(f, "pruned rows", n, 5)
		got, err := f.st.ReadDeliveryStats(f.ctx, w.ID, store.StatsMinute, old, recent.Add(time.Minute))
		f.must(err, "read statistics")
		if len(got) != 1 || !got[0].Start.Equal(recent) {
			f.Errorf("minute buckets after the prune: %+v, want the recent one", got)
		}
		got, err = f.st.ReadDeliveryStats(f.ctx, w.ID, store.StatsHour, old.Truncate(time.Hour), recent.Add(time.Hour))
		f.must(err, "read statistics")
		equal(f, "hour buckets are kept", len(got), 2)
		h, err := healthOf(f.ctx, f.st, w.ID, recent)
		f.must(err, "health")
		equal(f, "delivery count after the prune", h.DeliveryCount, 2)
		n, err = f.st.PruneStats(f.ctx, store.StatsMinute, recent.Add(-24*time.Hour), 1000)
		f.must(err, "prune statistics again")
		equal(f, "pruned rows again", n, 0)
	})
}

// healthOf reads one webhook's health.
func healthOf(ctx context.Context, st store.Store, id string, now time.Time) (*hookd.WebhookHealth, error) {
	h, err := st.WebhookHealth(ctx, []string{id}, now)
	if err != nil {
		return nil, err
	}
	return h[id], nil
}

func sameTimeOrNil(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

func sameRate(a, b *float64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
