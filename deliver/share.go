package deliver

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd/store"
)

// Fair shares. Every attempt counts against two caps: its lane's — its
// webhook's (PerWebhook), or, for a delivery without a webhook, its
// destination host's (PerHost) — and its app's (PerApp). A delivery whose
// lane or app has no slot free waits in its lane, so that a slot freed
// goes to what waited longest for it. How much may wait is bounded per
// lane by the lane's speed (waitRoom) and per app (appHold), so that
// neither a hanging endpoint nor an app with many of them can fill the
// engine: another app's deliveries always find room.
//
// Claims and publishes ask before they take (admission, offer.Take), by
// the same counts that admit applies, so that the engine never leases a
// webhook's delivery only to hand it back. Deliveries without a webhook
// are the exception: a claim cannot pass over a host's rows as it passes
// over a full webhook's (see store.ClaimParams.Full), so they are taken,
// and those their host has no room for are handed back for about as long
// as the host's attempts take (backoff), which moves them out of the
// claims' way.

// lane is one destination's share of the engine.
type lane struct {
	key      string
	webhook  bool   // a webhook's lane, which claims know by its id
	appID    string // a webhook's app; "" for a host's, which apps share
	cap      int    // attempts in flight at most
	inFlight int    // attempts handed to workers and not yet ended
	// waiting are claimed or handed over, in due order, waiting for a
	// slot of the lane or of their app.
	waiting []*store.Job
	// pace is a moving average of the lane's attempt durations; 0 until
	// one ends.
	pace time.Duration
	// lastEnd is when an attempt of the lane last ended or, if the lane
	// has held nothing since, when it began holding deliveries again: an
	// idle lane is not a hanging one.
	lastEnd time.Time
	pushed  time.Time // when a claim last pushed its deliveries back
	full    bool      // claims leave its deliveries alone (see admission)
	// promised is the room kept for deliveries a claim or a publish is
	// taking and has not yet handed over (see promises).
	promised int
}

func (l *lane) held() int { return l.inFlight + len(l.waiting) + l.promised }

// appShare is one app's share of the engine.
type appShare struct {
	inFlight int
	waiting  int             // its deliveries waiting in lanes
	promised int             // room kept for deliveries on their way (see promises)
	blocked  map[string]bool // lanes whose first waiting delivery waits for a slot of this app
}

