package storetest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// taker is a store.Taker that takes up to room deliveries, but none of
// the webhooks in refuse, and keeps what it is handed. It checks that a
// store keeps the Offer contract: Hand once per offer, with no more jobs
// than were taken.
type taker struct {
	owner string

	mu       sync.Mutex
	room     int
	refuse   map[string]bool
	offers   int
	handed   []*store.Job
	problems []string
}

func (t *taker) Offer(now time.Time) store.Offer {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.room == 0 {
		return nil
	}
	t.offers++
	return &takerOffer{t: t, until: now.Add(lease)}
}

type takerOffer struct {
	t      *taker
	until  time.Time
	taken  map[string]bool // by delivery's webhook, "" for a one-off URL
	kept   int
	closed bool
}

func (o *takerOffer) Lease() (string, time.Time) { return o.t.owner, o.until }

func (o *takerOffer) Take(c store.Candidate) bool {
	o.t.mu.Lock()
	defer o.t.mu.Unlock()
	if o.closed {
		o.t.problems = append(o.t.problems, "Take after Hand")
	}
	if o.t.refuse[c.WebhookID] || o.t.room == 0 {
		return false
	}
	o.t.room--
	o.kept++
	return true
}

func (o *takerOffer) Hand(_ context.Context, jobs []*store.Job) {
	o.t.mu.Lock()
	defer o.t.mu.Unlock()
	if o.closed {
		o.t.problems = append(o.t.problems, "Hand called twice")
	}
	o.closed = true
	if len(jobs) > o.kept {
		o.t.problems = append(o.t.problems, fmt.Sprintf("handed %d jobs, took %d", len(jobs), o.kept))
	}
	o.t.room += o.kept - len(jobs)
	o.t.offers--
	o.t.handed = append(o.t.handed, jobs...)
}

// jobs returns what was handed, by delivery id, and fails on a broken
// contract or an offer still open.
func (t *taker) jobs(tb testing.TB) map[string]*store.Job {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.problems {
		tb.Errorf("taker: %s", p)
	}
	if t.offers != 0 {
		tb.Errorf("taker: %d offers never handed", t.offers)
	}
	byID := map[string]*store.Job{}
	for _, j := range t.handed {
		if byID[j.Delivery.ID] != nil {
			tb.Errorf("delivery %s handed twice", j.Delivery.ID)
		}
		byID[j.Delivery.ID] = j
	}
	return byID
}

// handTo makes f's store hand its publishes' deliveries to t.
func (f *fixture) handTo(t *taker) {
	f.Helper()
	h, ok := f.st.(store.Handover)
	if !ok {
		f.Fatalf("%T cannot hand deliveries over (store.Handover)", f.st)
	}
	h.HandTo(t)
}

