package storepg_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
)

// take takes up to want of a webhook's tokens at perSecond with burst
// from st and returns how many it got.
func take(t *testing.T, st *storepg.Store, webhookID string, perSecond, burst float64, want int) int {
	t.Helper()
	got, err := st.TakeTokens(context.Background(), []store.TokenRequest{{WebhookID: webhookID, PerSecond: perSecond, Burst: burst, Want: want}})
	if err != nil {
		t.Error(err)
		return 0
	}
	return got[webhookID]
}

// TestTakeTokensSharesOneBucket takes a webhook's tokens through two
// stores on one database, as two processes do: together they get the
// burst at once and then the rate, not each of them; the bucket goes with
// its webhook.
func TestTakeTokensSharesOneBucket(t *testing.T) {
	t.Parallel()
	url, a, conn := freshStore(t)
	b := openOn(t, url)
	ids := ident.New(nil)
	now := time.Now()
	app := newApp(t, a, ids, now)
	w := newWebhook(t, a, ids, app, hookd.WebhookActive, now)
	start := time.Now()
	first, second := take(t, a, w.ID, 10, 5, 4), take(t, b, w.ID, 10, 5, 100)
	elapsed := time.Since(start)
	if first != 4 {
		t.Errorf("the first take of 4 from a full bucket of 5 got %d", first)
	}
	if most := 1 + int(10*elapsed.Seconds()); second > most {
		t.Errorf("the other store took %d right after, want at most %d (the burst's rest and %v of the rate)", second, most, elapsed)
	}
	time.Sleep(500 * time.Millisecond)
	if refilled := take(t, b, w.ID, 10, 5, 100); refilled < 4 || refilled > 5 {
		t.Errorf("after 500 ms at 10/s the bucket gave %d, want 4 or 5 (at most the burst)", refilled)
	}

	if err := a.DeleteWebhook(t.Context(), app.ID, w.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM rate_buckets`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d rate buckets left after their webhook was deleted", left)
	}
}

// TestTakeTokensForADeletedWebhook checks that a take naming a webhook
// deleted since its deliveries were claimed gets nothing for it, fails
// nothing for the others, and makes no bucket again.
func TestTakeTokensForADeletedWebhook(t *testing.T) {
	t.Parallel()
	_, st, conn := freshStore(t)
	ids := ident.New(nil)
	now := time.Now()
	app := newApp(t, st, ids, now)
	kept, gone := newWebhook(t, st, ids, app, hookd.WebhookActive, now), newWebhook(t, st, ids, app, hookd.WebhookActive, now)
	if err := st.DeleteWebhook(t.Context(), app.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	got, err := st.TakeTokens(t.Context(), []store.TokenRequest{
		{WebhookID: gone.ID, PerSecond: 10, Burst: 5, Want: 3},
		{WebhookID: kept.ID, PerSecond: 10, Burst: 5, Want: 3},
	})
	if err != nil {
		t.Fatalf("a take naming a deleted webhook failed: %v", err)
	}
	if got[gone.ID] != 0 || got[kept.ID] != 3 {
		t.Errorf("took %v, want 3 of %s and none of the deleted %s", got, kept.ID, gone.ID)
	}
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM rate_buckets WHERE webhook_id = $1`, gone.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("a bucket was made for the deleted webhook")
	}
}

// TestTakeTokensConcurrentTakersHoldTheRate has takers on two stores of
// one database take a webhook's tokens as fast as they can: what they got
// in total by any moment is never more than the burst plus the rate times
// the time since they began, and not far below the rate either.
func TestTakeTokensConcurrentTakersHoldTheRate(t *testing.T) {
	t.Parallel()
	const perSecond, burst, run = 50.0, 5.0, 1500 * time.Millisecond
	url, a, _ := freshStore(t)
	b := openOn(t, url)
	ids := ident.New(nil)
	now := time.Now()
	app := newApp(t, a, ids, now)
	w := newWebhook(t, a, ids, app, hookd.WebhookActive, now)

	type grant struct {
		done time.Time // when the take's answer came back
		n    int
	}
	var mu sync.Mutex
	var grants []grant
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 8 {
		st := []*storepg.Store{a, b}[i%2]
		wg.Go(func() {
			for want := 1; time.Since(start) < run; want = want%4 + 1 {
				n := take(t, st, w.ID, perSecond, burst, want)
				done := time.Now()
				mu.Lock()
				grants = append(grants, grant{done, n})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.SortFunc(grants, func(x, y grant) int { return x.done.Compare(y.done) })
	total := 0
	for _, g := range grants {
		total += g.n
		// Every take answered by g.done ran on the database between start
		// and g.done.
		if most := burst + perSecond*g.done.Sub(start).Seconds(); float64(total) > most {
			t.Fatalf("%d tokens granted within %v of the start, want at most %.1f (burst %v + %v/s)", total, g.done.Sub(start), most, burst, perSecond)
		}
	}
	if least := perSecond * elapsed.Seconds() / 2; float64(total) < least {
		t.Errorf("%d tokens granted in %v at %v/s, want at least %.0f: the bucket starves its takers", total, elapsed, perSecond, least)
	}
	t.Logf("%d takes granted %d tokens in %v at %v/s (bound %.1f)", len(grants), total, elapsed, perSecond, burst+perSecond*elapsed.Seconds())
}

// BenchmarkTakeTokens measures what a claim with rate-limited deliveries
// pays for them: one round trip taking tokens of one or of ten webhooks.
func BenchmarkTakeTokens(b *testing.B) {
	url := pgtest.URL(b)
	st, err := storepg.Open(b.Context(), storepg.Config{URL: url, Sealer: benchSealer(b), NewID: ident.New(nil).New})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ids := ident.New(nil)
	now := time.Now()
	app := &hookd.App{ID: ids.New("app"), Name: "a", Profile: hookd.DefaultProfile(), DefaultSecret: testSecret, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(b.Context(), app); err != nil {
		b.Fatal(err)
	}
	var reqs []store.TokenRequest
	for range 10 {
		w := &hookd.Webhook{ID: ids.New("wh"), AppID: app.ID, URL: "https://example.com/hook", Events: []string{"*"},
			Status: hookd.WebhookActive, Secret: testSecret, RateLimit: 1000, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateWebhook(b.Context(), w, 0); err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, store.TokenRequest{WebhookID: w.ID, PerSecond: 1000, Burst: 100, Want: 10})
	}
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("webhooks=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := st.TakeTokens(b.Context(), reqs[:n]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchSealer(b *testing.B) *seal.AESGCM {
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	s, err := seal.New(key)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
