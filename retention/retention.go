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
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := p.Pass(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("retention pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass deletes everything that is due, batch by batch, and returns how many
// events it deleted.
func (p *Pruner) Pass(ctx context.Context) (int, error) {
	before := p.cfg.Now().Add(-p.cfg.MaxAge)
	total := 0
	for ctx.Err() == nil {
		n, err := p.store.Prune(ctx, before, p.cfg.Batch)
		total += n
		if err != nil {
			return total, err
		}
		if n < p.cfg.Batch {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(p.cfg.Pause):
		}
	}
	if total > 0 {
		p.log.Info("pruned old events", "count", total, "before", before)
	}
	return total, nil
}
