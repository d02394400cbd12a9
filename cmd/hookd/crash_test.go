package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// TestKillNineLosesNothing publishes 2,000 events, kills hookd with SIGKILL
// while deliveries are held in flight at the receiver, restarts it on the
// same data dir, and checks that every event reaches the receiver at least
// once.
func TestKillNineLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hookd binary; skipped with -short")
	}
	t.Parallel()
	bin := buildHookd(t)
	dataDir := t.TempDir()

	// The receiver takes the first holdAfter events, then holds every
	// further request open until released, so the kill always finds
	// deliveries in flight and events undelivered however fast hookd is.
	const holdAfter = 200
	var mu sync.Mutex
	seen := map[string]int{}
	release := make(chan struct{})
	released := false
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		hold := len(seen) >= holdAfter && !released
		mu.Unlock()
		if hold {
			// Only the killed process meets a held request: it never
			// got an answer, so the event has not been received.
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	unique := func() (n, total int) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range seen {
			total += c
		}
		return len(seen), total
	}

	proc, url := startHookdProcess(t, bin, "--data-dir", dataDir)
	ctx := context.Background()
	c := client.New(url, testAdminToken, checkedHTTP(t))
	if _, err := c.CreateEventType(ctx, "crash.test", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateApp(ctx, &client.AppInput{Name: client.Ptr("crash"), UID: client.Ptr("crash")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWebhook(ctx, "crash", &client.WebhookInput{URL: client.Ptr(rc.URL)}); err != nil {
		t.Fatal(err)
	}
	const events = 2000
	ids := map[string]bool{}
	for b := 0; b < events/1000; b++ {
		batch := make([]*client.PublishInput, 1000)
		for i := range batch {
			batch[i] = &client.PublishInput{Type: "crash.test", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, b*1000+i))}
		}
		out, err := c.PublishBatch(ctx, "crash", batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out {
			ids[p.ID] = true
		}
	}
	eventually(t, 60*time.Second, "some deliveries before the kill", func() bool { n, _ := unique(); return n >= holdAfter })
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc.Wait()
	before, _ := unique()
	if before >= events {
		t.Fatalf("all %d events were delivered before the kill; the test proves nothing", events)
	}
	mu.Lock()
	released = true
	mu.Unlock()
	close(release)

	_, url = startHookdProcess(t, bin, "--data-dir", dataDir)
	c = client.New(url, testAdminToken, checkedHTTP(t))
	eventually(t, 120*time.Second, "every event to arrive after the restart", func() bool { n, _ := unique(); return n >= events })
	eventually(t, 120*time.Second, "no delivery left pending", func() bool {
		var out struct{ Deliveries []any }
		_, err := c.Do(ctx, http.MethodGet, "/v1/apps/crash/deliveries?status=pending&limit=1", nil, &out)
		return err == nil && len(out.Deliveries) == 0
	})
	n, total := unique()
	mu.Lock()
	for id := range seen {
		if !ids[id] {
			t.Errorf("received unknown event id %q", id)
		}
	}
	mu.Unlock()
	t.Logf("%d events, %d delivered before the kill, %d requests in all: %d duplicates", n, before, total, total-n)
}

// buildHookd compiles the hookd binary into a temp dir.
func buildHookd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hookd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startHookdProcess runs `hookd serve` on a free port with the given extra
// flags and returns once it serves; the process is killed at cleanup.
func startHookdProcess(t *testing.T, bin string, flags ...string) (*exec.Cmd, string) {
	t.Helper()
	p := spawnHookd(t, bin, []string{"HOOKD_ADMIN_TOKEN=" + testAdminToken, "HOOKD_ENCRYPTION_KEY=" + testEncryptionKey}, flags...)
	return p.cmd, p.serving(t)
}

// hookdProcess is a `hookd serve` process started by spawnHookd.
type hookdProcess struct {
	cmd  *exec.Cmd
	addr chan string   // the address, once it serves
	done chan struct{} // closed once its stderr is closed
	mu   sync.Mutex
	errs []string // every line it wrote to stderr
}

// spawnHookd starts `hookd serve` on a free port with env added to the
// test's environment (HOOKD_ADMIN_TOKEN and HOOKD_ENCRYPTION_KEY are not
// passed on unless env has them) and the given extra flags, without
// waiting for it to serve; the process is killed at cleanup.
func spawnHookd(t *testing.T, bin string, env []string, flags ...string) *hookdProcess {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--allow-private-networks"}, flags...)
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKD_ADMIN_TOKEN=") && !strings.HasPrefix(kv, "HOOKD_ENCRYPTION_KEY=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &hookdProcess{cmd: cmd, addr: make(chan string, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.errs = append(p.errs, line)
			p.mu.Unlock()
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "hookd is serving" {
				p.addr <- rec.Addr
			} else if strings.Contains(line, `"level":"ERROR"`) {
				t.Log("hookd:", line)
			}
		}
	}()
	return p
}

// serving waits until p serves and returns its URL.
func (p *hookdProcess) serving(t *testing.T) string {
	t.Helper()
	select {
	case a := <-p.addr:
		return "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("hookd did not start within 30s; it wrote:\n%s", strings.Join(p.stderr(), "\n"))
		return ""
	}
}

// stderr returns the lines p has written to stderr so far.
func (p *hookdProcess) stderr() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}
