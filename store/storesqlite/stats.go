package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

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

// AddRejections implements store.Store.
func (s *Store) AddRejections(ctx context.Context, rs []store.Rejections) error {
	b := store.RejectionStats(rs)
	if b == nil {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error { return s.writeStats(ctx, tx, b) })
}
