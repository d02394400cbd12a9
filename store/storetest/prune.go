package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/store"
)

func testPrune(t *testing.T, open opener) {
	run(t, open, "OnlyOldFinishedEvents", func(f *fixture) {
		app := f.newApp()
		hook := f.newWebhook(app)
		old := f.publishType(app, "user.created", t0)
		f.record(result(f.claimOne("worker", t0), "worker", t0, 200))
		oldPending := f.publishType(app, "user.created", at(time.Second))
		recent := f.publishType(app, "user.created", at(40*24*time.Hour))
		oldDelivery := f.deliveryTo(app.ID, old.ID, hook.ID)

		n, err := f.st.Prune(f.ctx, at(30*24*time.Hour), 100)
		f.must(err, "prune")
		equal(f, "pruned events", n, 1)
		_, err = f.st.GetEvent(f.ctx, app.ID, old.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get a pruned event")
		_, err = f.st.GetDelivery(f.ctx, app.ID, oldDelivery.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get a pruned event's delivery")
		for _, ev := range []*hookd.Event{oldPending, recent} {
			if _, err := f.st.GetEvent(f.ctx, app.ID, ev.ID); err != nil {
				f.Errorf("event %s was pruned but is unfinished or recent: %v", ev.ID, err)
			}
		}
	})

	run(t, open, "InBatches", func(f *fixture) {
		app := f.newApp()
		for i := range 3 {
			f.publishType(app, "nobody.listens", at(time.Duration(i)*time.Second))
		}
		before := at(time.Hour)
		for _, want := range []int{2, 1, 0} {
			n, err := f.st.Prune(f.ctx, before, 2)
			f.must(err, "prune")
			equal(f, "pruned in this batch", n, want)
		}
		got := f.deliveries(store.DeliveryFilter{AppID: app.ID})
		equal(f, "deliveries left", len(got), 0)
	})

	// Events are found by id (ident.Floor), and an event's creation time
	// still decides: where the two disagree, which hookd's own ids never
	// do, the event is kept.
	run(t, open, "ByIDAndCreationTime", func(f *fixture) {
		app := f.newApp()
		for _, c := range []struct {
			what            string
			madeAt, created time.Time
			pruned          bool
		}{
			{"old by id and by creation time", at(-2 * time.Hour), at(-2 * time.Hour), true},
			{"with an id made after the cut", at(time.Hour), at(-2 * time.Hour), false},
			{"created after the cut", at(-2 * time.Hour), at(time.Hour), false},
		} {
			pe := f.newEvent(app, "nobody.listens")
			pe.Event.ID = ident.New(func() time.Time { return c.madeAt }).New("evt")
			pe.Event.CreatedAt = c.created
			f.publish(app, c.created, pe)
			n, err := f.st.Prune(f.ctx, t0, 100)
			f.must(err, "prune")
			_, err = f.st.GetEvent(f.ctx, app.ID, pe.Event.ID)
			switch {
			case c.pruned && (n != 1 || hookd.ErrorCode(err) != hookd.ENOTFOUND):
				f.Errorf("event %s: pruned %d, then get: %v; want it pruned", c.what, n, err)
			case !c.pruned && (n != 0 || err != nil):
				f.Errorf("event %s: pruned %d, then get: %v; want it kept", c.what, n, err)
			}
		}
	})

	run(t, open, "ForgetsOldIdempotencyKeys", func(f *fixture) {
		app := f.newApp()
		pe := f.newEvent(app, "user.created")
		pe.Event.IdempotencyKey = "k"
		f.publish(app, t0, pe)
		_, err := f.st.Prune(f.ctx, at(48*time.Hour), 100)
		f.must(err, "prune")
		again := f.newEvent(app, "user.created")
		again.Event.IdempotencyKey = "k"
		res := f.publish(app, at(49*time.Hour), again)
		equal(f, "duplicate after the key was pruned", res[0].Duplicate, false)
	})
}
