package deliver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// fakeStore hands out the jobs it is given once and records what comes
// back. The engine's store is a narrow interface; the real stores are
// exercised end to end elsewhere.
type fakeStore struct {
	mu       sync.Mutex
	jobs     []*store.Job
	recorded []*store.AttemptResult
	deferred []store.Deferral
	notices  []hookd.Notice // what every record raises
	hang     chan struct{}  // when set, records wait for it, whatever their context
}

var _ Store = (*fakeStore)(nil)

func (f *fakeStore) ClaimDue(context.Context, *store.ClaimParams) ([]*store.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	jobs := f.jobs
	f.jobs = nil
	return jobs, nil
}

func (f *fakeStore) RecordAttempts(_ context.Context, results []*store.AttemptResult) ([]hookd.Notice, error) {
	if f.hang != nil {
		<-f.hang
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recorded = append(f.recorded, results...)
	return f.notices, nil
}

func (f *fakeStore) Defer(_ context.Context, _ string, d []store.Deferral) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deferred = append(f.deferred, d...)
	return nil
}

func (f *fakeStore) NextDue(context.Context) (time.Time, bool, error) { return time.Time{}, false, nil }

func job(id, url string, leaseUntil time.Time) *store.Job {
	return &store.Job{
		Delivery:      &hookd.Delivery{ID: id, AppID: "app_1", EventID: "evt_" + id, URL: url},
		Event:         &hookd.Event{ID: "evt_" + id, Type: "t", Payload: []byte(`{}`)},
		Profile:       hookd.DefaultProfile(),
		DefaultSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		LeaseUntil:    leaseUntil,
	}
}

// TestEngineHandsBackClaimsWhoseLeaseIsNearlyOver checks that a claim too
// close to the end of its lease is handed back unattempted, while a fresh
// one is attempted and recorded.
func TestEngineHandsBackClaimsWhoseLeaseIsNearlyOver(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer rc.Close()
	now := time.Now()
	st := &fakeStore{jobs: []*store.Job{
		job("dlv_stale", rc.URL, now.Add(time.Second)), // less than the timeout left
		job("dlv_fresh", rc.URL, now.Add(time.Minute)), // plenty left
	}}
	e, err := New(st, rc.Client(), nil, nil, Config{Owner: "test", Workers: 2, Timeout: 5 * time.Second, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st.mu.Lock()
		finished := len(st.recorded) == 1 && len(st.deferred) == 1
		st.mu.Unlock()
		if finished || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.deferred) != 1 || st.deferred[0].DeliveryID != "dlv_stale" {
		t.Errorf("deferred %+v, want only dlv_stale", st.deferred)
	}
	if len(st.recorded) != 1 || st.recorded[0].Attempt.DeliveryID != "dlv_fresh" || st.recorded[0].Attempt.StatusCode != 200 {
		t.Errorf("recorded %d results, want dlv_fresh's 200", len(st.recorded))
	}
	if hits.Load() != 1 {
		t.Errorf("receiver got %d requests, want 1", hits.Load())
	}
}

// TestOneWorkerStillDelivers checks that an engine of one worker gives a
// webhook a slot: half of one worker, rounded down, was none, and such an
// engine delivered nothing to webhooks.
func TestOneWorkerStillDelivers(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer rc.Close()
	j := job("dlv_one", rc.URL, time.Now().Add(time.Minute))
	j.Webhook = &hookd.Webhook{ID: "wh_1", AppID: "app_1", URL: rc.URL, Status: hookd.WebhookActive, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	st := &fakeStore{jobs: []*store.Job{j}}
	e, err := New(st, rc.Client(), nil, nil, Config{Owner: "test", Workers: 1, Timeout: 5 * time.Second, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); hits.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if hits.Load() != 1 {
		t.Errorf("receiver got %d requests, want 1", hits.Load())
	}
}

// admittingStore offers its due jobs to each claim's Admit, in order, as
// the real stores do, and leases those it takes.
type admittingStore struct {
	fakeStore
	due []*store.Job
	// during, when set, runs in each claim after Admit has chosen, as
	// attempts ending while a claim is on its way do.
	during func()
}

func (a *admittingStore) ClaimDue(_ context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var taken, left []*store.Job
	for _, j := range a.due {
		c := store.Candidate{AppID: j.Delivery.AppID, WebhookID: j.Delivery.WebhookID, URL: j.Delivery.URL}
		if _, full := p.Full[c.WebhookID]; !full && len(taken) < p.Limit && p.Admits(c) {
			taken = append(taken, j)
		} else {
			left = append(left, j)
		}
	}
	a.due = left
	if a.during != nil {
		a.during()
	}
	return taken, nil
}
