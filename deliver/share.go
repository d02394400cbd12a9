package deliver

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/hookd/hookd/store"
)

// Fair shares. Every attempt counts against two caps: its lane's — its
// webhook's (PerWebhook), or, for a delivery without a webhook, its
// destination host's (PerHost) — and its app's (PerApp). A delivery whose
// lane or app has no slot free waits in its lane, so that a slot freed goes
// to what waited longest for it; what does not fit there either is handed
// back to the store, due again after about as long as the lane's attempts
// take. How much may wait is bounded per lane (waitRoom) and per app
// (appHold), so that neither a slow endpoint nor an app with many of them
// can fill the engine: another app's deliveries always find room.

// lane is one destination's share of the engine.
type lane struct {
	webhook  bool         // a webhook's lane, which claims know by its id
	app      string       // a webhook's app; "" for a host's, which apps share
	cap      int          // attempts in flight at most
	inFlight int          // attempts handed to workers and not yet ended
	waiting  []*store.Job // claimed, waiting for a slot of the lane or of their app
	// pace is a moving average of the lane's attempt durations; 0 until
	// one ends.
	pace time.Duration
	// lastEnd is when an attempt of the lane last ended, or, before one
	// has, when the engine began holding its deliveries.
	lastEnd time.Time
	pushed  time.Time // when a claim last pushed its deliveries back
	full    bool      // claims leave its deliveries alone (see admission)
}

// appShare is one app's share of the engine.
type appShare struct {
	inFlight int
	waiting  int             // its deliveries waiting in lanes
	blocked  map[string]bool // lanes whose first waiting delivery, of this app, waits for an app slot
}

// block notes that lane key's first waiting delivery waits for a slot of
// the app.
func (a *appShare) block(key string) {
	if a.blocked == nil {
		a.blocked = map[string]bool{}
	}
	a.blocked[key] = true
}

// hostLanePrefix starts the key of a host's lane; webhook ids, the keys of
// webhooks' lanes, never contain a space.
const hostLanePrefix = "host "

// laneOf returns the key of j's lane: its webhook's id, or its
// destination host.
func laneOf(j *store.Job) string {
	if j.Webhook != nil {
		return j.Webhook.ID
	}
	return hostLanePrefix + hostOf(j.Delivery.URL)
}

// hostOf returns the host name of a URL, lower-cased, without the port:
// one server's ports share its capacity.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Hostname())
}

// laneFor returns j's lane, made if the engine holds nothing of it. e.mu
// is held.
func (e *Engine) laneFor(key string, j *store.Job, now time.Time) *lane {
	l := e.lanes[key]
	if l == nil {
		l = &lane{cap: e.cfg.PerHost, lastEnd: now}
		if j.Webhook != nil {
			l.webhook, l.app, l.cap = true, j.Delivery.AppID, e.cfg.PerWebhook
		}
		e.lanes[key] = l
	}
	return l
}

// appFor returns an app's share, made if the engine holds nothing of it.
// e.mu is held.
func (e *Engine) appFor(id string) *appShare {
	a := e.apps[id]
	if a == nil {
		a = &appShare{}
		e.apps[id] = a
	}
	return a
}

// dropIdle forgets a lane and an app that hold nothing, so that the maps
// stay small. e.mu is held.
func (e *Engine) dropIdle(key string, l *lane, appID string, a *appShare) {
	if l.inFlight <= 0 && len(l.waiting) == 0 && e.lanes[key] == l {
		delete(e.lanes, key)
	}
	if a.inFlight <= 0 && a.waiting == 0 && e.apps[appID] == a {
		delete(e.apps, appID)
	}
}

