package storepg

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

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

// AddRejections implements store.Store.
func (s *Store) AddRejections(ctx context.Context, rs []store.Rejections) error {
	b := store.RejectionStats(rs)
	if b == nil {
		return nil
	}
	var q pgx.Batch
	queueStats(&q, b)
	if err := s.pool.SendBatch(ctx, &q).Close(); err != nil {
		return unavailable(fmt.Errorf("count rejections: %w", err))
	}
	return nil
}
