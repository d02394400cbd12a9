package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/store"
)

// SeedFunc writes s into the store of the hookd under test: the
// PostgreSQL database at database, or else the SQLite store in dataDir.
// progress is told how many rows of a table are written, now and then.
type SeedFunc func(ctx context.Context, database, dataDir string, s *store.Seed, progress func(table string, rows int)) error

// readRoute is one read the reads scenario times.
type readRoute struct {
	name, path string
}

// reads seeds the store with ReadsDeliveries deliveries of one app to
// ReadsWebhooks webhooks, half of them to the first (one in 50 of those
// failed), then times every read route of the API from a single client,
// ReadsSamples times each, twice: on the idle server, and while another
// app's webhook is delivered ReadsLoadRate events a second.
func (r *run) reads(ctx context.Context) error {
	const name = "reads"
	if r.cfg.Seed == nil {
		return fmt.Errorf("no seeder: this bench cannot write into the store")
	}
	app, err := r.newApp(ctx, "bench "+name)
	if err != nil {
		return err
	}
	hooks, err := r.newWebhooks(ctx, name, app, PathFast+"/"+name+"/", r.cfg.ReadsWebhooks)
	if err != nil {
		return err
	}
	var src struct{ ID string }
	if _, err := r.api.Do(ctx, http.MethodPost, "/v1/apps/"+app+"/sources", map[string]any{"name": "bench", "provider": "standard"}, &src); err != nil {
		return fmt.Errorf("create source: %w", err)
	}
	n := r.cfg.ReadsDeliveries
	seed := &store.Seed{AppID: app, EventType: eventType, Webhooks: hooks, Deliveries: n, FailedEvery: 50,
		Start: time.Now().Add(-time.Duration(n) * time.Millisecond), Step: time.Millisecond}
	r.logf("%s: seeding %d events, deliveries and attempts to %d webhooks", name, n, len(hooks))
	start := time.Now()
	if err := r.cfg.Seed(ctx, r.cfg.Database, r.dataDir, seed, func(table string, rows int) {
		r.logf("%s: seeded %d rows of %s (%.0f/s)", name, rows, table, Rate(int64(rows), time.Since(start)))
	}); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	seeded := time.Since(start)
	r.add(name, "deliveries", float64(n), "deliveries")
	r.add(name, "seed_time", round(seeded.Seconds(), 1), "s")
	r.logf("%s: seeded in %v", name, seeded.Round(time.Second))

	routes := r.readRoutes(ctx, app, src.ID, seed)
	idle, err := r.timeReads(ctx, routes)
	if err != nil {
		return err
	}
	r.addReads(name, "idle", routes, idle)

	// The load: another app's webhook, delivered at ReadsLoadRate.
	loadApp, err := r.newApp(ctx, "bench "+name+" load")
	if err != nil {
		return err
	}
	if _, err := r.newWebhook(ctx, loadApp, PathFast+"/"+name+"-load", false); err != nil {
		return err
	}
	if err := r.resetReceiver(ctx); err != nil {
		return err
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var published atomic.Int64
	var pace PaceResult
	var wg sync.WaitGroup
	wg.Go(func() {
		pace = Pace(loadCtx, PaceConfig{Rate: r.cfg.ReadsLoadRate, Duration: time.Hour, MaxInFlight: 512}, func(ctx context.Context, i int) error {
			// Stopping the load stops new publishes; those under way end.
			err := r.publishOne(context.WithoutCancel(ctx), loadApp, int64(i))
			if err == nil {
				published.Add(1)
			}
			return err
		})
	})
	// Let the load reach its pace before timing.
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
	}
	loaded, err := r.timeReads(ctx, routes)
	stopLoad()
	wg.Wait()
	if err != nil {
		return err
	}
	st, err := r.stats(ctx, PathFast, false) // the load's alone since the reset
	if err != nil {
		return err
	}
	rate := Rate(st.Receipts, st.Span())
	r.addReads(name, "loaded", routes, loaded)
	r.add(name, "load_published", float64(published.Load()), "events")
	r.add(name, "load_publish_errors", float64(pace.Errors), "events")
	r.add(name, "load_delivery_rate", round(rate, 0), "deliveries/s")
	r.add(name, "load_ceiling_ratio", round(rate/r.ceiling, 3), "ratio")
	r.logf("%s: under load, %d events published (%d failed), delivered at %.0f/s", name, published.Load(), pace.Errors, rate)
	return nil
}

