package storepg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// upsertDeliveryStats adds a batch's delivery statistics to their rows,
// one row per scope and bucket, in one statement from arrays. Rows are
// upserted in key order (see store.StatsKey.Compare): recorders that add
// to the same rows wait on each other only until the first commits.
const upsertDeliveryStats = `INSERT INTO delivery_stats AS s (scope, res, bucket, attempts, succeeded, failed, exhausted, deliveries, last_at, durations)
	SELECT v.scope, v.res, v.bucket, v.attempts, v.succeeded, v.failed, v.exhausted, v.deliveries, v.last_at, v.durations::bigint[]
	FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[])
		AS v(scope, res, bucket, attempts, succeeded, failed, exhausted, deliveries, last_at, durations)
	ON CONFLICT (scope, res, bucket) DO UPDATE SET
		attempts = s.attempts + excluded.attempts, succeeded = s.succeeded + excluded.succeeded,
		failed = s.failed + excluded.failed, exhausted = s.exhausted + excluded.exhausted,
		deliveries = s.deliveries + excluded.deliveries, last_at = GREATEST(s.last_at, excluded.last_at),
		durations = CASE WHEN cardinality(excluded.durations) = 0 THEN s.durations ELSE ARRAY(
			SELECT coalesce(h.a, 0) + coalesce(h.b, 0) FROM unnest(s.durations, excluded.durations) WITH ORDINALITY AS h(a, b, i) ORDER BY h.i) END`

// upsertSourceStats is upsertDeliveryStats for sources.
const upsertSourceStats = `INSERT INTO source_stats AS s (scope, res, bucket, received, rejected, duplicates, forwarded, forward_failed, last_at)
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
	ON CONFLICT (scope, res, bucket) DO UPDATE SET
		received = s.received + excluded.received, rejected = s.rejected + excluded.rejected,
		duplicates = s.duplicates + excluded.duplicates, forwarded = s.forwarded + excluded.forwarded,
		forward_failed = s.forward_failed + excluded.forward_failed, last_at = GREATEST(s.last_at, excluded.last_at)`

// queueStats queues the upserts of what b gathered.
func queueStats(q *pgx.Batch, b *store.StatsBatch) {
	if keys := b.DeliveryKeys(); len(keys) > 0 {
		var c statsColumns
		var attempts, succeeded, failed, exhausted, deliveries, lastAt []int64
		var durations []string
		var buf strings.Builder
		for _, k := range keys {
			d := b.Deliveries[k]
			c.add(k)
			attempts = append(attempts, d.Attempts)
			succeeded = append(succeeded, d.Succeeded)
			failed = append(failed, d.Failed)
			exhausted = append(exhausted, d.Exhausted)
			deliveries = append(deliveries, d.Deliveries)
			lastAt = append(lastAt, d.LastAt)
			durations = append(durations, histogramText(&buf, d.Durations))
		}
		q.Queue(upsertDeliveryStats, c.scope, c.res, c.bucket, attempts, succeeded, failed, exhausted, deliveries, lastAt, durations)
	}
	if keys := b.SourceKeys(); len(keys) > 0 {
		var c statsColumns
		var received, rejected, duplicates, forwarded, forwardFailed, lastAt []int64
		for _, k := range keys {
			d := b.Sources[k]
			c.add(k)
			received = append(received, d.Received)
			rejected = append(rejected, d.Rejected)
			duplicates = append(duplicates, d.Duplicates)
			forwarded = append(forwarded, d.Forwarded)
			forwardFailed = append(forwardFailed, d.ForwardFailed)
			lastAt = append(lastAt, d.LastAt)
		}
		q.Queue(upsertSourceStats, c.scope, c.res, c.bucket, received, rejected, duplicates, forwarded, forwardFailed, lastAt)
	}
}

// writeStats upserts what b gathered in q's transaction.
func writeStats(ctx context.Context, q querier, b *store.StatsBatch) error {
	var batch pgx.Batch
	queueStats(&batch, b)
	for _, qq := range batch.QueuedQueries {
		if _, err := q.Exec(ctx, qq.SQL, qq.Arguments...); err != nil {
			return fmt.Errorf("write statistics: %w", err)
		}
	}
	return nil
}

// statsColumns are the keys of rows to upsert, column by column.
type statsColumns struct {
	scope       []string
	res, bucket []int64
}

func (c *statsColumns) add(k store.StatsKey) {
	c.scope = append(c.scope, k.Scope)
	c.res = append(c.res, int64(k.Res))
	c.bucket = append(c.bucket, k.Bucket)
}

// histogramText is h as an array literal, {} for none.
func histogramText(buf *strings.Builder, h []int64) string {
	buf.Reset()
	buf.WriteByte('{')
	for i, n := range h {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(strconv.FormatInt(n, 10))
	}
	buf.WriteByte('}')
	return buf.String()
}

