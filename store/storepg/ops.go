package storepg

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// Backlog implements store.Store: a range of the due index, read
// index-only where the visibility map allows.
func (s *Store) Backlog(ctx context.Context, now time.Time) (store.Backlog, error) {
	var b store.Backlog
	var oldest *int64
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(next_attempt_at) FROM deliveries
		WHERE status = 'pending' AND next_attempt_at <= $1`, ms(now)).Scan(&b.Due, &oldest)
	if err != nil {
		return b, fmt.Errorf("backlog: %w", err)
	}
	if oldest != nil {
		b.OldestDueAt = fromMs(*oldest)
	}
	return b, nil
}

// CountWebhooks implements store.Store.
func (s *Store) CountWebhooks(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM webhooks GROUP BY status`)
	return sqlrow.Counts(rows, err, "count webhooks")
}
