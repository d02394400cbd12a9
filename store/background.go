package store

import (
	"context"
	"sync"
)

// Background runs a store's work that outlives the call that started it
// (the rest of a large status change, say), and stops it when the store
// closes.
type Background struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewBackground returns a Background ready to run work.
func NewBackground() *Background {
	ctx, cancel := context.WithCancel(context.Background())
	return &Background{ctx: ctx, cancel: cancel}
}

// Go runs fn in a goroutine with a context that Close cancels.
func (b *Background) Go(fn func(ctx context.Context)) {
	b.wg.Go(func() { fn(b.ctx) })
}

// Close cancels the work in progress and waits for it to return.
func (b *Background) Close() {
	b.cancel()
	b.wg.Wait()
}
