// Package migration applies a store's schema migrations one at a time,
// telling a progress callback before and after each, so that `hookd
// migrate` on a large store says what it is doing while it does it.
package migration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"time"

	"github.com/pressly/goose/v3"
)

// Up applies every pending migration of p up to version (math.MaxInt64
// for all). progress, when not nil, hears a line as each starts and ends.
// Other processes may migrate the same database meanwhile (under the
// provider's lock): each step applies whatever is next when it runs.
func Up(ctx context.Context, p *goose.Provider, version int64, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	for {
		current, _, err := p.GetVersions(ctx)
		if err != nil {
			return fmt.Errorf("read the schema version: %w", err)
		}
		next := nextSource(p, current)
		if next == nil || next.Version > version {
			return nil
		}
		progress(fmt.Sprintf("applying migration %d (%s)...", next.Version, path.Base(next.Path)))
		start := time.Now()
		res, err := p.UpByOne(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			return nil // another process applied the rest
		}
		if err != nil {
			return fmt.Errorf("migration %d: %w", next.Version, err)
		}
		progress(fmt.Sprintf("migration %d applied in %v", res.Source.Version, time.Since(start).Round(time.Millisecond)))
	}
}

// nextSource is the first migration after version current, or nil.
func nextSource(p *goose.Provider, current int64) *goose.Source {
	for _, src := range p.ListSources() {
		if src.Version > current {
			return src
		}
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
