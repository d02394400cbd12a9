package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlrow"
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
	return sqlrow.Counts(rows, err, "count webhooks")
}
