package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/client"
)

// Scenarios are the scenario names, in the order Run runs them. noisy
// comes last: the endpoints it leaves hanging would disturb any scenario
// after it.
var Scenarios = []string{"sustained", "latency", "fanout", "backlog", "slow", "reads", "noisy"}

// DefaultScenarios are those Run runs when none are named: all but
// reads, whose store of ten million deliveries takes a while to seed.
var DefaultScenarios = []string{"sustained", "latency", "fanout", "backlog", "slow", "noisy"}

// eventType is the catalog type every benchmark event has.
const eventType = "bench.event"

// Sizes are how much each part of a run does. Zero fields take the full
// defaults, or, with Quick, sizes that make a whole run take seconds.
type Sizes struct {
	Quick bool `json:"quick"`
	// CeilingDuration and CeilingWorkers: the loopback ceiling's run
	// (10s, 64 workers; quick 1s).
	CeilingDuration time.Duration `json:"-"`
	CeilingWorkers  int           `json:"ceiling_workers"`
	// EventBytes is the size of each event's data (1024).
	EventBytes int `json:"event_bytes"`
	// Publishers is how many batch publishes run at once (4).
	Publishers int `json:"publishers"`
	// SustainedEvents are published to one webhook in batches of 1,000
	// (100,000; quick 2,000).
	SustainedEvents int `json:"sustained_events"`
	// LatencyRate events a second are published one per request for
	// LatencyDuration (1,000/s for 30s; quick 200/s for 3s).
	LatencyRate     int           `json:"latency_rate"`
	LatencyDuration time.Duration `json:"-"`
	// FanoutWebhooks receive one event (10,000; quick 100).
	FanoutWebhooks int `json:"fanout_webhooks"`
	// BacklogEvents wait behind a paused webhook (1,000,000; quick 5,000).
	BacklogEvents int `json:"backlog_events"`
	// SlowRate events a second go to a fast and a slow webhook for
	// SlowDuration (200/s for 20s; quick 200/s for 3s).
	SlowRate     int           `json:"slow_rate"`
	SlowDuration time.Duration `json:"-"`
	// EventSchema gives the benchmark's event type a JSON Schema that its
	// events match, so that every publish is validated against it.
	EventSchema bool `json:"event_schema"`
	// ReadsDeliveries are seeded into the store for the reads scenario
	// (10,000,000; quick 20,000), to ReadsWebhooks webhooks (1,000;
	// quick 20), half of them to the first.
	ReadsDeliveries int `json:"reads_deliveries"`
	ReadsWebhooks   int `json:"reads_webhooks"`
	// ReadsSamples is how many times reads times each route in each of
	// its two phases (200; quick 20).
	ReadsSamples int `json:"reads_samples"`
	// ReadsLoadRate events a second are published and delivered while
	// reads times its second phase (2,000; quick 200).
	ReadsLoadRate int `json:"reads_load_rate"`
	// NoisyRate events a second go one per request to a healthy app's
	// webhook for NoisyDuration alone, then as long again beside a noisy
	// app whose NoisyWebhooks webhooks never answer and NoisyOneOffs
	// one-off deliveries to a host that never answers (500/s for 20s,
	// 10 webhooks, 1,000 one-offs; quick 200/s for 2s).
	NoisyRate     int           `json:"noisy_rate"`
	NoisyDuration time.Duration `json:"-"`
	NoisyWebhooks int           `json:"noisy_webhooks"`
	NoisyOneOffs  int           `json:"noisy_one_offs"`
}

// MarshalJSON writes durations as Go duration strings.
func (s Sizes) MarshalJSON() ([]byte, error) {
	type plain Sizes
	return json.Marshal(struct {
		plain
		CeilingDuration string `json:"ceiling_duration"`
		LatencyDuration string `json:"latency_duration"`
		SlowDuration    string `json:"slow_duration"`
		NoisyDuration   string `json:"noisy_duration"`
	}{plain(s), s.CeilingDuration.String(), s.LatencyDuration.String(), s.SlowDuration.String(), s.NoisyDuration.String()})
}

