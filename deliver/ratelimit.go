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
	// lots are the tokens of each take still to be spent, in the order
	// they were taken, so each lapses tokenLife after its own take: a
	// later take must not keep an earlier one's tokens alive.
	lots []tokenLot
	// next is when the last delivery turned down for want of tokens was
	// told to come back; the next one comes back a token's time later.
	next time.Time
}

// tokenLot is what one take got: n tokens left to spend until then.
type tokenLot struct {
	n     int
	until time.Time
}

// live drops the lots that have lapsed or been spent, and returns how many
// tokens are left.
func (s *tokenStock) live(now time.Time) int {
	i := 0
	for i < len(s.lots) && (s.lots[i].n <= 0 || !now.Before(s.lots[i].until)) {
		i++
	}
	s.lots = s.lots[i:]
	n := 0
	for _, l := range s.lots {
		n += l.n
	}
	return n
}

// take spends a token, the one that lapses first, and reports whether
// there was one.
func (s *tokenStock) take(now time.Time) bool {
	if s.live(now) == 0 {
		return false
	}
	s.lots[0].n--
	return true
}

// add keeps n tokens taken now.
func (s *tokenStock) add(n int, now time.Time) {
	s.lots = append(s.lots, tokenLot{n: n, until: now.Add(tokenLife)})
}

// limiter is a webhook's rate limit held by this process alone.
type limiter struct {
	perSecond int
	*rate.Limiter
}

// burst is how many deliveries a rate-limited webhook may be sent at once.
func burst(perSecond int) int { return max(1, perSecond/10) }

// allow applies a webhook's rate limit: it reports whether a delivery may
// start now, or when to try it again. A webhook without a limit costs two
// map deletes, which find nothing unless its limit was just lifted. e.mu
// is held.
func (e *Engine) allow(w *hookd.Webhook, now time.Time) (time.Time, bool) {
	if w.RateLimit <= 0 {
		delete(e.limiters, w.ID)
		delete(e.stock, w.ID)
		return time.Time{}, true
	}
	if e.cfg.Buckets != nil {
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
	if s.take(now) {
		return time.Time{}, true
	}
	if s.next.Before(now) {
		s.next = now
	}
	s.next = s.next.Add(time.Duration(float64(time.Second) / float64(w.RateLimit)))
	return s.next, false
}

// takeTokens takes from the shared buckets, before claimed or handed jobs
// are admitted, the tokens that their rate-limited webhooks need beyond
// what the engine holds. Jobs of webhooks without a limit cost a look at
// their RateLimit here: no allocation, no lock, no query. A store that
// fails leaves the engine without tokens: the deliveries are handed back
// and tried again, never sent over the limit.
func (e *Engine) takeTokens(ctx context.Context, jobs []*store.Job) {
	if e.cfg.Buckets == nil {
		return
	}
	reqs := tokenRequests(jobs)
	if len(reqs) == 0 {
		return
	}
	wanted := e.beyondStock(reqs, e.cfg.Now())
	if len(wanted) == 0 {
		return
	}
	got, err := e.cfg.Buckets.TakeTokens(ctx, wanted)
	if err != nil {
		if ctx.Err() == nil { // a publish whose client left is no news
			e.log.Warn("take rate-limit tokens", "err", err, "webhooks", len(wanted))
		}
		return
	}
	e.stockUp(got, e.cfg.Now())
}

// tokenRequests counts the jobs of each rate-limited webhook. It returns
// nil, having allocated nothing, when none of the jobs has a limit.
func tokenRequests(jobs []*store.Job) []store.TokenRequest {
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
	return reqs
}

// beyondStock takes off each request the tokens the engine still holds
// for its webhook, and drops the requests that leave nothing to ask for.
// It reuses reqs.
func (e *Engine) beyondStock(reqs []store.TokenRequest, now time.Time) []store.TokenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	wanted := reqs[:0]
	for _, r := range reqs {
		if s := e.stock[r.WebhookID]; s != nil {
			r.Want -= s.live(now)
		}
		if r.Want > 0 {
			wanted = append(wanted, r)
		}
	}
	return wanted
}

// stockUp adds the tokens taken, by webhook id, to what the engine holds;
// they lapse tokenLife from now.
func (e *Engine) stockUp(got map[string]int, now time.Time) {
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
		s.add(n, now)
	}
}
