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
	"runtime/debug"
	"syscall"

	"github.com/hookd/hookd/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage), errors.Is(err, cli.ErrUsage):
		os.Exit(2)
	case errors.Is(err, cli.ErrFailed): // reported by the command
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "hookd:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// serveGCPercent is the garbage collector's target for `hookd serve`
// unless GOGC sets one: a collection once the heap has grown to five times
// what the last one left. hookd's live heap is small and bounded (batches
// of bounded size), and at Go's default of 100 the sustained benchmark
// spent a tenth of its time more for 50 MB less RSS (docs/performance-history.md).
const serveGCPercent = 400

// setGCPercent applies serveGCPercent unless the environment's GOGC says
// otherwise.
func setGCPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}

const usage = `hookd — a self-hosted webhook platform

Usage:
  hookd serve    [flags]   run the API and the delivery engine
  hookd migrate  [flags]   create or upgrade the database schema, then exit
  hookd verify   [flags]   check a signed webhook payload from the shell
  hookd listen   [flags]   receive an app's deliveries here, no public URL needed (--forward-to URL)
  hookd bench    [flags]   measure throughput, latency and memory on this machine
  hookd healthcheck [flags] exit 0 if the hookd on --addr answers /healthz (or /readyz)

Run "hookd <command> -h" for a command's flags.
`

// isTerminal reports whether w is a terminal, where tables are the
// default output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		setGCPercent(os.Getenv)
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
	case "listen":
		return cli.Listen(ctx, cli.Env{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}, args[1:])
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], stdout, stderr)
	case "bench-receiver":
		return runBenchReceiver(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage+"\n"+cli.Help())
		return nil
	default:
		if cmd, ok := cli.Command(args); ok {
			return cli.Run(ctx, cli.Env{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, Terminal: isTerminal(stdout)}, cmd)
		}
		fmt.Fprintf(stderr, "hookd: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}
