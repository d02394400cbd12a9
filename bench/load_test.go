package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPaceStartsEveryPlannedCall(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	seen := make([]atomic.Bool, 100)
	boom := errors.New("boom")
	res := Pace(context.Background(), PaceConfig{Rate: 2000, Duration: 50 * time.Millisecond}, func(ctx context.Context, i int) error {
		calls.Add(1)
		seen[i].Store(true)
		if i%10 == 0 {
			return boom
		}
		return nil
	})
	if res.Planned != 100 || res.Started != 100 || calls.Load() != 100 {
		t.Fatalf("planned %d, started %d, called %d; want 100 each", res.Planned, res.Started, calls.Load())
	}
	for i := range seen {
		if !seen[i].Load() {
			t.Errorf("call %d never made", i)
		}
	}
	if res.Errors != 10 || !errors.Is(res.FirstErr, boom) {
		t.Errorf("errors %d (%v), want 10 (boom)", res.Errors, res.FirstErr)
	}
	if res.Late > res.Started {
		t.Errorf("late %d of %d started", res.Late, res.Started)
	}
}

func TestPaceDoesNotWaitForSlowCalls(t *testing.T) {
	t.Parallel()
	// Each call blocks until all 20 have started: a closed-loop generator
	// with fewer than 20 callers would never finish.
	const n = 20
	var started atomic.Int64
	all := make(chan struct{})
	res := Pace(context.Background(), PaceConfig{Rate: 1000, Duration: n * time.Millisecond}, func(ctx context.Context, i int) error {
		if started.Add(1) == n {
			close(all)
		}
		<-all
		return nil
	})
	if res.Started != n || res.Errors != 0 {
		t.Errorf("started %d with %d errors, want %d and none", res.Started, res.Errors, n)
	}
}

func TestPaceStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	res := Pace(ctx, PaceConfig{Rate: 100, Duration: time.Hour}, func(ctx context.Context, i int) error {
		if i == 2 {
			cancel()
		}
		return nil
	})
	if res.Started >= res.Planned || !errors.Is(res.FirstErr, context.Canceled) {
		t.Errorf("started %d of %d, err %v; want a cancelled run", res.Started, res.Planned, res.FirstErr)
	}
}

func TestCeiling(t *testing.T) {
	t.Parallel()
	rec := NewReceiver(ReceiverConfig{})
	var unsigned atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("webhook-signature"), "v1,") || r.Header.Get("webhook-id") == "" || r.Header.Get("webhook-timestamp") == "" {
			unsigned.Add(1)
		}
		rec.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	res, err := Ceiling(context.Background(), CeilingConfig{URL: srv.URL + PathCeiling, Workers: 4, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := rec.Stats(PathCeiling)
	if res.Requests <= 0 || res.Errors != 0 || st.Receipts < res.Requests {
		t.Errorf("ceiling %+v, receiver saw %d; want some requests, no errors, all received", res, st.Receipts)
	}
	if unsigned.Load() != 0 {
		t.Errorf("%d requests without Standard Webhooks headers", unsigned.Load())
	}
	if res.PerSecond() <= 0 {
		t.Errorf("PerSecond = %v", res.PerSecond())
	}
}

func TestCeilingReportsAFailingReceiver(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	if _, err := Ceiling(context.Background(), CeilingConfig{URL: srv.URL, Workers: 2, Duration: 50 * time.Millisecond}); err == nil {
		t.Error("Ceiling against a receiver that answers 503: no error")
	}
}
