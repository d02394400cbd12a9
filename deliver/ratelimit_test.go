package deliver

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/store"
)

// fakeBuckets grants each request up to grant tokens, or fails with err,
// and keeps the requests.
type fakeBuckets struct {
	mu    sync.Mutex
	grant int
	err   error
	asked [][]store.TokenRequest
}

func (b *fakeBuckets) TakeTokens(_ context.Context, reqs []store.TokenRequest) (map[string]int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asked = append(b.asked, append([]store.TokenRequest(nil), reqs...))
	if b.err != nil {
		return nil, b.err
	}
	got := map[string]int{}
	for _, r := range reqs {
		got[r.WebhookID] = min(r.Want, b.grant)
	}
	return got, nil
}

// testClock is a clock that moves only when told.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// bucketEngine returns an engine on st that takes its rate limits from
// buckets, on clock.
func bucketEngine(t *testing.T, st Store, buckets RateBuckets, clock *testClock) *Engine {
	t.Helper()
	e, err := New(st, http.DefaultClient, nil, nil, Config{Owner: "engine", Workers: 8, PerWebhook: 8, PollInterval: time.Hour, Now: clock.Now, Buckets: buckets})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// limitedJobs returns n jobs of webhook id, limited to perSecond.
func limitedJobs(id string, perSecond, n int, leaseUntil time.Time) []*store.Job {
	var jobs []*store.Job
	for i := range n {
		j := webhookJob(id+"_dlv_"+string(rune('a'+i)), id, "https://example.com/hook", leaseUntil)
		j.Webhook.RateLimit = perSecond
		jobs = append(jobs, j)
	}
	return jobs
}

// allowed runs allow for a job's webhook, as admit does.
func allowed(e *Engine, j *store.Job) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.allow(j.Webhook, e.cfg.Now())
}

// TestSpendTakesWhatTheBucketGranted checks that the engine asks the
// shared bucket for its rate-limited jobs only, spends one token per
// delivery, and sends the deliveries it has no token for back at the
// webhook's rate, one token's time apart.
func TestSpendTakesWhatTheBucketGranted(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	buckets := &fakeBuckets{grant: 2}
	e := bucketEngine(t, &fakeStore{}, buckets, clock)
	jobs := append(limitedJobs("wh_a", 20, 4, clock.Now().Add(time.Hour)), webhookJob("dlv_free", "wh_free", "https://example.com/hook", clock.Now().Add(time.Hour)))
	e.takeTokens(t.Context(), jobs)

	if len(buckets.asked) != 1 || len(buckets.asked[0]) != 1 {
		t.Fatalf("asked the buckets %v, want once for wh_a alone", buckets.asked)
	}
	if r := buckets.asked[0][0]; r.WebhookID != "wh_a" || r.Want != 4 || r.PerSecond != 20 || r.Burst != 2 {
		t.Errorf("asked for %+v, want 4 of wh_a at 20/s with a burst of 2", r)
	}
	now := clock.Now()
	for i, want := range []bool{true, true, false, false} {
		at, ok := allowed(e, jobs[i])
		if ok != want {
			t.Fatalf("delivery %d allowed = %v, want %v", i+1, ok, want)
		}
		if !ok {
			// 20/s: the first turned down comes back 50 ms on, the next 100 ms on.
			if wantAt := now.Add(time.Duration(i-1) * 50 * time.Millisecond); !at.Equal(wantAt) {
				t.Errorf("delivery %d told to come back at %v, want %v", i+1, at.Sub(now), wantAt.Sub(now))
			}
		}
	}
	if _, ok := allowed(e, jobs[4]); !ok {
		t.Error("a delivery to a webhook without a rate limit was turned down")
	}
}

// TestTokensLapse checks that tokens are spent within tokenLife of their
// take or not at all, and that a later take does not keep an earlier
// take's tokens alive.
func TestTokensLapse(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	buckets := &fakeBuckets{grant: 1}
	e := bucketEngine(t, &fakeStore{}, buckets, clock)
	jobs := limitedJobs("wh_a", 10, 3, clock.Now().Add(time.Hour))

	e.takeTokens(t.Context(), jobs[:1]) // one token, until tokenLife
	clock.advance(tokenLife * 3 / 4)
	e.takeTokens(t.Context(), jobs[:2]) // one held: asks for one more
	if n := len(buckets.asked); n != 2 || buckets.asked[1][0].Want != 1 {
		t.Fatalf("asked the buckets %v, want a second time for 1 beyond the token held", buckets.asked)
	}
	clock.advance(tokenLife / 2) // the first token has lapsed, the second not
	if _, ok := allowed(e, jobs[0]); !ok {
		t.Fatal("the second take's token was not spent")
	}
	if _, ok := allowed(e, jobs[1]); ok {
		t.Fatal("the first take's token was spent after it lapsed")
	}

	e.takeTokens(t.Context(), jobs[2:])
	clock.advance(tokenLife)
	if _, ok := allowed(e, jobs[2]); ok {
		t.Error("a token was spent tokenLife after its take")
	}
}

