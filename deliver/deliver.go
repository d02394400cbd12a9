// Package deliver is hookd's delivery engine. A dispatcher claims due
// deliveries from the store in batches, a fixed pool of workers signs and
// POSTs them through the guarded egress client, and a recorder writes the
// attempts back in batches (group commit), scheduling retries per the app's
// profile.
//
// A claim is a lease: if the process dies before the attempt is recorded,
// the lease runs out and the delivery is due again, in this process after a
// restart or in another one sharing the database. Delivery is therefore at
// least once; every attempt of one event carries the same webhook-id so that
// receivers can drop duplicates.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"go.opentelemetry.io/otel/trace"
)

// DefaultWorkers is how many attempts an engine runs at once unless told.
const DefaultWorkers = 256

// Store is what the engine needs of the storage seam.
type Store interface {
	ClaimDue(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error)
	RecordAttempts(ctx context.Context, results []*store.AttemptResult) ([]hookd.Notice, error)
	Defer(ctx context.Context, owner string, deferrals []store.Deferral) error
	NextDue(ctx context.Context) (time.Time, bool, error)
}

// Notifier hears about disabled webhooks, exhausted deliveries and
// recovered webhooks.
type Notifier interface {
	Notify(ctx context.Context, notices []hookd.Notice)
}

// Observer watches attempts once they are recorded, for metrics. Recorded
// runs on the recorder's goroutine after each committed batch, so it must
// be quick and must not keep the batch.
type Observer interface {
	Recorded(batch []*store.AttemptResult)
}

// Config tunes the engine. Zero fields take the defaults noted.
type Config struct {
	// Owner names this engine's leases; it must differ between processes
	// that share a database. Required.
	Owner string
	// Workers is how many attempts run at once; 0 means DefaultWorkers.
	Workers int
	// PerWebhook caps the attempts in flight to one webhook, so that a
	// slow endpoint cannot take every worker; 0 means an eighth of the
	// workers. (See share.go.)
	PerWebhook int
	// PerApp caps the attempts in flight of one app, whatever they go to,
	// so that one app's many slow endpoints cannot take every worker; 0
	// means a quarter of the workers, and never fewer than PerWebhook
	// and PerHost.
	PerApp int
	// PerHost caps the attempts in flight to one host (its name,
	// without the port) of deliveries without a webhook: one-off
	// destinations and sources' forwards, whichever apps they are of;
	// 0 means an eighth of the workers.
	PerHost int
	// Timeout is the client's request timeout, used to size leases;
	// 0 means 15s.
	Timeout time.Duration
	// PollInterval is the longest the dispatcher sleeps when idle; 0 means 1s.
	PollInterval time.Duration
	// RetryAfterCap bounds how long a Retry-After answer can delay a
	// retry; 0 means 1h.
	RetryAfterCap time.Duration
	// AutoDisableAge disables a webhook that has seen nothing but
	// failures for this long; 0 means 5 days, negative never.
	AutoDisableAge time.Duration
	// RecordBudget bounds how long the recorder keeps writing one batch
	// of attempts while the store takes none of it (down, or its disk
	// full); then the attempts are given up and their deliveries tried
	// again when their leases run out. 0 means 2m.
	RecordBudget time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand returns uniform numbers in [0,1) for jitter; nil means math/rand/v2.
	Rand func() float64
	// Observer is told of recorded attempts; nil means none.
	Observer Observer
	// Tracer makes a client span of every attempt; nil makes none.
	Tracer trace.Tracer
	// Relay carries listen webhooks' attempts; nil hands them back
	// unattempted (see relay.go).
	Relay Relay
	// Buckets hold webhooks' rate limits across every process sharing
	// the store (see ratelimit.go); nil keeps each limit in this process
	// alone, which is right where it is the only one delivering.
	Buckets RateBuckets
}

// Engine delivers. Create it with New and run it with Run.
type Engine struct {
	store    Store
	client   *http.Client
	notifier Notifier
	log      *slog.Logger
	cfg      Config
	leaseFor time.Duration

	wake   chan struct{}
	jobs   chan *store.Job // to the workers; never blocks a sender
	freed  chan struct{}   // signalled when an attempt ends
	opened chan struct{}   // signalled when a full webhook has room again

	mu       sync.Mutex
	running  bool                   // from Run's start until it stops dispatching
	held     int                    // claimed or taken (see Offer), and not yet attempted
	lanes    map[string]*lane       // by webhook id or destination host (see share.go)
	apps     map[string]*appShare   // by app id (see share.go)
	limiters map[string]*limiter    // per webhook rate limits, without Buckets
	stock    map[string]*tokenStock // per webhook, what was taken of Buckets
}

