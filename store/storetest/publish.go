package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

func sameEvent(tb testing.TB, got, want *hookd.Event) {
	tb.Helper()
	equal(tb, "event id", got.ID, want.ID)
	equal(tb, "event app", got.AppID, want.AppID)
	equal(tb, "event type", got.Type, want.Type)
	sameJSON(tb, "event data", got.Data, want.Data)
	sameBytes(tb, "event payload", got.Payload, want.Payload)
	equal(tb, "event idempotency key", got.IdempotencyKey, want.IdempotencyKey)
	equal(tb, "event test", got.Test, want.Test)
	sameTime(tb, "event created_at", got.CreatedAt, want.CreatedAt)
}

func testPublish(t *testing.T, open opener) {
	run(t, open, "DataInPayload", func(f *fixture) {
		// Data that the payload holds byte for byte, as an envelope holds
		// it, and data it does not: both read back whole (the store may
		// keep the first only inside the payload).
		app := f.newApp()
		f.newWebhook(app)
		data := []byte(`{"customer":{"email":"ada@example.com","name":"Ada Lovelace"},"items":[1,2,3],"note":"é"}`)
		embedded, apart := f.newEvent(app, "user.created"), f.newEvent(app, "user.created")
		embedded.Event.Data = data
		embedded.Event.Payload = append(append([]byte(`{"type":"user.created","data":`), data...), `,"n":1}`...)
		apart.Event.Data = data
		apart.Event.Payload = []byte(`{"type":"user.created"}`)
		f.publish(app, t0, embedded, apart)
		for _, pe := range []*store.PublishEvent{embedded, apart} {
			got, err := f.st.GetEvent(f.ctx, app.ID, pe.Event.ID)
			f.must(err, "get event")
			equal(f, "data", string(got.Data), string(data))
			equal(f, "payload", string(got.Payload), string(pe.Event.Payload))
		}
		listed, _, err := f.st.ListEvents(f.ctx, store.EventFilter{AppID: app.ID}, store.Page{})
		f.must(err, "list events")
		equal(f, "listed", len(listed), 2)
		for _, ev := range listed {
			equal(f, "listed data", string(ev.Data), string(data))
		}
	})
	run(t, open, "Stored", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		pe := f.newEvent(app, "user.created")
		pe.Event.IdempotencyKey = "order-1"
		pe.Event.CreatedAt = at(-time.Second) // the caller's time stands
		res := f.publish(app, t0, pe)
		equal(f, "duplicate", res[0].Duplicate, false)
		equal(f, "deliveries", res[0].Deliveries, 1)
		equal(f, "result event", res[0].Event.ID, pe.Event.ID)

		got, err := f.st.GetEvent(f.ctx, app.ID, pe.Event.ID)
		f.must(err, "get event")
		sameEvent(f, got, pe.Event)
		d := f.deliveryTo(app.ID, pe.Event.ID, w.ID)
		equal(f, "delivery app", d.AppID, app.ID)
		equal(f, "delivery status", d.Status, hookd.DeliveryPending)
		equal(f, "delivery attempt count", d.AttemptCount, 0)
		equal(f, "delivery test", d.Test, false)
		equal(f, "delivery url", d.URL, "")
		equal(f, "delivery last status", d.LastStatusCode, 0)
		sameTimePtr(f, "delivery next attempt", d.NextAttemptAt, t0)
		sameTime(f, "delivery created_at", d.CreatedAt, t0)
		sameTime(f, "delivery updated_at", d.UpdatedAt, t0)
	})

	run(t, open, "Routing", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		hook := func(events ...string) *hookd.Webhook {
			return f.newWebhook(app, func(w *hookd.Webhook) { w.Events = events })
		}
		exact, all, prefix, unrelated := hook("user.created"), hook("*"), hook("job.*"), hook("other.thing", "user.deleted")
		paused, disabled := hook("*"), hook("*")
		f.setStatus(paused, hookd.WebhookPaused, t0)
		f.setStatus(disabled, hookd.WebhookDisabled, t0)
		f.newWebhook(other) // another app's "*" never sees this app's events
		_ = unrelated

		for _, tc := range []struct {
			typ  string
			want map[string]string
		}{
			{"user.created", map[string]string{exact.ID: hookd.DeliveryPending, all.ID: hookd.DeliveryPending, paused.ID: hookd.DeliveryHeld}},
			{"job.done", map[string]string{all.ID: hookd.DeliveryPending, prefix.ID: hookd.DeliveryPending, paused.ID: hookd.DeliveryHeld}},
			{"job.step.done", map[string]string{all.ID: hookd.DeliveryPending, prefix.ID: hookd.DeliveryPending, paused.ID: hookd.DeliveryHeld}},
			// job.* matches what is below job, not job itself.
			{"job", map[string]string{all.ID: hookd.DeliveryPending, paused.ID: hookd.DeliveryHeld}},
			{"user.createdx", map[string]string{all.ID: hookd.DeliveryPending, paused.ID: hookd.DeliveryHeld}},
		} {
			pe := f.newEvent(app, tc.typ)
			res := f.publish(app, t0, pe)
			equal(f, tc.typ+": deliveries", res[0].Deliveries, len(tc.want))
			sameRoutes(f, tc.typ, f.routes(app.ID, pe.Event.ID), tc.want)
		}
		equal(f, "deliveries of the other app", len(f.deliveries(store.DeliveryFilter{AppID: other.ID})), 0)
	})

	run(t, open, "NoWebhooks", func(f *fixture) {
		app := f.newApp()
		res := f.publish(app, t0, f.newEvent(app, "user.created"))
		equal(f, "deliveries", res[0].Deliveries, 0)
		if _, ok, err := f.st.NextDue(f.ctx); err != nil || ok {
			f.Errorf("NextDue with nothing to deliver: %v %v", ok, err)
		}
	})

	run(t, open, "OnlyWebhook", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		target := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"unrelated"} })
		f.newWebhook(app) // subscribed to everything, yet left out
		disabled := f.newWebhook(app)
		f.setStatus(disabled, hookd.WebhookDisabled, t0)
		foreign := f.newWebhook(other)

		for _, w := range []*hookd.Webhook{target, disabled} {
			pe := f.newEvent(app, "webhook.test")
			pe.Event.Test, pe.OnlyWebhookID = true, w.ID
			res := f.publish(app, t0, pe)
			equal(f, "deliveries of a test event", res[0].Deliveries, 1)
			sameRoutes(f, "test event to "+w.Status+" webhook", f.routes(app.ID, pe.Event.ID), map[string]string{w.ID: hookd.DeliveryPending})
			equal(f, "test flag of its delivery", f.deliveryTo(app.ID, pe.Event.ID, w.ID).Test, true)
			got, err := f.st.GetEvent(f.ctx, app.ID, pe.Event.ID)
			f.must(err, "get test event")
			equal(f, "test flag of the event", got.Test, true)
		}

		for _, id := range []string{"wh_missing", foreign.ID} {
			pe := f.newEvent(app, "webhook.test")
			pe.Event.CreatedAt, pe.OnlyWebhookID = t0, id
			_, err := f.st.Publish(f.ctx, &store.PublishParams{AppID: app.ID, Now: t0, Events: []*store.PublishEvent{pe}})
			if err == nil {
				f.Errorf("publish to webhook %s that the app does not have: no error", id)
			}
			_, err = f.st.GetEvent(f.ctx, app.ID, pe.Event.ID)
			wantCode(f, err, hookd.ENOTFOUND, "event of a failed publish")
		}
	})

	run(t, open, "OneOffURL", func(f *fixture) {
		app := f.newApp()
		sub := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"job.*"} })
		atURL := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"unrelated"} })
		pausedAtURL := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"unrelated"} })
		f.setStatus(pausedAtURL, hookd.WebhookPaused, t0)
		disabledAtURL := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"*"} })
		f.setStatus(disabledAtURL, hookd.WebhookDisabled, t0)

		publish := func(typ, url string, filter ...string) (*hookd.Event, int) {
			f.Helper()
			pe := f.newEvent(app, typ)
			pe.OneOffURL, pe.OneOffEvents = url, filter
			return pe.Event, f.publish(app, t0, pe)[0].Deliveries
		}

		// A URL no webhook has: a delivery to the URL itself.
		const url = "https://oneoff.example.com/progress"
		ev, n := publish("job.done", url)
		equal(f, "deliveries", n, 2)
		sameRoutes(f, "one-off URL", f.routes(app.ID, ev.ID), map[string]string{sub.ID: hookd.DeliveryPending, "": hookd.DeliveryPending})
		d := f.deliveryTo(app.ID, ev.ID, "")
		equal(f, "one-off delivery url", d.URL, url)
		equal(f, "one-off delivery webhook", d.WebhookID, "")
		got, err := f.st.GetEvent(f.ctx, app.ID, ev.ID)
		f.must(err, "get event")
		if s := summaryByWebhook(f, got)[""]; s == nil || s.URL != url {
			f.Errorf("one-off delivery summary: got %+v, want url %s", s, url)
		}

		// The filter selects which types go to the URL.
		ev, _ = publish("job.done", url, "job.*")
		sameRoutes(f, "one-off URL, matching filter", f.routes(app.ID, ev.ID), map[string]string{sub.ID: hookd.DeliveryPending, "": hookd.DeliveryPending})
		ev, n = publish("user.created", url, "job.*")
		equal(f, "deliveries, filter not matching", n, 0)
		sameRoutes(f, "one-off URL, filter not matching", f.routes(app.ID, ev.ID), map[string]string{})

		// The URL of a webhook: that webhook gets it, once, whatever its
		// filter; paused holds it; disabled drops it.
		ev, n = publish("user.created", atURL.URL)
		equal(f, "deliveries to a webhook's URL", n, 1)
		sameRoutes(f, "one-off URL of a webhook", f.routes(app.ID, ev.ID), map[string]string{atURL.ID: hookd.DeliveryPending})
		ev, _ = publish("job.done", sub.URL)
		sameRoutes(f, "one-off URL of a subscribed webhook", f.routes(app.ID, ev.ID), map[string]string{sub.ID: hookd.DeliveryPending})
		ev, _ = publish("user.created", pausedAtURL.URL)
		sameRoutes(f, "one-off URL of a paused webhook", f.routes(app.ID, ev.ID), map[string]string{pausedAtURL.ID: hookd.DeliveryHeld})
		ev, _ = publish("user.created", disabledAtURL.URL)
		sameRoutes(f, "one-off URL of a disabled webhook", f.routes(app.ID, ev.ID), map[string]string{})
	})

	run(t, open, "Idempotency", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w := f.newWebhook(app)
		f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"user.*"} })
		keyed := func(key string) *store.PublishEvent {
			pe := f.newEvent(app, "user.created")
			pe.Event.IdempotencyKey = key
			return pe
		}
		first := keyed("k1")
		f.publish(app, t0, first)
		countEvents := func() int {
			f.Helper()
			evs, _, err := f.st.ListEvents(f.ctx, store.EventFilter{AppID: app.ID}, store.Page{Limit: 250})
			f.must(err, "list events")
			return len(evs)
		}
		deliveriesBefore := len(f.deliveries(store.DeliveryFilter{AppID: app.ID}))

		for _, later := range []time.Duration{time.Second, 23*time.Hour + 59*time.Minute} {
			again := keyed("k1")
			again.Event.Type = "user.deleted"
			res := f.publish(app, at(later), again)
			equal(f, "duplicate after "+later.String(), res[0].Duplicate, true)
			if res[0].Event == nil {
				f.Fatalf("a duplicate answers no event")
			}
			sameEvent(f, res[0].Event, first.Event)
			equal(f, "deliveries of the duplicate", res[0].Deliveries, 2)
			_, err := f.st.GetEvent(f.ctx, app.ID, again.Event.ID)
			wantCode(f, err, hookd.ENOTFOUND, "the duplicate itself")
		}
		equal(f, "events after duplicates", countEvents(), 1)
		equal(f, "deliveries after duplicates", len(f.deliveries(store.DeliveryFilter{AppID: app.ID})), deliveriesBefore)

		// Keys belong to one app.
		pe := f.newEvent(other, "user.created")
		pe.Event.IdempotencyKey = "k1"
		equal(f, "same key in another app", f.publish(other, at(time.Minute), pe)[0].Duplicate, false)

		// Once the first use is 24 hours old the key makes a new event,
		// and that one is what later repeats find.
		fresh := keyed("k1")
		res := f.publish(app, at(24*time.Hour+time.Second), fresh)
		equal(f, "duplicate after 24h", res[0].Duplicate, false)
		equal(f, "event after 24h", res[0].Event.ID, fresh.Event.ID)
		_, err := f.st.GetEvent(f.ctx, app.ID, fresh.Event.ID)
		f.must(err, "event published after 24h")
		equal(f, "events after 24h", countEvents(), 2)
		_ = w
		res = f.publish(app, at(25*time.Hour), keyed("k1"))
		equal(f, "duplicate of the renewed key", res[0].Duplicate, true)
		equal(f, "renewed key's event", res[0].Event.ID, fresh.Event.ID)
	})

	run(t, open, "IdempotencyConcurrent", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		const n = 8
		results := make([]store.PublishResult, n)
		var wg sync.WaitGroup
		for i := range n {
			pe := f.newEvent(app, "user.created")
			pe.Event.IdempotencyKey, pe.Event.CreatedAt = "race", t0
			wg.Go(func() {
				res, err := f.st.Publish(f.ctx, &store.PublishParams{AppID: app.ID, Now: t0, Events: []*store.PublishEvent{pe}})
				if err != nil {
					f.Errorf("publish %d: %v", i, err)
					return
				}
				results[i] = res[0]
			})
		}
		wg.Wait()
		firsts := 0
		for _, r := range results {
			if r.Event == nil {
				continue
			}
			if !r.Duplicate {
				firsts++
			}
			if r.Event.ID != results[0].Event.ID {
				f.Errorf("concurrent publishes of one key answer events %s and %s", results[0].Event.ID, r.Event.ID)
			}
		}
		equal(f, "publishes that were not duplicates", firsts, 1)
		equal(f, "deliveries", len(f.deliveries(store.DeliveryFilter{AppID: app.ID})), 1)
	})

	// Concurrent publishes share commits: those that all succeed land
	// whole, and those that fail fail alone, across apps.
	for _, failEvery := range []int{0, 7} {
		run(t, open, fmt.Sprintf("Concurrent/FailEvery%d", failEvery), func(f *fixture) {
			testConcurrentPublishes(f, failEvery)
		})
	}

	run(t, open, "IdempotencyInBatch", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		a, b, c := f.newEvent(app, "user.created"), f.newEvent(app, "user.created"), f.newEvent(app, "user.created")
		a.Event.IdempotencyKey, b.Event.IdempotencyKey = "same", "same"
		res := f.publish(app, t0, a, b, c)
		equal(f, "first of the pair", res[0].Duplicate, false)
		equal(f, "first of the pair: event", res[0].Event.ID, a.Event.ID)
		equal(f, "second of the pair", res[1].Duplicate, true)
		equal(f, "second of the pair: event", res[1].Event.ID, a.Event.ID)
		equal(f, "second of the pair: deliveries", res[1].Deliveries, 1)
		equal(f, "unkeyed", res[2].Duplicate, false)
		equal(f, "unkeyed: event", res[2].Event.ID, c.Event.ID)
		_, err := f.st.GetEvent(f.ctx, app.ID, b.Event.ID)
		wantCode(f, err, hookd.ENOTFOUND, "the in-batch duplicate")
		equal(f, "deliveries", len(f.deliveries(store.DeliveryFilter{AppID: app.ID})), 2)
	})

	run(t, open, "BatchIsOneTransaction", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		good, bad := f.newEvent(app, "user.created"), f.newEvent(app, "user.created")
		good.Event.IdempotencyKey = "kept-free"
		bad.OnlyWebhookID = "wh_missing"
		for _, pe := range []*store.PublishEvent{good, bad} {
			pe.Event.CreatedAt = t0
		}
		_, err := f.st.Publish(f.ctx, &store.PublishParams{AppID: app.ID, Now: t0, Events: []*store.PublishEvent{good, bad}})
		if err == nil {
			f.Fatalf("a batch with an event for an unknown webhook: no error")
		}
		evs, _, err := f.st.ListEvents(f.ctx, store.EventFilter{AppID: app.ID}, store.Page{Limit: 10})
		f.must(err, "list events")
		equal(f, "events after a failed batch", len(evs), 0)
		equal(f, "deliveries after a failed batch", len(f.deliveries(store.DeliveryFilter{AppID: app.ID})), 0)
		if _, ok, err := f.st.NextDue(f.ctx); err != nil || ok {
			f.Errorf("NextDue after a failed batch: %v %v", ok, err)
		}
		// The failed batch did not use up the idempotency key.
		retry := f.newEvent(app, "user.created")
		retry.Event.IdempotencyKey = "kept-free"
		res := f.publish(app, at(time.Second), retry)
		equal(f, "key of a failed batch", res[0].Duplicate, false)
	})

	run(t, open, "BatchOrder", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"b"} })
		var pes []*store.PublishEvent
		for _, typ := range []string{"a", "b", "a", "b", "b"} {
			pes = append(pes, f.newEvent(app, typ))
		}
		res := f.publish(app, t0, pes...)
		for i, r := range res {
			equal(f, "result event", r.Event.ID, pes[i].Event.ID)
			want := 0
			if pes[i].Event.Type == "b" {
				want = 1
			}
			equal(f, "result deliveries", r.Deliveries, want)
		}
	})
}

