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
