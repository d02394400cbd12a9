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
	return &offer{e: e, until: now.Add(e.leaseFor), taken: map[string]int{}}
}

// offer is the engine's room for one commit's deliveries.
type offer struct {
	e     *Engine
	until time.Time
	taken map[string]int // room kept, counted in e.held, by webhook
	// declined are the webhooks ("" for one-off URLs) of the deliveries
	// Take turned down, which Hand sees claimed; guarded by e.mu.
	declined map[string]bool
}

func (o *offer) Lease() (string, time.Time) { return o.e.cfg.Owner, o.until }

// Take keeps room for a delivery to webhookID if the engine has room and
// the webhook can start it at once: a webhook whose slots are all taken
// gets its deliveries by claims, in due order.
func (o *offer) Take(webhookID string) bool {
	e := o.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.running || e.held >= capacity(e.cfg.Workers) ||
		(webhookID != "" && e.perHook[webhookID]+len(e.waiting[webhookID])+o.taken[webhookID] >= e.cfg.PerWebhook) {
		if o.declined == nil {
			o.declined = map[string]bool{}
		}
		o.declined[webhookID] = true
		return false
	}
	o.taken[webhookID]++
	e.held++
	return true
}

// Hand starts the jobs taken, as if claimed. An engine that is stopping
// hands them back to the store.
func (o *offer) Hand(ctx context.Context, jobs []*store.Job) {
	e := o.e
	e.takeTokens(ctx, jobs) // none for webhooks without a rate limit
	now := e.cfg.Now()
	var deferrals []store.Deferral
	kept := 0
	for _, n := range o.taken {
		kept += n
	}
	e.mu.Lock()
	e.held -= kept // start and admit count what they hold
	// What Take turned down is the engine's to claim (see store.Offer). A
	// webhook that holds all it may is claimed for once it has shed half
	// of that (see admission), and that claim comes after this commit;
	// for any other, the engine is woken, since a claim that ran while the
	// commit was on its way could not see its deliveries.
	wake := false
	for id := range o.declined {
		wake = wake || !e.full[id]
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
