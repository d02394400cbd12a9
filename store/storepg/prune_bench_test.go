package storepg_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store/storepg"
)

// BenchmarkPrune measures retention by batched deletes: events with one
// finished delivery and one attempt each, removed 500 at a time. It reports
// events removed per second.
func BenchmarkPrune(b *testing.B) {
	const events = 50_000
	url := pgtest.URL(b)
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	sealer, _ := seal.New(key)
	st, err := storepg.Open(b.Context(), storepg.Config{URL: url, Sealer: sealer, NewID: ident.New(nil).New})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var removed int
	var took time.Duration
	for b.Loop() {
		b.StopTimer()
		for i, q := range []string{
			`INSERT INTO apps (id, name, profile, default_secret, created_at, updated_at) VALUES ('app_b', 'b', '{}', '\x00', 0, 0) ON CONFLICT DO NOTHING`,
			`INSERT INTO webhooks (id, app_id, url, events, status, secret, created_at, updated_at)
			 VALUES ('wh_b', 'app_b', 'https://example.com', '["*"]', 'active', '\x00', 0, 0) ON CONFLICT DO NOTHING`,
			`INSERT INTO events (id, app_id, type, data, payload, created_at)
			 SELECT 'evt_' || lpad(g::text, 26, '0'), 'app_b', 'x', '\x7b7d', repeat('x', 1024)::bytea, 1000 FROM generate_series(1, $1) g`,
			`INSERT INTO deliveries (id, app_id, event_id, webhook_id, status, attempt_count, last_status_code, created_at, updated_at)
			 SELECT 'dlv_' || lpad(g::text, 26, '0'), 'app_b', 'evt_' || lpad(g::text, 26, '0'), 'wh_b', 'succeeded', 1, 200, 1000, 1000 FROM generate_series(1, $1) g`,
			`INSERT INTO attempts (id, delivery_id, webhook_id, attempt, at, duration_ms, status_code, request_headers)
			 SELECT 'att_' || lpad(g::text, 26, '0'), 'dlv_' || lpad(g::text, 26, '0'), 'wh_b', 1, 1000, 3, 200, '{}' FROM generate_series(1, $1) g`,
			`ANALYZE`,
		} {
			var args []any
			if i >= 2 && i <= 4 { // the generate_series inserts
				args = []any{events}
			}
			if _, err := conn.Exec(ctx, q, args...); err != nil {
				b.Fatalf("seed: %v", err)
			}
		}
		b.StartTimer()
		start := time.Now()
		for {
			n, err := st.Prune(ctx, time.UnixMilli(2000), 500)
			if err != nil {
				b.Fatal(err)
			}
			removed += n
			if n == 0 {
				break
			}
		}
		took += time.Since(start)
	}
	b.ReportMetric(float64(removed)/took.Seconds(), "events/s")
}