// Defaults fills the zero fields.
func (s *Sizes) Defaults() {
	pickInt, pickDur := func(f, q int) int {
		if s.Quick {
			return q
		}
		return f
	}, func(f, q time.Duration) time.Duration {
		if s.Quick {
			return q
		}
		return f
	}
	setInt := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	setDur := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	setDur(&s.CeilingDuration, pickDur(10*time.Second, time.Second))
	setInt(&s.CeilingWorkers, 64)
	setInt(&s.EventBytes, 1024)
	setInt(&s.Publishers, 4)
	setInt(&s.SustainedEvents, pickInt(100_000, 2_000))
	setInt(&s.LatencyRate, pickInt(1_000, 200))
	setDur(&s.LatencyDuration, pickDur(30*time.Second, 3*time.Second))
	setInt(&s.FanoutWebhooks, pickInt(10_000, 100))
	setInt(&s.BacklogEvents, pickInt(1_000_000, 5_000))
	setInt(&s.SlowRate, 200)
	setDur(&s.SlowDuration, pickDur(20*time.Second, 3*time.Second))
	setInt(&s.ReadsDeliveries, pickInt(10_000_000, 20_000))
	setInt(&s.ReadsWebhooks, pickInt(1_000, 20))
	setInt(&s.ReadsSamples, pickInt(200, 20))
	setInt(&s.ReadsLoadRate, pickInt(2_000, 200))
	setInt(&s.NoisyRate, pickInt(500, 200))
	setDur(&s.NoisyDuration, pickDur(20*time.Second, 2*time.Second))
	setInt(&s.NoisyWebhooks, 10)
	setInt(&s.NoisyOneOffs, 1000)
}

// Config configures Run.
type Config struct {
	// Exe is the hookd binary, run as `bench-receiver` and as `serve`.
	// Required.
	Exe string
	// Database is a postgres:// URL; empty means the embedded SQLite
	// store in a temporary data dir.
	Database string
	// Scenarios selects scenarios by name; empty means DefaultScenarios.
	Scenarios []string
	// Seed writes history into the store of the hookd under test, for
	// the reads scenario; nil leaves that scenario unable to run.
	Seed SeedFunc
	Sizes
	// Stall is how long Run waits for the next receipt before it gives a
	// scenario up; 0 means 2 minutes.
	Stall time.Duration
	// Progress receives a line per step; nil discards them.
	Progress io.Writer
}

// run is one bench run in progress.
type run struct {
	cfg     Config
	api     *client.Client
	hc      *http.Client
	recvURL string
	hookd   *process
	dataDir string
	token   string
	report  *Report
	ceiling float64
}

// Run starts a receiver and hookd as processes of their own, measures the
// loopback ceiling, runs the selected scenarios and returns the report.
// After an error it returns the figures measured so far with it. Both
// processes are killed and the temporary data dir removed before it
// returns.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Exe == "" {
		return nil, errors.New("bench: Config.Exe is required")
	}
	cfg.Defaults()
	if cfg.Stall <= 0 {
		cfg.Stall = 2 * time.Minute
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if len(cfg.Scenarios) == 0 {
		cfg.Scenarios = DefaultScenarios
	}
	for _, s := range cfg.Scenarios {
		if !slices.Contains(Scenarios, s) {
			return nil, fmt.Errorf("unknown scenario %q: want some of %s", s, strings.Join(Scenarios, ","))
		}
	}
	storeName := "sqlite"
	if cfg.Database != "" {
		storeName = "postgres"
	}
	r := &run{cfg: cfg, report: &Report{Config: cfg.Sizes}}
	r.report.Machine = ThisMachine(storeName, "", time.Now())
	defer func() { r.report.Machine.LoadAvgEnd = loadAvg() }()

	dir, err := os.MkdirTemp("", "hookd-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	recv, err := startReceiver(ctx, cfg.Exe, cfg.Progress)
	defer recv.kill()
	if err != nil {
		return nil, err
	}
	r.recvURL = recv.URL()
	token, key := "hka_bench_"+randomHex(16), ""
	if cfg.Database != "" {
		raw := make([]byte, 32)
		rand.Read(raw)
		key = base64.StdEncoding.EncodeToString(raw)
	}
	hk, err := startHookd(ctx, hookdOptions{exe: cfg.Exe, dataDir: dir, database: cfg.Database, adminToken: token, encryptionKey: key}, cfg.Progress)
	defer hk.kill()
	if err != nil {
		return nil, err
	}
	r.hookd, r.dataDir, r.token = hk, dir, token
	r.report.Machine.HookdVersion = hk.version
	r.logf("receiver at %s, hookd %s at %s on %s (data dir %s)", r.recvURL, hk.version, hk.URL(), storeName, dir)

	// One pool for the API, large enough for the latency scenario's
	// concurrent publishes; a long timeout for the PATCH that releases a
	// million held deliveries.
	r.hc = &http.Client{Transport: newTransport(512), Timeout: 10 * time.Minute}
	r.api = client.New(hk.URL(), token, r.hc)
	if err := r.createEventType(ctx); err != nil {
		return nil, err
	}

	if err := r.runCeiling(ctx); err != nil {
		return r.report, err
	}
	steps := map[string]func(context.Context) error{
		"sustained": r.sustained, "latency": r.latency, "fanout": r.fanout, "backlog": r.backlog, "slow": r.slow, "reads": r.reads,
		"noisy": r.noisy,
	}
	for _, name := range Scenarios {
		if !slices.Contains(cfg.Scenarios, name) {
			continue
		}
		start := time.Now()
		r.logf("%s: start", name)
		if err := steps[name](ctx); err != nil {
			if how := hk.exited(); how != "" {
				err = fmt.Errorf("%w (hookd is gone: %s)", err, how)
			}
			return r.report, fmt.Errorf("%s: %w", name, err)
		}
		r.logf("%s: done in %v", name, time.Since(start).Round(time.Millisecond))
	}
	return r.report, nil
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Progress, "bench: "+format+"\n", args...)
}

