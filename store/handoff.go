package store

import (
	"context"
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
	// Take reports whether the taker takes a delivery to webhookID ("" for
	// a one-off URL), and keeps room for it if so.
	Take(webhookID string) bool
	// Hand gives the taker the jobs of the deliveries it took whose
	// commit succeeded; the room kept for the others is freed. It is
	// called once, with none if the commit failed.
	Hand(ctx context.Context, jobs []*Job)
}

// HandOffer is a Store whose publishes can hand their deliveries to a
// Taker.
type HandOffer interface {
	// HandTo makes publishes offer their deliveries to t from now on.
	HandTo(t Taker)
}

// Handing gathers, for one commit of publishes, the deliveries an Offer
// took, and hands their jobs over once the commit is known. A nil
// *Handing takes nothing.
type Handing struct {
	offer   Offer
	owner   string
	until   time.Time
	jobs    []*Job
	mark    int
	resolve func(ctx context.Context, jobs []*Job) error
}

// NewHanding asks t for an offer; it returns nil when t is nil or makes
// none. resolve gives the jobs their apps and webhooks before they are
// handed over.
func NewHanding(t Taker, now time.Time, resolve func(ctx context.Context, jobs []*Job) error) *Handing {
	if t == nil {
		return nil
	}
	o := t.Offer(now)
	if o == nil {
		return nil
	}
	owner, until := o.Lease()
	return &Handing{offer: o, owner: owner, until: until, resolve: resolve}
}

// Take reports whether the delivery d of event ev, written pending, is
// taken; if so it is to be written leased (see Lease). Deliveries to
// ordered webhooks are never taken: they go one at a time, by claims.
func (h *Handing) Take(d *hookd.Delivery, ev *hookd.Event, ordered bool) bool {
	if h == nil || d.Status != hookd.DeliveryPending || (ordered && !d.Test) {
		return false
	}
	if !h.offer.Take(d.WebhookID) {
		return false
	}
	h.jobs = append(h.jobs, &Job{Delivery: d, Event: ev, LeaseUntil: h.until})
	return true
}

// Lease returns who taken deliveries are leased to, and until when.
func (h *Handing) Lease() (owner string, until time.Time) {
	return h.owner, h.until
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

// Done hands the taken jobs over if committed, or none. A job whose app
// or webhook cannot be read is not handed: its lease runs out and a claim
// takes it.
func (h *Handing) Done(ctx context.Context, committed bool) error {
	if h == nil {
		return nil
	}
	jobs := h.jobs
	var err error
	if !committed {
		jobs = nil
	} else if len(jobs) > 0 {
		if err = h.resolve(ctx, jobs); err != nil {
			jobs = nil
		}
	}
	h.offer.Hand(ctx, jobs)
	return err
}

// HandedEvent is what the job of a delivery of ev needs of it.
func HandedEvent(appID string, ev *hookd.Event) *hookd.Event {
	return &hookd.Event{ID: ev.ID, AppID: appID, Type: ev.Type, Payload: ev.Payload, Test: ev.Test, CreatedAt: ev.CreatedAt}
}

// NewDelivery is the delivery of ev along r that a publish at now writes.
func NewDelivery(id, appID string, ev *hookd.Event, r hookd.Route, now time.Time) *hookd.Delivery {
	now = now.UTC()
	return &hookd.Delivery{
		ID: id, AppID: appID, EventID: ev.ID, WebhookID: r.WebhookID, URL: r.URL, Status: r.Status,
		NextAttemptAt: &now, Test: ev.Test, CreatedAt: now, UpdatedAt: now,
	}
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
