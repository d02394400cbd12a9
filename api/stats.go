package api

import "github.com/hookd/hookd"

// DeliveryCounts is what one bucket of delivery statistics counts, and
// the totals of a span.
type DeliveryCounts struct {
	Attempts      int64    `json:"attempts"`
	Succeeded     int64    `json:"succeeded"`
	Failed        int64    `json:"failed"`
	Exhausted     int64    `json:"exhausted"`
	DurationMsP50 *float64 `json:"duration_ms_p50"`
	DurationMsP99 *float64 `json:"duration_ms_p99"`
}

// DeliveryBucket is one bucket of delivery statistics.
type DeliveryBucket struct {
	Start Time `json:"start"`
	DeliveryCounts
}

// DeliveryStats is the answer of a webhook's or an app's statistics.
type DeliveryStats struct {
	Interval hookd.StatsInterval `json:"interval"`
	Since    Time                `json:"since"`
	Until    Time                `json:"until"`
	Buckets  []DeliveryBucket    `json:"buckets"`
	Totals   DeliveryCounts      `json:"totals"`
}

// ServerStats is the answer of the server's statistics: an app's form
// over every app, with the backlog.
type ServerStats struct {
	DeliveryStats
	Pending              int64   `json:"pending"`
	OldestPendingSeconds float64 `json:"oldest_pending_seconds"`
}

// SourceCounts is what one bucket of a source's statistics counts.
type SourceCounts struct {
	Received      int64 `json:"received"`
	Rejected      int64 `json:"rejected"`
	Duplicates    int64 `json:"duplicates"`
	Forwarded     int64 `json:"forwarded"`
	ForwardFailed int64 `json:"forward_failed"`
}

// SourceBucket is one bucket of a source's statistics.
type SourceBucket struct {
	Start Time `json:"start"`
	SourceCounts
}

// SourceStats is the answer of a source's statistics.
type SourceStats struct {
	Interval hookd.StatsInterval `json:"interval"`
	Since    Time                `json:"since"`
	Until    Time                `json:"until"`
	Buckets  []SourceBucket      `json:"buckets"`
	Totals   SourceCounts        `json:"totals"`
}

func deliveryCounts(b *hookd.DeliveryBucket) DeliveryCounts {
	return DeliveryCounts{Attempts: b.Attempts, Succeeded: b.Succeeded, Failed: b.Failed, Exhausted: b.Exhausted,
		DurationMsP50: b.DurationP50, DurationMsP99: b.DurationP99}
}

func (c *DeliveryCounts) bucket(start Time) hookd.DeliveryBucket {
	return hookd.DeliveryBucket{Start: start.Time, Attempts: c.Attempts, Succeeded: c.Succeeded, Failed: c.Failed,
		Exhausted: c.Exhausted, DurationP50: c.DurationMsP50, DurationP99: c.DurationMsP99}
}

// NewDeliveryStats writes st as the API answers it.
func NewDeliveryStats(st *hookd.DeliveryStats) DeliveryStats {
	out := DeliveryStats{Interval: st.Interval, Since: Time{st.Since}, Until: Time{st.Until},
		Buckets: make([]DeliveryBucket, len(st.Buckets)), Totals: deliveryCounts(&st.Totals)}
	for i := range st.Buckets {
		out.Buckets[i] = DeliveryBucket{Start: Time{st.Buckets[i].Start}, DeliveryCounts: deliveryCounts(&st.Buckets[i])}
	}
	return out
}

// Stats reads the answer back as the domain's statistics.
func (s *DeliveryStats) Stats() *hookd.DeliveryStats {
	st := &hookd.DeliveryStats{Interval: s.Interval, Since: s.Since.Time, Until: s.Until.Time, Totals: s.Totals.bucket(Time{})}
	for i := range s.Buckets {
		st.Buckets = append(st.Buckets, s.Buckets[i].bucket(s.Buckets[i].Start))
	}
	return st
}

// NewServerStats writes st as the API answers it.
func NewServerStats(st *hookd.ServerStats) ServerStats {
	return ServerStats{DeliveryStats: NewDeliveryStats(&st.DeliveryStats), Pending: st.Pending, OldestPendingSeconds: st.OldestPendingSeconds}
}

// Stats reads the answer back as the domain's statistics.
func (s *ServerStats) Stats() *hookd.ServerStats {
	return &hookd.ServerStats{DeliveryStats: *s.DeliveryStats.Stats(), Pending: s.Pending, OldestPendingSeconds: s.OldestPendingSeconds}
}

func sourceCounts(b *hookd.SourceBucket) SourceCounts {
	return SourceCounts{Received: b.Received, Rejected: b.Rejected, Duplicates: b.Duplicates, Forwarded: b.Forwarded, ForwardFailed: b.ForwardFailed}
}

func (c *SourceCounts) bucket(start Time) hookd.SourceBucket {
	return hookd.SourceBucket{Start: start.Time, Received: c.Received, Rejected: c.Rejected, Duplicates: c.Duplicates,
		Forwarded: c.Forwarded, ForwardFailed: c.ForwardFailed}
}

// NewSourceStats writes st as the API answers it.
func NewSourceStats(st *hookd.SourceStats) SourceStats {
	out := SourceStats{Interval: st.Interval, Since: Time{st.Since}, Until: Time{st.Until},
		Buckets: make([]SourceBucket, len(st.Buckets)), Totals: sourceCounts(&st.Totals)}
	for i := range st.Buckets {
		out.Buckets[i] = SourceBucket{Start: Time{st.Buckets[i].Start}, SourceCounts: sourceCounts(&st.Buckets[i])}
	}
	return out
}

// Stats reads the answer back as the domain's statistics.
func (s *SourceStats) Stats() *hookd.SourceStats {
	st := &hookd.SourceStats{Interval: s.Interval, Since: s.Since.Time, Until: s.Until.Time, Totals: s.Totals.bucket(Time{})}
	for i := range s.Buckets {
		st.Buckets = append(st.Buckets, s.Buckets[i].bucket(s.Buckets[i].Start))
	}
	return st
}
