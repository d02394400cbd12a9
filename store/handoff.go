package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
)

// A Taker takes fresh deliveries straight from the publish that makes
// them, so that they need no claim: the store writes the deliveries it
// takes leased to the taker, and hands them over once they are committed.
// A delivery engine in the publishing process is one: its attempt then
// starts as the publish is answered, without a claim's round trips, and
// the database is spared the claim's reads and writes. A crash before the
// attempt is recorded loses nothing: the lease runs out as a claim's does.
//
// The interface is declared here, where it is called: the store calls it
// from inside a publish's transaction (Offer and Take) and after its
// commit (Hand). deliver.Engine implements it and cmd/hookd connects the
// two (Handover.HandTo), so the call goes from the store to the engine
// while the engine imports the store and the store imports nothing of the
// engine (drawn in docs/DESIGN.md, "How an event flows").
type Taker interface {
	// Offer returns the taker's room for the deliveries of one commit,
	// or nil when it takes none now.
	Offer(now time.Time) Offer
}

// Offer is a Taker's room for the deliveries of one commit. A store asks
// Take about each delivery it writes pending, writes those taken under the
// lease that Lease returns, and calls Hand once, whatever happens.
type Offer interface {
	// Lease returns who the deliveries taken are leased to, and until when.
	Lease() (owner string, until time.Time)
	// Take reports whether the taker takes the delivery c, and keeps
	// room for it if so. What it turns down is
	// its own to claim: Hand sees that a claim comes for it once the
	// commit is known, so nothing else need wake the taker.
	Take(c Candidate) bool
	// Hand gives the taker the jobs of the deliveries it took whose
	// commit succeeded; the room kept for the others is freed. It is
	// called once, with none if the commit failed.
	Hand(ctx context.Context, jobs []*Job)
}

// Handover is a Store whose publishes can hand their deliveries over to a
// Taker.
type Handover interface {
	// HandTo makes publishes offer their deliveries to t from now on.
	HandTo(t Taker)
}

// Handing gathers, for one commit of publishes, the deliveries an Offer
// took, and hands their jobs over once the commit is known. A nil
// *Handing takes nothing.
type Handing struct {
	offer   Offer
	jobs    []*Job
	mark    int
	resolve Resolver
	// event is the job's view of the event last taken from.
	from, event *hookd.Event
}

// Resolver gives jobs their apps and webhooks, and returns those it
// could: a job whose app or webhook is gone (its delivery went with it)
// is left out.
type Resolver func(ctx context.Context, jobs []*Job) ([]*Job, error)

// NewHanding asks t for an offer; it returns nil when t is nil or makes
// none. resolve prepares the jobs before they are handed over.
func NewHanding(t Taker, now time.Time, resolve Resolver) *Handing {
	if t == nil {
		return nil
	}
	o := t.Offer(now)
	if o == nil {
		return nil
	}
	return &Handing{offer: o, resolve: resolve}
}

// Taking is what TakeRoute made of a route.
type Taking int

const (
	// RouteClaim is written pending, for a claim to find now: nothing was
	// offered, or it is an ordered webhook's.
	RouteClaim Taking = iota
	// RouteTaken is written leased to the taker, and handed over after
	// the commit (see Lease).
	RouteTaken
	// RouteTurnedDown is written pending, and the taker, which turned it
	// down, claims it when it has room (see Offer.Take); another process
	// may claim it first.
	RouteTurnedDown
	// RouteHeld is written held (its webhook is paused): no claim takes it
	// until the webhook resumes.
	RouteHeld
)

func (t Taking) String() string {
	switch t {
	case RouteClaim:
		return "RouteClaim"
	case RouteTaken:
		return "RouteTaken"
	case RouteTurnedDown:
		return "RouteTurnedDown"
	case RouteHeld:
		return "RouteHeld"
	}
	return fmt.Sprintf("Taking(%d)", int(t))
}

// TakeRoute offers the delivery id of ev along r, written by a publish
// of appID at now, to the taker. Only pending deliveries are taken, and
// never an ordered webhook's (ordered holds their ids): they go one at a
// time, by claims.
func (h *Handing) TakeRoute(id, appID string, ev *hookd.Event, r hookd.Route, now time.Time, ordered map[string]bool) Taking {
	switch {
	case r.Status != hookd.DeliveryPending:
		return RouteHeld
	case h == nil || (ordered[r.WebhookID] && !ev.Test):
		return RouteClaim
	case !h.offer.Take(Candidate{AppID: appID, WebhookID: r.WebhookID, URL: r.URL}):
		return RouteTurnedDown
	}
	if h.from != ev {
		h.from = ev
		h.event = &hookd.Event{ID: ev.ID, AppID: appID, Type: ev.Type, Payload: ev.Payload, Test: ev.Test, CreatedAt: ev.CreatedAt}
	}
	now = now.UTC()
	d := &hookd.Delivery{
		ID: id, AppID: appID, EventID: ev.ID, WebhookID: r.WebhookID, URL: r.URL, Status: r.Status,
		NextAttemptAt: &now, Test: ev.Test, CreatedAt: now, UpdatedAt: now,
	}
	_, until := h.offer.Lease()
	h.jobs = append(h.jobs, &Job{Delivery: d, Event: h.event, LeaseUntil: until})
	return RouteTaken
}

// Lease returns who taken deliveries are leased to, and until when.
func (h *Handing) Lease() (owner string, until time.Time) {
	return h.offer.Lease()
}

// Jobs returns the jobs taken so far.
func (h *Handing) Jobs() []*Job {
	if h == nil {
		return nil
	}
	return h.jobs
}

// Mark remembers how many jobs are taken, for Undo.
func (h *Handing) Mark() {
	if h != nil {
		h.mark = len(h.jobs)
	}
}

// Undo forgets the jobs taken since Mark, and returns them: their publish
// was rolled back.
func (h *Handing) Undo() []*Job {
	if h == nil {
		return nil
	}
	undone := h.jobs[h.mark:]
	h.jobs = h.jobs[:h.mark:h.mark]
	return undone
}

// Reset forgets every job taken: the transaction is run again from its
// start. The room they took stays kept until Done.
func (h *Handing) Reset() {
	if h != nil {
		h.jobs, h.mark, h.from = nil, 0, nil
	}
}

// Done hands the taken jobs over if committed, or none. If resolving them
// fails, none is handed and the error is returned: the caller sees to
// the deliveries, leased to the taker (see Jobs).
func (h *Handing) Done(ctx context.Context, committed bool) error {
	if h == nil {
		return nil
	}
	var jobs []*Job
	var err error
	if committed && len(h.jobs) > 0 {
		if jobs, err = h.resolve(ctx, h.jobs); err != nil {
			jobs = nil
		}
	}
	h.offer.Hand(ctx, jobs)
	return err
}

// OrderedWebhooks returns the ids of the ordered webhooks among hooks.
func OrderedWebhooks(hooks []*hookd.Webhook) map[string]bool {
	ordered := map[string]bool{}
	for _, w := range hooks {
		if w.Ordered {
			ordered[w.ID] = true
		}
	}
	return ordered
}