func testReads(t *testing.T, open opener) {
	run(t, open, "GetEvent", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		a := f.newWebhook(app, func(w *hookd.Webhook) { w.Name = "billing" })
		b := f.newWebhook(app, func(w *hookd.Webhook) { w.Name = "crm" })
		pe := f.newEvent(app, "user.created")
		pe.OneOffURL = "https://oneoff.example.com/x"
		f.publish(app, t0, pe)

		ev, err := f.st.GetEvent(f.ctx, app.ID, pe.Event.ID)
		f.must(err, "get event")
		sameEvent(f, ev, pe.Event)
		sums := summaryByWebhook(f, ev)
		equal(f, "summaries", len(sums), 3)
		for _, w := range []*hookd.Webhook{a, b} {
			s := sums[w.ID]
			if s == nil {
				f.Errorf("no summary of the delivery to %s", w.ID)
				continue
			}
			equal(f, "summary webhook name", s.WebhookName, w.Name)
			equal(f, "summary status", s.Status, hookd.DeliveryPending)
			equal(f, "summary attempts", s.AttemptCount, 0)
			equal(f, "summary id", s.ID, f.deliveryTo(app.ID, ev.ID, w.ID).ID)
		}

		// Summaries follow the deliveries.
		job := f.claimOne("worker", t0)
		for job.Delivery.WebhookID != a.ID {
			f.record(retryAt(result(job, "worker", t0, 500), at(time.Hour)))
			job = f.claimOne("worker", t0)
		}
		f.record(result(job, "worker", at(time.Second), 200))
		ev, err = f.st.GetEvent(f.ctx, app.ID, pe.Event.ID)
		f.must(err, "get event")
		s := summaryByWebhook(f, ev)[a.ID]
		equal(f, "summary status after success", s.Status, hookd.DeliverySucceeded)
		equal(f, "summary attempts after success", s.AttemptCount, 1)

		_, err = f.st.GetEvent(f.ctx, other.ID, pe.Event.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get event through another app")
		_, err = f.st.GetEvent(f.ctx, app.ID, "evt_missing")
		wantCode(f, err, hookd.ENOTFOUND, "get unknown event")
	})

	run(t, open, "ListEvents", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		jobs := f.newWebhook(app, func(w *hookd.Webhook) { w.Events, w.Name = []string{"job.*"}, "jobs" })
		all := f.newWebhook(app, func(w *hookd.Webhook) { w.Name = "all" })
		f.newWebhook(other)
		var ids, jobIDs []string
		for i, typ := range []string{"job.a", "user.a", "job.b", "user.b", "job.c", "user.c", "job.d"} {
			ev := f.publishType(app, typ, at(time.Duration(i)*time.Second))
			ids = append(ids, ev.ID)
			if typ[:4] == "job." {
				jobIDs = append(jobIDs, ev.ID)
			}
		}
		f.publishType(other, "job.a", t0)

		evID := func(e *hookd.Event) string { return e.ID }
		list := func(filt store.EventFilter) func(store.Page) ([]*hookd.Event, string, error) {
			return func(p store.Page) ([]*hookd.Event, string, error) {
				evs, next, err := f.st.ListEvents(f.ctx, filt, p)
				for _, ev := range evs {
					want := 2
					if filt.WebhookID != "" {
						want = 1
					} else if ev.Type[:4] == "user" {
						want = 1
					}
					if len(ev.Deliveries) != want {
						f.Errorf("event %s listed with %d deliveries, want %d", ev.ID, len(ev.Deliveries), want)
					}
					for _, d := range ev.Deliveries {
						if filt.WebhookID != "" && d.WebhookID != filt.WebhookID {
							f.Errorf("listing by webhook %s shows a delivery to %s", filt.WebhookID, d.WebhookID)
						}
						switch d.WebhookID {
						case jobs.ID:
							equal(f, "listed webhook name", d.WebhookName, "jobs")
						case all.ID:
							equal(f, "listed webhook name", d.WebhookName, "all")
						default:
							f.Errorf("listed delivery to unknown webhook %q", d.WebhookID)
						}
					}
				}
				return evs, next, err
			}
		}
		for _, limit := range []int{1, 3, 7, 100} {
			sameIDs(f, "events newest first", pageAll(f, limit, list(store.EventFilter{AppID: app.ID}), evID), newestFirst(ids...))
			sameIDs(f, "events of the job webhook", pageAll(f, limit, list(store.EventFilter{AppID: app.ID, WebhookID: jobs.ID}), evID), newestFirst(jobIDs...))
			sameIDs(f, "events of the catch-all webhook", pageAll(f, limit, list(store.EventFilter{AppID: app.ID, WebhookID: all.ID}), evID), newestFirst(ids...))
		}
		evs, _, err := f.st.ListEvents(f.ctx, store.EventFilter{AppID: other.ID, WebhookID: jobs.ID}, store.Page{Limit: 10})
		f.must(err, "list events of a webhook through another app")
		equal(f, "events of a webhook through another app", len(evs), 0)
	})

	run(t, open, "ListDeliveries", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w1, w2 := f.newWebhook(app), f.newWebhook(app)
		f.newWebhook(other)
		var evs []*hookd.Event
		for i := range 4 {
			evs = append(evs, f.publishType(app, "user.created", at(time.Duration(i)*time.Second)))
		}
		f.publishType(other, "user.created", t0)
		// Settle some: w1's first two succeed, w2's first fails for good.
		settle := map[string]int{
			f.deliveryTo(app.ID, evs[0].ID, w1.ID).ID: 200,
			f.deliveryTo(app.ID, evs[1].ID, w1.ID).ID: 200,
			f.deliveryTo(app.ID, evs[0].ID, w2.ID).ID: 500,
		}
		for _, j := range f.claim("worker", at(time.Minute), 100) {
			if code, ok := settle[j.Delivery.ID]; ok {
				f.record(result(j, "worker", at(time.Minute), code))
			} else {
				f.must(f.st.Defer(f.ctx, "worker", []store.Deferral{{DeliveryID: j.Delivery.ID, At: at(time.Hour)}}), "defer")
			}
		}

		dlvID := func(d *hookd.Delivery) string { return d.ID }
		lister := func(filt store.DeliveryFilter) func(store.Page) ([]*hookd.Delivery, string, error) {
			return func(p store.Page) ([]*hookd.Delivery, string, error) { return f.st.ListDeliveries(f.ctx, filt, p) }
		}
		all := f.deliveries(store.DeliveryFilter{AppID: app.ID})
		equal(f, "deliveries of the app", len(all), 8)
		var allIDs []string
		for _, d := range all {
			allIDs = append(allIDs, d.ID)
			equal(f, "listed delivery app", d.AppID, app.ID)
		}
		for _, limit := range []int{1, 3, 8, 100} {
			sameIDs(f, "deliveries paged", pageAll(f, limit, lister(store.DeliveryFilter{AppID: app.ID}), dlvID), allIDs)
		}
		// Newest first: deliveries of later events come first.
		order := map[string]int{}
		for i, e := range evs {
			order[e.ID] = i
		}
		for i := 1; i < len(all); i++ {
			if order[all[i].EventID] > order[all[i-1].EventID] {
				f.Errorf("deliveries not newest first: %s (event %d) after %s (event %d)",
					all[i].ID, order[all[i].EventID], all[i-1].ID, order[all[i-1].EventID])
				break
			}
		}

		check := func(what string, filt store.DeliveryFilter, keep func(d *hookd.Delivery) bool) {
			f.Helper()
			filt.AppID = app.ID
			var want []string
			for _, d := range all {
				if keep(d) {
					want = append(want, d.ID)
				}
			}
			sameIDs(f, what, pageAll(f, 2, lister(filt), dlvID), want)
		}
		check("by webhook", store.DeliveryFilter{WebhookID: w1.ID}, func(d *hookd.Delivery) bool { return d.WebhookID == w1.ID })
		check("by event", store.DeliveryFilter{EventID: evs[2].ID}, func(d *hookd.Delivery) bool { return d.EventID == evs[2].ID })
		check("succeeded", store.DeliveryFilter{Status: hookd.DeliverySucceeded}, func(d *hookd.Delivery) bool { return d.Status == hookd.DeliverySucceeded })
		check("failed", store.DeliveryFilter{Status: hookd.DeliveryFailed}, func(d *hookd.Delivery) bool { return d.Status == hookd.DeliveryFailed })
		check("pending of w2", store.DeliveryFilter{WebhookID: w2.ID, Status: hookd.DeliveryPending},
			func(d *hookd.Delivery) bool { return d.WebhookID == w2.ID && d.Status == hookd.DeliveryPending })
		check("event and webhook", store.DeliveryFilter{EventID: evs[0].ID, WebhookID: w2.ID},
			func(d *hookd.Delivery) bool { return d.EventID == evs[0].ID && d.WebhookID == w2.ID })
		equal(f, "succeeded", len(f.deliveries(store.DeliveryFilter{AppID: app.ID, Status: hookd.DeliverySucceeded})), 2)
		equal(f, "failed", len(f.deliveries(store.DeliveryFilter{AppID: app.ID, Status: hookd.DeliveryFailed})), 1)
		equal(f, "held", len(f.deliveries(store.DeliveryFilter{AppID: app.ID, Status: hookd.DeliveryHeld})), 0)
		equal(f, "another app's webhook", len(f.deliveries(store.DeliveryFilter{AppID: other.ID, WebhookID: w1.ID})), 0)
	})

	run(t, open, "GetDelivery", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w := f.newWebhook(app)
		ev := f.publishType(app, "user.created", t0)
		codes := []int{0, 503, 200}
		var sent []*hookd.Attempt
		for i, code := range codes {
			now := at(time.Duration(i) * time.Hour)
			job := f.claimOne("worker", now)
			r := result(job, "worker", now.Add(time.Second), code)
			r.Attempt.Duration = time.Duration(100*(i+1)) * time.Millisecond
			if code != 200 {
				r.NextAttemptAt = at(time.Duration(i+1) * time.Hour)
			}
			f.record(r)
			sent = append(sent, r.Attempt)
		}
		d := f.delivery(app.ID, f.deliveryTo(app.ID, ev.ID, w.ID).ID)
		equal(f, "status", d.Status, hookd.DeliverySucceeded)
		equal(f, "attempt count", d.AttemptCount, 3)
		equal(f, "last status code", d.LastStatusCode, 200)
		equal(f, "event", d.EventID, ev.ID)
		equal(f, "webhook", d.WebhookID, w.ID)
		sameTimePtr(f, "next attempt of a succeeded delivery", d.NextAttemptAt, time.Time{})
		if len(d.Attempts) != len(sent) {
			f.Fatalf("attempts: got %d, want %d", len(d.Attempts), len(sent))
		}
		for i, a := range d.Attempts {
			want := sent[i]
			equal(f, "attempt number", a.Attempt, i+1)
			if want.ID != "" {
				equal(f, "attempt id", a.ID, want.ID)
			} else if a.ID == "" {
				f.Errorf("attempt %d has no id", i+1)
			}
			equal(f, "attempt delivery", a.DeliveryID, d.ID)
			equal(f, "attempt webhook", a.WebhookID, w.ID)
			sameTime(f, "attempt at", a.At, want.At)
			equal(f, "attempt duration", a.Duration, want.Duration)
			equal(f, "attempt status code", a.StatusCode, want.StatusCode)
			sameMap(f, "attempt request headers", a.RequestHeaders, want.RequestHeaders)
			sameMap(f, "attempt response headers", a.ResponseHeaders, want.ResponseHeaders)
			equal(f, "attempt response body", a.ResponseBody, want.ResponseBody)
			equal(f, "attempt error", a.Error, want.Error)
		}

		_, err := f.st.GetDelivery(f.ctx, other.ID, d.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get delivery through another app")
		_, err = f.st.GetDelivery(f.ctx, app.ID, "dlv_missing")
		wantCode(f, err, hookd.ENOTFOUND, "get unknown delivery")
	})
}