// TestTakesOnlyBeyondStock checks that jobs covered by the tokens the
// engine holds cost no round trip to the store.
func TestTakesOnlyBeyondStock(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	buckets := &fakeBuckets{grant: 5}
	e := bucketEngine(t, &fakeStore{}, buckets, clock)
	jobs := limitedJobs("wh_a", 100, 5, clock.Now().Add(time.Hour))
	e.takeTokens(t.Context(), jobs)
	e.takeTokens(t.Context(), jobs[:3])
	if len(buckets.asked) != 1 {
		t.Errorf("asked the buckets %d times for jobs the first take covered, want once", len(buckets.asked))
	}
}

// TestUnlimitedWebhooksCostNothing checks that jobs of webhooks without a
// rate limit never reach the buckets and allocate nothing on their way.
func TestUnlimitedWebhooksCostNothing(t *testing.T) {
	// Not parallel: AllocsPerRun counts the whole process's allocations.
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	buckets := &fakeBuckets{grant: 5}
	e := bucketEngine(t, &fakeStore{}, buckets, clock)
	jobs := []*store.Job{
		webhookJob("dlv_1", "wh_a", "https://example.com/hook", clock.Now().Add(time.Hour)),
		webhookJob("dlv_2", "wh_b", "https://example.com/hook", clock.Now().Add(time.Hour)),
		job("dlv_3", "https://example.com/once", clock.Now().Add(time.Hour)),
	}
	allocs := testing.AllocsPerRun(100, func() { e.takeTokens(context.Background(), jobs) })
	if allocs != 0 {
		t.Errorf("taking tokens for jobs without a rate limit allocated %v times, want 0", allocs)
	}
	if len(buckets.asked) != 0 {
		t.Errorf("asked the buckets %v for webhooks without a rate limit", buckets.asked)
	}
	if _, ok := allowed(e, jobs[0]); !ok || len(e.stock) != 0 {
		t.Errorf("a webhook without a limit: allowed %v, %d token stocks kept; want allowed and none", ok, len(e.stock))
	}
}

// TestBucketsFailingSendNothing checks that a store that cannot give
// tokens leaves the deliveries to come back later, not sent over the
// limit.
func TestBucketsFailingSendNothing(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	buckets := &fakeBuckets{err: errors.New("database down")}
	e := bucketEngine(t, &fakeStore{}, buckets, clock)
	jobs := limitedJobs("wh_a", 10, 2, clock.Now().Add(time.Hour))
	e.takeTokens(t.Context(), jobs)
	if _, ok := allowed(e, jobs[0]); ok {
		t.Error("a delivery was allowed without a token")
	}
}

// TestClaimTakesTokens checks the claim's side: a claim of a rate-limited
// webhook's deliveries takes tokens for them, starts those it got tokens
// for and hands the others back.
func TestClaimTakesTokens(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	buckets := &fakeBuckets{grant: 1}
	st := &fakeStore{jobs: limitedJobs("wh_a", 10, 3, clock.Now().Add(time.Hour))}
	e := bucketEngine(t, st, buckets, clock)
	room := e.reserve(8)
	if n, err := e.claim(t.Context(), room); err != nil || n != 3 {
		t.Fatalf("claim = %d, %v; want 3 claimed", n, err)
	}
	if len(buckets.asked) != 1 || buckets.asked[0][0].Want != 3 {
		t.Errorf("the claim asked the buckets %v, want once for 3", buckets.asked)
	}
	st.mu.Lock()
	deferred := len(st.deferred)
	st.mu.Unlock()
	if started := len(e.jobs); started != 1 || deferred != 2 {
		t.Errorf("the claim started %d and handed back %d, want 1 started (one token) and 2 handed back", started, deferred)
	}
}

// TestLocalLimiterWithoutBuckets checks that an engine without shared
// buckets, as on SQLite, keeps the limit itself: a burst, then the rate.
func TestLocalLimiterWithoutBuckets(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	e := bucketEngine(t, &fakeStore{}, nil, clock)
	jobs := limitedJobs("wh_a", 20, 3, clock.Now().Add(time.Hour))
	for i, want := range []bool{true, true, false} {
		if _, ok := allowed(e, jobs[i]); ok != want {
			t.Fatalf("delivery %d allowed = %v, want %v (a burst of 2 at 20/s)", i+1, ok, want)
		}
	}
	clock.advance(50 * time.Millisecond)
	if _, ok := allowed(e, jobs[2]); !ok {
		t.Error("a delivery was turned down a token's time after the burst")
	}
}
