package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// process is a child process the bench started and kills at the end.
type process struct {
	name string
	cmd  *exec.Cmd
	addr string
	// version is what hookd's start line says.
	version string
	done    chan struct{}
}

// startTimeout bounds how long a child may take to print its address.
const startTimeout = 60 * time.Second

// startReceiver runs `<exe> bench-receiver --addr 127.0.0.1:0`, which
// prints its address on the first line of its stdout.
func startReceiver(ctx context.Context, exe string, progress io.Writer) (*process, error) {
	cmd := exec.Command(exe, "bench-receiver", "--addr", "127.0.0.1:0")
	cmd.Stderr = prefixWriter{"receiver: ", progress}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	setParentDeath(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start receiver: %w", err)
	}
	p := &process{name: "receiver", cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	addr := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		addr <- strings.TrimSpace(line)
		io.Copy(io.Discard, r)
	}()
	return p, p.await(ctx, addr)
}

// hookdOptions is how to run hookd.
type hookdOptions struct {
	exe, dataDir, database, adminToken, encryptionKey string
}

// The variables the bench decides for hookd; the operator's values for
// these are not passed on. Others (HOOKD_WORKERS, HOOKD_TIMEOUT, …) are,
// so that a setting can be benchmarked.
var ownedEnv = []string{"HOOKD_ADDR", "HOOKD_DATA_DIR", "HOOKD_DATABASE", "HOOKD_CONFIG", "HOOKD_ROLE",
	"HOOKD_ADMIN_TOKEN", "HOOKD_ENCRYPTION_KEY", "HOOKD_PUBLIC_URL", "HOOKD_ALLOW_PRIVATE_NETWORKS"}

// startHookd runs `<exe> serve` on a free loopback port and returns once
// it logs "hookd is serving". Its log is read to the end so that it never
// blocks on a full pipe; errors and warnings are passed on to progress.
func startHookd(ctx context.Context, o hookdOptions, progress io.Writer) (*process, error) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", o.dataDir, "--allow-private-networks"}
	if o.database != "" {
		args = append(args, "--database", o.database)
	}
	cmd := exec.Command(o.exe, args...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		owned := false
		for _, o := range ownedEnv {
			owned = owned || k == o
		}
		if !owned {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOOKD_ADMIN_TOKEN="+o.adminToken)
	if o.encryptionKey != "" {
		cmd.Env = append(cmd.Env, "HOOKD_ENCRYPTION_KEY="+o.encryptionKey)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	setParentDeath(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start hookd: %w", err)
	}
	p := &process{name: "hookd", cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	var started atomic.Bool
	go func() {
		r := bufio.NewReader(stderr)
		forwarded := 0
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				var rec struct {
					Msg, Addr, Version, Level string
				}
				if json.Unmarshal(line, &rec) == nil && rec.Msg == "hookd is serving" && !started.Load() {
					p.version = rec.Version
					started.Store(true)
					addr <- rec.Addr
				} else if !started.Load() || !bytes.HasPrefix(line, []byte("{")) ||
					bytes.Contains(line, []byte(`"level":"ERROR"`)) || bytes.Contains(line, []byte(`"level":"WARN"`)) {
					// Before the start line everything may explain a
					// failure; after it, only trouble is worth a line:
					// errors, warnings and what is not a log record (a
					// panic).
					if forwarded++; forwarded <= 200 {
						fmt.Fprintf(progress, "hookd: %s", line)
					} else if forwarded == 201 {
						fmt.Fprintln(progress, "hookd: (more log lines not shown)")
					}
				}
			}
			if err != nil {
				break
			}
		}
	}()
	go func() { cmd.Wait(); close(p.done) }()
	if err := p.await(ctx, addr); err != nil {
		return p, err
	}
	return p, nil
}

func (p *process) await(ctx context.Context, addr <-chan string) error {
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case a := <-addr:
		if a == "" {
			return fmt.Errorf("%s printed no address", p.name)
		}
		p.addr = a
		return nil
	case <-p.done:
		return fmt.Errorf("%s exited before serving: %v", p.name, p.cmd.ProcessState)
	case <-t.C:
		return fmt.Errorf("%s did not start within %v", p.name, startTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// URL is the process's base URL.
func (p *process) URL() string { return "http://" + p.addr }

// exited describes how the process ended, or is "" while it runs.
func (p *process) exited() string {
	select {
	case <-p.done:
		return p.cmd.ProcessState.String()
	default:
		return ""
	}
}

// pid is the process id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// kill ends the process and waits for it.
func (p *process) kill() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Kill()
	<-p.done
}

// rss returns a process's resident set size in bytes, from
// /proc/<pid>/status (Linux).
func rss(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read RSS: %q: %w", line, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("read RSS: no VmRSS line")
}

// cpuTime returns the CPU time a process has used, user and system, from
// /proc/<pid>/stat (Linux).
func cpuTime(pid int) (time.Duration, error) {
	_, fields, err := procStat(pid)
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	return ticks(fields, 14, 15)
}

// postgresCPU returns the CPU time used by every PostgreSQL process on
// this machine: each one's own, and what the postmaster's exited children
// (backends whose connection closed) used. ok is false when there is none
// to read (no local PostgreSQL, or no /proc).
func postgresCPU() (total time.Duration, ok bool) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		name, fields, err := procStat(pid)
		if err != nil || name != "postgres" {
			continue // gone since the listing, or another program
		}
		// utime, stime, cutime, cstime.
		if t, err := ticks(fields, 14, 17); err == nil {
			total += t
			ok = true
		}
	}
	return total, ok
}

// procStat reads /proc/<pid>/stat: the command's name, and the fields
// after it, the first of which is field 3 of proc(5).
func procStat(pid int) (string, []string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", nil, err
	}
	// The name, in parentheses, may hold spaces and parentheses itself.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", nil, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return string(b[open+1 : end]), strings.Fields(string(b[end+1:])), nil
}

// ticks sums fields from to to (numbered as in proc(5), from 3 for the
// first of fields), in clock ticks of 1/100 s, the kernel's USER_HZ.
func ticks(fields []string, from, to int) (time.Duration, error) {
	if len(fields) < to-2 {
		return 0, fmt.Errorf("/proc stat has %d fields, want %d", len(fields)+2, to)
	}
	var n int64
	for _, f := range fields[from-3 : to-2] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat field %q: %w", f, err)
		}
		n += v
	}
	return time.Duration(n) * 10 * time.Millisecond, nil
}

// prefixWriter writes each Write to w after a prefix.
type prefixWriter struct {
	prefix string
	w      io.Writer
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := fmt.Fprintf(p.w, "%s%s", p.prefix, b); err != nil {
		return 0, err
	}
	return len(b), nil
}
