package deliver

import (
	"context"
	"time"

	"github.com/hookd/hookd/store"
)

var _ store.Taker = (*Engine)(nil)

// Offer implements store.Taker: while it runs and holds less than it may,
// the engine takes deliveries straight from the publishes of this process
// (see store.Taker). Claims still come first for what is already due: a
// claim keeps the room it asks for while it is on its way (see reserve),
// and an engine that claims all it may hold takes nothing from publishes,
// so a stream of new events cannot starve older ones.
func (e *Engine) Offer(now time.Time) store.Offer {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.running || e.held >= capacity(e.cfg.Workers) {
		return nil
	}
	return &offer{e: e, until: now.Add(e.leaseFor), kept: &promises{e: e, now: now, lanes: map[string]int{}, apps: map[string]int{}}}
}

// offer is the engine's room for one commit's deliveries.
type offer struct {
	e     *Engine
	until time.Time
	// kept is the room kept, by lane and by app; the engine's total is
	// counted in e.held.
	kept *promises
	// declined are the lanes of the deliveries Take turned down, which
	// Hand sees claimed; guarded by e.mu.
	declined map[string]bool
}

func (o *offer) Lease() (string, time.Time) { return o.e.cfg.Owner, o.until }

// Take keeps room for the delivery c if the engine has room and c's lane
// and app have room to hand (see handRoom).
func (o *offer) Take(c store.Candidate) bool {
	e := o.e
	key := laneKey(c.WebhookID, c.URL)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.running || e.held >= capacity(e.cfg.Workers) || !e.handRoom(key, c, o.kept.now) {
		if o.declined == nil {
			o.declined = map[string]bool{}
		}
		o.declined[key] = true
		return false
	}
	o.kept.keep(key, c.WebhookID != "", c.AppID)
	e.held++
	return true
}

// handRoom reports whether a publish may hand the engine one more
// delivery of c's lane (key) and app, counting what publishes and claims
// on their way have kept (see promises). A publish hands over what its lane
// and app can start at once; to a fast lane also what fits in half of
// what the lane and its app may hold, the other half staying for claims,
// which come for older deliveries in due order. (A webhook with one busy
// stream of events thus gets them without claims, as it did when a
// webhook's cap was half the workers.) e.mu is held.
func (e *Engine) handRoom(key string, c store.Candidate, now time.Time) bool {
	l, appHeld := e.lanes[key], e.apps[c.AppID].held()
	laneHeld := 0
	if l != nil {
		laneHeld = l.held()
	}
	if l != nil && fast(l, now) {
		return laneHeld < e.laneHold(l, now)/2 && appHeld < e.appHold()/2
	}
	slots := e.cfg.PerHost
	if c.WebhookID != "" {
		slots = e.cfg.PerWebhook
	}
	return laneHeld < slots && appHeld < e.cfg.PerApp
}

// Hand starts the jobs taken, as if claimed. An engine that is stopping
// hands them back to the store.
func (o *offer) Hand(ctx context.Context, jobs []*store.Job) {
	e := o.e
	e.takeTokens(ctx, jobs) // none for webhooks without a rate limit
	now := o.kept.now       // as Take judged the lanes' room
	var deferrals []store.Deferral
	e.mu.Lock()
	kept := 0
	for _, n := range o.kept.lanes {
		kept += n
	}
	e.held -= kept // start and admit count what they hold
	o.kept.release()
	// What Take turned down is the engine's to claim (see store.Offer). A
	// webhook that holds all it may is claimed for once it has shed half
	// of that (see admission), and that claim comes after this commit;
	// for any other, the engine is woken, since a claim that ran while the
	// commit was on its way could not see its deliveries.
	wake := false
	for key := range o.declined {
		l := e.lanes[key]
		wake = wake || l == nil || !l.full
	}
	for _, j := range jobs {
		if !e.running {
			deferrals = append(deferrals, store.Deferral{DeliveryID: j.Delivery.ID, At: now})
			continue
		}
		if d, ok := e.admit(j, now); !ok {
			deferrals = append(deferrals, d)
		}
	}
	e.mu.Unlock()
	if len(jobs) < kept || len(deferrals) > 0 {
		e.signalFreed() // room kept and not used is room for claims
	}
	if wake {
		e.Wake()
	}
	e.handBack(ctx, deferrals)
}
