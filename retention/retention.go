// Package retention deletes finished events, with their deliveries and
// attempts, once they are older than the configured age. It deletes in small
// batches with pauses between them, so that it never holds the database for
// long and delivery goes on beside it.
package retention

import (
	"context"
	"log/slog"
	"time"
)

// Store is what retention needs of the storage seam.
type Store interface {
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}

// Config tunes a Pruner.
type Config struct {
	// MaxAge is how long finished events are kept; 0 means 30 days.
	MaxAge time.Duration
	// Batch is how many events one delete removes; 0 means 500.
	Batch int
	// Interval is the pause between passes; 0 means 1 minute.
	Interval time.Duration
	// Pause is the pause between batches within a pass; 0 means 50ms.
	Pause time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Pruner removes old data.
type Pruner struct {
	store Store
	log   *slog.Logger
	cfg   Config
}

// New returns a Pruner.
func New(st Store, log *slog.Logger, cfg Config) *Pruner {
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 30 * 24 * time.Hour
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
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
	return &Pruner{store: st, log: log, cfg: cfg}
}

// Run prunes every Interval until ctx ends.
func (p *Pruner) Run(ctx context.Context) {
	every(ctx, p.cfg.Interval, p.log, "retention pass", p.Pass)
}

// every runs pass at once, then every interval until ctx ends, logging
// its errors as what.
func every(ctx context.Context, interval time.Duration, log *slog.Logger, what string, pass func(context.Context) (int, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := pass(ctx); err != nil && ctx.Err() == nil {
			log.Warn(what, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// inBatches calls prune with limit batch until it deletes less than a
// batch, pausing between calls, and returns how many it deleted in all.
func inBatches(ctx context.Context, batch int, pause time.Duration, prune func(ctx context.Context, limit int) (int, error)) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := prune(ctx, batch)
		total += n
		if err != nil {
			return total, err
		}
		if n < batch {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
	return total, nil
}

// Pass deletes everything that is due, batch by batch, and returns how many
// events it deleted.
func (p *Pruner) Pass(ctx context.Context) (int, error) {
	before := p.cfg.Now().Add(-p.cfg.MaxAge)
	total, err := inBatches(ctx, p.cfg.Batch, p.cfg.Pause, func(ctx context.Context, limit int) (int, error) {
		return p.store.Prune(ctx, before, limit)
	})
	if err != nil {
		return total, err
	}
	if total > 0 {
		p.log.Info("pruned old events", "count", total, "before", before)
	}
	return total, nil
}
