package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/client"
)

// sustained publishes SustainedEvents to one webhook in batches and
// measures the publish rate and the delivery rate at the receiver.
func (r *run) sustained(ctx context.Context) error {
	const name = "sustained"
	n := r.cfg.SustainedEvents
	app, err := r.newApp(ctx, "bench "+name)
	if err != nil {
		return err
	}
	if _, err := r.newWebhook(ctx, app, PathFast+"/"+name, false); err != nil {
		return err
	}
	if err := r.resetReceiver(ctx); err != nil {
		return err
	}
	r.logf("%s: publishing %d events of %d bytes in batches of 1,000 from %d publishers", name, n, r.cfg.EventBytes, r.cfg.Publishers)
	cpuStart, cpuErr := cpuTime(r.hookd.cmd.Process.Pid)
	pgStart, pgLocal := postgresCPU()
	start := time.Now()
	took, err := r.publishBatches(ctx, name, app, n)
	if err != nil {
		return err
	}
	st, err := r.waitReceived(ctx, name, PathFast, int64(n))
	if err != nil {
		return err
	}
	if cpuEnd, err := cpuTime(r.hookd.cmd.Process.Pid); err == nil && cpuErr == nil {
		// What hookd's own work costs, whatever else the machine runs:
		// the publish of an event and its delivery, in CPU time.
		r.add(name, "hookd_cpu_per_event", round(float64((cpuEnd-cpuStart).Microseconds())/float64(n), 1), "µs")
	}
	if pgEnd, ok := postgresCPU(); r.cfg.Database != "" && pgLocal && ok {
		// The database's share, when it runs on this machine: every
		// local PostgreSQL process counts, so the machine should run
		// nothing else on it.
		r.add(name, "postgres_cpu_per_event", round(float64((pgEnd-pgStart).Microseconds())/float64(n), 1), "µs")
	}
	rate := Rate(st.Receipts, st.Span())
	r.add(name, "published", float64(n), "events")
	r.add(name, "received", float64(st.Unique), "events")
	r.add(name, "repeats", float64(st.Receipts-st.Unique), "deliveries")
	r.add(name, "publish_rate", round(Rate(int64(n), took), 0), "events/s")
	r.add(name, "delivery_rate", round(rate, 0), "deliveries/s")
	r.add(name, "ceiling_ratio", round(rate/r.ceiling, 3), "ratio")
	r.add(name, "publish_to_last_receipt", round(time.Duration(st.LastNs-start.UnixNano()).Seconds(), 2), "s")
	r.logf("%s: published at %.0f/s, delivered at %.0f/s (%.0f%% of the ceiling)", name, Rate(int64(n), took), rate, 100*rate/r.ceiling)
	return nil
}

// latency publishes one event per request at a fixed rate, each carrying
// its send time, and reads publish→receipt percentiles off the receiver.
func (r *run) latency(ctx context.Context) error {
	const name = "latency"
	return r.paced(ctx, name, r.cfg.LatencyRate, r.cfg.LatencyDuration, "")
}

// slow is latency with a second webhook on the same app whose endpoint
// answers after 2s: the fast one's figures, next to latency's, show how
// much a slow endpoint costs its neighbours.
func (r *run) slow(ctx context.Context) error {
	return r.paced(ctx, "slow", r.cfg.SlowRate, r.cfg.SlowDuration, PathSlow)
}

