package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookd/hookd/bench"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
	"github.com/hookd/hookd/store/storesqlite"
)

// runBench is `hookd bench`: it runs this binary as a receiver and as
// hookd, measures them (see package bench) and prints the figures.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookd bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: hookd bench [flags]\n\n"+
			"Starts a receiver and hookd on loopback, measures the loopback ceiling and the\n"+
			"scenarios %s (by default all but reads), and prints a table (stderr instead with --json -).\n"+
			"HOOKD_* settings such as HOOKD_WORKERS are passed on to the hookd under test.\n\nFlags:\n",
			strings.Join(bench.Scenarios, ", "))
		fs.PrintDefaults()
	}
	var cfg bench.Config
	scenarios := fs.String("scenarios", strings.Join(bench.DefaultScenarios, ","), "comma-separated scenarios to run")
	jsonOut := fs.String("json", "", "also write the figures as JSON to this file (- for stdout)")
	fs.StringVar(&cfg.Database, "database", "", "benchmark on this postgres:// database instead of a temporary SQLite store")
	fs.BoolVar(&cfg.Quick, "quick", false, "shrink every scenario to seconds (for CI)")
	fs.DurationVar(&cfg.CeilingDuration, "ceiling-duration", 0, "how long to measure the loopback ceiling (default 10s; quick 1s)")
	fs.IntVar(&cfg.CeilingWorkers, "ceiling-workers", 0, "concurrent requests of the ceiling (default 64)")
	fs.IntVar(&cfg.EventBytes, "event-bytes", 0, "size of each event's data (default 1024)")
	fs.BoolVar(&cfg.EventSchema, "event-schema", false, "give the event type a JSON Schema, so every publish is validated against it")
	fs.IntVar(&cfg.Publishers, "publishers", 0, "concurrent batch publishers (default 4)")
	fs.IntVar(&cfg.SustainedEvents, "events", 0, "sustained: events to publish (default 100000; quick 2000)")
	fs.IntVar(&cfg.LatencyRate, "latency-rate", 0, "latency: events per second (default 1000; quick 200)")
	fs.DurationVar(&cfg.LatencyDuration, "latency-duration", 0, "latency: how long to publish (default 30s; quick 3s)")
	fs.IntVar(&cfg.FanoutWebhooks, "fanout-webhooks", 0, "fanout: webhooks receiving the one event (default 10000; quick 100)")
	fs.IntVar(&cfg.BacklogEvents, "backlog-events", 0, "backlog: events held behind the paused webhook (default 1000000; quick 5000)")
	fs.IntVar(&cfg.SlowRate, "slow-rate", 0, "slow: events per second (default 200)")
	fs.DurationVar(&cfg.SlowDuration, "slow-duration", 0, "slow: how long to publish (default 20s; quick 3s)")
	fs.IntVar(&cfg.ReadsDeliveries, "reads-deliveries", 0, "reads: deliveries seeded into the store (default 10000000; quick 20000)")
	fs.IntVar(&cfg.ReadsWebhooks, "reads-webhooks", 0, "reads: webhooks they go to, half of them to the first (default 1000; quick 20)")
	fs.IntVar(&cfg.ReadsSamples, "reads-samples", 0, "reads: requests timed per route, idle and under load (default 200; quick 20)")
	fs.IntVar(&cfg.ReadsLoadRate, "reads-load-rate", 0, "reads: events per second delivered while reads are timed under load (default 2000; quick 200)")
	fs.IntVar(&cfg.NoisyRate, "noisy-rate", 0, "noisy: the healthy app's events per second (default 500; quick 200)")
	fs.DurationVar(&cfg.NoisyDuration, "noisy-duration", 0, "noisy: how long the healthy app publishes, alone and again beside the noise (default 20s; quick 2s)")
	fs.DurationVar(&cfg.Stall, "stall", 0, "give a scenario up when no delivery arrives for this long (default 2m)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *scenarios != "" {
		cfg.Scenarios = strings.Split(*scenarios, ",")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the hookd binary: %w", err)
	}
	cfg.Exe, cfg.Progress, cfg.Seed = exe, stderr, seedStore

	report, runErr := bench.Run(ctx, cfg)
	if report == nil {
		return runErr
	}
	table := stdout
	if *jsonOut == "-" {
		table = stderr // keep stdout for the JSON
	}
	if err := report.WriteTable(table); err != nil {
		return err
	}
	switch *jsonOut {
	case "":
	case "-":
		if err := report.WriteJSON(stdout); err != nil {
			return err
		}
	default:
		f, err := os.Create(*jsonOut)
		if err != nil {
			return err
		}
		if err := report.WriteJSON(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return runErr
}

// runBenchReceiver is the hidden `hookd bench-receiver`: the receiving end
// of `hookd bench`, in a process of its own. It prints its address on the
// first line of stdout.
func runBenchReceiver(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookd bench-receiver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	slow := fs.Duration("slow-delay", 2*time.Second, "how long /slow waits before answering")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return bench.ServeReceiver(ctx, *addr, bench.ReceiverConfig{SlowDelay: *slow}, func(a string) {
		fmt.Fprintln(stdout, a)
	})
}

// seedStore writes s into the store of a hookd under test (see
// bench.SeedFunc), by each store's bulk writer.
func seedStore(ctx context.Context, database, dataDir string, s *store.Seed, progress func(table string, rows int)) error {
	if database != "" {
		return storepg.Seed(ctx, database, s, progress)
	}
	return storesqlite.Seed(ctx, filepath.Join(dataDir, "hookd.db"), s, progress)
}
