package receive

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hookd/hookd/store"
)

// TallyStore is what a Tally needs of the storage seam.
type TallyStore interface {
	AddRejections(ctx context.Context, rs []store.Rejections) error
}

// Tally counts the requests that sources refused in memory, per source and
// minute, and adds them to the store's statistics every little while
// (Run) and at shutdown (Flush). A refusal stores nothing else: a write
// per refused request would let anyone who floods a receive URL with bad
// signatures make the database work for each. The price is that a crash
// loses the refusals counted since the last flush (a second's worth).
type Tally struct {
	store TallyStore
	log   *slog.Logger
	now   func() time.Time

	mu     sync.Mutex
	counts map[tallyKey]int64
}

type tallyKey struct {
	sourceID string
	minute   int64 // Unix ms of the minute's start
}

// NewTally returns a Tally over st; now nil means time.Now.
func NewTally(st TallyStore, log *slog.Logger, now func() time.Time) *Tally {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tally{store: st, log: log, now: now, counts: map[tallyKey]int64{}}
}

// Reject counts one refused request to source sourceID, now.
func (t *Tally) Reject(sourceID string) {
	k := tallyKey{sourceID, store.StatsBucket(t.now(), store.StatsMinute)}
	t.mu.Lock()
	t.counts[k]++
	t.mu.Unlock()
}

// Flush adds what was counted to the store. What the store refuses is
// counted again, to be added by the next flush.
func (t *Tally) Flush(ctx context.Context) error {
	t.mu.Lock()
	counts := t.counts
	t.counts = map[tallyKey]int64{}
	t.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	rs := make([]store.Rejections, 0, len(counts))
	for k, n := range counts {
		rs = append(rs, store.Rejections{SourceID: k.sourceID, At: time.UnixMilli(k.minute), Count: n})
	}
	if err := t.store.AddRejections(ctx, rs); err != nil {
		t.mu.Lock()
		for k, n := range counts {
			t.counts[k] += n
		}
		t.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every interval until ctx ends, then once more.
func (t *Tally) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := t.Flush(context.WithoutCancel(ctx)); err != nil {
				t.log.Warn("refused requests not counted at shutdown", "err", err)
			}
			return
		case <-tick.C:
			if err := t.Flush(ctx); err != nil && ctx.Err() == nil {
				t.log.Warn("count refused requests", "err", err)
			}
		}
	}
}
