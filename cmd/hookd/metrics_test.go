package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/logtest"
	"github.com/hookd/hookd/internal/pgtest"
)

// scrape reads url's /metrics in the Prometheus text format.
func scrape(tb testing.TB, base string) map[string]*dto.MetricFamily {
	tb.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		tb.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		tb.Fatalf("scrape: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		tb.Fatalf("scrape: not the text format: %v", err)
	}
	return families
}

// metricValue is the value of the sample of name whose labels include
// labels (pairs); for a histogram, its count. -1 when there is none.
func metricValue(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// TestMetricsCountWhatReceiversSaw runs deliveries that succeed, fail
// until exhausted, and inbound requests that are accepted, refused and
// repeated, and compares /metrics with what the receivers saw.
func TestMetricsCountWhatReceiversSaw(t *testing.T) {
	t.Parallel()
	env := dlvSetup(t, dlvFast, "order.created")
	good := newReceiver(t, nil)
	bad := newReceiver(t, func(int, *http.Request) int { return http.StatusInternalServerError })
	env.webhook(&client.WebhookInput{URL: client.Ptr(good.URL), Events: []string{"*"}})
	failing := env.webhook(&client.WebhookInput{URL: client.Ptr(bad.URL), Events: []string{"*"}})
	paused := env.webhook(&client.WebhookInput{URL: client.Ptr(good.URL + "/paused"), Events: []string{"nothing.*"}})
	env.patch(paused.ID, map[string]any{"status": "paused"})

	const events = 5
	for i := range events {
		env.publishType("order.created", i)
	}
	// dlvFast: 4 attempts each to the failing webhook, then exhausted.
	good.waitFor(t, events, dlvWait)
	bad.waitFor(t, 4*events, dlvWait)
	eventually(t, dlvWait, "the failing webhook's deliveries exhausted", func() bool {
		ds, _, err := env.c.ListWebhookDeliveries(env.ctx, env.app.ID, failing.ID, &client.ListOptions{Status: "failed"})
		return err == nil && len(ds) == events
	})
	time.Sleep(100 * time.Millisecond) // the last record's batch is counted after its commit

	// Inbound: one accepted, one refused for its signature, one repeated.
	src := srcE2ESetupOn(t, env.srv, "").create(map[string]any{"name": "GitHub", "provider": "github"})
	body := []byte(`{"action":"opened"}`)
	h := http.Header{"X-Github-Event": {"issues"}, "X-Github-Delivery": {"d-1"}, "X-Hub-Signature-256": {"sha256=" + srcE2EHex(*src.Secret, body)}}
	srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, body))
	srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, body))
	h.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	if r := srcE2EReceive(t, src.ReceiveURL, h, body); r.Status != http.StatusUnauthorized {
		t.Fatalf("a bad signature answered %d", r.Status)
	}

	m := scrape(t, env.srv.URL)
	goodGot, badGot := len(good.Received()), len(bad.Received())
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hookd_events_published_total", nil, events},
		{"hookd_attempts_total", []string{"outcome", "succeeded"}, float64(goodGot)},
		{"hookd_attempts_total", []string{"outcome", "http_error"}, float64(badGot)},
		{"hookd_attempts_total", []string{"outcome", "timeout"}, 0},
		{"hookd_attempts_total", []string{"outcome", "network_error"}, 0},
		{"hookd_attempts_total", []string{"outcome", "refused"}, 0},
		{"hookd_deliveries_finished_total", []string{"status", "succeeded"}, events},
		{"hookd_deliveries_finished_total", []string{"status", "failed"}, events},
		{"hookd_delivery_latency_seconds", nil, events},
		{"hookd_attempt_duration_seconds", nil, float64(goodGot + badGot)},
		{"hookd_pending_deliveries", nil, 0},
		{"hookd_oldest_pending_seconds", nil, 0},
		{"hookd_webhooks", []string{"status", "active"}, 2},
		{"hookd_webhooks", []string{"status", "paused"}, 1},
		{"hookd_webhooks", []string{"status", "disabled"}, 0},
		{"hookd_inbound_requests_total", []string{"provider", "github", "outcome", "accepted"}, 1},
		{"hookd_inbound_requests_total", []string{"provider", "github", "outcome", "duplicate"}, 1},
		{"hookd_inbound_requests_total", []string{"provider", "github", "outcome", "rejected"}, 1},
		{"hookd_http_requests_total", []string{"route", "POST /v1/apps/{app}/events", "code", "202"}, events},
		{"hookd_http_request_duration_seconds", []string{"route", "POST /v1/apps/{app}/events"}, events},
	} {
		if got := metricValue(m, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if m[name] == nil {
			t.Errorf("%s missing: the Go and process collectors are not registered", name)
		}
	}
	// Bounded labels only: no id, URL or host anywhere.
	for name, f := range m {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				v := l.GetValue()
				for _, bad := range []string{"app_", "wh_", "evt_", "dlv_", "src_", "127.0.0.1", "http://", env.app.ID} {
					if strings.Contains(v, bad) {
						t.Errorf("%s has label %s=%q: labels must be bounded", name, l.GetName(), v)
					}
				}
			}
		}
	}
}

