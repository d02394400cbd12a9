package service

import (
	"context"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// Spans up to which a statistics query with no interval gets minute, then
// hour buckets; longer ones get days.
const (
	minuteSpan = 6 * time.Hour
	hourSpan   = 31 * 24 * time.Hour
)

// statsWindow is a validated statistics query: its buckets start at Since
// (the query's since, aligned down to the interval) and cover [Since,
// Until).
type statsWindow struct {
	interval     hookd.StatsInterval
	width        time.Duration
	since, until time.Time
	buckets      int
}

// window validates q and fills in its defaults.
func (s *Service) window(q hookd.StatsQuery) (*statsWindow, error) {
	until := q.Until
	if until.IsZero() {
		until = s.now()
	}
	since := q.Since
	if since.IsZero() {
		since = until.Add(-24 * time.Hour)
	}
	until, since = until.UTC(), since.UTC()
	if !since.Before(until) {
		return nil, hookd.Errorf(hookd.EINVALID, "since must be before until")
	}
	interval := q.Interval
	switch span := until.Sub(since); {
	case interval != "":
		if interval.Duration() == 0 {
			return nil, hookd.Errorf(hookd.EINVALID, "interval must be minute, hour or day")
		}
	case span <= minuteSpan:
		interval = hookd.StatsMinute
	case span <= hourSpan:
		interval = hookd.StatsHour
	default:
		interval = hookd.StatsDay
	}
	w := &statsWindow{interval: interval, width: interval.Duration(), until: until}
	w.since = since.Truncate(w.width) // UTC: minutes, hours and days from the Unix epoch
	n := (until.Sub(w.since) + w.width - 1) / w.width
	if n > hookd.MaxStatsBuckets {
		return nil, hookd.Errorf(hookd.EINVALID, "since to until at one %s a bucket is %d buckets; at most %d are answered: choose a longer interval or a shorter span",
			interval, n, hookd.MaxStatsBuckets)
	}
	w.buckets = int(n)
	return w, nil
}

// res is the resolution of the kept rows that make w's buckets.
func (w *statsWindow) res() int {
	if w.interval == hookd.StatsMinute {
		return store.StatsMinute
	}
	return store.StatsHour
}

// index is the bucket of w that t falls in.
func (w *statsWindow) index(t time.Time) int {
	return int(t.Sub(w.since) / w.width)
}

// deliveryStats reads scope's statistics over w.
func (s *Service) deliveryStats(ctx context.Context, scope string, w *statsWindow) (*hookd.DeliveryStats, error) {
	rows, err := s.store.ReadDeliveryStats(ctx, scope, w.res(), w.since, w.until)
	if err != nil {
		return nil, err
	}
	sums, total := sumBuckets(w, rows, func(c *store.DeliveryCounts) time.Time { return c.Start })
	st := &hookd.DeliveryStats{Interval: w.interval, Since: w.since, Until: w.until, Buckets: make([]hookd.DeliveryBucket, w.buckets)}
	for i := range sums {
		st.Buckets[i] = deliveryBucket(&sums[i])
		st.Buckets[i].Start = w.since.Add(time.Duration(i) * w.width)
	}
	st.Totals = deliveryBucket(&total)
	return st, nil
}

// sumBuckets adds the kept rows up into w's buckets, by their start
// (which start returns), and into a total.
func sumBuckets[C any, P interface {
	*C
	Add(*C)
}](w *statsWindow, rows []C, start func(*C) time.Time) (sums []C, total C) {
	sums = make([]C, w.buckets)
	for i := range rows {
		if k := w.index(start(&rows[i])); k >= 0 && k < len(sums) {
			P(&sums[k]).Add(&rows[i])
			P(&total).Add(&rows[i])
		}
	}
	return sums, total
}

func deliveryBucket(c *store.DeliveryCounts) hookd.DeliveryBucket {
	return hookd.DeliveryBucket{
		Attempts: c.Attempts, Succeeded: c.Succeeded, Failed: c.Failed, Exhausted: c.Exhausted,
		DurationP50: hookd.DurationPercentile(c.Durations, 0.5),
		DurationP99: hookd.DurationPercentile(c.Durations, 0.99),
	}
}

// WebhookStats returns a webhook's delivery statistics.
func (s *Service) WebhookStats(ctx context.Context, p *Principal, app, webhookID string, q hookd.StatsQuery) (*hookd.DeliveryStats, error) {
	w, err := s.window(q)
	if err != nil {
		return nil, err
	}
	_, hook, err := s.webhook(ctx, p, app, webhookID)
	if err != nil {
		return nil, err
	}
	return s.deliveryStats(ctx, hook.ID, w)
}

// AppStats returns the delivery statistics of every webhook of an app,
// summed.
func (s *Service) AppStats(ctx context.Context, p *Principal, app string, q hookd.StatsQuery) (*hookd.DeliveryStats, error) {
	w, err := s.window(q)
	if err != nil {
		return nil, err
	}
	a, err := s.app(ctx, p, app)
	if err != nil {
		return nil, err
	}
	return s.deliveryStats(ctx, a.ID, w)
}

// SourceStats returns what a source received and forwarded over time.
func (s *Service) SourceStats(ctx context.Context, p *Principal, app, sourceID string, q hookd.StatsQuery) (*hookd.SourceStats, error) {
	w, err := s.window(q)
	if err != nil {
		return nil, err
	}
	src, err := s.source(ctx, p, app, sourceID)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.ReadSourceStats(ctx, src.ID, w.res(), w.since, w.until)
	if err != nil {
		return nil, err
	}
	sums, total := sumBuckets(w, rows, func(c *store.SourceCounts) time.Time { return c.Start })
	st := &hookd.SourceStats{Interval: w.interval, Since: w.since, Until: w.until, Buckets: make([]hookd.SourceBucket, w.buckets)}
	for i := range sums {
		st.Buckets[i] = sourceBucket(&sums[i])
		st.Buckets[i].Start = w.since.Add(time.Duration(i) * w.width)
	}
	st.Totals = sourceBucket(&total)
	return st, nil
}

func sourceBucket(c *store.SourceCounts) hookd.SourceBucket {
	return hookd.SourceBucket{Received: c.Received, Rejected: c.Rejected, Duplicates: c.Duplicates,
		Forwarded: c.Forwarded, ForwardFailed: c.ForwardFailed}
}

// ServerStats returns the delivery statistics of every app, with the
// deliveries due now; admin only.
func (s *Service) ServerStats(ctx context.Context, p *Principal, q hookd.StatsQuery) (*hookd.ServerStats, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	w, err := s.window(q)
	if err != nil {
		return nil, err
	}
	st, err := s.deliveryStats(ctx, store.StatsServer, w)
	if err != nil {
		return nil, err
	}
	now := s.now()
	backlog, err := s.store.Backlog(ctx, now)
	if err != nil {
		return nil, err
	}
	out := &hookd.ServerStats{DeliveryStats: *st, Pending: backlog.Due}
	if backlog.Due > 0 && !backlog.OldestDueAt.IsZero() {
		out.OldestPendingSeconds = max(now.Sub(backlog.OldestDueAt).Seconds(), 0)
	}
	return out, nil
}