// New returns an engine that delivers through client.
func New(st Store, client *http.Client, notifier Notifier, log *slog.Logger, cfg Config) (*Engine, error) {
	if st == nil || client == nil {
		return nil, errors.New("deliver: store and client are required")
	}
	if cfg.Owner == "" {
		return nil, errors.New("deliver: Owner is required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.PerWebhook <= 0 {
		cfg.PerWebhook = max(1, cfg.Workers/8)
	}
	if cfg.PerHost <= 0 {
		cfg.PerHost = max(1, cfg.Workers/8)
	}
	if cfg.PerApp <= 0 {
		cfg.PerApp = max(cfg.Workers/4, cfg.PerWebhook, cfg.PerHost)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.RetryAfterCap <= 0 {
		cfg.RetryAfterCap = time.Hour
	}
	if cfg.AutoDisableAge == 0 {
		cfg.AutoDisableAge = 5 * 24 * time.Hour
	}
	if cfg.AutoDisableAge < 0 {
		cfg.AutoDisableAge = 0
	}
	if cfg.RecordBudget <= 0 {
		cfg.RecordBudget = 2 * time.Minute
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "hookd"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{
		store: st, client: client, notifier: notifier, log: log, cfg: cfg,
		// A lease outlives the request's timeout by a margin that covers
		// recording it, so a live attempt is never claimed twice.
		leaseFor: cfg.Timeout + 30*time.Second,
		wake:     make(chan struct{}, 1),
		jobs:     make(chan *store.Job, capacity(cfg.Workers)),
		freed:    make(chan struct{}, 1),
		opened:   make(chan struct{}, 1),
		lanes:    map[string]*lane{},
		apps:     map[string]*appShare{},
		limiters: map[string]*limiter{},
		stock:    map[string]*tokenStock{},
	}, nil
}

// Wake tells the dispatcher that something may be due now.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then finishes the attempts in flight,
// records them, hands back what it claimed but did not start, and returns.
// Shutdown is bounded: the attempts in flight get the request timeout
// (and a margin) to finish, the recorder then RecordBudget to write them;
// what is left after that is given up, and its leases run out.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	e.running = true
	e.mu.Unlock()
	results := make(chan *store.AttemptResult, 2*e.cfg.Workers)
	var workers sync.WaitGroup
	for range e.cfg.Workers {
		workers.Go(func() { e.work(ctx, results) })
	}
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		e.record(ctx, results)
	}()

	e.dispatchUntilDone(ctx)

	e.mu.Lock()
	e.running = false // publishes hand nothing more (see Offer)
	var unstarted []store.Deferral
	now := e.cfg.Now()
	for _, l := range e.lanes {
		for _, j := range l.waiting {
			unstarted = append(unstarted, store.Deferral{DeliveryID: j.Delivery.ID, At: now})
			e.apps[j.Delivery.AppID].waiting--
		}
		l.waiting = nil
	}
	// Jobs no worker has taken yet are handed back too: shutdown finishes
	// the attempts in flight and starts no new ones.
drain:
	for {
		select {
		case j := <-e.jobs:
			unstarted = append(unstarted, store.Deferral{DeliveryID: j.Delivery.ID, At: now})
		default:
			break drain
		}
	}
	e.mu.Unlock()
	close(e.jobs)
	e.handBack(ctx, unstarted)
	if !waitAtMost(workers.Wait, e.cfg.Timeout+leaseMargin) {
		// A worker that outlives its request's timeout is stuck; its
		// results channel stays open, and the leases of what it held
		// run out.
		e.log.Error("shutdown: attempts still in flight past the request timeout; not waiting for them")
		return nil
	}
	close(results)
	if !waitAtMost(func() { <-recorded }, e.cfg.RecordBudget+leaseMargin) {
		e.log.Error("shutdown: attempts still being recorded past the record budget; not waiting for them")
	}
	return nil
}

// work runs attempts from e.jobs until it is closed, and hands their
// results to the recorder.
func (e *Engine) work(ctx context.Context, results chan<- *store.AttemptResult) {
	for j := range e.jobs {
		// A claim that waited so long that its lease could run out
		// during the attempt is handed back rather than risk a
		// second holder attempting it at the same time.
		if e.cfg.Now().Add(e.cfg.Timeout + leaseMargin).After(j.LeaseUntil) {
			e.handBack(ctx, []store.Deferral{{DeliveryID: j.Delivery.ID, At: e.cfg.Now()}})
			e.finish(ctx, j, 0)
			e.forget(1)
			continue
		}
		r := e.attemptSafely(j)
		e.finish(ctx, j, max(r.Attempt.Duration, time.Nanosecond))
		// What waits to be recorded no longer counts against
		// claiming: the results channel holds it back when
		// recording falls behind.
		e.forget(1)
		results <- r
	}
}

// waitAtMost runs wait and reports whether it returned within d.
func waitAtMost(wait func(), d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// dispatch claims due work while there is room for it. It holds up to
// four times as many deliveries as there are workers (see capacity), so
// that workers find the next attempt waiting when they finish one.
func (e *Engine) dispatch(ctx context.Context) {
	backoff := 50 * time.Millisecond
	last := 0 // how many the last claim took
	for ctx.Err() == nil {
		// A claim asks for twice what the last one took, at least as many
		// as there are workers: a claim keeps the room it asks for while
		// it is on its way (see reserve), and a quiet queue's claims
		// should leave publishes room to hand deliveries over.
		room := e.reserve(max(e.cfg.Workers, 2*last))
		claimed := 0
		if room > 0 {
			n, err := e.claim(ctx, room)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				e.log.Error("claim deliveries", "err", err)
				sleep(ctx, backoff)
				backoff = min(backoff*2, 5*time.Second)
				continue
			}
			backoff = 50 * time.Millisecond
			claimed, last = n, n
		}
		if room > 0 && claimed == room {
			continue // more may be due right away
		}
		e.idle(ctx, room == 0)
	}
}

// idle waits, after a claim that took less than it could, for a reason to
// claim again: a wake-up, the next delivery coming due, a full webhook
// having room again, and, when the engine holds all it may, room for more.
func (e *Engine) idle(ctx context.Context, full bool) {
	wait := e.cfg.PollInterval
	freed := e.freed
	if !full {
		// There is room: an attempt ending changes nothing, unless it
		// gives a full webhook room again (opened).
		freed = nil
		next, ok, err := e.store.NextDue(ctx)
		if err == nil && ok {
			wait = min(wait, max(next.Sub(e.cfg.Now()), 0))
		}
		if wait == 0 {
			// Due deliveries that the claim left: a full webhook's, or an
			// ordered webhook's queue behind its head. Claiming again at
			// once would find the same, so do not spin: a full webhook
			// signals when it has room again (opened), and an ordered
			// queue moves on once its head is recorded. Other webhooks'
			// deliveries beyond what the claim looked at wait at most
			// this long.
			wait = 20 * time.Millisecond
			if e.anyFull() {
				wait = min(e.cfg.PollInterval, 100*time.Millisecond)
			}
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-e.wake:
	case <-freed:
	case <-e.opened:
	case <-t.C:
	}
}

// reserve keeps up to limit of the room the engine has for a claim, so
// that publishes handing deliveries over (see Offer) cannot fill it while
// the claim is on its way, and returns how much it kept. claim gives it
// back.
func (e *Engine) reserve(limit int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	room := min(capacity(e.cfg.Workers)-e.held, limit)
	e.held += room
	return room
}

// capacity is how many deliveries an engine of so many workers holds at
// most, attempts in flight included. What one webhook holds beyond its
// attempts in flight must outlast a claim: a claim of a few hundred
// deliveries takes 20 to 90 ms on PostgreSQL under load, and with twice
// as many as workers held, a busy webhook's queue ran dry while the next
// claim was on its way (the dispatcher slept half of each second).
func capacity(workers int) int { return 4 * workers }

// claim leases up to limit deliveries, the room reserve kept, and starts
// or queues them; those that may not go now are deferred. It returns how
// many it claimed.
func (e *Engine) claim(ctx context.Context, limit int) (int, error) {
	now := e.cfg.Now()
	p := &store.ClaimParams{Owner: e.cfg.Owner, Now: now, Limit: limit, LeaseFor: e.leaseFor, Scan: 2 * limit}
	var kept *promises
	p.Full, kept = e.admission(now)
	p.Admit = kept.admit
	returned := false
	defer func() {
		if !returned { // the store panicked: give back the room kept
			e.mu.Lock()
			e.held -= limit
			kept.release()
			e.mu.Unlock()
		}
	}()
	claimed, err := e.store.ClaimDue(ctx, p)
	if err == nil {
		e.takeTokens(ctx, claimed) // none for webhooks without a rate limit
	}
	returned = true
	e.mu.Lock()
	e.held -= limit // admit counts what it holds
	kept.release()
	if err != nil {
		e.mu.Unlock()
		return 0, fmt.Errorf("claim: %w", err)
	}
	var deferrals []store.Deferral
	for _, j := range claimed {
		if d, ok := e.admit(j, now); !ok {
			deferrals = append(deferrals, d)
		}
	}
	e.mu.Unlock()
	e.handBack(ctx, deferrals)
	return len(claimed), nil
}

// handBack returns deliveries to the store, due again at the given times.
// Shutdown does not interrupt it; deferTimeout bounds it.
func (e *Engine) handBack(parent context.Context, deferrals []store.Deferral) {
	if len(deferrals) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), deferTimeout)
	defer cancel()
	if err := e.store.Defer(ctx, e.cfg.Owner, deferrals); err != nil {
		// The leases run out and the deliveries come due again.
		e.log.Warn("defer deliveries", "err", err, "count", len(deferrals))
	}
}

// deferTimeout bounds one hand-back of deliveries to the store.
const deferTimeout = 30 * time.Second

// leaseMargin is what an attempt must have left of its lease beyond the
// request timeout, for recording it.
const leaseMargin = 10 * time.Second

// forget drops n jobs that are over, recorded or handed back, from what
// the engine holds, making room for claims.
func (e *Engine) forget(n int) {
	e.mu.Lock()
	e.held -= n
	e.mu.Unlock()
	e.signalFreed()
}

// signalFreed tells a dispatcher waiting for room that there may be some.
func (e *Engine) signalFreed() {
	select {
	case e.freed <- struct{}{}:
	default:
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