// TestMetricsGaugesSeeTheBacklog checks the backlog gauges against held
// and due deliveries.
func TestMetricsGaugesSeeTheBacklog(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var once sync.Once
	stop := func() { once.Do(func() { close(release) }) }
	t.Cleanup(stop)
	slow := newReceiver(t, func(int, *http.Request) int { <-release; return http.StatusOK })
	// One attempt in flight to a webhook, and, while none has ended, one
	// more waiting in the engine; a third would be pushed back, not due.
	srv := startServer(t, func(c *Config) { c.Workers = 2 })
	env := dlvSetupOn(t, srv, dlvFast, "order.created")
	env.webhook(&client.WebhookInput{URL: client.Ptr(slow.URL), Events: []string{"*"}})
	for i := range 2 {
		env.publishType("order.created", i)
	}
	slow.waitFor(t, 1, dlvWait)
	time.Sleep(1100 * time.Millisecond)
	m := scrape(t, srv.URL)
	if got := metricValue(m, "hookd_pending_deliveries"); got != 2 {
		t.Errorf("pending = %v, want 2 (one in flight, one waiting)", got)
	}
	if got := metricValue(m, "hookd_oldest_pending_seconds"); got < 1 || got > 60 {
		t.Errorf("oldest pending = %vs, want at least the second waited", got)
	}
	stop()
	slow.waitFor(t, 2, dlvWait)
}

// TestMetricsOnTheirOwnListener serves /metrics on --metrics-addr.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.MetricsAddr = "127.0.0.1:0" })
	r, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics beside the API = %d, want 404 when it has a listener of its own", r.StatusCode)
	}
	m := scrape(t, "http://"+srv.Main.MetricsAddr())
	if m["hookd_attempts_total"] == nil {
		t.Error("the metrics listener serves no hookd metrics")
	}
}

// TestRequestIDsInAnswersAndLogs checks X-Request-Id and that log lines
// written while serving a request carry its id.
func TestRequestIDsInAnswersAndLogs(t *testing.T) {
	t.Parallel()
	var logs logtest.Buffer
	srv := startServerLogging(t, &logs, slog.LevelDebug)
	resp, err := http.Get(srv.URL + "/v1/apps")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	made := resp.Header.Get("X-Request-Id")
	if len(made) < 16 {
		t.Fatalf("X-Request-Id = %q, want a generated id", made)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/apps", nil)
	req.Header.Set("X-Request-Id", "proxy-abc.123")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "proxy-abc.123" {
		t.Errorf("a sensible incoming id came back as %q", got)
	}
	req.Header.Set("X-Request-Id", "bad id <script>")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " <") {
		t.Errorf("a malformed incoming id was answered as %q", got)
	}
	eventually(t, 5*time.Second, "request log lines", func() bool {
		return strings.Contains(logs.String(), made) && strings.Contains(logs.String(), "proxy-abc.123")
	})
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] == "request" && (rec["request_id"] == nil || rec["route"] != "GET /v1/apps") {
			t.Errorf("request log line without its id or route: %s", line)
		}
	}
}

