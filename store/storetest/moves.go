package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// testLargeMoves pauses and re-activates a webhook with more open
// deliveries than a store moves in one transaction: the status change
// returns, and every delivery follows it within seconds.
func testLargeMoves(t *testing.T, open opener) {
	run(t, open, "EveryDeliveryFollows", func(f *fixture) {
		const events = 12_000 // more than two chunks of 5,000
		app := f.newApp()
		w := f.newWebhook(app, func(w *hookd.Webhook) { w.Status = hookd.WebhookPaused })
		for range events / 1000 {
			pes := make([]*store.PublishEvent, 1000)
			for i := range pes {
				pes[i] = f.newEvent(app, "user.created")
			}
			f.publish(app, t0, pes...)
		}
		// none waits until no delivery of w has status, then checks that
		// all of them have want.
		none := func(status, want string) {
			f.Helper()
			deadline := time.Now().Add(60 * time.Second)
			for {
				ds, _, err := f.st.ListDeliveries(f.ctx, store.DeliveryFilter{AppID: app.ID, WebhookID: w.ID, Status: status}, store.Page{Limit: 1})
				f.must(err, "list deliveries")
				if len(ds) == 0 {
					break
				}
				if time.Now().After(deadline) {
					f.Fatalf("deliveries still %s 60 s after the webhook became %s", status, w.Status)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if n := len(f.deliveries(store.DeliveryFilter{AppID: app.ID, WebhookID: w.ID, Status: want})); n != events {
				f.Fatalf("%d of %d deliveries are %s after the webhook became %s", n, events, want, w.Status)
			}
		}
		f.setStatus(w, hookd.WebhookActive, t0.Add(time.Minute))
		none(hookd.DeliveryHeld, hookd.DeliveryPending)
		f.setStatus(w, hookd.WebhookPaused, t0.Add(2*time.Minute))
		none(hookd.DeliveryPending, hookd.DeliveryHeld)

		// Disabling fails them all; a recovery of more than a chunk
		// re-queues one itself and the rest in the background, and
		// re-queues each once, the webhook being paused again: held.
		f.setStatus(w, hookd.WebhookDisabled, t0.Add(3*time.Minute))
		none(hookd.DeliveryHeld, hookd.DeliveryFailed)
		f.setStatus(w, hookd.WebhookPaused, t0.Add(4*time.Minute))
		n, done, err := f.st.RecoverWebhook(f.ctx, &store.RecoverParams{AppID: app.ID, WebhookID: w.ID, Since: t0, Now: t0.Add(5 * time.Minute)})
		f.must(err, "recover")
		if done || n != 5000 {
			f.Fatalf("RecoverWebhook of %d = %d, done %v; want the first 5,000 and more to come", events, n, done)
		}
		none(hookd.DeliveryFailed, hookd.DeliveryHeld)
		n, done, err = f.st.RecoverWebhook(f.ctx, &store.RecoverParams{AppID: app.ID, WebhookID: w.ID, Since: t0, Now: t0.Add(6 * time.Minute)})
		f.must(err, "recover again")
		if !done || n != 0 {
			f.Fatalf("RecoverWebhook once all are recovered = %d, done %v; want none and done", n, done)
		}
	})
}
