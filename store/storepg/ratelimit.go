package storepg

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/store"
)

// takeTokens refills each requested bucket for the time since it was last
// counted and takes what it can of the request, in one statement. A bucket
// starts full. Rows are written in webhook id order, so that processes
// taking for the same webhooks at once never deadlock. A webhook deleted
// since it was claimed gets nothing and fails nothing: its bucket is not
// made again.
const takeTokens = `INSERT INTO rate_buckets AS b (webhook_id, rate, burst, tokens, at, wanted, granted)
SELECT r.id, r.rate, r.burst, r.burst - least(r.want, floor(r.burst)), t.now, r.want, least(r.want, floor(r.burst))
FROM unnest($1::text[], $2::float8[], $3::float8[], $4::int[]) AS r(id, rate, burst, want),
	(SELECT extract(epoch FROM clock_timestamp())::float8 AS now) t
WHERE EXISTS (SELECT 1 FROM webhooks w WHERE w.id = r.id)
ORDER BY r.id COLLATE "C"
ON CONFLICT (webhook_id) DO UPDATE SET
	tokens = least(excluded.burst, b.tokens + excluded.rate * greatest(0, excluded.at - b.at))
		- least(excluded.wanted, floor(least(excluded.burst, b.tokens + excluded.rate * greatest(0, excluded.at - b.at)))),
	granted = least(excluded.wanted, floor(least(excluded.burst, b.tokens + excluded.rate * greatest(0, excluded.at - b.at)))),
	at = greatest(b.at, excluded.at),
	rate = excluded.rate, burst = excluded.burst, wanted = excluded.wanted
RETURNING webhook_id, granted`

// TakeTokens takes, from the token bucket that every process on the
// database shares for each webhook, up to what each request wants, and
// returns how much it got by webhook id. What it grants over any span of
// time is at most the burst plus the rate times the span, however many
// processes ask: a webhook's rate limit holds across all of them. It costs
// one round trip, and only claims and handoffs with rate-limited
// webhooks' deliveries pay it.
func (s *Store) TakeTokens(ctx context.Context, reqs []store.TokenRequest) (map[string]int, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	sorted := slices.SortedFunc(slices.Values(reqs), func(a, b store.TokenRequest) int { return cmp.Compare(a.WebhookID, b.WebhookID) })
	n := len(sorted)
	ids, rates, bursts, wants := make([]string, n), make([]float64, n), make([]float64, n), make([]int32, n)
	for i, r := range sorted {
		ids[i], rates[i], bursts[i], wants[i] = r.WebhookID, r.PerSecond, max(r.Burst, 1), int32(max(r.Want, 0))
	}
	tx, err := s.beginPipelined(ctx)
	if err != nil {
		return nil, fmt.Errorf("take rate tokens: %w", err)
	}
	defer tx.end(ctx)
	b := &pgx.Batch{}
	// Like a claim's lease, a bucket's count lost with the last moments
	// before a database crash lets at most a burst's worth more through:
	// the commit need not wait for the log flush.
	b.Queue(`SET LOCAL synchronous_commit = off`)
	b.Queue(takeTokens, ids, rates, bursts, wants)
	br := tx.send(ctx, b, true)
	got, err := readGranted(br, n)
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, fmt.Errorf("take rate tokens: %w", err)
	}
	return got, nil
}

// readGranted reads takeTokens' answer, after the SET before it.
func readGranted(br pgx.BatchResults, n int) (map[string]int, error) {
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := make(map[string]int, n)
	for rows.Next() {
		var id string
		var granted int32
		if err := rows.Scan(&id, &granted); err != nil {
			return nil, err
		}
		got[id] = int(granted)
	}
	return got, rows.Err()
}
