// Command hookd is the hookd webhook platform: `hookd serve` runs the API
// and the delivery engine; the other subcommands are tools around it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, errUsage) {
		fmt.Fprintln(os.Stderr, "hookd:", err)
	}
	if err != nil {
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `hookd — a self-hosted webhook platform

Usage:
  hookd serve    [flags]   run the API and the delivery engine
  hookd migrate  [flags]   create or upgrade the database schema, then exit
  hookd verify   [flags]   check a signed webhook payload from the shell
  hookd bench    [flags]   measure throughput, latency and memory on this machine

Run "hookd <command> -h" for a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		m := NewMain(stdout, stderr)
		if err := m.ParseFlags(args[1:]); err != nil {
			return err
		}
		if err := m.Run(ctx); err != nil {
			m.Close()
			return err
		}
		<-ctx.Done()
		return m.Close()
	case "migrate":
		m := NewMain(stdout, stderr)
		if err := m.ParseFlags(args[1:]); err != nil {
			return err
		}
		return m.Migrate(ctx)
	case "verify":
		return runVerify(args[1:], os.Stdin, stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "bench-receiver":
		return runBenchReceiver(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "hookd: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}