// testHandoff checks that publishes hand the deliveries a taker takes
// straight to it, leased, and only those that were committed.
func testHandoff(t *testing.T, open opener) {
	run(t, open, "TakenAreLeasedAndHanded", func(f *fixture) {
		app := f.newApp()
		plain := f.newWebhook(app)
		ordered := f.newWebhook(app, func(w *hookd.Webhook) { w.Ordered = true })
		paused := f.newWebhook(app, func(w *hookd.Webhook) { w.Status = hookd.WebhookPaused })
		refused := f.newWebhook(app)
		tk := &taker{owner: "publisher", room: 100, refuse: map[string]bool{refused.ID: true}}
		f.handTo(tk)

		first, second := f.newEvent(app, "user.created"), f.newEvent(app, "user.created")
		oneOff := f.newEvent(app, "user.created")
		oneOff.OneOffURL = "https://elsewhere.example.com/hook"
		res := f.publish(app, t0, first, second, oneOff)
		for i, want := range []int{1, 1, 2} { // plain; plain and the one-off URL
			equal(f, fmt.Sprintf("event %d's handed deliveries", i), res[i].Handed, want)
			equal(f, fmt.Sprintf("event %d leaves some to claims", i), res[i].Due(), true)
		}

		handed := tk.jobs(f)
		var want []string
		for _, pe := range []*store.PublishEvent{first, second, oneOff} {
			want = append(want, f.deliveryTo(app.ID, pe.Event.ID, plain.ID).ID)
		}
		want = append(want, f.deliveryTo(app.ID, oneOff.Event.ID, "").ID)
		sameIDSet(f, "handed", slices.Collect(maps.Keys(handed)), want)

		for id, j := range handed {
			d := f.delivery(app.ID, id)
			equal(f, "handed delivery's status", j.Delivery.Status, hookd.DeliveryPending)
			equal(f, "handed delivery's event", j.Delivery.EventID, d.EventID)
			equal(f, "handed delivery's webhook", j.Delivery.WebhookID, d.WebhookID)
			equal(f, "handed delivery's URL", j.Delivery.URL, d.URL)
			equal(f, "handed delivery's attempts", j.Delivery.AttemptCount, 0)
			equal(f, "handed job's event id", j.Event.ID, d.EventID)
			equal(f, "handed job's event type", j.Event.Type, "user.created")
			published := first
			for _, pe := range []*store.PublishEvent{second, oneOff} {
				if pe.Event.ID == d.EventID {
					published = pe
				}
			}
			if !bytes.Equal(j.Event.Payload, published.Event.Payload) {
				f.Errorf("handed job's payload: got %s, want %s", j.Event.Payload, published.Event.Payload)
			}
			sameTime(f, "handed job's lease", j.LeaseUntil, t0.Add(lease))
			equal(f, "handed job's default secret", j.DefaultSecret, app.DefaultSecret)
			if !reflect.DeepEqual(j.Profile, app.Profile) {
				f.Errorf("handed job's profile: got %+v, want %+v", j.Profile, app.Profile)
			}
			if d.WebhookID == "" {
				if j.Webhook != nil {
					f.Errorf("one-off job has webhook %s", j.Webhook.ID)
				}
				continue
			}
			if j.Webhook == nil {
				f.Fatalf("job of delivery %s has no webhook", id)
			}
			equal(f, "handed job's webhook", j.Webhook.ID, plain.ID)
			equal(f, "handed job's webhook secret", j.Webhook.Secret, plain.Secret)
			equal(f, "handed job's webhook URL", j.Webhook.URL, plain.URL)
		}

		// The handed deliveries are leased to the taker: a claim finds
		// only the others, the ordered webhook's head and the refused
		// webhook's.
		others := []string{
			f.deliveryTo(app.ID, first.Event.ID, ordered.ID).ID,
			f.deliveryTo(app.ID, first.Event.ID, refused.ID).ID,
			f.deliveryTo(app.ID, second.Event.ID, refused.ID).ID,
			f.deliveryTo(app.ID, oneOff.Event.ID, refused.ID).ID,
		}
		sameIDSet(f, "claimed beside handed deliveries", f.claimIDs("other", t0, 100), others)
		for _, pe := range []*store.PublishEvent{first, second, oneOff} {
			equal(f, "paused webhook's delivery", f.deliveryTo(app.ID, pe.Event.ID, paused.ID).Status, hookd.DeliveryHeld)
		}

		// The taker's attempt is recorded as a claim's would be.
		done := handed[want[0]]
		f.record(result(done, "publisher", t0.Add(time.Second), 200))
		f.wantStatus(app.ID, done.Delivery.ID, hookd.DeliverySucceeded)

		// The others are claimed once their leases have run out, with
		// the claim's own.
		sameIDSet(f, "claimed after the leases", f.claimIDs("other", t0.Add(lease+time.Second), 100), append(want[1:], others...))
	})

	run(t, open, "HandedAfterAQuietClaim", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		tk := &taker{owner: "publisher", room: 10}
		f.handTo(tk)
		// A claim that finds nothing, then a publish stamped before it
		// (its clock read before the claim's): the claims after it must
		// still leave the handed delivery alone.
		if ids := f.claimIDs("other", at(time.Second), 10); len(ids) != 0 {
			f.Fatalf("claimed %q from an empty queue", ids)
		}
		ev := f.publishType(app, "user.created", t0)
		sameIDSet(f, "handed", slices.Collect(maps.Keys(tk.jobs(f))), []string{f.deliveryTo(app.ID, ev.ID, w.ID).ID})
		if ids := f.claimIDs("other", at(1500*time.Millisecond), 10); len(ids) != 0 {
			f.Errorf("claimed %q, handed to the publisher", ids)
		}
	})

	run(t, open, "TurnedDownAndHeld", func(f *fixture) {
		// Deliveries the taker turns down are its to claim: this process
		// need not claim them now (Due), though any may (Claimable). Held
		// ones wait for their webhook to resume. An ordered webhook's are
		// due. Claims, when they come, find the pending ones.
		app := f.newApp()
		refused := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"to.refused"} })
		f.newWebhook(app, func(w *hookd.Webhook) { w.Status = hookd.WebhookPaused; w.Events = []string{"to.refused", "to.paused"} })
		ordered := f.newWebhook(app, func(w *hookd.Webhook) { w.Ordered = true; w.Events = []string{"to.ordered"} })
		tk := &taker{owner: "publisher", room: 10, refuse: map[string]bool{refused.ID: true}}
		f.handTo(tk)
		toRefused, toPaused, toOrdered := f.newEvent(app, "to.refused"), f.newEvent(app, "to.paused"), f.newEvent(app, "to.ordered")
		res := f.publish(app, t0, toRefused, toPaused, toOrdered)
		for i, want := range []struct {
			deliveries, turnedDown, held int
			due, claimable               bool
		}{
			{2, 1, 1, false, true},
			{1, 0, 1, false, false},
			{1, 0, 0, true, true},
		} {
			r := res[i]
			equal(f, fmt.Sprintf("event %d's deliveries", i), r.Deliveries, want.deliveries)
			equal(f, fmt.Sprintf("event %d's turned down", i), r.TurnedDown, want.turnedDown)
			equal(f, fmt.Sprintf("event %d's held", i), r.Held, want.held)
			equal(f, fmt.Sprintf("event %d due", i), r.Due(), want.due)
			equal(f, fmt.Sprintf("event %d claimable", i), r.Claimable(), want.claimable)
		}
		if len(tk.jobs(f)) != 0 {
			f.Errorf("handed %d deliveries, want none", len(tk.jobs(f)))
		}
		sameIDSet(f, "claimed", f.claimIDs("other", t0, 10), []string{
			f.deliveryTo(app.ID, toRefused.Event.ID, refused.ID).ID,
			f.deliveryTo(app.ID, toOrdered.Event.ID, ordered.ID).ID,
		})
	})

	run(t, open, "NoRoomNoHand", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		tk := &taker{owner: "publisher", room: 1}
		f.handTo(tk)
		first, second := f.newEvent(app, "user.created"), f.newEvent(app, "user.created")
		res := f.publish(app, t0, first, second)
		equal(f, "first event's handed deliveries", res[0].Handed, 1)
		equal(f, "first event leaves some to claims", res[0].Due(), false)
		equal(f, "second event's handed deliveries", res[1].Handed, 0)
		equal(f, "second event's delivery, turned down, waits for the taker", res[1].Due(), false)
		handed := tk.jobs(f)
		sameIDSet(f, "handed with room for one", slices.Collect(maps.Keys(handed)), []string{f.deliveryTo(app.ID, first.Event.ID, w.ID).ID})
		// With no room left, the taker makes no offer.
		third := f.publishType(app, "user.created", t0)
		sameIDSet(f, "claimed", f.claimIDs("other", t0, 10), []string{
			f.deliveryTo(app.ID, second.Event.ID, w.ID).ID,
			f.deliveryTo(app.ID, third.ID, w.ID).ID,
		})
	})

	run(t, open, "OnlyCommittedAreHanded", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		tk := &taker{owner: "publisher", room: 1000}
		f.handTo(tk)
		// Publishes that run together may share a commit; those that
		// fail (a test event to a webhook that does not exist) must hand
		// nothing, and the others all they made.
		const publishes = 24
		var wg sync.WaitGroup
		good := make([]*store.PublishEvent, publishes)
		for i := range publishes {
			pe := f.newEvent(app, "user.created")
			pe.Event.CreatedAt = t0
			if i%2 == 1 {
				pe.OnlyWebhookID = f.id("wh")
			} else {
				good[i] = pe
			}
			wg.Go(func() {
				_, err := f.st.Publish(f.ctx, &store.PublishParams{AppID: app.ID, Now: t0, Events: []*store.PublishEvent{pe}})
				if (err == nil) != (i%2 == 0) {
					f.Errorf("publish %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		var want []string
		for _, pe := range good {
			if pe != nil {
				want = append(want, f.deliveryTo(app.ID, pe.Event.ID, w.ID).ID)
			}
		}
		sameIDSet(f, "handed", slices.Collect(maps.Keys(tk.jobs(f))), want)
		tk.mu.Lock()
		equal(f, "room left", tk.room, 1000-len(want))
		tk.mu.Unlock()
	})
}
