// Package background runs a store's work that outlives the call that
// started it, and retries it until it is done.
package background

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Work runs a store's work that outlives the call that started it
// (the rest of a large status change, say), and stops it when the store
// closes.
type Work struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns Work ready to run work.
func New() *Work {
	ctx, cancel := context.WithCancel(context.Background())
	return &Work{ctx: ctx, cancel: cancel}
}

// Go runs fn in a goroutine with a context that Close cancels.
func (b *Work) Go(fn func(ctx context.Context)) {
	b.wg.Go(func() { fn(b.ctx) })
}

// Close cancels the work in progress and waits for it to return.
func (b *Work) Close() {
	b.cancel()
	b.wg.Wait()
}

// Retry runs step until it reports that nothing is left to do, or until
// ctx ends. A failed step is logged, as what with attrs, and run again
// after a pause that doubles from 100 ms up to 10 s.
func Retry(ctx context.Context, log *slog.Logger, what string, step func(ctx context.Context) (more bool, err error), attrs ...any) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		more, err := step(ctx)
		if err == nil {
			if !more {
				return
			}
			backoff = 100 * time.Millisecond
			continue
		}
		log.Warn(what, append([]any{"err", err, "retry_in", backoff}, attrs...)...)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(2*backoff, 10*time.Second)
	}
}