// testConcurrentPublishes publishes events one per call from many
// goroutines to two apps, every failEvery-th (if not 0) to an unknown
// webhook, and checks that each call's outcome is its own.
func testConcurrentPublishes(f *fixture, failEvery int) {
	apps := []*hookd.App{f.newApp(), f.newApp()}
	hooks := map[string]int{}
	for i, app := range apps {
		for range i + 1 {
			f.newWebhook(app)
		}
		hooks[app.ID] = i + 1
	}
	fails := func(i int) bool { return failEvery > 0 && i%failEvery == 0 }
	const n = 48
	pes := make([]*store.PublishEvent, n)
	errs := make([]error, n)
	results := make([][]store.PublishResult, n)
	var wg sync.WaitGroup
	for i := range n {
		app := apps[i%2]
		pe := f.newEvent(app, "user.created")
		pe.Event.CreatedAt = t0
		if i%3 == 0 {
			pe.Event.IdempotencyKey = fmt.Sprintf("k%d", i)
		}
		if fails(i) {
			pe.OnlyWebhookID = "wh_missing"
		}
		pes[i] = pe
		wg.Go(func() {
			results[i], errs[i] = f.st.Publish(f.ctx, &store.PublishParams{AppID: app.ID, Now: t0, Events: []*store.PublishEvent{pe}})
		})
	}
	wg.Wait()
	for i, pe := range pes {
		appID := apps[i%2].ID
		_, err := f.st.GetEvent(f.ctx, appID, pe.Event.ID)
		got := len(f.deliveries(store.DeliveryFilter{AppID: appID, EventID: pe.Event.ID}))
		if fails(i) {
			if errs[i] == nil {
				f.Errorf("publish %d to an unknown webhook: no error", i)
			}
			wantCode(f, err, hookd.ENOTFOUND, fmt.Sprintf("failed publish %d's event", i))
			equal(f, fmt.Sprintf("failed publish %d's deliveries", i), got, 0)
			continue
		}
		f.must(errs[i], "publish %d", i)
		f.must(err, "event of publish %d", i)
		if len(results[i]) != 1 || results[i][0].Event == nil {
			f.Fatalf("publish %d answered %+v", i, results[i])
		}
		equal(f, fmt.Sprintf("publish %d's answered event", i), results[i][0].Event.ID, pe.Event.ID)
		equal(f, fmt.Sprintf("publish %d's answered deliveries", i), results[i][0].Deliveries, hooks[appID])
		equal(f, fmt.Sprintf("publish %d's answered duplicate", i), results[i][0].Duplicate, false)
		equal(f, fmt.Sprintf("publish %d's deliveries", i), got, hooks[appID])
	}
}