func (r *run) add(scenario, name string, value float64, unit string) {
	r.report.add(scenario, name, value, unit)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func isConflict(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Status == http.StatusConflict
}

func (r *run) runCeiling(ctx context.Context) error {
	r.logf("ceiling: %d workers POSTing signed %d-byte events to the receiver for %v", r.cfg.CeilingWorkers, r.cfg.EventBytes, r.cfg.CeilingDuration)
	if err := r.resetReceiver(ctx); err != nil {
		return err
	}
	res, err := Ceiling(ctx, CeilingConfig{URL: r.recvURL + PathCeiling, Workers: r.cfg.CeilingWorkers, Duration: r.cfg.CeilingDuration, EventBytes: r.cfg.EventBytes})
	if err != nil {
		return err
	}
	r.ceiling = res.PerSecond()
	r.logf("ceiling: %.0f requests/s (%d errors)", r.ceiling, res.Errors)
	r.add("ceiling", "requests_per_s", round(r.ceiling, 0), "req/s")
	r.add("ceiling", "requests", float64(res.Requests), "requests")
	r.add("ceiling", "errors", float64(res.Errors), "requests")
	return nil
}

// resetReceiver clears the receiver's counters.
func (r *run) resetReceiver(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.recvURL+"/reset", nil)
	if err != nil {
		return err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("reset receiver: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// stats reads the receiver's figures for one prefix, with the latency
// summary if asked.
func (r *run) stats(ctx context.Context, prefix string, latency bool) (PathStats, error) {
	var st PathStats
	u := r.recvURL + "/stats?path=" + prefix
	if !latency {
		u += "&latency=0"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return st, err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return st, fmt.Errorf("receiver stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("receiver stats: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitReceived waits until the receiver has seen want distinct events
// under prefix, logging progress, and gives up when none arrive for
// cfg.Stall. It returns the final figures with the latency summary.
func (r *run) waitReceived(ctx context.Context, what, prefix string, want int64) (PathStats, error) {
	lastUnique, lastChange, lastLog := int64(-1), time.Now(), time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := r.stats(ctx, prefix, false)
		if err != nil {
			return st, err
		}
		if st.Unique >= want {
			return r.stats(ctx, prefix, true)
		}
		now := time.Now()
		if st.Unique != lastUnique {
			lastUnique, lastChange = st.Unique, now
		} else if now.Sub(lastChange) > r.cfg.Stall {
			return st, fmt.Errorf("%w: %d of %d received, none for %v", errStalled, st.Unique, want, r.cfg.Stall)
		}
		if now.Sub(lastLog) >= 5*time.Second {
			lastLog = now
			r.logf("%s: received %d of %d", what, st.Unique, want)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-tick.C:
		}
	}
}

// every calls f every d until the returned stop is called.
func every(d time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// newApp creates an app and returns its id.
func (r *run) newApp(ctx context.Context, name string) (string, error) {
	app, err := r.api.CreateApp(ctx, &client.AppInput{Name: client.Ptr(name)})
	if err != nil {
		return "", fmt.Errorf("create app: %w", err)
	}
	return app.ID, nil
}

// newWebhook creates a webhook of app to the receiver's path.
func (r *run) newWebhook(ctx context.Context, app, path string, paused bool) (string, error) {
	in := &client.WebhookInput{URL: client.Ptr(r.recvURL + path)}
	if paused {
		in.Status = client.Ptr("paused")
	}
	w, err := r.api.CreateWebhook(ctx, app, in)
	if err != nil {
		return "", fmt.Errorf("create webhook: %w", err)
	}
	return w.ID, nil
}

// eventSchema is what every benchmark event's data matches (EventData).
const eventSchema = `{"type":"object","required":["seq","pad"],"additionalProperties":false,` +
	`"properties":{"seq":{"type":"integer","minimum":0},"sent_ns":{"type":"integer","minimum":0},"pad":{"type":"string","maxLength":1048576}}}`

// createEventType adds the benchmark's event type to the catalog, with
// eventSchema when the run validates events.
func (r *run) createEventType(ctx context.Context) error {
	body := map[string]any{"name": eventType, "description": "hookd bench"}
	if r.cfg.EventSchema {
		body["schema"] = json.RawMessage(eventSchema)
	}
	if _, err := r.api.Do(ctx, http.MethodPost, "/v1/event-types", body, nil); err != nil && !isConflict(err) {
		return fmt.Errorf("create event type: %w", err)
	}
	return nil
}

// appendEvent appends one publish input: {"type":…,"data":{…}}.
func (r *run) appendEvent(dst []byte, seq, sentNs int64) []byte {
	dst = append(dst, `{"type":"`+eventType+`","data":`...)
	dst = EventData(dst, seq, sentNs, r.cfg.EventBytes)
	return append(dst, '}')
}

// publishOne publishes event seq, stamped with its send time.
func (r *run) publishOne(ctx context.Context, app string, seq int64) error {
	body := r.appendEvent(make([]byte, 0, r.cfg.EventBytes+64), seq, time.Now().UnixNano())
	_, err := r.api.Do(ctx, http.MethodPost, "/v1/apps/"+app+"/events", json.RawMessage(body), nil)
	return err
}

// publishBatches publishes events 0..total-1 to app in batches of 1,000
// from cfg.Publishers concurrent publishers and returns how long it took.
func (r *run) publishBatches(ctx context.Context, what, app string, total int) (time.Duration, error) {
	const batch = 1000
	batches := (total + batch - 1) / batch
	var next, done atomic.Int64
	start := time.Now()
	stop := every(5*time.Second, func() {
		n := done.Load()
		r.logf("%s: published %d of %d (%.0f/s)", what, n, total, Rate(n, time.Since(start)))
	})
	defer stop()
	errs := make(chan error, r.cfg.Publishers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range r.cfg.Publishers {
		wg.Go(func() {
			buf := make([]byte, 0, batch*(r.cfg.EventBytes+64)+16)
			for {
				b := int(next.Add(1) - 1)
				if b >= batches || ctx.Err() != nil {
					return
				}
				lo, hi := b*batch, min((b+1)*batch, total)
				buf = append(buf[:0], `{"events":[`...)
				for seq := lo; seq < hi; seq++ {
					if seq > lo {
						buf = append(buf, ',')
					}
					buf = r.appendEvent(buf, int64(seq), 0)
				}
				buf = append(buf, "]}"...)
				if _, err := r.api.Do(ctx, http.MethodPost, "/v1/apps/"+app+"/events/batch", json.RawMessage(buf), nil); err != nil {
					errs <- fmt.Errorf("publish batch %d: %w", b, err)
					cancel()
					return
				}
				done.Add(int64(hi - lo))
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
