package store

import (
	"slices"
	"time"

	"github.com/hookd/hookd"
)

// Resolutions of kept statistics: a row's bucket width in seconds.
const (
	// StatsAllTime is one row per webhook or source since it began: the
	// kept values behind its health fields.
	StatsAllTime = 0
	StatsMinute  = 60
	StatsHour    = 3600
)

// StatsServer is the scope of the delivery statistics of every app.
const StatsServer = ""

// DeliveryCounts is one kept bucket of delivery statistics of a scope (a
// webhook id, an app id, or StatsServer).
type DeliveryCounts struct {
	Start                                  time.Time
	Attempts, Succeeded, Failed, Exhausted int64
	// Durations is the attempts' duration histogram, hookd.DurationBuckets
	// counts (see hookd.DurationBucket).
	Durations []int64
}

// Add adds o's counts to c's.
func (c *DeliveryCounts) Add(o *DeliveryCounts) {
	c.Attempts += o.Attempts
	c.Succeeded += o.Succeeded
	c.Failed += o.Failed
	c.Exhausted += o.Exhausted
	if len(c.Durations) < hookd.DurationBuckets {
		c.Durations = append(c.Durations, make([]int64, hookd.DurationBuckets-len(c.Durations))...)
	}
	for i, n := range o.Durations {
		if i < len(c.Durations) {
			c.Durations[i] += n
		}
	}
}

// SourceCounts is one kept bucket of a source's statistics.
type SourceCounts struct {
	Start                                                    time.Time
	Received, Rejected, Duplicates, Forwarded, ForwardFailed int64
}

// Add adds o's counts to c's.
func (c *SourceCounts) Add(o *SourceCounts) {
	c.Received += o.Received
	c.Rejected += o.Rejected
	c.Duplicates += o.Duplicates
	c.Forwarded += o.Forwarded
	c.ForwardFailed += o.ForwardFailed
}

// Rejections is how many requests to one source were refused within one
// minute (the one At falls in).
type Rejections struct {
	SourceID string
	At       time.Time
	Count    int64
}

// StatsBucket is the start of the bucket of width res seconds that t falls
// in, in Unix milliseconds (0 for StatsAllTime).
func StatsBucket(t time.Time, res int) int64 {
	if res == StatsAllTime {
		return 0
	}
	w := int64(res) * 1000
	ms := t.UnixMilli()
	return ms - ((ms%w)+w)%w
}

// StatsKey names one kept row: a scope's bucket of a resolution.
type StatsKey struct {
	Scope  string
	Res    int
	Bucket int64 // Unix ms; 0 for StatsAllTime
}

// Compare orders keys as the stores lock their rows: by scope, resolution,
// bucket. Writers that upsert in one order never deadlock on them.
func (k StatsKey) Compare(o StatsKey) int {
	switch {
	case k.Scope != o.Scope:
		if k.Scope < o.Scope {
			return -1
		}
		return 1
	case k.Res != o.Res:
		return k.Res - o.Res
	case k.Bucket < o.Bucket:
		return -1
	case k.Bucket > o.Bucket:
		return 1
	}
	return 0
}

// DeliveryDelta is what one batch adds to a kept row of delivery
// statistics.
type DeliveryDelta struct {
	DeliveryCounts
	// Deliveries counts first attempts (all-time rows).
	Deliveries int64
	// LastAt is the latest attempt's time, Unix ms (all-time rows).
	LastAt int64
}

// SourceDelta is what one batch adds to a kept row of source statistics.
type SourceDelta struct {
	SourceCounts
	// LastAt is the newest received event's creation time, Unix ms
	// (all-time rows).
	LastAt int64
}

// StatsBatch gathers the statistics of one batch of recorded attempts in
// memory, so that a store writes each row once per batch.
type StatsBatch struct {
	Deliveries map[StatsKey]*DeliveryDelta
	Sources    map[StatsKey]*SourceDelta
}