// ReadDeliveryStats implements store.Store.
func (s *Store) ReadDeliveryStats(ctx context.Context, scope string, res int, since, until time.Time) ([]store.DeliveryCounts, error) {
	rows, err := s.pool.Query(ctx, `SELECT bucket, attempts, succeeded, failed, exhausted, durations FROM delivery_stats
		WHERE scope = $1 AND res = $2 AND bucket >= $3 AND bucket < $4 ORDER BY bucket`, scope, res, ms(since), ms(until))
	if err != nil {
		return nil, fmt.Errorf("read statistics: %w", err)
	}
	defer rows.Close()
	var out []store.DeliveryCounts
	for rows.Next() {
		var c store.DeliveryCounts
		var bucket int64
		if err := rows.Scan(&bucket, &c.Attempts, &c.Succeeded, &c.Failed, &c.Exhausted, &c.Durations); err != nil {
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
	rows, err := s.pool.Query(ctx, `SELECT bucket, received, rejected, duplicates, forwarded, forward_failed FROM source_stats
		WHERE scope = $1 AND res = $2 AND bucket >= $3 AND bucket < $4 ORDER BY bucket`, sourceID, res, ms(since), ms(until))
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
	var q pgx.Batch
	queueStats(&q, &b)
	if err := s.pool.SendBatch(ctx, &q).Close(); err != nil {
		return unavailable(fmt.Errorf("count rejections: %w", err))
	}
	return nil
}

// PruneStats implements store.Store. Rows are found by the age index and
// deleted by key, a limited batch at a time, so no delete holds many
// rows that recorders upsert (they upsert only the newest buckets).
func (s *Store) PruneStats(ctx context.Context, res int, before time.Time, limit int) (int, error) {
	n := 0
	for _, table := range []string{"delivery_stats", "source_stats"} {
		tag, err := s.pool.Exec(ctx, `DELETE FROM `+table+` WHERE (scope, res, bucket) IN (
			SELECT scope, res, bucket FROM `+table+` WHERE res = $1 AND bucket < $2 ORDER BY bucket LIMIT $3)`, res, ms(before), limit)
		if err != nil {
			return n, fmt.Errorf("prune %s: %w", table, err)
		}
		n += int(tag.RowsAffected())
	}
	// The all-time rows of webhooks and sources that are gone (their
	// buckets age out above).
	tag, err := s.pool.Exec(ctx, `DELETE FROM delivery_stats WHERE (scope, res, bucket) IN (
		SELECT d.scope, d.res, d.bucket FROM delivery_stats d WHERE d.res = 0 AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.scope) LIMIT $1)`, limit)
	if err != nil {
		return n, fmt.Errorf("prune statistics of deleted webhooks: %w", err)
	}
	n += int(tag.RowsAffected())
	tag, err = s.pool.Exec(ctx, `DELETE FROM source_stats WHERE (scope, res, bucket) IN (
		SELECT d.scope, d.res, d.bucket FROM source_stats d WHERE d.res = 0 AND NOT EXISTS (SELECT 1 FROM sources sr WHERE sr.id = d.scope) LIMIT $1)`, limit)
	if err != nil {
		return n, fmt.Errorf("prune statistics of deleted sources: %w", err)
	}
	return n + int(tag.RowsAffected()), nil
}

// WebhookHealth implements store.Store: two reads of the primary key of
// delivery_stats, whatever the webhook's history.
func (s *Store) WebhookHealth(ctx context.Context, webhookID string, now time.Time) (*hookd.WebhookHealth, error) {
	var h hookd.WebhookHealth
	var count, last, total, ok *int64
	err := s.pool.QueryRow(ctx, `SELECT t.deliveries, t.last_at,
			(SELECT sum(attempts) FROM delivery_stats WHERE scope = $1 AND res = 60 AND bucket >= $2 AND bucket <= $3),
			(SELECT sum(succeeded) FROM delivery_stats WHERE scope = $1 AND res = 60 AND bucket >= $2 AND bucket <= $3)
		FROM webhooks w LEFT JOIN delivery_stats t ON t.scope = w.id AND t.res = 0 AND t.bucket = 0
		WHERE w.id = $1`,
		webhookID, store.StatsBucket(now.Add(-24*time.Hour), store.StatsMinute), ms(now)).Scan(&count, &last, &total, &ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return &h, nil // gone
	}
	if err != nil {
		return nil, fmt.Errorf("webhook health: %w", err)
	}
	if count != nil {
		h.DeliveryCount = *count
	}
	if last != nil && *last > 0 {
		h.LastDeliveryAt = fromNullMs(last)
	}
	if total != nil && *total > 0 {
		rate := float64(*ok) / float64(*total)
		h.SuccessRate24h = &rate
	}
	return &h, nil
}

// SourceHealth implements store.Store: one read of the primary key of
// source_stats.
func (s *Store) SourceHealth(ctx context.Context, sourceID string) (*hookd.SourceHealth, error) {
	var st hookd.SourceHealth
	var count, last *int64
	err := s.pool.QueryRow(ctx, `SELECT t.received, t.last_at
		FROM sources sr LEFT JOIN source_stats t ON t.scope = sr.id AND t.res = 0 AND t.bucket = 0
		WHERE sr.id = $1`, sourceID).Scan(&count, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return &st, nil // gone
	}
	if err != nil {
		return nil, fmt.Errorf("source health: %w", err)
	}
	if count != nil {
		st.EventCount = *count
	}
	if last != nil && *last > 0 {
		st.LastEventAt = fromNullMs(last)
	}
	return &st, nil
}
