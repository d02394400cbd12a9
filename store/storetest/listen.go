package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testListen covers what listen webhooks need of a store: finding one by
// its URL, touching it, and deleting those left idle.
func testListen(t *testing.T, open opener) {
	run(t, open, "WebhookByURL", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w := f.newWebhook(app, func(w *hookd.Webhook) { w.URL = hookd.ListenURLPrefix + "key1" })
		f.newWebhook(app)
		got, err := f.st.WebhookByURL(f.ctx, app.ID, hookd.ListenURLPrefix+"key1")
		f.must(err, "find by url")
		sameWebhook(f, got, w)
		_, err = f.st.WebhookByURL(f.ctx, other.ID, hookd.ListenURLPrefix+"key1")
		wantCode(f, err, hookd.ENOTFOUND, "find another app's webhook by url")
		_, err = f.st.WebhookByURL(f.ctx, app.ID, hookd.ListenURLPrefix+"key2")
		wantCode(f, err, hookd.ENOTFOUND, "find by an unknown url")
	})

	run(t, open, "TouchSetsOnlyUpdatedAt", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		before := f.webhook(app.ID, w.ID)
		f.must(f.st.TouchWebhook(f.ctx, w.ID, at(time.Hour)), "touch")
		got := f.webhook(app.ID, w.ID)
		sameTime(f, "updated_at", got.UpdatedAt, at(time.Hour))
		equal(f, "version", got.Version, before.Version)
		got.UpdatedAt = before.UpdatedAt
		sameWebhook(f, got, before)
		// An update made from the read before the touch still applies.
		before.Name = "renamed"
		f.must(f.st.UpdateWebhook(f.ctx, before, at(2*time.Hour)), "update after a touch")
		wantCode(f, f.st.TouchWebhook(f.ctx, "wh_missing", at(time.Hour)), hookd.ENOTFOUND, "touch an unknown webhook")
	})

	run(t, open, "DeleteIdleListenWebhooks", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		idle := f.newWebhook(app, func(w *hookd.Webhook) { w.URL = hookd.ListenURLPrefix + "idle" })
		idleOther := f.newWebhook(other, func(w *hookd.Webhook) { w.URL = hookd.ListenURLPrefix + "idle" })
		live := f.newWebhook(app, func(w *hookd.Webhook) { w.URL = hookd.ListenURLPrefix + "live" })
		ordinary := f.newWebhook(app) // as old, but not a listen webhook
		f.must(f.st.TouchWebhook(f.ctx, live.ID, at(10*time.Minute)), "touch")
		ev := f.publishType(app, "user.created", at(time.Minute))
		n, err := f.st.DeleteIdleListenWebhooks(f.ctx, at(5*time.Minute))
		f.must(err, "delete idle")
		equal(f, "deleted", n, 2)
		for _, w := range []*hookd.Webhook{idle, idleOther} {
			_, err := f.st.GetWebhook(f.ctx, w.AppID, w.ID)
			wantCode(f, err, hookd.ENOTFOUND, "get an idle listen webhook after the sweep")
		}
		f.webhook(app.ID, live.ID)
		f.webhook(app.ID, ordinary.ID)
		ev, err = f.st.GetEvent(f.ctx, app.ID, ev.ID)
		f.must(err, "get event")
		for _, d := range ev.Deliveries {
			if d.WebhookID == idle.ID {
				f.Errorf("the idle webhook's delivery %s is still there", d.ID)
			}
		}
		equal(f, "deliveries left", len(ev.Deliveries), 2)
	})
}
