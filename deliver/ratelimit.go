package deliver

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// RateBuckets is what a store shared by several processes offers so that
// a webhook's rate limit holds across all of them (storepg): token buckets
// in the database, from which each engine takes what its claims need.
// Without it, as on SQLite, whose one process is the only one delivering,
// each engine keeps its own limiter.
type RateBuckets interface {
	TakeTokens(ctx context.Context, reqs []store.TokenRequest) (map[string]int, error)
}

// tokenLife is how long tokens taken from a shared bucket may be spent.
// Tokens kept longer would let the engine send, on top of what the bucket
// grants over a span, what it took before the span began: the limit holds
// across processes within rate × tokenLife.
const tokenLife = 200 * time.Millisecond

// tokenStock is what an engine took of a webhook's shared bucket.
type tokenStock struct {
	n     int       // tokens left to spend
	until time.Time // when they lapse
	// next is when the last delivery turned down for want of tokens was
	// told to come back; the next one comes back a token's time later.
	next time.Time
}

// limiter is a webhook's rate limit held by this process alone.
type limiter struct {
	perSecond int
	*rate.Limiter
}

// burst is how many deliveries a rate-limited webhook may be sent at once.
func burst(perSecond int) int { return max(1, perSecond/10) }

// allow applies a webhook's rate limit: it reports whether a delivery may
// start now, or when to try it again. e.mu is held.
func (e *Engine) allow(w *hookd.Webhook, now time.Time) (time.Time, bool) {
	if w.RateLimit <= 0 {
		delete(e.limiters, w.ID)
		delete(e.stock, w.ID)
		return time.Time{}, true
	}
	if e.buckets != nil {
		return e.spend(w, now)
	}
	l := e.limiters[w.ID]
	if l == nil || l.perSecond != w.RateLimit {
		l = &limiter{perSecond: w.RateLimit, Limiter: rate.NewLimiter(rate.Limit(w.RateLimit), burst(w.RateLimit))}
		e.limiters[w.ID] = l
	}
	r := l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return now.Add(d), false
	}
	return time.Time{}, true
}

// spend takes one of the tokens the engine holds for a webhook. Without
// one, the delivery is told to come back a token's time after the last one
// so told, so that deliveries turned down come due again at the webhook's
// rate rather than all at once. e.mu is held.
func (e *Engine) spend(w *hookd.Webhook, now time.Time) (time.Time, bool) {
	s := e.stock[w.ID]
	if s == nil {
		s = &tokenStock{}
		e.stock[w.ID] = s
	}
	if s.n > 0 && now.Before(s.until) {
		s.n--
		return time.Time{}, true
	}
	s.n = 0
	if s.next.Before(now) {
		s.next = now
	}
	s.next = s.next.Add(time.Duration(float64(time.Second) / float64(w.RateLimit)))
	return s.next, false
}

// takeTokens takes from the shared buckets, before the claimed jobs are
// admitted, the tokens that their rate-limited webhooks need beyond what
// the engine holds. Webhooks without a limit cost nothing here. A store
// that fails leaves the engine without tokens: the deliveries are handed
// back and tried again, never sent over the limit.
func (e *Engine) takeTokens(ctx context.Context, jobs []*store.Job) {
	if e.buckets == nil {
		return
	}
	var reqs []store.TokenRequest
	var index map[string]int // made for the first rate-limited job
	for _, j := range jobs {
		w := j.Webhook
		if w == nil || w.RateLimit <= 0 {
			continue
		}
		if index == nil {
			index = map[string]int{}
		}
		i, ok := index[w.ID]
		if !ok {
			i = len(reqs)
			index[w.ID] = i
			reqs = append(reqs, store.TokenRequest{WebhookID: w.ID, PerSecond: float64(w.RateLimit), Burst: float64(burst(w.RateLimit))})
		}
		reqs[i].Want++
	}
	if len(reqs) == 0 {
		return
	}
	now := e.cfg.Now()
	e.mu.Lock()
	wanted := reqs[:0]
	for _, r := range reqs {
		if s := e.stock[r.WebhookID]; s != nil && now.Before(s.until) {
			r.Want -= s.n
		}
		if r.Want > 0 {
			wanted = append(wanted, r)
		}
	}
	e.mu.Unlock()
	if len(wanted) == 0 {
		return
	}
	got, err := e.buckets.TakeTokens(ctx, wanted)
	if err != nil {
		e.log.Warn("take rate-limit tokens", "err", err, "webhooks", len(wanted))
		return
	}
	now = e.cfg.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, n := range got {
		if n <= 0 {
			continue
		}
		s := e.stock[id]
		if s == nil {
			s = &tokenStock{}
			e.stock[id] = s
		}
		if !now.Before(s.until) {
			s.n = 0
		}
		s.n += n
		s.until = now.Add(tokenLife)
	}
}
