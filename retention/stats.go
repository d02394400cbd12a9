package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookd/hookd/store"
)

// StatsStore is what pruning statistics needs of the storage seam.
type StatsStore interface {
	PruneStats(ctx context.Context, res int, before time.Time, limit int) (int, error)
}

// StatsConfig tunes a StatsPruner.
type StatsConfig struct {
	// Minutes is how long minute statistics are kept; 0 means 48 hours.
	Minutes time.Duration
	// Hours is how long hourly statistics are kept; 0 means 90 days.
	Hours time.Duration
	// Batch is how many rows one delete removes; 0 means 1,000.
	Batch int
	// Interval is the pause between passes; 0 means 10 minutes.
	Interval time.Duration
	// Pause is the pause between batches within a pass; 0 means 50ms.
	Pause time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// StatsPruner deletes statistics older than they are kept, on a schedule
// of its own, independent of how long events are kept: a few small
// deletes of the oldest buckets, which no recorder writes to (recorders
// add to the newest), so delivery goes on beside it.
type StatsPruner struct {
	store StatsStore
	log   *slog.Logger
	cfg   StatsConfig
}

// NewStats returns a StatsPruner.
func NewStats(st StatsStore, log *slog.Logger, cfg StatsConfig) *StatsPruner {
	if cfg.Minutes <= 0 {
		cfg.Minutes = 48 * time.Hour
	}
	if cfg.Hours <= 0 {
		cfg.Hours = 90 * 24 * time.Hour
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Minute
	}
	if cfg.Pause <= 0 {
		cfg.Pause = 50 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &StatsPruner{store: st, log: log, cfg: cfg}
}

// Run prunes every Interval until ctx ends.
func (p *StatsPruner) Run(ctx context.Context) {
	every(ctx, p.cfg.Interval, p.log, "statistics retention pass", p.Pass)
}

// Pass deletes the statistics that are due, batch by batch, and returns
// how many rows it deleted.
func (p *StatsPruner) Pass(ctx context.Context) (int, error) {
	now := p.cfg.Now()
	total := 0
	for _, r := range []struct {
		res int
		age time.Duration
	}{{store.StatsMinute, p.cfg.Minutes}, {store.StatsHour, p.cfg.Hours}} {
		n, err := inBatches(ctx, p.cfg.Batch, p.cfg.Pause, func(ctx context.Context, limit int) (int, error) {
			return p.store.PruneStats(ctx, r.res, now.Add(-r.age), limit)
		})
		total += n
		if err != nil {
			return total, err
		}
	}
	if total > 0 {
		p.log.Info("pruned old statistics", "rows", total)
	}
	return total, nil
}
