package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hookd/hookd/store"
)

// Backlog implements store.Store: a range of the due index.
func (s *Store) Backlog(ctx context.Context, now time.Time) (store.Backlog, error) {
	var b store.Backlog
	var oldest sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT count(*), min(next_attempt_at) FROM deliveries INDEXED BY deliveries_due
		WHERE status = 'pending' AND next_attempt_at <= ?`, ms(now)).Scan(&b.Due, &oldest)
	if err != nil {
		return b, fmt.Errorf("backlog: %w", err)
	}
	if oldest.Valid {
		b.OldestDueAt = fromMs(oldest.Int64)
	}
	return b, nil
}

// CountWebhooks implements store.Store.
func (s *Store) CountWebhooks(ctx context.Context) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT status, count(*) FROM webhooks GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count webhooks: %w", err)
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("count webhooks: %w", err)
		}
		counts[status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count webhooks: %w", err)
	}
	return counts, nil
}