// TestFailedAttemptsAreLoggedAtDebug checks the debug line of a failed
// attempt names the delivery and the webhook.
func TestFailedAttemptsAreLoggedAtDebug(t *testing.T) {
	t.Parallel()
	var logs logtest.Buffer
	srv := startServerLogging(t, &logs, slog.LevelDebug)
	env := dlvSetupOn(t, srv, dlvFast, "order.created")
	bad := newReceiver(t, func(int, *http.Request) int { return http.StatusBadGateway })
	hook := env.webhook(&client.WebhookInput{URL: client.Ptr(bad.URL), Events: []string{"*"}})
	pub := env.publishType("order.created", 1)
	bad.waitFor(t, 1, dlvWait)
	dlv := env.event(pub.ID).Deliveries[0].ID
	eventually(t, 5*time.Second, "the failed attempt's debug line", func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"attempt failed"`) && strings.Contains(line, dlv) && strings.Contains(line, hook.ID) &&
				strings.Contains(line, `"status_code":502`) && strings.Contains(line, `"outcome":"http_error"`) {
				return true
			}
		}
		return false
	})
}

// startServerLogging is startServer with its log lines, at level, in w as
// JSON; configure may adjust the config first.
func startServerLogging(tb testing.TB, w io.Writer, level slog.Level, configure ...func(*Config)) *testServer {
	tb.Helper()
	m := NewMain(io.Discard, io.Discard)
	m.Config = Config{Addr: "127.0.0.1:0", DataDir: tb.TempDir(), AllowPrivateNetworks: true, AdminToken: testAdminToken, Timeout: 5 * time.Second, LogLevel: level}
	if usePostgres() {
		m.Config.Database = pgtest.URL(tb)
		m.Config.EncryptionKey = testEncryptionKey
	}
	for _, f := range configure {
		f(&m.Config)
	}
	m.Logger = slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	if err := m.Run(context.Background()); err != nil {
		tb.Fatalf("start hookd: %v", err)
	}
	tb.Cleanup(func() { m.Close() })
	url := "http://" + m.Addr()
	return &testServer{Main: m, URL: url, Client: client.New(url, testAdminToken, nil)}
}

// TestDeployFilesNameRealMetrics checks that the Grafana dashboard and the
// alert rules in deploy/ ask only for metrics a running hookd serves.
func TestDeployFilesNameRealMetrics(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	// Labelled series appear once something was counted under them.
	src := srcE2ESetupOn(t, srv, "").create(map[string]any{"name": "GitHub", "provider": "github"})
	if r := srcE2EReceive(t, src.ReceiveURL, http.Header{}, []byte(`{}`)); r.Status != http.StatusUnauthorized {
		t.Fatalf("an unsigned request answered %d", r.Status)
	}
	m := scrape(t, srv.URL)
	name := regexp.MustCompile(`\b(?:hookd|go|process)_[a-z_]+\b`)
	for _, file := range []string{"../../deploy/grafana/hookd.json", "../../deploy/prometheus/alerts.yml"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(file, ".json") && !json.Valid(b) {
			t.Errorf("%s is not valid JSON", file)
		}
		found := 0
		for _, n := range name.FindAllString(string(b), -1) {
			found++
			base := n
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if f := m[strings.TrimSuffix(n, suffix)]; strings.HasSuffix(n, suffix) && f != nil && f.GetType() == dto.MetricType_HISTOGRAM {
					base = strings.TrimSuffix(n, suffix)
				}
			}
			if m[base] == nil {
				t.Errorf("%s asks for %s, which hookd does not serve", file, n)
			}
		}
		if found < 5 {
			t.Errorf("%s names only %d metrics: the pattern is wrong", file, found)
		}
	}
}
