package metrics_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/store"
)

// gaugeStore is a hand-written Store for the gauges.
type gaugeStore struct {
	reads   atomic.Int32
	backlog func() (store.Backlog, error)
}

func (s *gaugeStore) Backlog(context.Context, time.Time) (store.Backlog, error) {
	s.reads.Add(1)
	return s.backlog()
}

func (s *gaugeStore) CountWebhooks(context.Context) (map[string]int64, error) {
	return map[string]int64{hookd.WebhookActive: 3, hookd.WebhookDisabled: 1}, nil
}

func TestGaugesReadTheStoreAtMostOncePerTTL(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	st := &gaugeStore{backlog: func() (store.Backlog, error) {
		return store.Backlog{Due: 7, OldestDueAt: now.Add(-90 * time.Second)}, nil
	}}
	m := metrics.New(st, nil, metrics.Config{GaugeTTL: 5 * time.Second, Now: func() time.Time { return clock }})
	want := `
# HELP hookd_oldest_pending_seconds How long the earliest of those has been due; 0 when none is.
# TYPE hookd_oldest_pending_seconds gauge
hookd_oldest_pending_seconds 90
# HELP hookd_pending_deliveries Pending deliveries whose next attempt time has come (in flight or waiting for a worker).
# TYPE hookd_pending_deliveries gauge
hookd_pending_deliveries 7
# HELP hookd_webhooks Webhooks of every app, by status.
# TYPE hookd_webhooks gauge
hookd_webhooks{status="active"} 3
hookd_webhooks{status="disabled"} 1
hookd_webhooks{status="paused"} 0
`
	for range 3 {
		if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "hookd_pending_deliveries", "hookd_oldest_pending_seconds", "hookd_webhooks"); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.reads.Load(); n != 1 {
		t.Errorf("three scrapes within the TTL read the store %d times, want 1", n)
	}
	clock = clock.Add(6 * time.Second)
	testutil.GatherAndCount(m.Registry(), "hookd_pending_deliveries")
	if n := st.reads.Load(); n != 2 {
		t.Errorf("a scrape after the TTL read the store %d times in all, want 2", n)
	}
}

func TestGaugesShowNothingWhenTheStoreFails(t *testing.T) {
	t.Parallel()
	st := &gaugeStore{backlog: func() (store.Backlog, error) { return store.Backlog{}, errors.New("connection refused") }}
	m := metrics.New(st, nil, metrics.Config{})
	n, err := testutil.GatherAndCount(m.Registry(), "hookd_pending_deliveries", "hookd_oldest_pending_seconds")
	if err != nil || n != 0 {
		t.Errorf("with the store down: %d samples (%v), want none rather than a wrong figure", n, err)
	}
}

func TestRecordedCountsOutcomesAndFinishedDeliveries(t *testing.T) {
	t.Parallel()
	m := metrics.New(&gaugeStore{backlog: func() (store.Backlog, error) { return store.Backlog{}, nil }}, nil, metrics.Config{})
	published := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	result := func(outcome string, code int, status string) *store.AttemptResult {
		return &store.AttemptResult{Outcome: outcome, Status: status, Published: published,
			AttemptReport: hookd.AttemptReport{Attempt: &hookd.Attempt{StatusCode: code, At: published.Add(time.Second), Duration: 20 * time.Millisecond}}}
	}
	m.Recorded([]*store.AttemptResult{
		result(hookd.OutcomeSucceeded, 200, hookd.DeliverySucceeded),
		result(hookd.OutcomeHTTPError, 500, hookd.DeliveryPending),
		result(hookd.OutcomeHTTPError, 500, hookd.DeliveryFailed),
		result(hookd.OutcomeTimeout, 0, hookd.DeliveryPending),
		result(hookd.OutcomeRefused, 0, ""), // not applied: still an attempt made
		result("", 204, hookd.DeliverySucceeded),
		result("", 0, hookd.DeliveryPending),
	})
	want := `
# HELP hookd_attempts_total Delivery attempts made, by outcome: succeeded (2xx), http_error (another status), timeout, network_error, refused (by the egress rules).
# TYPE hookd_attempts_total counter
hookd_attempts_total{outcome="http_error"} 2
hookd_attempts_total{outcome="network_error"} 1
hookd_attempts_total{outcome="refused"} 1
hookd_attempts_total{outcome="succeeded"} 2
hookd_attempts_total{outcome="timeout"} 1
# HELP hookd_deliveries_finished_total Deliveries that reached succeeded or failed (attempts exhausted, or their webhook disabled).
# TYPE hookd_deliveries_finished_total counter
hookd_deliveries_finished_total{status="failed"} 1
hookd_deliveries_finished_total{status="succeeded"} 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "hookd_attempts_total", "hookd_deliveries_finished_total"); err != nil {
		t.Error(err)
	}
	if n, _ := testutil.GatherAndCount(m.Registry(), "hookd_delivery_latency_seconds"); n != 1 {
		t.Errorf("latency histogram series = %d", n)
	}
	m.Inbound("github", "accepted")
	m.Inbound("github", "something else") // not an outcome: not counted
	if n, _ := testutil.GatherAndCount(m.Registry(), "hookd_inbound_requests_total"); n != 1 {
		t.Errorf("inbound series = %d, want 1", n)
	}
	m.Answered("GET /v1/apps", 200, time.Millisecond)
	m.Answered("unmatched", 599, time.Millisecond)
	m.Answered("unmatched", 1000, time.Millisecond)
	want = `
# HELP hookd_http_requests_total API requests answered, by route pattern and status code.
# TYPE hookd_http_requests_total counter
hookd_http_requests_total{code="200",route="GET /v1/apps"} 1
hookd_http_requests_total{code="599",route="unmatched"} 1
hookd_http_requests_total{code="other",route="unmatched"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "hookd_http_requests_total"); err != nil {
		t.Error(err)
	}
}
