package store

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by calls on a closed store.
var ErrClosed = errors.New("store: closed")

// GroupRequest is one call waiting in a GroupCommitter.
type GroupRequest[P, R any] struct {
	Ctx    context.Context
	Params P
	// Result and Err are set by the commit function.
	Result R
	Err    error
	done   chan struct{}
}

// GroupCommitter runs concurrent calls in shared transactions: each of its
// committers takes every call waiting when it is free (up to max) and hands
// them to commit together, so that they share one sync to disk. commit must
// set each request's Result or Err, keeping one request's failure from
// undoing the others (a savepoint each). A database with one writer wants
// one committer; PostgreSQL gains from a few working side by side.
type GroupCommitter[P, R any] struct {
	queue  chan *GroupRequest[P, R]
	quit   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	max    int
	commit func(group []*GroupRequest[P, R])
}

// NewGroupCommitter starts committers goroutines that group up to groupMax
// calls each.
func NewGroupCommitter[P, R any](committers, groupMax int, commit func(group []*GroupRequest[P, R])) *GroupCommitter[P, R] {
	g := &GroupCommitter[P, R]{queue: make(chan *GroupRequest[P, R]), quit: make(chan struct{}), max: groupMax, commit: commit}
	for range max(committers, 1) {
		g.wg.Add(1)
		go g.run()
	}
	return g
}

// Do runs one call and waits for its group to commit.
func (g *GroupCommitter[P, R]) Do(ctx context.Context, p P) (R, error) {
	req := &GroupRequest[P, R]{Ctx: ctx, Params: p, done: make(chan struct{})}
	select {
	case g.queue <- req:
	case <-g.quit:
		var zero R
		return zero, ErrClosed
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
	<-req.done // the committer always answers
	return req.Result, req.Err
}

// Close stops the committer once the group in progress is answered.
func (g *GroupCommitter[P, R]) Close() {
	g.once.Do(func() {
		close(g.quit)
		g.wg.Wait()
	})
}

func (g *GroupCommitter[P, R]) run() {
	defer g.wg.Done()
	for {
		var first *GroupRequest[P, R]
		select {
		case first = <-g.queue:
		case <-g.quit:
			return
		}
		group := []*GroupRequest[P, R]{first}
	drain:
		for len(group) < g.max {
			select {
			case r := <-g.queue:
				group = append(group, r)
			default:
				break drain
			}
		}
		g.commit(group)
		for _, r := range group {
			close(r.done)
		}
	}
}