// waitRoom is how many deliveries may wait in a lane. One whose attempts
// end quickly gets three times as many as there are workers, so that its
// workers find the next attempt ready while the next claim is on its way.
// One whose attempts take a second or more, or none of whose attempts has
// ended for a second, gets one round of its slots: more would only keep
// room from other lanes for as long as its attempts hang.
func (e *Engine) waitRoom(l *lane, now time.Time) int {
	if l.pace > 0 && l.pace < time.Second && now.Sub(l.lastEnd) < time.Second {
		return 3 * e.cfg.Workers
	}
	return l.cap
}

// appHold is how many deliveries one app may have in the engine, in
// flight and waiting: a worker's worth of room is always left to the
// other apps.
func (e *Engine) appHold() int {
	return capacity(e.cfg.Workers) - e.cfg.Workers
}

// backoff is how long a delivery that found no room in its lane is handed
// back for: about as long as one of the lane's attempts takes, or has
// been taking, so that it is not claimed and handed back again sooner,
// crowding out other lanes' claims.
func (e *Engine) backoff(l *lane, now time.Time) time.Duration {
	return min(max(l.pace, now.Sub(l.lastEnd), 100*time.Millisecond), 30*time.Second)
}

// admit starts a claimed job, queues it in its lane until the lane and its
// app have a slot, or, when there is no room to wait or its rate limit
// says later, returns the deferral that hands it back. e.mu is held.
func (e *Engine) admit(j *store.Job, now time.Time) (store.Deferral, bool) {
	if d, ok := e.elsewhere(j, now); ok {
		return d, false // a listen webhook whose stream another process holds
	}
	key, appID := laneOf(j), j.Delivery.AppID
	l, a := e.laneFor(key, j, now), e.appFor(appID)
	if l.inFlight >= l.cap || a.inFlight >= e.cfg.PerApp {
		if len(l.waiting) < e.waitRoom(l, now) && a.inFlight+a.waiting < e.appHold() {
			l.waiting = append(l.waiting, j)
			a.waiting++
			e.held++
			if l.inFlight < l.cap {
				a.block(key)
			}
			e.markFull(l, a, now)
			return store.Deferral{}, true
		}
		d := store.Deferral{DeliveryID: j.Delivery.ID, At: now.Add(e.backoff(l, now))}
		e.dropIdle(key, l, appID, a)
		return d, false
	}
	if j.Webhook != nil {
		if at, ok := e.allow(j.Webhook, now); !ok {
			e.dropIdle(key, l, appID, a)
			return store.Deferral{DeliveryID: j.Delivery.ID, At: at}, false
		}
	}
	e.start(j, l, a, now)
	return store.Deferral{}, true
}

// start hands a job to the workers. e.mu is held; the channel has room
// for every job the engine may hold, so the send never blocks.
func (e *Engine) start(j *store.Job, l *lane, a *appShare, now time.Time) {
	e.held++
	l.inFlight++
	a.inFlight++
	e.markFull(l, a, now)
	e.jobs <- j
}

// markFull notes that a webhook's lane that holds all it may, or whose
// app does, is full (see admission). e.mu is held.
func (e *Engine) markFull(l *lane, a *appShare, now time.Time) {
	if l.webhook && (len(l.waiting) >= e.waitRoom(l, now) || a.inFlight+a.waiting >= e.appHold()) {
		l.full = true
	}
}

// reopen ends a lane's fullness once it has shed half of what may wait in
// it and its app has room, so that claims come for many of its
// deliveries at a time, not for each one as a slot frees; it reports
// whether it did. e.mu is held.
func (e *Engine) reopen(l *lane, a *appShare, now time.Time) bool {
	if !l.full || len(l.waiting) > e.waitRoom(l, now)/2 || (a != nil && a.inFlight+a.waiting >= e.appHold()) {
		return false
	}
	l.full = false
	return true
}

// anyFull reports whether some webhook has no room (see admission).
func (e *Engine) anyFull() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.lanes {
		if l.full {
			return true
		}
	}
	return false
}

