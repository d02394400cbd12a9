package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/hookd/hookd/bench"
	"github.com/hookd/hookd/internal/pgtest"
)

// TestBenchQuick runs `hookd bench --quick --json -` end to end, as CI
// does: every scenario must report its figures and every published event
// must have been received. It checks no speed: a benchmark reports, it
// does not pass or fail on a number.
func TestBenchQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hookd and runs the whole bench; skipped with -short")
	}
	t.Parallel()
	bin := buildHookd(t)
	args := []string{"bench", "--quick", "--json", "-"}
	store := "sqlite"
	if usePostgres() {
		args = append(args, "--database", pgtest.URL(t))
		store = "postgres"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("hookd bench progress and table:\n%s", stderr.String())
	if err != nil {
		t.Fatalf("hookd bench: %v", err)
	}

	var report bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout.String())
	}
	m := report.Machine
	if m.Cores <= 0 || m.CPU == "" || m.Go == "" || m.OSArch == "" || m.Store != store || m.HookdVersion == "" || m.Date == "" {
		t.Errorf("machine not fully stated: %+v", m)
	}
	if !report.Config.Quick {
		t.Errorf("config %+v: want quick", report.Config)
	}

	// Counts of things that went wrong, or were late, may be zero.
	mayBeZero := map[string]bool{"errors": true, "repeats": true, "publish_errors": true, "late_starts": true}
	figures := map[string]map[string]float64{}
	for _, f := range report.Figures {
		if figures[f.Scenario] == nil {
			figures[f.Scenario] = map[string]float64{}
		}
		figures[f.Scenario][f.Name] = f.Value
		if f.Unit == "" || f.Value < 0 || (f.Value == 0 && !mayBeZero[f.Name]) {
			t.Errorf("%s %s = %v %q: want a positive figure with a unit", f.Scenario, f.Name, f.Value, f.Unit)
		}
	}
	for _, s := range append([]string{"ceiling"}, bench.DefaultScenarios...) {
		if len(figures[s]) == 0 {
			t.Errorf("no figures for %s", s)
		}
	}

	// Every published event reached the receiver.
	for _, c := range []struct{ scenario, sent, received string }{
		{"sustained", "published", "received"},
		{"latency", "published", "received"},
		{"fanout", "webhooks", "received"},
		{"backlog", "published", "received"},
		{"slow", "published", "fast_received"},
		{"noisy", "published", "received"},
	} {
		f := figures[c.scenario]
		if f[c.sent] <= 0 || f[c.received] != f[c.sent] {
			t.Errorf("%s: %s %v, %s %v: want every event received", c.scenario, c.sent, f[c.sent], c.received, f[c.received])
		}
	}
	if f := figures["latency"]; f["publish_errors"] != 0 {
		t.Errorf("latency: %v publishes failed", f["publish_errors"])
	}
}

// TestBenchReadsQuick runs `hookd bench --quick --scenarios reads` end to
// end: the store is seeded, and every read route is timed idle and under
// load. It checks that each was measured, not how fast.
func TestBenchReadsQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hookd and runs the reads scenario; skipped with -short")
	}
	t.Parallel()
	bin := buildHookd(t)
	args := []string{"bench", "--quick", "--scenarios", "reads", "--ceiling-duration", "200ms", "--json", "-"}
	if usePostgres() {
		args = append(args, "--database", pgtest.URL(t))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("hookd bench progress and table:\n%s", stderr.String())
	if err != nil {
		t.Fatalf("hookd bench: %v", err)
	}
	var report bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout.String())
	}
	figures := map[string]bench.Figure{}
	for _, f := range report.Figures {
		if f.Scenario == "reads" {
			figures[f.Name] = f
		}
	}
	if f := figures["deliveries"]; f.Value != float64(report.Config.ReadsDeliveries) || f.Value <= 0 {
		t.Errorf("deliveries seeded: %v, want %d", f.Value, report.Config.ReadsDeliveries)
	}
	for _, phase := range []string{"idle", "loaded"} {
		for _, route := range []string{"webhook", "webhook_deliveries", "webhook_deliveries_failed", "webhook_deliveries_page200",
			"webhook_events", "webhook_events_page200", "small_webhook_deliveries", "small_webhook_events", "app_events",
			"app_deliveries", "event", "delivery", "webhooks", "sources", "source"} {
			for _, q := range []string{"p50", "p99"} {
				name := phase + "_" + route + "_" + q
				if f, ok := figures[name]; !ok || f.Value <= 0 || f.Unit != "ms" {
					t.Errorf("%s = %+v, want a time in ms", name, f)
				}
			}
		}
	}
	if f := figures["load_delivery_rate"]; f.Value <= 0 {
		t.Errorf("load_delivery_rate = %v: nothing was delivered under load", f.Value)
	}
}