// newWebhooks creates n webhooks of app, 8 at a time, to the receiver's
// pathPrefix followed by their number, and returns their ids in that
// order.
func (r *run) newWebhooks(ctx context.Context, what, app, pathPrefix string, n int) ([]string, error) {
	ids := make([]string, n)
	var next, made atomic.Int64
	var firstErr error
	var once sync.Once
	stop := every(5*time.Second, func() { r.logf("%s: created %d of %d webhooks", what, made.Load(), n) })
	defer stop()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				id, err := r.newWebhook(ctx, app, pathPrefix+strconv.FormatInt(i, 10), false)
				if err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
				ids[i] = id
				made.Add(1)
			}
		})
	}
	wg.Wait()
	return ids, firstErr
}

// readRoutes lists the reads to time: those of the big webhook (the first
// of seed's), of a small one, of the app, one event, one delivery, and
// the statistics where the server has them.
func (r *run) readRoutes(ctx context.Context, app, source string, seed *store.Seed) []readRoute {
	big, small := seed.Webhooks[0], seed.Webhooks[len(seed.Webhooks)-1]
	a := "/v1/apps/" + app
	// The cursor of the 200th page of 50: the last delivery of the 199th.
	nth, ok := seed.Index(199*50 - 1)
	if !ok {
		nth, _ = seed.Index(0)
	}
	cursor := url.QueryEscape(seed.Row(nth).DeliveryID)
	one, ok := seed.Index(1000)
	if !ok {
		one, _ = seed.Index(0)
	}
	row := seed.Row(one)
	routes := []readRoute{
		{"webhook", a + "/webhooks/" + big},
		{"webhook_deliveries", a + "/webhooks/" + big + "/deliveries"},
		{"webhook_deliveries_failed", a + "/webhooks/" + big + "/deliveries?status=failed"},
		{"webhook_deliveries_page200", a + "/webhooks/" + big + "/deliveries?after=" + cursor},
		{"webhook_events", a + "/webhooks/" + big + "/events"},
		{"webhook_events_page200", a + "/webhooks/" + big + "/events?after=" + cursor},
		{"small_webhook_deliveries", a + "/webhooks/" + small + "/deliveries"},
		{"small_webhook_events", a + "/webhooks/" + small + "/events"},
		{"app_events", a + "/events"},
		{"app_deliveries", a + "/deliveries"},
		{"event", a + "/events/" + row.EventID},
		{"delivery", a + "/deliveries/" + row.DeliveryID},
		{"webhooks", a + "/webhooks"},
		{"sources", a + "/sources"},
		{"source", a + "/sources/" + source},
	}
	stats := []readRoute{
		{"webhook_stats", a + "/webhooks/" + big + "/stats"},
		{"app_stats", a + "/stats"},
		{"source_stats", a + "/sources/" + source + "/stats"},
		{"all_stats", "/v1/stats"},
	}
	if code, err := r.get(ctx, stats[1].path); err == nil && code == http.StatusOK {
		routes = append(routes, stats...)
	} else {
		r.logf("reads: this hookd has no statistics routes (%d, %v); they are not timed", code, err)
	}
	return routes
}

// timeReads requests each route once, untimed, then ReadsSamples times in
// turn, one request at a time, and returns each route's durations.
func (r *run) timeReads(ctx context.Context, routes []readRoute) ([][]int64, error) {
	samples := make([][]int64, len(routes))
	for round := -1; round < r.cfg.ReadsSamples; round++ {
		for i, rt := range routes {
			t0 := time.Now()
			code, err := r.get(ctx, rt.path)
			took := time.Since(t0)
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("answered %d", code)
			}
			if err != nil {
				return nil, fmt.Errorf("GET %s (%s): %w", rt.path, rt.name, err)
			}
			if round >= 0 {
				samples[i] = append(samples[i], int64(took))
			}
		}
	}
	return samples, nil
}

// get requests path of the API and reads the whole answer.
func (r *run) get(ctx context.Context, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.hookd.URL()+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// addReads reports the p50 and p99 of each route's samples in phase.
func (r *run) addReads(scenario, phase string, routes []readRoute, samples [][]int64) {
	worst := ""
	var worstP99 int64
	for i, rt := range routes {
		l := Summarize(samples[i])
		r.add(scenario, phase+"_"+rt.name+"_p50", round(ms(l.P50), 2), "ms")
		r.add(scenario, phase+"_"+rt.name+"_p99", round(ms(l.P99), 2), "ms")
		if l.P99 > worstP99 {
			worst, worstP99 = rt.name, l.P99
		}
	}
	r.add(scenario, phase+"_worst_p99", round(ms(worstP99), 2), "ms")
	r.logf("reads: %s, the slowest route is %s, p99 %.1f ms", phase, worst, ms(worstP99))
}