// finish frees the slots of a job's lane and app when its attempt has
// ended (taking took) or it was handed back (took 0), and starts what
// waited longest for them: first in its lane, then in the app's lanes
// that wait for an app slot. The caps thus count requests in flight, not
// attempts waiting to be recorded.
func (e *Engine) finish(ctx context.Context, j *store.Job, took time.Duration) {
	now := e.cfg.Now()
	key, appID := laneOf(j), j.Delivery.AppID
	var deferrals []store.Deferral
	e.mu.Lock()
	l, a := e.lanes[key], e.apps[appID]
	l.inFlight--
	a.inFlight--
	l.lastEnd = now
	if took > 0 {
		l.pace = (3*l.pace + took) / 4
	}
	deferrals = e.startWaiting(key, l, now, deferrals)
	for k := range a.blocked {
		if a.inFlight >= e.cfg.PerApp {
			break
		}
		delete(a.blocked, k) // startWaiting blocks it again if need be
		if bl := e.lanes[k]; bl != nil {
			deferrals = e.startWaiting(k, bl, now, deferrals)
			if e.reopen(bl, a, now) {
				e.signalOpened()
			}
		}
	}
	if e.reopen(l, e.apps[l.app], now) {
		e.signalOpened()
	}
	e.dropIdle(key, l, appID, a)
	e.mu.Unlock()
	e.handBack(ctx, deferrals)
}

// startWaiting starts the deliveries that waited longest in a lane while
// the lane and their apps have slots for them. e.mu is held.
func (e *Engine) startWaiting(key string, l *lane, now time.Time, deferrals []store.Deferral) []store.Deferral {
	for len(l.waiting) > 0 && l.inFlight < l.cap {
		j := l.waiting[0]
		a := e.apps[j.Delivery.AppID]
		if a.inFlight >= e.cfg.PerApp {
			a.block(key)
			break
		}
		l.waiting[0] = nil
		l.waiting = l.waiting[1:]
		a.waiting--
		e.held-- // admit counts it again
		if d, ok := e.admit(j, now); !ok {
			deferrals = append(deferrals, d)
		}
	}
	return deferrals
}

// signalOpened tells a waiting dispatcher that a full webhook has room
// again.
func (e *Engine) signalOpened() {
	select {
	case e.opened <- struct{}{}:
	default:
	}
}

// admission returns what a claim must know of webhooks' room: the
// webhooks that have none, and an Admit that takes a webhook's deliveries
// while it and its app have room for them. A full webhook's due
// deliveries are left in place, but where they hide other webhooks'
// deliveries behind them a claim that looks only so far would never reach
// those; so, once in a while, they are pushed back for about as long as
// one of its attempts takes. Deliveries without a webhook are all taken:
// the store cannot tell their hosts apart, and admit queues or hands back
// what their host has no room for.
func (e *Engine) admission(now time.Time) (map[string]time.Time, func(webhookID string) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	full := map[string]time.Time{}
	for id, l := range e.lanes {
		if !l.webhook {
			continue
		}
		a := e.apps[l.app]
		e.markFull(l, a, now)
		e.reopen(l, a, now)
		if !l.full {
			continue
		}
		full[id] = time.Time{}
		wait := e.backoff(l, now)
		if now.Sub(l.pushed) >= max(wait, time.Second) {
			full[id], l.pushed = now.Add(wait), now
		}
	}
	taken, takenByApp := map[string]int{}, map[string]int{}
	return full, func(id string) bool {
		if id == "" {
			return true
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		l := e.lanes[id]
		if l == nil {
			// Nothing held: a round of slots, and as many waiting.
			if taken[id] >= 2*e.cfg.PerWebhook {
				return false
			}
			taken[id]++
			return true
		}
		a := e.apps[l.app]
		room := max(0, l.cap-l.inFlight) + e.waitRoom(l, now) - len(l.waiting)
		if taken[id] >= room || a.inFlight+a.waiting+takenByApp[l.app] >= e.appHold() {
			return false
		}
		taken[id]++
		takenByApp[l.app]++
		return true
	}
}
