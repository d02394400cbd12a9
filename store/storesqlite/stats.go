package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// durationColumns are the histogram's columns, d00..d39.
var durationColumns = func() []string {
	cols := make([]string, hookd.DurationBuckets)
	for i := range cols {
		cols[i] = fmt.Sprintf("d%02d", i)
	}
	return cols
}()

// deliveryStatsColumns is how many values one row of delivery_stats takes.
const deliveryStatsColumns = 9 + hookd.DurationBuckets

// prepareStats prepares the upserts of statistics (see store.StatsBatch):
// a batch's rows go in one statement or a few, inside its transaction.
func prepareStats(ctx context.Context, db *sql.DB) (deliveries, sources *multiRow, err error) {
	sums := make([]string, 0, 8+hookd.DurationBuckets)
	for _, c := range append([]string{"attempts", "succeeded", "failed", "exhausted", "deliveries"}, durationColumns...) {
		sums = append(sums, c+" = "+c+" + excluded."+c)
	}
	sums = append(sums, "last_at = max(last_at, excluded.last_at)")
	deliveries, err = prepareMultiRow(ctx, db, deliveryStatsColumns, func(values string) string {
		return `INSERT INTO delivery_stats (scope, res, bucket, attempts, succeeded, failed, exhausted, deliveries, last_at, ` +
			strings.Join(durationColumns, ", ") + `) ` + values + `
			ON CONFLICT (scope, res, bucket) DO UPDATE SET ` + strings.Join(sums, ", ")
	})
	if err != nil {
		return nil, nil, err
	}
	sources, err = prepareMultiRow(ctx, db, 9, func(values string) string {
		return `INSERT INTO source_stats (scope, res, bucket, received, rejected, duplicates, forwarded, forward_failed, last_at) ` + values + `
			ON CONFLICT (scope, res, bucket) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected,
				duplicates = duplicates + excluded.duplicates, forwarded = forwarded + excluded.forwarded,
				forward_failed = forward_failed + excluded.forward_failed, last_at = max(last_at, excluded.last_at)`
	})
	if err != nil {
		deliveries.close()
		return nil, nil, err
	}
	return deliveries, sources, nil
}

// writeStats upserts what b gathered in tx, in key order.
func (s *Store) writeStats(ctx context.Context, tx *sql.Tx, b *store.StatsBatch) error {
	if keys := b.DeliveryKeys(); len(keys) > 0 {
		args := make([]any, 0, len(keys)*deliveryStatsColumns)
		for _, k := range keys {
			d := b.Deliveries[k]
			args = append(args, k.Scope, k.Res, k.Bucket, d.Attempts, d.Succeeded, d.Failed, d.Exhausted, d.Deliveries, d.LastAt)
			for i := range hookd.DurationBuckets {
				var n int64
				if i < len(d.Durations) {
					n = d.Durations[i]
				}
				args = append(args, n)
			}
		}
		if err := s.stmt.deliveryStats.exec(ctx, tx, args); err != nil {
			return fmt.Errorf("write statistics: %w", err)
		}
	}
	if keys := b.SourceKeys(); len(keys) > 0 {
		args := make([]any, 0, len(keys)*9)
		for _, k := range keys {
			d := b.Sources[k]
			args = append(args, k.Scope, k.Res, k.Bucket, d.Received, d.Rejected, d.Duplicates, d.Forwarded, d.ForwardFailed, d.LastAt)
		}
		if err := s.stmt.sourceStats.exec(ctx, tx, args); err != nil {
			return fmt.Errorf("write source statistics: %w", err)
		}
	}
	return nil
}

// ReadDeliveryStats implements store.Store.
func (s *Store) ReadDeliveryStats(ctx context.Context, scope string, res int, since, until time.Time) ([]store.DeliveryCounts, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT bucket, attempts, succeeded, failed, exhausted, `+strings.Join(durationColumns, ", ")+`
		FROM delivery_stats WHERE scope = ? AND res = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`, scope, res, ms(since), ms(until))
	if err != nil {
		return nil, fmt.Errorf("read statistics: %w", err)
	}
	defer rows.Close()
	var out []store.DeliveryCounts
	for rows.Next() {
		c := store.DeliveryCounts{Durations: make([]int64, hookd.DurationBuckets)}
		var bucket int64
		dest := []any{&bucket, &c.Attempts, &c.Succeeded, &c.Failed, &c.Exhausted}
		for i := range c.Durations {
			dest = append(dest, &c.Durations[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read statistics: %w", err)
		}
		c.Start = fromMs(bucket)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read statistics: %w", err)
	}
	return out, nil
}

// ReadSourceStats implements store.Store.
func (s *Store) ReadSourceStats(ctx context.Context, sourceID string, res int, since, until time.Time) ([]store.SourceCounts, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT bucket, received, rejected, duplicates, forwarded, forward_failed FROM source_stats
		WHERE scope = ? AND res = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`, sourceID, res, ms(since), ms(until))
	if err != nil {
		return nil, fmt.Errorf("read source statistics: %w", err)
	}
	defer rows.Close()
	var out []store.SourceCounts
	for rows.Next() {
		var c store.SourceCounts
		var bucket int64
		if err := rows.Scan(&bucket, &c.Received, &c.Rejected, &c.Duplicates, &c.Forwarded, &c.ForwardFailed); err != nil {
			return nil, fmt.Errorf("read source statistics: %w", err)
		}
		c.Start = fromMs(bucket)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read source statistics: %w", err)
	}
	return out, nil
}

