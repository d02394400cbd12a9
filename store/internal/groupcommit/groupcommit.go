// Package groupcommit runs concurrent calls in shared transactions, so
// that the publishes of many callers share one sync to disk. Both stores
// commit their publishes through it.
package groupcommit

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hookd/hookd/store"
)

// Request is one call waiting in a Committer.
type Request[P, R any] struct {
	Ctx    context.Context
	Params P
	// Result and Err are set by the commit function.
	Result R
	Err    error
	done   chan struct{}
}

// Config tunes a Committer. Zero fields take the defaults noted.
type Config struct {
	// Committers is how many groups commit at once; 0 means 1. A
	// database with one writer wants one; PostgreSQL gains from a few
	// working side by side.
	Committers int
	// Max bounds how many calls share a group; 0 means 64.
	Max int
	// Timeout bounds one group's commit, whatever its callers' deadlines;
	// 0 means 1m.
	Timeout time.Duration
	// Log hears of a commit that panicked; nil discards it.
	Log *slog.Logger
}

// Committer runs concurrent calls in shared transactions: each of its
// committers takes every call waiting when it is free (up to Max) and hands
// them to commit together, so that they share one sync to disk. commit must
// set each request's Result or Err, keeping one request's failure from
// undoing the others (a savepoint each).
//
// commit runs under a context of its own, which its callers hanging up
// does not cancel (one must not interrupt a transaction that others
// share) but which ends after Timeout. A commit that panics answers its
// group with an error and is logged; the committer goes on serving.
type Committer[P, R any] struct {
	queue  chan *Request[P, R]
	quit   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	cfg    Config
	commit func(ctx context.Context, group []*Request[P, R])
}

// New starts cfg.Committers goroutines that commit groups
// with commit.
func New[P, R any](cfg Config, commit func(ctx context.Context, group []*Request[P, R])) *Committer[P, R] {
	cfg.Committers = max(cfg.Committers, 1)
	if cfg.Max <= 0 {
		cfg.Max = 64
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	g := &Committer[P, R]{queue: make(chan *Request[P, R]), quit: make(chan struct{}), cfg: cfg, commit: commit}
	for range cfg.Committers {
		g.wg.Add(1)
		go g.run()
	}
	return g
}

// Do runs one call and waits for its group to commit.
func (g *Committer[P, R]) Do(ctx context.Context, p P) (R, error) {
	req := &Request[P, R]{Ctx: ctx, Params: p, done: make(chan struct{})}
	select {
	case g.queue <- req:
	case <-g.quit:
		var zero R
		return zero, store.ErrClosed
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
	<-req.done // the committer always answers
	return req.Result, req.Err
}

// Close stops the committer once the group in progress is answered.
func (g *Committer[P, R]) Close() {
	g.once.Do(func() {
		close(g.quit)
		g.wg.Wait()
	})
}

func (g *Committer[P, R]) run() {
	defer g.wg.Done()
	for {
		var first *Request[P, R]
		select {
		case first = <-g.queue:
		case <-g.quit:
			return
		}
		group := []*Request[P, R]{first}
	drain:
		for len(group) < g.cfg.Max {
			select {
			case r := <-g.queue:
				group = append(group, r)
			default:
				break drain
			}
		}
		g.commitGroup(group)
		for _, r := range group {
			close(r.done)
		}
	}
}

// commitGroup commits one group under a bounded context of its own. A
// panic fails the whole group: what the commit did before it is unknown,
// and its transaction is rolled back with the connection it held.
func (g *Committer[P, R]) commitGroup(group []*Request[P, R]) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(group[0].Ctx), g.cfg.Timeout)
	defer cancel()
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		g.cfg.Log.Error("group commit panicked", "panic", v, "calls", len(group), "stack", string(debug.Stack()))
		for _, r := range group {
			var zero R
			r.Result, r.Err = zero, fmt.Errorf("store: commit failed: %v", v)
		}
	}()
	g.commit(ctx, group)
}