// statsResolutions are the resolutions a webhook's or source's attempts
// count in; an app's and the server's leave out StatsAllTime.
var statsResolutions = [...]int{StatsAllTime, StatsMinute, StatsHour}

// Attempt counts attempt a of a delivery of app appID to webhookID, or
// forwarding for sourceID (one-off destinations count nowhere);
// exhausted tells that it ended its delivery failed.
func (b *StatsBatch) Attempt(appID, webhookID, sourceID string, a *hookd.Attempt, exhausted bool) {
	switch {
	case webhookID != "":
		for _, res := range statsResolutions {
			b.delivery(webhookID, res, a, exhausted)
			if res != StatsAllTime {
				b.delivery(appID, res, a, exhausted)
				b.delivery(StatsServer, res, a, exhausted)
			}
		}
	case sourceID != "":
		for _, res := range statsResolutions {
			d := b.source(StatsKey{sourceID, res, StatsBucket(a.At, res)})
			if a.Succeeded() {
				d.Forwarded++
			} else {
				d.ForwardFailed++
			}
		}
	}
}

func (b *StatsBatch) delivery(scope string, res int, a *hookd.Attempt, exhausted bool) {
	if b.Deliveries == nil {
		b.Deliveries = map[StatsKey]*DeliveryDelta{}
	}
	k := StatsKey{scope, res, StatsBucket(a.At, res)}
	d := b.Deliveries[k]
	if d == nil {
		d = &DeliveryDelta{}
		if res != StatsAllTime {
			d.Durations = make([]int64, hookd.DurationBuckets)
		}
		b.Deliveries[k] = d
	}
	d.Attempts++
	if a.Succeeded() {
		d.Succeeded++
	} else {
		d.Failed++
	}
	if exhausted {
		d.Exhausted++
	}
	if res == StatsAllTime {
		if a.Attempt == 1 {
			d.Deliveries++
		}
		d.LastAt = max(d.LastAt, a.At.UnixMilli())
		return
	}
	d.Durations[hookd.DurationBucket(a.Duration)]++
}

func (b *StatsBatch) source(k StatsKey) *SourceDelta {
	if b.Sources == nil {
		b.Sources = map[StatsKey]*SourceDelta{}
	}
	d := b.Sources[k]
	if d == nil {
		d = &SourceDelta{}
		b.Sources[k] = d
	}
	return d
}

// Received counts an event that source sourceID received and stored,
// created at t, or a duplicate of one.
func (b *StatsBatch) Received(sourceID string, t time.Time, duplicate bool) {
	for _, res := range statsResolutions {
		d := b.source(StatsKey{sourceID, res, StatsBucket(t, res)})
		if duplicate {
			d.Duplicates++
			continue
		}
		d.Received++
		if res == StatsAllTime {
			d.LastAt = max(d.LastAt, t.UnixMilli())
		}
	}
}

// Rejected counts n requests that source sourceID refused at t.
func (b *StatsBatch) Rejected(sourceID string, t time.Time, n int64) {
	for _, res := range statsResolutions[1:] {
		b.source(StatsKey{sourceID, res, StatsBucket(t, res)}).Rejected += n
	}
}

// RejectionStats returns the statistics of rejected requests rs, or nil
// when there are none.
func RejectionStats(rs []Rejections) *StatsBatch {
	var b StatsBatch
	for _, r := range rs {
		b.Rejected(r.SourceID, r.At, r.Count)
	}
	if len(b.Sources) == 0 {
		return nil
	}
	return &b
}

// DeliveryKeys returns the keys of the delivery rows, in lock order.
func (b *StatsBatch) DeliveryKeys() []StatsKey {
	return sortedKeys(b.Deliveries)
}

// SourceKeys returns the keys of the source rows, in lock order.
func (b *StatsBatch) SourceKeys() []StatsKey {
	return sortedKeys(b.Sources)
}

func sortedKeys[V any](m map[StatsKey]V) []StatsKey {
	keys := make([]StatsKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, StatsKey.Compare)
	return keys
}