// AddRejections implements store.Store.
func (s *Store) AddRejections(ctx context.Context, rs []store.Rejections) error {
	var b store.StatsBatch
	for _, r := range rs {
		b.Rejected(r.SourceID, r.At, r.Count)
	}
	if len(b.Sources) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error { return s.writeStats(ctx, tx, &b) })
}

// PruneStats implements store.Store, a limited batch per statement.
func (s *Store) PruneStats(ctx context.Context, res int, before time.Time, limit int) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, q := range []struct {
			what string
			sql  string
			args []any
		}{
			{"statistics", `DELETE FROM delivery_stats WHERE (scope, res, bucket) IN (
				SELECT scope, res, bucket FROM delivery_stats WHERE res = ? AND bucket < ? ORDER BY bucket LIMIT ?)`, []any{res, ms(before), limit}},
			{"source statistics", `DELETE FROM source_stats WHERE (scope, res, bucket) IN (
				SELECT scope, res, bucket FROM source_stats WHERE res = ? AND bucket < ? ORDER BY bucket LIMIT ?)`, []any{res, ms(before), limit}},
			{"statistics of deleted webhooks", `DELETE FROM delivery_stats WHERE res = 0 AND scope IN (
				SELECT d.scope FROM delivery_stats d WHERE d.res = 0 AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.scope) LIMIT ?)`, []any{limit}},
			{"statistics of deleted sources", `DELETE FROM source_stats WHERE res = 0 AND scope IN (
				SELECT d.scope FROM source_stats d WHERE d.res = 0 AND NOT EXISTS (SELECT 1 FROM sources sr WHERE sr.id = d.scope) LIMIT ?)`, []any{limit}},
		} {
			r, err := tx.ExecContext(ctx, q.sql, q.args...)
			if err != nil {
				return fmt.Errorf("prune %s: %w", q.what, err)
			}
			d, _ := r.RowsAffected()
			n += int(d)
		}
		return nil
	})
	return n, err
}

// WebhookHealth implements store.Store: reads of the primary key of
// delivery_stats, whatever the webhook's history.
func (s *Store) WebhookHealth(ctx context.Context, webhookID string, now time.Time) (*hookd.WebhookHealth, error) {
	var h hookd.WebhookHealth
	var count, last, total, ok sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT t.deliveries, t.last_at,
			(SELECT sum(attempts) FROM delivery_stats WHERE scope = ?1 AND res = 60 AND bucket >= ?2 AND bucket <= ?3),
			(SELECT sum(succeeded) FROM delivery_stats WHERE scope = ?1 AND res = 60 AND bucket >= ?2 AND bucket <= ?3)
		FROM webhooks w LEFT JOIN delivery_stats t ON t.scope = w.id AND t.res = 0 AND t.bucket = 0
		WHERE w.id = ?1`,
		webhookID, store.StatsBucket(now.Add(-24*time.Hour), store.StatsMinute), ms(now)).Scan(&count, &last, &total, &ok)
	if errors.Is(err, sql.ErrNoRows) {
		return &h, nil // gone
	}
	if err != nil {
		return nil, fmt.Errorf("webhook health: %w", err)
	}
	h.DeliveryCount = count.Int64
	if last.Int64 > 0 {
		h.LastDeliveryAt = fromNullMs(last)
	}
	if total.Int64 > 0 {
		rate := float64(ok.Int64) / float64(total.Int64)
		h.SuccessRate24h = &rate
	}
	return &h, nil
}

// SourceHealth implements store.Store: one read of the primary key of
// source_stats.
func (s *Store) SourceHealth(ctx context.Context, sourceID string) (*hookd.SourceHealth, error) {
	var st hookd.SourceHealth
	var count, last sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT t.received, t.last_at
		FROM sources sr LEFT JOIN source_stats t ON t.scope = sr.id AND t.res = 0 AND t.bucket = 0
		WHERE sr.id = ?`, sourceID).Scan(&count, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return &st, nil // gone
	}
	if err != nil {
		return nil, fmt.Errorf("source health: %w", err)
	}
	st.EventCount = count.Int64
	if last.Int64 > 0 {
		st.LastEventAt = fromNullMs(last)
	}
	return &st, nil
}