// paced runs the latency and slow scenarios: events at rate for d to a
// webhook on /fast/<name> and, if slowPath is set, to one on it as well.
func (r *run) paced(ctx context.Context, name string, rate int, d time.Duration, slowPath string) error {
	app, err := r.newApp(ctx, "bench "+name)
	if err != nil {
		return err
	}
	if _, err := r.newWebhook(ctx, app, PathFast+"/"+name, false); err != nil {
		return err
	}
	slowID := ""
	if slowPath != "" {
		if slowID, err = r.newWebhook(ctx, app, slowPath, false); err != nil {
			return err
		}
	}
	if err := r.resetReceiver(ctx); err != nil {
		return err
	}
	r.logf("%s: publishing %d events/s, one per request, for %v", name, rate, d)
	var sent atomic.Int64
	stop := every(5*time.Second, func() { r.logf("%s: published %d", name, sent.Load()) })
	res := Pace(ctx, PaceConfig{Rate: rate, Duration: d, MaxInFlight: 512}, func(ctx context.Context, i int) error {
		err := r.publishOne(ctx, app, int64(i))
		if err == nil {
			sent.Add(1)
		}
		return err
	})
	stop()
	if res.Errors > 0 {
		r.logf("%s: %d publishes failed, the first: %v", name, res.Errors, res.FirstErr)
	}
	if res.Started-res.Errors <= 0 {
		return fmt.Errorf("no event published: %v", res.FirstErr)
	}
	var slowSeen PathStats
	if slowID != "" {
		// The slow endpoint's queue only grows; disabling the webhook
		// ends it (its pending deliveries fail) so that the run can end.
		if slowSeen, err = r.stats(ctx, slowPath, false); err != nil {
			return err
		}
		if _, err := r.api.UpdateWebhook(ctx, app, slowID, &client.WebhookInput{Status: client.Ptr("disabled")}); err != nil {
			return fmt.Errorf("disable the slow webhook: %w", err)
		}
	}
	published := int64(res.Started - res.Errors)
	st, err := r.waitReceived(ctx, name, PathFast, published)
	if err != nil {
		return err
	}
	prefix := ""
	if slowID != "" {
		prefix = "fast_"
	}
	l := st.Latency
	r.add(name, "published", float64(published), "events")
	r.add(name, "publish_errors", float64(res.Errors), "events")
	r.add(name, "publish_rate", round(Rate(int64(res.Started), res.Elapsed), 0), "events/s")
	r.add(name, "late_starts", float64(res.Late), "events")
	r.add(name, "max_start_lag", round(ms(int64(res.MaxLag)), 2), "ms")
	r.add(name, prefix+"received", float64(st.Unique), "events")
	r.add(name, prefix+"p50", round(ms(l.P50), 2), "ms")
	r.add(name, prefix+"p99", round(ms(l.P99), 2), "ms")
	r.add(name, prefix+"p99.9", round(ms(l.P999), 2), "ms")
	r.add(name, prefix+"max", round(ms(l.Max), 2), "ms")
	if l.WindowP99Max > 0 { // at least one window's worth of samples
		r.add(name, prefix+"window_p99_median", round(ms(l.WindowP99Median), 2), "ms")
		r.add(name, prefix+"window_p99_max", round(ms(l.WindowP99Max), 2), "ms")
	}
	if slowID != "" {
		r.add(name, "slow_received", float64(slowSeen.Receipts), "deliveries")
	}
	windows := ""
	if l.WindowP99Max > 0 {
		windows = fmt.Sprintf("; p99 of each %d receipts: median %.1f ms, worst %.1f ms", LatencyWindow, ms(l.WindowP99Median), ms(l.WindowP99Max))
	}
	r.logf("%s: publish→receipt p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms%s; %d of %d starts late", name,
		ms(l.P50), ms(l.P99), ms(l.P999), ms(l.Max), windows, res.Late, res.Started)
	return nil
}

// fanout creates FanoutWebhooks webhooks on one app and measures how long
// one event takes to reach them all.
func (r *run) fanout(ctx context.Context) error {
	const name = "fanout"
	n := r.cfg.FanoutWebhooks
	app, err := r.newApp(ctx, "bench "+name)
	if err != nil {
		return err
	}
	r.logf("%s: creating %d webhooks", name, n)
	var next, made atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	stop := every(5*time.Second, func() { r.logf("%s: created %d of %d webhooks", name, made.Load(), n) })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if _, err := r.newWebhook(ctx, app, PathFan+strconv.FormatInt(i, 10), false); err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
				made.Add(1)
			}
		})
	}
	wg.Wait()
	stop()
	if firstErr != nil {
		return firstErr
	}
	created := time.Since(start)
	if err := r.resetReceiver(ctx); err != nil {
		return err
	}
	r.logf("%s: publishing one event to %d webhooks", name, n)
	t0 := time.Now()
	if err := r.publishOne(ctx, app, 0); err != nil {
		return err
	}
	publishTook := time.Since(t0)
	st, err := r.waitReceived(ctx, name, PathFan, int64(n))
	if err != nil {
		return err
	}
	toLast := time.Duration(st.LastNs - t0.UnixNano())
	r.add(name, "webhooks", float64(n), "webhooks")
	r.add(name, "create_rate", round(Rate(int64(n), created), 0), "webhooks/s")
	r.add(name, "publish_request", round(ms(int64(publishTook)), 2), "ms")
	r.add(name, "received", float64(st.Unique), "deliveries")
	r.add(name, "publish_to_last_receipt", round(toLast.Seconds(), 3), "s")
	r.logf("%s: %d deliveries in %v from the publish request (which took %v)", name, st.Unique, toLast.Round(time.Millisecond), publishTook.Round(time.Millisecond))
	return nil
}

