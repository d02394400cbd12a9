package deliver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// runEngine runs e until the test ends, and returns a stop that ends it
// first.
func runEngine(t *testing.T, e *Engine) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	// Run has started once it takes offers.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		e.mu.Lock()
		running := e.running
		e.mu.Unlock()
		if running {
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatal("engine did not start")
		}
	}
}

func webhookJob(id, webhookID, url string, leaseUntil time.Time) *store.Job {
	j := job(id, url, leaseUntil)
	j.Delivery.WebhookID = webhookID
	j.Webhook = &hookd.Webhook{ID: webhookID, URL: url, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Status: hookd.WebhookActive}
	return j
}

// TestEngineTakesPublishedDeliveries checks the engine's side of a
// handoff: it takes as many deliveries of a webhook as it can start at
// once, attempts those handed to it without any claim, and records them
// under the owner it leased them to.
func TestEngineTakesPublishedDeliveries(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer rc.Close()
	st := &fakeStore{}
	e, err := New(st, rc.Client(), nil, nil, Config{Owner: "engine", Workers: 4, PerWebhook: 2, PerApp: 4, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if o := e.Offer(time.Now()); o != nil {
		t.Fatal("an engine that is not running made an offer")
	}
	runEngine(t, e)

	now := time.Now()
	o := e.Offer(now)
	if o == nil {
		t.Fatal("an idle engine made no offer")
	}
	owner, until := o.Lease()
	if owner != "engine" || !until.Equal(now.Add(e.leaseFor)) {
		t.Errorf("lease = %s until %v, want engine until %v", owner, until, now.Add(e.leaseFor))
	}
	// Two slots per webhook: the third delivery to wh_a is left to claims.
	for i, want := range []bool{true, true, false} {
		if got := o.Take(store.Candidate{AppID: "app_1", WebhookID: "wh_a"}); got != want {
			t.Errorf("take %d of wh_a = %v, want %v", i+1, got, want)
		}
	}
	if !o.Take(store.Candidate{AppID: "app_1", URL: rc.URL}) {
		t.Error("a one-off delivery was not taken")
	}
	// The commit made only three of the four taken: the fourth slot is
	// freed.
	o.Hand(context.Background(), []*store.Job{
		webhookJob("dlv_1", "wh_a", rc.URL, until),
		webhookJob("dlv_2", "wh_a", rc.URL, until),
		job("dlv_3", rc.URL, until),
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		st.mu.Lock()
		n := len(st.recorded)
		st.mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 handed deliveries recorded", n)
		}
	}
	st.mu.Lock()
	for _, r := range st.recorded {
		if r.Owner != "engine" || r.Attempt.StatusCode != 200 {
			t.Errorf("recorded %s by %q with %d, want by engine with 200", r.Attempt.DeliveryID, r.Owner, r.Attempt.StatusCode)
		}
	}
	st.mu.Unlock()
	if hits.Load() != 3 {
		t.Errorf("receiver got %d requests, want 3", hits.Load())
	}
	e.mu.Lock()
	held := e.held
	e.mu.Unlock()
	if held != 0 {
		t.Errorf("engine holds %d after every handed delivery was recorded, want 0", held)
	}
}

// TestEngineFullOrStoppingTakesNothing checks that an engine holding all
// it may makes no offer, and that one stopping hands back what a commit
// hands it late.
func TestEngineFullOrStoppingTakesNothing(t *testing.T) {
	t.Parallel()
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer rc.Close()
	st := &fakeStore{}
	e, err := New(st, rc.Client(), nil, nil, Config{Owner: "engine", Workers: 1, PerHost: 4, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, e)

	o := e.Offer(time.Now())
	if o == nil {
		t.Fatal("an idle engine made no offer")
	}
	taken := 0
	for range capacity(1) + 5 {
		if o.Take(store.Candidate{AppID: "app_1", URL: "https://example.com/hook"}) {
			taken++
		}
	}
	if taken != capacity(1) {
		t.Errorf("took %d one-off deliveries, want the engine's capacity %d", taken, capacity(1))
	}
	if e.Offer(time.Now()) != nil {
		t.Error("a full engine made an offer")
	}

	stop()
	_, until := o.Lease()
	o.Hand(context.Background(), []*store.Job{job("dlv_late", rc.URL, until)})
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.deferred) != 1 || st.deferred[0].DeliveryID != "dlv_late" {
		t.Errorf("deferred %+v, want dlv_late handed back", st.deferred)
	}
	if len(st.recorded) != 0 {
		t.Errorf("a stopped engine attempted %d deliveries", len(st.recorded))
	}
	if e.Offer(time.Now()) != nil {
		t.Error("a stopped engine made an offer")
	}
}

// claimBlocker is a store whose claims wait until released, handing out
// the jobs they are given.
type claimBlocker struct {
	fakeStore
	entered chan struct{}
	release chan []*store.Job
}

func (c *claimBlocker) ClaimDue(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	select {
	case c.entered <- struct{}{}:
	default:
	}
	select {
	case jobs := <-c.release:
		return jobs, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestClaimOnItsWayKeepsItsRoom checks that while a claim is on its way
// publishes may take only the room it did not ask for: filling its room
// twice would hold more jobs than the workers' queue takes.
func TestClaimOnItsWayKeepsItsRoom(t *testing.T) {
	t.Parallel()
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer rc.Close()
	st := &claimBlocker{entered: make(chan struct{}, 1), release: make(chan []*store.Job)}
	e, err := New(st, rc.Client(), nil, nil, Config{Owner: "engine", Workers: 1, PerHost: 4, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	select {
	case <-st.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the engine did not claim")
	}
	// The first claim asks for as many as there are workers: one.
	o := e.Offer(time.Now())
	if o == nil {
		t.Fatal("no offer beside a claim that asked for part of the room")
	}
	taken := 0
	for range capacity(1) {
		if o.Take(store.Candidate{AppID: "app_1", URL: "https://example.com/hook"}) {
			taken++
		}
	}
	if taken != capacity(1)-1 {
		t.Fatalf("took %d beside a claim of one, want %d", taken, capacity(1)-1)
	}
	_, until := o.Lease()
	var handed []*store.Job
	for i := range taken {
		handed = append(handed, job(fmt.Sprintf("dlv_handed_%d", i), rc.URL, until))
	}
	o.Hand(context.Background(), handed)
	// The claim comes back full; everything is attempted and recorded.
	st.release <- []*store.Job{job("dlv_claimed", rc.URL, until)}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		st.mu.Lock()
		n := len(st.recorded)
		st.mu.Unlock()
		if n == capacity(1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs recorded: the engine is stuck", n, capacity(1))
		}
	}
}

// TestOfferWakesForWhatItTurnedDown checks that handing a commit over
// wakes the engine for the deliveries its offer turned down, unless their
// webhook holds all it may: that one is claimed for once it has room
// again.
func TestOfferWakesForWhatItTurnedDown(t *testing.T) {
	t.Parallel()
	e, err := New(&fakeStore{}, http.DefaultClient, nil, nil, Config{Owner: "engine", Workers: 4, PerWebhook: 1, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.running = true // takes offers; the dispatcher does not run, so wake-ups stay
	e.mu.Unlock()
	woken := func() bool {
		select {
		case <-e.wake:
			return true
		default:
			return false
		}
	}
	commit := func() {
		t.Helper()
		o := e.Offer(time.Now())
		if o == nil {
			t.Fatal("no offer")
		}
		if o.Take(store.Candidate{AppID: "app_1", WebhookID: "wh_a"}) {
			t.Fatal("took a delivery to wh_a, whose one slot is taken")
		}
		o.Hand(context.Background(), nil)
	}
	e.mu.Lock()
	e.lanes["wh_a"] = &lane{key: "wh_a", webhook: true, appID: "app_1", cap: 1, inFlight: 1}
	e.apps["app_1"] = &appShare{inFlight: 1}
	e.mu.Unlock()

	commit()
	if !woken() {
		t.Error("handing a commit did not wake the engine for the delivery its offer turned down")
	}

	e.mu.Lock()
	e.lanes["wh_a"].full = true
	e.mu.Unlock()
	commit()
	if woken() {
		t.Error("handing a commit woke the engine for a delivery to a webhook that holds all it may")
	}
}