// held is what the app holds; an app the engine holds nothing of, nil,
// holds 0.
func (a *appShare) held() int {
	if a == nil {
		return 0
	}
	return a.inFlight + a.waiting + a.promised
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

// laneKey returns the key of the lane of a delivery to webhookID, or, for
// one without a webhook, to rawURL.
func laneKey(webhookID, rawURL string) string {
	if webhookID != "" {
		return webhookID
	}
	return hostLanePrefix + hostOf(rawURL)
}

// laneOf returns the key of j's lane.
func laneOf(j *store.Job) string {
	if j.Webhook != nil {
		return j.Webhook.ID
	}
	return laneKey("", j.Delivery.URL)
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

// laneFor returns the lane of key, made if the engine holds nothing of
// it: a webhook's lane, of appID, or a host's. e.mu is held.
func (e *Engine) laneFor(key string, webhook bool, appID string, now time.Time) *lane {
	l := e.lanes[key]
	if l == nil {
		l = &lane{key: key, cap: e.cfg.PerHost}
		if webhook {
			l.webhook, l.appID, l.cap = true, appID, e.cfg.PerWebhook
		}
		e.lanes[key] = l
	}
	if l.held() == 0 {
		l.lastEnd = now
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

// dropIdle forgets an app that holds nothing, so that the map stays
// small; an idle lane is kept for a while, for its pace (see
// forgetIdleLanes). e.mu is held.
func (e *Engine) dropIdle(appID string, a *appShare) {
	if a.held() == 0 && e.apps[appID] == a {
		delete(e.apps, appID)
	}
}

// laneMemory is how long a lane that holds nothing is remembered. Its
// pace tells a webhook that was fast a moment ago from a new one: a lane
// forgotten as soon as it was idle came back as new, with one round of
// slots waiting, and a busy webhook whose claims emptied it for an
// instant was held to that.
const laneMemory = time.Minute

// forgetIdleLanes drops the lanes that have held nothing for laneMemory.
// e.mu is held.
func (e *Engine) forgetIdleLanes(now time.Time) {
	for key, l := range e.lanes {
		if l.held() == 0 && now.Sub(l.lastEnd) > laneMemory {
			delete(e.lanes, key)
		}
	}
}

// fast reports whether a lane's attempts end in under a second and one
// ended in the last second.
func fast(l *lane, now time.Time) bool {
	return l.pace > 0 && l.pace < time.Second && now.Sub(l.lastEnd) < time.Second
}

// waitRoom is how many deliveries may wait in a lane. A fast one gets
// three times as many as there are workers, so that its workers find the
// next attempt ready while the next claim is on its way (a claim takes up
// to 90 ms on PostgreSQL under load). Any other — slow, hanging, or new —
// gets one round of its slots: more would only keep room from other lanes
// for as long as its attempts hang.
func (e *Engine) waitRoom(l *lane, now time.Time) int {
	if fast(l, now) {
		return 3 * e.cfg.Workers
	}
	return l.cap
}

// laneHold is how many deliveries a lane may hold, in flight and waiting.
func (e *Engine) laneHold(l *lane, now time.Time) int {
	return l.cap + e.waitRoom(l, now)
}

// appHold is how many deliveries one app may hold, in flight and waiting:
// a worker's worth of the engine's room is always left to the other apps.
func (e *Engine) appHold() int {
	return capacity(e.cfg.Workers) - e.cfg.Workers
}

// backoff is how long a delivery that found no room in its lane is handed
// back for: about as long as one of the lane's attempts takes, or has
// been taking, so that it is not claimed and handed back again sooner,
// crowding out other lanes' claims.
func backoff(l *lane, now time.Time) time.Duration {
	return min(max(l.pace, now.Sub(l.lastEnd), 100*time.Millisecond), 30*time.Second)
}

// admit starts a claimed or handed-over job, queues it in its lane until
// the lane and its app have a slot, or, when there is no room to wait or
// its rate limit says later, returns the deferral that hands it back.
// e.mu is held.
func (e *Engine) admit(j *store.Job, now time.Time) (store.Deferral, bool) {
	if d, ok := e.elsewhere(j, now); ok {
		return d, false // a listen webhook whose stream another process holds
	}
	appID := j.Delivery.AppID
	l, a := e.laneFor(laneOf(j), j.Webhook != nil, appID, now), e.appFor(appID)
	// What waits in a lane with a free slot waits for its app (see
	// startWaiting): this delivery passes it only if of another app.
	if l.inFlight < l.cap && a.inFlight < e.cfg.PerApp {
		if j.Webhook != nil {
			if at, ok := e.allow(j.Webhook, now); !ok {
				e.dropIdle(appID, a)
				return store.Deferral{DeliveryID: j.Delivery.ID, At: at}, false
			}
		}
		e.start(j, l, a, now)
		return store.Deferral{}, true
	}
	if l.held() < e.laneHold(l, now) && a.held() < e.appHold() {
		l.waiting = append(l.waiting, j)
		a.waiting++
		e.held++
		if l.inFlight < l.cap {
			a.block(l.key)
		}
		e.markFull(l, a, now)
		return store.Deferral{}, true
	}
	d := store.Deferral{DeliveryID: j.Delivery.ID, At: now.Add(backoff(l, now))}
	e.dropIdle(appID, a)
	return d, false
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
	if l.webhook && (l.held() >= e.laneHold(l, now) || a.held() >= e.appHold()) {
		l.full = true
	}
}

// reopen ends a lane's fullness once it has shed half of what it may hold
// and its app has room, so that claims come for many of its deliveries at
// a time, not for each one as a slot frees; it reports whether it did.
// e.mu is held.
func (e *Engine) reopen(l *lane, now time.Time) bool {
	if !l.full || l.held() > e.laneHold(l, now)/2 {
		return false
	}
	if e.apps[l.appID].held() >= e.appHold() {
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
// ended after took, or it was handed back (took 0), and starts what
// waited longest for them (see startWaiting). The caps thus count
// requests in flight, not attempts waiting to be recorded.
func (e *Engine) finish(ctx context.Context, j *store.Job, took time.Duration) {
	now := e.cfg.Now()
	appID := j.Delivery.AppID
	e.mu.Lock()
	l, a := e.lanes[laneOf(j)], e.apps[appID]
	l.inFlight--
	a.inFlight--
	l.lastEnd = now
	if took > 0 {
		l.pace = (3*l.pace + took) / 4
	}
	deferrals := e.startWaiting(l, a, now)
	if e.reopen(l, now) {
		e.signalOpened()
	}
	e.dropIdle(appID, a)
	e.mu.Unlock()
	e.handBack(ctx, deferrals)
}

// startWaiting starts waiting deliveries while slots are free, after an
// attempt of lane l and app a ended: l's own, and those of a's lanes that
// wait for a slot of a (a.blocked), the one that came due first each
// time, so that a lane blocked on its app does not wait behind a busy
// sibling whose slot keeps freeing. What it hands back (a listen
// webhook's stream gone elsewhere, a rate limit) it returns. e.mu is held.
func (e *Engine) startWaiting(l *lane, a *appShare, now time.Time) []store.Deferral {
	var deferrals []store.Deferral
	for {
		var best *lane
		bestAt := -1
		consider := func(c *lane) {
			if i := e.startable(c); i >= 0 && (best == nil || dueOf(c.waiting[i]).Before(dueOf(best.waiting[bestAt]))) {
				best, bestAt = c, i
			}
		}
		consider(l)
		for key := range a.blocked {
			if bl := e.lanes[key]; bl != nil && bl != l {
				consider(bl)
			}
		}
		if best == nil {
			break
		}
		if d, ok := e.startAt(best, bestAt, now); !ok {
			deferrals = append(deferrals, d)
		}
	}
	// Whatever still waits with its lane's slot free waits for its app.
	blocked := slices.Collect(maps.Keys(a.blocked))
	clear(a.blocked)
	for _, key := range blocked {
		if bl := e.lanes[key]; bl != nil {
			e.blockOnApps(bl)
			if bl != l && e.reopen(bl, now) {
				e.signalOpened()
			}
		}
	}
	e.blockOnApps(l)
	return deferrals
}

// startable returns the index of the first delivery waiting in l that l
// and its app have slots for, or -1. In a webhook's lane every delivery
// is of one app, so that is the first or none; a host's lane is shared by
// apps, and one app at its cap does not hold the others up. e.mu is held.
func (e *Engine) startable(l *lane) int {
	if l.inFlight >= l.cap {
		return -1
	}
	for i, j := range l.waiting {
		if e.apps[j.Delivery.AppID].inFlight < e.cfg.PerApp {
			return i
		}
		if l.webhook {
			break
		}
	}
	return -1
}

// blockOnApps notes, for each app whose deliveries wait in l while l has a
// free slot, that l waits for that app. e.mu is held.
func (e *Engine) blockOnApps(l *lane) {
	if l.inFlight >= l.cap {
		return
	}
	for _, j := range l.waiting {
		e.apps[j.Delivery.AppID].block(l.key)
		if l.webhook {
			break
		}
	}
}

// startAt takes the delivery at index i out of l's waiting queue and
// starts it, or returns the deferral that hands it back when its listen
// stream is elsewhere or its rate limit says later. e.mu is held.
func (e *Engine) startAt(l *lane, i int, now time.Time) (store.Deferral, bool) {
	j := l.waiting[i]
	a := e.apps[j.Delivery.AppID]
	if i == 0 {
		l.waiting[0] = nil
		l.waiting = l.waiting[1:]
	} else {
		l.waiting = slices.Delete(l.waiting, i, i+1)
	}
	a.waiting--
	e.held-- // start counts it again
	if d, ok := e.elsewhere(j, now); ok {
		return d, false
	}
	if j.Webhook != nil {
		if at, ok := e.allow(j.Webhook, now); !ok {
			return store.Deferral{DeliveryID: j.Delivery.ID, At: at}, false
		}
	}
	e.start(j, l, a, now)
	return store.Deferral{}, true
}

// dueOf is when a job's delivery came due.
func dueOf(j *store.Job) time.Time {
	if j.Delivery.NextAttemptAt == nil {
		return time.Time{}
	}
	return *j.Delivery.NextAttemptAt
}

// signalOpened tells a waiting dispatcher that a full webhook has room
// again.
func (e *Engine) signalOpened() {
	select {
	case e.opened <- struct{}{}:
	default:
	}
}

// admission returns what a claim must know of the engine's room: the
// webhooks that have none, and the promises whose admit takes a delivery
// while its lane and its app have room for it. A full webhook's due deliveries are
// left in place, but where they hide other webhooks' deliveries behind
// them a claim that looks only so far would never reach those; so, once
// in a while, they are pushed back for about as long as one of its
// attempts takes. Deliveries without a webhook are all taken (see the
// top of this file).
func (e *Engine) admission(now time.Time) (map[string]time.Time, *promises) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.forgetIdleLanes(now)
	full := map[string]time.Time{}
	for id, l := range e.lanes {
		if !l.webhook {
			continue
		}
		e.markFull(l, e.apps[l.appID], now)
		e.reopen(l, now)
		if !l.full {
			continue
		}
		full[id] = time.Time{}
		wait := backoff(l, now)
		if now.Sub(l.pushed) >= max(wait, time.Second) {
			full[id], l.pushed = now.Add(wait), now
		}
	}
	return full, &promises{e: e, now: now, lanes: map[string]int{}, apps: map[string]int{}}
}

// promises is the room one claim or one publish keeps for what it takes,
// counted in its lanes' and apps' holdings until release, so that a
// claim and a publish taking at the same time cannot both take the last
// of a lane's or an app's room: what one took, the other sees held.
// Without it each saw only its own takings, and the later of the two to
// be admitted found no room and handed its deliveries back — twice per
// delivery under load.
type promises struct {
	e     *Engine
	now   time.Time
	lanes map[string]int // by lane key
	apps  map[string]int // by app id
}

// admit is a claim's Admit: it takes a webhook's delivery while its lane
// and app have room for it, and every delivery without a webhook (see the
// top of this file). A claim's deliveries are admitted in due order, so a
// webhook's delivery it took after one without a webhook of the same app
// must find the room that one used: all are counted.
func (p *promises) admit(c store.Candidate) bool {
	e := p.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.WebhookID == "" {
		// Taken whatever the room, but counted, so that the webhook
		// deliveries of its app that the claim takes after it find the
		// room they were promised.
		p.keep(laneKey("", c.URL), false, c.AppID)
		return true
	}
	if e.laneRoom(c.WebhookID, p.now) <= 0 || e.appRoom(c.AppID) <= 0 {
		return false
	}
	p.keep(c.WebhookID, true, c.AppID)
	return true
}

// keep keeps room for one delivery of lane key and app. e.mu is held.
func (p *promises) keep(key string, webhook bool, appID string) {
	p.e.laneFor(key, webhook, appID, p.now).promised++
	p.e.appFor(appID).promised++
	p.lanes[key]++
	p.apps[appID]++
}

// release gives back the room kept, before what was taken is admitted.
// e.mu is held.
func (p *promises) release() {
	for key, n := range p.lanes {
		p.e.lanes[key].promised -= n
	}
	for id, n := range p.apps {
		if a := p.e.apps[id]; a != nil {
			a.promised -= n
			if a.held() == 0 {
				delete(p.e.apps, id)
			}
		}
	}
	clear(p.lanes)
	clear(p.apps)
}

// laneRoom is how many more deliveries a webhook's lane may hold: a lane
// the engine holds nothing of gets one round of slots and as many
// waiting, as a new lane does in admit. e.mu is held.
func (e *Engine) laneRoom(webhookID string, now time.Time) int {
	l := e.lanes[webhookID]
	if l == nil {
		return 2 * e.cfg.PerWebhook
	}
	return max(0, e.laneHold(l, now)-l.held())
}

// appRoom is how many more deliveries an app may hold. e.mu is held.
func (e *Engine) appRoom(appID string) int {
	return max(0, e.appHold()-e.apps[appID].held())
}
