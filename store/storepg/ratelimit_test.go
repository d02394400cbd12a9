package storepg_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
)

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
	take := func(st interface {
		TakeTokens(context.Context, []store.TokenRequest) (map[string]int, error)
	}, want int) int {
		t.Helper()
		got, err := st.TakeTokens(t.Context(), []store.TokenRequest{{WebhookID: w.ID, PerSecond: 10, Burst: 5, Want: want}})
		if err != nil {
			t.Fatal(err)
		}
		return got[w.ID]
	}
	start := time.Now()
	first, second := take(a, 4), take(b, 100)
	elapsed := time.Since(start)
	if first != 4 {
		t.Errorf("the first take of 4 from a full bucket of 5 got %d", first)
	}
	if most := 1 + int(10*elapsed.Seconds()); second > most {
		t.Errorf("the other store took %d right after, want at most %d (the burst's rest and %v of the rate)", second, most, elapsed)
	}
	time.Sleep(500 * time.Millisecond)
	if refilled := take(b, 100); refilled < 4 || refilled > 5 {
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
