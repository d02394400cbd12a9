// Package metrics exposes hookd's Prometheus metrics: what the delivery
// engine, the API and the receivers count, the backlog and the webhooks by
// status read from the store, and the Go runtime and process collectors.
//
// Every label is bounded: attempt outcomes, delivery and webhook statuses,
// providers, route patterns and HTTP status codes; never an app, webhook,
// event or delivery id, a URL or a host. Each process counts its own work
// (Prometheus sums the processes sharing a database); the gauges read
// from the store are the same in every process.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/receive"
	"github.com/hookd/hookd/store"
)

// Store is what the gauges read.
type Store interface {
	Backlog(ctx context.Context, now time.Time) (store.Backlog, error)
	CountWebhooks(ctx context.Context) (map[string]int64, error)
}

// Config tunes the metrics. Zero fields take the defaults noted.
type Config struct {
	// GaugeTTL is how long the gauges read from the store are reused
	// between scrapes; 0 means 5s.
	GaugeTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Metrics counts what hookd does and serves it to Prometheus. It is the
// observer of the delivery engine, the service, the receiver and the API.
type Metrics struct {
	registry *prometheus.Registry
	gauges   *storeGauges

	published       prometheus.Counter
	attempts        map[string]prometheus.Counter // by outcome
	finished        map[string]prometheus.Counter // by delivery status
	deliveryLatency prometheus.Histogram
	attemptDuration prometheus.Histogram
	inbound         *prometheus.CounterVec
	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
}

// Outcomes are the values of hookd_attempts_total's outcome label.
var outcomes = []string{hookd.OutcomeSucceeded, hookd.OutcomeHTTPError, hookd.OutcomeTimeout, hookd.OutcomeNetworkError, hookd.OutcomeRefused}

// New registers hookd's metrics on a registry of their own.
func New(st Store, log *slog.Logger, cfg Config) *Metrics {
	if cfg.GaugeTTL <= 0 {
		cfg.GaugeTTL = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookd_events_published_total",
			Help: "Events committed by publish and batch publish, test events included.",
		}),
		deliveryLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookd_delivery_latency_seconds",
			Help: "Time from an event's publish to the 2xx answer that ended its delivery.",
			// Milliseconds on a healthy path, hours through retries.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 7200, 18000, 36000, 86400},
		}),
		attemptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookd_attempt_duration_seconds",
			Help:    "Duration of delivery attempts, from the request's start to its answer or failure.",
			Buckets: prometheus.ExponentialBuckets(.001, 2, 16), // 1 ms to 33 s
		}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_inbound_requests_total",
			Help: "Requests to receive URLs of existing sources, by the source's provider and what hookd did with them.",
		}, []string{"provider", "outcome"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_http_requests_total",
			Help: "API requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookd_http_request_duration_seconds",
			Help:    "Time to answer API requests, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	attempts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookd_attempts_total",
		Help: "Delivery attempts made, by outcome: succeeded (2xx), http_error (another status), timeout, network_error, refused (by the egress rules).",
	}, []string{"outcome"})
	m.attempts = map[string]prometheus.Counter{}
	for _, o := range outcomes {
		m.attempts[o] = attempts.WithLabelValues(o) // present from the start, at 0
	}
	finished := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookd_deliveries_finished_total",
		Help: "Deliveries that reached succeeded or failed (attempts exhausted, or their webhook disabled).",
	}, []string{"status"})
	m.finished = map[string]prometheus.Counter{
		hookd.DeliverySucceeded: finished.WithLabelValues(hookd.DeliverySucceeded),
		hookd.DeliveryFailed:    finished.WithLabelValues(hookd.DeliveryFailed),
	}
	m.gauges = newStoreGauges(st, log, cfg)
	m.registry.MustRegister(
		m.published, attempts, finished, m.deliveryLatency, m.attemptDuration,
		m.inbound, m.httpRequests, m.httpDuration, m.gauges,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Registry is where the metrics are registered, for tests and for
// collectors of other packages.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Published counts committed events (service.Observer).
func (m *Metrics) Published(events int) {
	if events > 0 {
		m.published.Add(float64(events))
	}
}

// Recorded counts a recorded batch of attempts (deliver.Observer).
func (m *Metrics) Recorded(batch []*store.AttemptResult) {
	for _, r := range batch {
		a := r.Attempt
		m.attempts[outcomeOf(r)].Inc()
		m.attemptDuration.Observe(a.Duration.Seconds())
		switch r.Status {
		case hookd.DeliverySucceeded:
			m.finished[hookd.DeliverySucceeded].Inc()
			if !r.Published.IsZero() {
				m.deliveryLatency.Observe(a.At.Add(a.Duration).Sub(r.Published).Seconds())
			}
		case hookd.DeliveryFailed:
			m.finished[hookd.DeliveryFailed].Inc()
		}
	}
}

// outcomeOf is the attempt's outcome, classified by the engine, or from
// its answer when the engine did not.
func outcomeOf(r *store.AttemptResult) string {
	if _, ok := outcomeSet[r.Outcome]; ok {
		return r.Outcome
	}
	switch code := r.Attempt.StatusCode; {
	case code >= 200 && code < 300:
		return hookd.OutcomeSucceeded
	case code > 0:
		return hookd.OutcomeHTTPError
	default:
		return hookd.OutcomeNetworkError
	}
}

var outcomeSet = map[string]struct{}{
	hookd.OutcomeSucceeded: {}, hookd.OutcomeHTTPError: {}, hookd.OutcomeTimeout: {}, hookd.OutcomeNetworkError: {}, hookd.OutcomeRefused: {},
}

// Inbound counts a request to a receive URL (receive.Observer).
func (m *Metrics) Inbound(provider, outcome string) {
	switch outcome {
	case receive.InboundAccepted, receive.InboundRejected, receive.InboundDuplicate:
		m.inbound.WithLabelValues(provider, outcome).Inc()
	}
}

// Answered counts an answered API request (httpapi.Observer).
func (m *Metrics) Answered(route string, status int, took time.Duration) {
	m.httpRequests.WithLabelValues(route, statusText(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(took.Seconds())
}

// statusText is a status code as a label value, without an allocation for
// the codes hookd answers.
func statusText(code int) string {
	if s, ok := codes[code]; ok {
		return s
	}
	if code < 100 || code > 599 {
		return "other"
	}
	return string([]byte{byte('0' + code/100), byte('0' + code/10%10), byte('0' + code%10)})
}

var codes = map[int]string{200: "200", 201: "201", 202: "202", 204: "204", 400: "400", 401: "401", 404: "404",
	405: "405", 409: "409", 410: "410", 413: "413", 429: "429", 500: "500", 503: "503"}

// storeGauges reads the backlog and the webhooks by status from the store
// when scraped, at most once per GaugeTTL however many scrapers ask.
type storeGauges struct {
	st  Store
	log *slog.Logger
	cfg Config

	pending  *prometheus.Desc
	oldest   *prometheus.Desc
	webhooks *prometheus.Desc

	mu      sync.Mutex
	readAt  time.Time
	ok      bool
	backlog store.Backlog
	counts  map[string]int64
}

func newStoreGauges(st Store, log *slog.Logger, cfg Config) *storeGauges {
	return &storeGauges{
		st: st, log: log, cfg: cfg,
		pending: prometheus.NewDesc("hookd_pending_deliveries",
			"Pending deliveries whose next attempt time has come (in flight or waiting for a worker).", nil, nil),
		oldest: prometheus.NewDesc("hookd_oldest_pending_seconds",
			"How long the earliest of those has been due; 0 when none is.", nil, nil),
		webhooks: prometheus.NewDesc("hookd_webhooks",
			"Webhooks of every app, by status.", []string{"status"}, nil),
	}
}

func (g *storeGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.pending
	ch <- g.oldest
	ch <- g.webhooks
}

func (g *storeGauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.cfg.Now()
	if now.Sub(g.readAt) >= g.cfg.GaugeTTL {
		g.read(now)
	}
	if !g.ok {
		return // the store did not answer: no figure rather than a wrong one
	}
	age := 0.0
	if g.backlog.Due > 0 {
		age = max(now.Sub(g.backlog.OldestDueAt).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(g.pending, prometheus.GaugeValue, float64(g.backlog.Due))
	ch <- prometheus.MustNewConstMetric(g.oldest, prometheus.GaugeValue, age)
	for _, status := range []string{hookd.WebhookActive, hookd.WebhookPaused, hookd.WebhookDisabled} {
		ch <- prometheus.MustNewConstMetric(g.webhooks, prometheus.GaugeValue, float64(g.counts[status]), status)
	}
}

// read refreshes the figures; called with mu held.
func (g *storeGauges) read(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	g.readAt = now
	backlog, err := g.st.Backlog(ctx, now)
	if err == nil {
		var counts map[string]int64
		if counts, err = g.st.CountWebhooks(ctx); err == nil {
			g.backlog, g.counts, g.ok = backlog, counts, true
			return
		}
	}
	g.ok = false
	g.log.Warn("metrics: read the backlog from the store", "err", err)
}
