// Package migration applies a store's schema migrations one at a time,
// telling a progress callback before and after each, so that `hookd
// migrate` on a large store says what it is doing while it does it.
package migration

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"time"

	"github.com/pressly/goose/v3"
)

// Up applies every pending migration of p up to version (math.MaxInt64
// for all). progress, when not nil, hears a line as each starts and ends.
func Up(ctx context.Context, p *goose.Provider, version int64, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	current, _, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	for _, src := range p.ListSources() {
		if src.Version <= current || src.Version > version {
			continue
		}
		progress(fmt.Sprintf("applying migration %d (%s)...", src.Version, path.Base(src.Path)))
		start := time.Now()
		if _, err := p.UpByOne(ctx); err != nil {
			return fmt.Errorf("migration %d: %w", src.Version, err)
		}
		progress(fmt.Sprintf("migration %d applied in %v", src.Version, time.Since(start).Round(time.Millisecond)))
	}
	return nil
}

// Log returns a progress callback that logs each line at info level, or
// nil for a nil logger.
func Log(log *slog.Logger) func(string) {
	if log == nil {
		return nil
	}
	return func(line string) { log.Info(line) }
}
