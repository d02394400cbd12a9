package sqlshared

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// ReadDeliveryStats implements store.Store.
func (c *Shared) ReadDeliveryStats(ctx context.Context, scope string, res int, since, until time.Time) ([]store.DeliveryCounts, error) {
	rows, err := c.db.Query(ctx, `SELECT bucket, attempts, succeeded, failed, exhausted, `+c.dialect.HistogramColumns+` FROM delivery_stats
		WHERE scope = ? AND res = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`, scope, res, ms(since), ms(until))
	return collect(rows, err, "read statistics", func(row sqlrow.Scanner) (store.DeliveryCounts, error) {
		var d store.DeliveryCounts
		var bucket int64
		err := row.Scan(append([]any{&bucket, &d.Attempts, &d.Succeeded, &d.Failed, &d.Exhausted}, c.dialect.HistogramInto(&d.Durations)...)...)
		d.Start = sqlrow.FromMs(bucket)
		return d, err
	})
}

// ReadSourceStats implements store.Store.
func (c *Shared) ReadSourceStats(ctx context.Context, sourceID string, res int, since, until time.Time) ([]store.SourceCounts, error) {
	rows, err := c.db.Query(ctx, `SELECT bucket, received, rejected, duplicates, forwarded, forward_failed FROM source_stats
		WHERE scope = ? AND res = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`, sourceID, res, ms(since), ms(until))
	return collect(rows, err, "read source statistics", func(row sqlrow.Scanner) (store.SourceCounts, error) {
		var s store.SourceCounts
		var bucket int64
		err := row.Scan(&bucket, &s.Received, &s.Rejected, &s.Duplicates, &s.Forwarded, &s.ForwardFailed)
		s.Start = sqlrow.FromMs(bucket)
		return s, err
	})
}

// WebhookHealth implements store.Store: for each webhook, reads of the
// primary key of delivery_stats, whatever its history, all in one
// statement (a list of webhooks asks for its page's at once).
func (c *Shared) WebhookHealth(ctx context.Context, webhookIDs []string, now time.Time) (map[string]*hookd.WebhookHealth, error) {
	out := make(map[string]*hookd.WebhookHealth, len(webhookIDs))
	if len(webhookIDs) == 0 {
		return out, nil
	}
	args := []any{store.StatsBucket(now.Add(-24*time.Hour), store.StatsMinute), ms(now), store.StatsBucket(now.Add(-24*time.Hour), store.StatsMinute), ms(now)}
	for _, id := range webhookIDs {
		out[id] = &hookd.WebhookHealth{} // zero for a webhook that is gone
		args = append(args, id)
	}
	rows, err := c.db.Query(ctx, `SELECT w.id, t.deliveries, t.last_at,
			(SELECT sum(attempts) FROM delivery_stats WHERE scope = w.id AND res = 60 AND bucket >= ? AND bucket <= ?),
			(SELECT sum(succeeded) FROM delivery_stats WHERE scope = w.id AND res = 60 AND bucket >= ? AND bucket <= ?)
		FROM webhooks w LEFT JOIN delivery_stats t ON t.scope = w.id AND t.res = 0 AND t.bucket = 0
		WHERE w.id IN (?`+strings.Repeat(",?", len(webhookIDs)-1)+`)`, args...)
	_, err = collect(rows, err, "webhook health", func(row sqlrow.Scanner) (struct{}, error) {
		var id string
		var count, last, total, ok *int64
		if err := row.Scan(&id, &count, &last, &total, &ok); err != nil {
			return struct{}{}, err
		}
		h := out[id]
		if count != nil {
			h.DeliveryCount = *count
		}
		if last != nil && *last > 0 {
			h.LastDeliveryAt = sqlrow.FromNullMs(last)
		}
		if total != nil && *total > 0 {
			rate := float64(*ok) / float64(*total)
			h.SuccessRate24h = &rate
		}
		return struct{}{}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SourceHealth implements store.Store: one read of the primary key of
// source_stats.
func (c *Shared) SourceHealth(ctx context.Context, sourceID string) (*hookd.SourceHealth, error) {
	var h hookd.SourceHealth
	var count, last *int64
	err := c.db.QueryRow(ctx, `SELECT t.received, t.last_at
		FROM sources sr LEFT JOIN source_stats t ON t.scope = sr.id AND t.res = 0 AND t.bucket = 0
		WHERE sr.id = ?`, sourceID).Scan(&count, &last)
	if sqlrow.NoRows(err) {
		return &h, nil // gone
	}
	if err != nil {
		return nil, fmt.Errorf("source health: %w", err)
	}
	if count != nil {
		h.EventCount = *count
	}
	if last != nil && *last > 0 {
		h.LastEventAt = sqlrow.FromNullMs(last)
	}
	return &h, nil
}

// PruneStats implements store.Store. Rows are found by the age index and
// deleted by key, a limited batch per statement, so no delete holds many
// rows that recorders upsert (they upsert only the newest buckets); then
// the all-time rows of webhooks and sources that are gone.
func (c *Shared) PruneStats(ctx context.Context, res int, before time.Time, limit int) (int, error) {
	n := 0
	for _, q := range []struct {
		what, sql string
		args      []any
	}{
		{"statistics", `DELETE FROM delivery_stats WHERE (scope, res, bucket) IN (
			SELECT scope, res, bucket FROM delivery_stats WHERE res = ? AND bucket < ? ORDER BY bucket LIMIT ?)`, []any{res, ms(before), limit}},
		{"source statistics", `DELETE FROM source_stats WHERE (scope, res, bucket) IN (
			SELECT scope, res, bucket FROM source_stats WHERE res = ? AND bucket < ? ORDER BY bucket LIMIT ?)`, []any{res, ms(before), limit}},
		{"statistics of deleted webhooks", `DELETE FROM delivery_stats WHERE (scope, res, bucket) IN (
			SELECT d.scope, d.res, d.bucket FROM delivery_stats d WHERE d.res = 0 AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.scope) LIMIT ?)`, []any{limit}},
		{"statistics of deleted sources", `DELETE FROM source_stats WHERE (scope, res, bucket) IN (
			SELECT d.scope, d.res, d.bucket FROM source_stats d WHERE d.res = 0 AND NOT EXISTS (SELECT 1 FROM sources sr WHERE sr.id = d.scope) LIMIT ?)`, []any{limit}},
	} {
		d, err := c.db.Exec(ctx, q.sql, q.args...)
		if err != nil {
			return n, fmt.Errorf("prune %s: %w", q.what, err)
		}
		n += int(d)
	}
	return n, nil
}