// backlog piles BacklogEvents up behind a paused webhook, activates it
// and watches hookd's memory while the backlog drains.
func (r *run) backlog(ctx context.Context) error {
	const name = "backlog"
	n := r.cfg.BacklogEvents
	pid := r.hookd.pid()
	app, err := r.newApp(ctx, "bench "+name)
	if err != nil {
		return err
	}
	hook, err := r.newWebhook(ctx, app, PathFast+"/"+name, true)
	if err != nil {
		return err
	}
	if err := r.resetReceiver(ctx); err != nil {
		return err
	}
	before, err := rss(pid)
	if err != nil {
		return err
	}
	var maxPublish atomic.Int64
	sample := func(into *atomic.Int64) func() {
		return func() {
			if v, err := rss(pid); err == nil && v > into.Load() {
				into.Store(v)
			}
		}
	}
	r.logf("%s: publishing %d events behind a paused webhook (hookd RSS %s)", name, n, mib(before))
	stop := every(time.Second, sample(&maxPublish))
	took, err := r.publishBatches(ctx, name, app, n)
	stop()
	if err != nil {
		return err
	}
	afterPublish, err := rss(pid)
	if err != nil {
		return err
	}
	r.logf("%s: published in %v (hookd RSS %s); activating the webhook", name, took.Round(time.Millisecond), mib(afterPublish))

	var maxDrain atomic.Int64
	stop = every(500*time.Millisecond, sample(&maxDrain))
	t0 := time.Now()
	_, err = r.api.UpdateWebhook(ctx, app, hook, &client.WebhookInput{Status: client.Ptr("active")})
	activate := time.Since(t0)
	if err != nil {
		stop()
		return fmt.Errorf("activate the webhook: %w", err)
	}
	st, err := r.waitReceived(ctx, name, PathFast, int64(n))
	stop()
	if err != nil {
		return err
	}
	after, err := rss(pid)
	if err != nil {
		return err
	}
	drain := Rate(st.Receipts, st.Span())
	r.add(name, "published", float64(n), "events")
	r.add(name, "publish_rate", round(Rate(int64(n), took), 0), "events/s")
	r.add(name, "activate_request", round(ms(int64(activate)), 1), "ms")
	r.add(name, "received", float64(st.Unique), "events")
	r.add(name, "drain_rate", round(drain, 0), "deliveries/s")
	r.add(name, "activate_to_last_receipt", round(time.Duration(st.LastNs-t0.UnixNano()).Seconds(), 2), "s")
	r.add(name, "rss_before", mibValue(before), "MiB")
	r.add(name, "rss_max_publishing", mibValue(max(maxPublish.Load(), before, afterPublish)), "MiB")
	r.add(name, "rss_after_publish", mibValue(afterPublish), "MiB")
	r.add(name, "rss_max_draining", mibValue(max(maxDrain.Load(), afterPublish, after)), "MiB")
	r.add(name, "rss_after_drain", mibValue(after), "MiB")
	r.logf("%s: drained at %.0f/s; hookd RSS %s before, %s after publishing, at most %s while draining, %s after", name, drain,
		mib(before), mib(afterPublish), mib(max(maxDrain.Load(), afterPublish, after)), mib(after))
	return nil
}

func mibValue(b int64) float64 { return round(float64(b)/(1<<20), 1) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
