package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/pgtest"
)

// TestProcessesShareOnePostgres runs three hookd processes on one
// PostgreSQL database (all, api, worker), publishes through two of them,
// kills the delivering one with SIGKILL mid-run, and checks that every
// event is delivered at least once.
// It reports how many were delivered twice.
func TestProcessesShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs hookd binaries; skipped with -short")
	}
	t.Parallel()
	dbURL := pgtest.URL(t)
	bin := buildHookd(t)

	var mu sync.Mutex
	seen := map[string]int{}
	// Once stallAfter events have arrived, and until the victim is dead,
	// answers hang so that attempts are in flight however fast hookd is.
	const stallAfter = 300
	var victimDead atomic.Bool
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		stall := len(seen) > stallAfter && !victimDead.Load()
		mu.Unlock()
		if stall {
			time.Sleep(3 * time.Second)
		}
	}))
	t.Cleanup(rc.Close)
	count := func() (unique, total int) {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range seen {
			total += n
		}
		return len(seen), total
	}

	// A short request timeout keeps the victim's leases short.
	db := []string{"--database", dbURL, "--data-dir", t.TempDir(), "--timeout", "1s"}
	// Few workers keep the victim from delivering everything at once.
	victim, victimURL := startHookdProcess(t, bin, append(db, "--workers", "16")...)
	_, apiURL := startHookdProcess(t, bin, append(db, "--role", "api")...)

	ctx := context.Background()
	admin := client.New(apiURL, testAdminToken, checkedHTTP(t))
	if _, err := admin.CreateEventType(ctx, "multi.test", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateApp(ctx, &client.AppInput{Name: client.Ptr("multi"), UID: client.Ptr("multi")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateWebhook(ctx, "multi", &client.WebhookInput{URL: client.Ptr(rc.URL)}); err != nil {
		t.Fatal(err)
	}
	const perProcess, batches = 1000, 2
	ids := map[string]bool{}
	for i, url := range []string{victimURL, apiURL} {
		c := client.New(url, testAdminToken, checkedHTTP(t))
		for b := range batches {
			batch := make([]*client.PublishInput, perProcess/batches)
			for j := range batch {
				batch[j] = &client.PublishInput{Type: "multi.test", Data: json.RawMessage(fmt.Sprintf(`{"p":%d,"b":%d,"n":%d}`, i, b, j))}
			}
			out, err := c.PublishBatch(ctx, "multi", batch)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range out {
				ids[p.ID] = true
			}
		}
	}
	// The victim is the only worker so far, so it holds claims when it dies.
	eventually(t, 60*time.Second, "deliveries under way", func() bool { n, _ := count(); return n > stallAfter })
	startHookdProcess(t, bin, append(db, "--role", "worker")...)
	time.Sleep(200 * time.Millisecond)
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	victimDead.Store(true)
	before, _ := count()
	if before >= len(ids) {
		t.Fatalf("all %d events were delivered before the kill; the test proves nothing", len(ids))
	}
	// The victim's leases run out after the request timeout plus a margin;
	// the surviving worker then delivers what it held.
	eventually(t, 120*time.Second, "every event delivered", func() bool { n, _ := count(); return n >= len(ids) })
	// Receipt is not the end: the victim's claims must run out and be
	// attempted again until no delivery is left pending.
	eventually(t, 120*time.Second, "no delivery left pending", func() bool {
		var out struct{ Deliveries []any }
		_, err := admin.Do(ctx, http.MethodGet, "/v1/apps/multi/deliveries?status=pending&limit=1", nil, &out)
		return err == nil && len(out.Deliveries) == 0
	})
	unique, total := count()
	if total == unique {
		t.Errorf("no event was delivered twice: the victim held no attempt in flight when it was killed, so its leases were never tested")
	}
	mu.Lock()
	for id := range seen {
		if !ids[id] {
			t.Errorf("received unknown event id %q", id)
		}
	}
	mu.Unlock()
	t.Logf("%d events published through 2 processes; the worker killed after %d receipts; %d requests in all: %d duplicates",
		unique, before, total, total-unique)
}
