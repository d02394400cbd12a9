package hookd

import (
	"math"
	"time"
)

// StatsInterval is the width of the buckets of a statistics answer.
type StatsInterval string

// Statistics intervals.
const (
	StatsMinute StatsInterval = "minute"
	StatsHour   StatsInterval = "hour"
	StatsDay    StatsInterval = "day"
)

// Duration is the width of one bucket of the interval; 0 for an unknown one.
func (i StatsInterval) Duration() time.Duration {
	switch i {
	case StatsMinute:
		return time.Minute
	case StatsHour:
		return time.Hour
	case StatsDay:
		return 24 * time.Hour
	}
	return 0
}

// MaxStatsBuckets is the most buckets one statistics answer holds.
const MaxStatsBuckets = 1500

// StatsQuery asks for statistics over [Since, Until).
type StatsQuery struct {
	Since, Until time.Time     // zero: defaults (Until = now, Since = Until-24h)
	Interval     StatsInterval // "": chosen from the span
}

// DeliveryBucket is what happened to deliveries in one bucket of time (or,
// as a DeliveryStats' Totals, over all of them).
type DeliveryBucket struct {
	Start time.Time // zero in Totals
	// Attempts counts the attempts made; Succeeded those answered 2xx,
	// Failed the others.
	Attempts, Succeeded, Failed int64
	// Exhausted counts the deliveries that ended failed by an attempt in
	// the bucket: their retries were used up, or the webhook gave up.
	Exhausted int64
	// DurationP50 and DurationP99 are the attempts' duration percentiles
	// in milliseconds, as DurationPercentile reads them from the bucket's
	// histogram; nil when no attempts.
	DurationP50, DurationP99 *float64
}

// DeliveryStats is the delivery statistics of a webhook, an app or the
// server.
type DeliveryStats struct {
	Interval     StatsInterval
	Since, Until time.Time
	Buckets      []DeliveryBucket // oldest first, contiguous, empty buckets zero
	Totals       DeliveryBucket
}

// SourceBucket is what one source received and forwarded in one bucket of
// time (or, as Totals, over all of them).
type SourceBucket struct {
	Start time.Time
	// Received counts the requests verified and stored as new events
	// (and test events); Rejected those refused (bad or missing
	// signature, stale timestamp, too large, a disabled source);
	// Duplicates those verified that repeated a provider delivery id
	// recorded before. Every answered request to an existing source is
	// one of the three.
	Received, Rejected, Duplicates int64
	// Forwarded counts forward attempts answered 2xx, ForwardFailed the
	// forward attempts that were not.
	Forwarded, ForwardFailed int64
}

// SourceStats is the statistics of one source.
type SourceStats struct {
	Interval     StatsInterval
	Since, Until time.Time
	Buckets      []SourceBucket
	Totals       SourceBucket
}

// ServerStats is the delivery statistics of every app, with the backlog.
type ServerStats struct {
	DeliveryStats
	Pending              int64 // deliveries due now
	OldestPendingSeconds float64
}

// Attempt durations are kept as a histogram of DurationBuckets counts on a
// log scale: bucket 0 holds durations under DurationBase, bucket i (1 ≤ i <
// DurationBuckets-1) those in [DurationBase·DurationGrowth^(i-1),
// DurationBase·DurationGrowth^i), and the last everything longer (from
// about 8 minutes). A percentile read back is the geometric middle of its
// bucket, so within a factor √DurationGrowth (±23%) of the true value.
const (
	DurationBuckets = 40
	DurationBase    = 100 * time.Microsecond
	DurationGrowth  = 1.5
)

// DurationBucket is the histogram bucket that d falls in.
func DurationBucket(d time.Duration) int {
	if d < DurationBase {
		return 0
	}
	i := int(math.Floor(math.Log(float64(d)/float64(DurationBase))/math.Log(DurationGrowth))) + 1
	return min(max(i, 1), DurationBuckets-1)
}

// DurationPercentile reads the q-quantile (0 < q ≤ 1) of the durations
// counted in hist, in milliseconds rounded to the microsecond; nil when
// hist counts nothing.
func DurationPercentile(hist []int64, q float64) *float64 {
	var n int64
	for _, c := range hist {
		n += c
	}
	if n == 0 {
		return nil
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen int64
	for i, c := range hist {
		if seen += c; seen >= rank {
			v := math.Round(durationMiddle(i)*1000) / 1000
			return &v
		}
	}
	return nil
}

// durationMiddle is the value, in milliseconds, that stands for the
// durations of bucket i.
func durationMiddle(i int) float64 {
	base := float64(DurationBase) / float64(time.Millisecond)
	switch {
	case i <= 0:
		return base / 2
	case i >= DurationBuckets-1:
		return base * math.Pow(DurationGrowth, DurationBuckets-2)
	}
	return base * math.Pow(DurationGrowth, float64(i-1)) * math.Sqrt(DurationGrowth)
}
