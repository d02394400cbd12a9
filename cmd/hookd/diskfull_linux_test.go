package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and returns
// it; it is unmounted at cleanup. Mounting needs root (CI runs tests as
// root): where it is refused, the test is skipped, under CI too.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("skipping: cannot mount a tmpfs of %d bytes on %s to fill (mounting needs root): %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file into dir until the file system has no room left.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("create filler: %v", err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			return path
		}
	}
}

// eventIDs collects the distinct webhook-ids a receiver got.
type eventIDs struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (e *eventIDs) add(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen[id] = true
}

func (e *eventIDs) missing(want []string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, id := range want {
		if !e.seen[id] {
			out = append(out, id)
		}
	}
	return out
}

// The embedded store's disk fills: publishes answer 503 UNAVAILABLE
// saying so, /readyz answers 503 and says why; when room returns hookd
// recovers by itself, and every event acknowledged before, during and
// after is delivered.
func TestDiskFullThenRecovered(t *testing.T) {
	if usePostgres() {
		t.Skip("skipping: this fills the embedded store's disk")
	}
	dataDir := mountTmpfs(t, 64<<20)
	got := &eventIDs{seen: map[string]bool{}}
	// The receiver answers nothing until the disk is full, so that the
	// first events' attempts are recorded on a full disk.
	full := make(chan struct{})
	rc := newReceiver(t, func(_ int, r *http.Request) int {
		<-full
		got.add(r.Header.Get("webhook-id"))
		return http.StatusOK
	})
	t.Cleanup(func() {
		select {
		case <-full:
		default:
			close(full)
		}
	})
	srv := startServer(t, func(c *Config) { c.DataDir = dataDir })
	e := dlvSetupOn(t, srv, dlvFast, "order.paid")
	e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}})
	events := "/v1/apps/" + e.app.ID + "/events"
	body := map[string]any{"type": "order.paid", "data": map[string]any{"note": strings.Repeat("x", 1024)}}
	var acked []string
	publish := func() *apiResp {
		r := apiAdmin(t, srv, http.MethodPost, events, body)
		if r.Status == http.StatusAccepted {
			acked = append(acked, apiStr(t, r.Body, "id"))
		}
		return r
	}
	for range 20 {
		apiWant(t, publish(), http.StatusAccepted)
	}

	rc.waitFor(t, 1, dlvWait)
	filler := fill(t, dataDir)
	close(full)
	var refused *apiResp
	for i := 0; refused == nil; i++ {
		if i == 20000 {
			t.Fatalf("20,000 publishes succeeded on a full disk")
		}
		switch r := publish(); r.Status {
		case http.StatusAccepted:
		case http.StatusServiceUnavailable:
			refused = r
		default:
			t.Fatalf("publish on a full disk answered %d %s, want 202 or 503", r.Status, r.Raw)
		}
	}
	apiWantError(t, refused, http.StatusServiceUnavailable, "UNAVAILABLE", "the store cannot write: disk full")
	ready := apiRequest(t, srv, "", http.MethodGet, "/readyz", nil)
	if ready.Status != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(ready.Body["reason"]), "disk full") {
		t.Errorf("/readyz on a full disk answered %d %s, want 503 saying the disk is full", ready.Status, ready.Raw)
	}

	// The first events' attempts are answered, and cannot be recorded.
	eventually(t, dlvWait, "the first events to arrive", func() bool { return len(got.missing(acked[:1])) == 0 })
	time.Sleep(500 * time.Millisecond)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, dlvWait, "/readyz to answer 200 once there is room", func() bool {
		return apiRequest(t, srv, "", http.MethodGet, "/readyz", nil).Status == http.StatusOK
	})
	for range 20 {
		apiWant(t, publish(), http.StatusAccepted)
	}
	eventually(t, 3*time.Minute, "every acknowledged event to be delivered", func() bool {
		return len(got.missing(acked)) == 0
	})
	raw, _ := json.Marshal(got.missing(acked))
	t.Logf("%d events acknowledged, all delivered (missing: %s)", len(acked), raw)
}
