package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

func sameWebhook(tb testing.TB, got, want *hookd.Webhook) {
	tb.Helper()
	equal(tb, "webhook id", got.ID, want.ID)
	equal(tb, "webhook app", got.AppID, want.AppID)
	equal(tb, "webhook url", got.URL, want.URL)
	sameStrings(tb, "webhook events", got.Events, want.Events)
	equal(tb, "webhook status", got.Status, want.Status)
	equal(tb, "webhook name", got.Name, want.Name)
	equal(tb, "webhook description", got.Description, want.Description)
	sameMap(tb, "webhook headers", got.Headers, want.Headers)
	equal(tb, "webhook rate limit", got.RateLimit, want.RateLimit)
	equal(tb, "webhook ordered", got.Ordered, want.Ordered)
	sameMap(tb, "webhook metadata", got.Metadata, want.Metadata)
	equal(tb, "webhook secret", got.Secret, want.Secret)
	equal(tb, "webhook previous secret", got.PreviousSecret, want.PreviousSecret)
	sameTime(tb, "webhook previous secret expiry", got.PreviousSecretExpiresAt, want.PreviousSecretExpiresAt)
	equal(tb, "webhook disabled reason", got.DisabledReason, want.DisabledReason)
	equal(tb, "webhook consecutive failures", got.ConsecutiveFailures, want.ConsecutiveFailures)
	sameTime(tb, "webhook created_at", got.CreatedAt, want.CreatedAt)
	sameTime(tb, "webhook updated_at", got.UpdatedAt, want.UpdatedAt)
}

// fullWebhook sets every optional field.
func fullWebhook(w *hookd.Webhook) {
	w.Events = []string{"user.created", "job.*"}
	w.Description = "the billing backend"
	w.Headers = map[string]string{"X-Team": "billing", "Authorization": "Bearer abc"}
	w.RateLimit = 25
	w.Ordered = true
	w.Metadata = map[string]string{"region": "eu", "tier": "gold"}
	w.PreviousSecret = "whsec_previous_" + w.ID
	w.PreviousSecretExpiresAt = at(time.Hour)
	w.UpdatedAt = at(time.Second)
}

func testWebhooks(t *testing.T, open opener) {
	run(t, open, "CreateGet", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w := f.newWebhook(app, fullWebhook)
		sameWebhook(f, f.webhook(app.ID, w.ID), w)

		bare := f.newWebhook(app, func(w *hookd.Webhook) { w.Events, w.Headers, w.Metadata = nil, nil, nil })
		sameWebhook(f, f.webhook(app.ID, bare.ID), bare)

		_, err := f.st.GetWebhook(f.ctx, other.ID, w.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get a webhook through another app")
		_, err = f.st.GetWebhook(f.ctx, app.ID, "wh_missing")
		wantCode(f, err, hookd.ENOTFOUND, "get unknown webhook")
	})

	run(t, open, "SecretsSealed", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app, fullWebhook)
		for _, s := range []string{w.Secret, w.PreviousSecret} {
			if !f.sealer.Sealed(s) {
				f.Errorf("secret %q was not sealed before it was stored", s)
			}
		}
		got := f.webhook(app.ID, w.ID)
		equal(f, "secret", got.Secret, w.Secret)
		equal(f, "previous secret", got.PreviousSecret, w.PreviousSecret)
		sameTime(f, "previous secret expiry", got.PreviousSecretExpiresAt, w.PreviousSecretExpiresAt)
		for _, s := range []string{w.Secret, w.PreviousSecret} {
			if !f.sealer.Opened(s) {
				f.Errorf("secret %q was not read back through the sealer", s)
			}
		}

		// A rotation without grace: new secret, no previous one.
		got.PreviousSecret, got.PreviousSecretExpiresAt = got.Secret, time.Time{}
		got.PreviousSecret, got.Secret = "", "whsec_rotated"
		got.UpdatedAt = at(time.Minute)
		f.must(f.st.UpdateWebhook(f.ctx, got, at(time.Minute)), "rotate")
		if !f.sealer.Sealed("whsec_rotated") {
			f.Errorf("the rotated secret was not sealed")
		}
		sameWebhook(f, f.webhook(app.ID, w.ID), got)

		// Listing reads the secrets through the sealer too.
		hooks, _, err := f.st.ListWebhooks(f.ctx, app.ID, store.Page{Limit: 10})
		f.must(err, "list webhooks")
		if len(hooks) != 1 || hooks[0].Secret != "whsec_rotated" {
			f.Errorf("listed webhook secret: got %+v", hooks)
		}
	})

	run(t, open, "CredentialHeadersSealed", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app, func(w *hookd.Webhook) {
			w.Headers = map[string]string{"Authorization": "Bearer tok_conformance_1", "X-Api-Key": "key_conformance_2", "X-Team": "billing-team"}
		})
		for _, v := range []string{"Bearer tok_conformance_1", "key_conformance_2"} {
			if !f.sealer.Sealed(v) {
				f.Errorf("credential header value %q was not sealed before it was stored", v)
			}
		}
		if f.sealer.Sealed("billing-team") {
			f.Errorf("the plain header X-Team was sealed")
		}
		sameWebhook(f, f.webhook(app.ID, w.ID), w)
		if !f.sealer.Opened("Bearer tok_conformance_1") {
			f.Errorf("the Authorization header was not read back through the sealer")
		}
		// An update seals again; a list reads through the sealer too.
		w.Headers = map[string]string{"X-Auth-Token": "tok_conformance_3"}
		w.UpdatedAt = at(time.Minute)
		f.must(f.st.UpdateWebhook(f.ctx, w, at(time.Minute)), "update headers")
		if !f.sealer.Sealed("tok_conformance_3") {
			f.Errorf("the updated credential header was not sealed")
		}
		hooks, _, err := f.st.ListWebhooks(f.ctx, app.ID, store.Page{Limit: 10})
		f.must(err, "list webhooks")
		if len(hooks) != 1 || hooks[0].Headers["X-Auth-Token"] != "tok_conformance_3" || len(hooks[0].Headers) != 1 {
			f.Errorf("listed webhook headers: got %+v", hooks[0].Headers)
		}
	})

	run(t, open, "MaxWebhooks", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		mk := func(app *hookd.App) *hookd.Webhook {
			id := f.id("wh")
			return &hookd.Webhook{ID: id, AppID: app.ID, URL: "https://r.example.com/" + id, Events: []string{"*"},
				Status: hookd.WebhookActive, Secret: "whsec_" + id, CreatedAt: t0, UpdatedAt: t0}
		}
		first, second := mk(app), mk(app)
		f.must(f.st.CreateWebhook(f.ctx, first, 2), "first of 2")
		f.must(f.st.CreateWebhook(f.ctx, second, 2), "second of 2")
		third := mk(app)
		wantCode(f, f.st.CreateWebhook(f.ctx, third, 2), hookd.ECONFLICT, "third of 2")
		_, err := f.st.GetWebhook(f.ctx, app.ID, third.ID)
		wantCode(f, err, hookd.ENOTFOUND, "the webhook whose create conflicted")
		wantCode(f, f.st.CreateWebhook(f.ctx, mk(app), 1), hookd.ECONFLICT, "a lowered cap")

		// Another app's webhooks do not count.
		f.must(f.st.CreateWebhook(f.ctx, mk(other), 1), "other app's first of 1")
		// A delete makes room.
		f.must(f.st.DeleteWebhook(f.ctx, app.ID, first.ID), "delete webhook")
		f.must(f.st.CreateWebhook(f.ctx, third, 2), "third of 2 after a delete")
		// 0 is no cap.
		for range 3 {
			f.must(f.st.CreateWebhook(f.ctx, mk(app), 0), "uncapped")
		}
	})

	run(t, open, "MaxWebhooksConcurrent", func(f *fixture) {
		app := f.newApp()
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			id := f.id("wh")
			w := &hookd.Webhook{ID: id, AppID: app.ID, URL: "https://r.example.com/" + id, Events: []string{"*"},
				Status: hookd.WebhookActive, Secret: "whsec_" + id, CreatedAt: t0, UpdatedAt: t0}
			wg.Go(func() { errs[i] = f.st.CreateWebhook(f.ctx, w, 1) })
		}
		wg.Wait()
		created := 0
		for _, err := range errs {
			switch hookd.ErrorCode(err) {
			case "":
				created++
			case hookd.ECONFLICT:
			default:
				f.Errorf("concurrent create: %v", err)
			}
		}
		equal(f, "webhooks created under a cap of 1", created, 1)
		hooks, _, err := f.st.ListWebhooks(f.ctx, app.ID, store.Page{Limit: 50})
		f.must(err, "list webhooks")
		equal(f, "webhooks stored under a cap of 1", len(hooks), 1)
	})

	run(t, open, "List", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		var ids []string
		for range 5 {
			ids = append(ids, f.newWebhook(app).ID)
		}
		f.newWebhook(other)
		list := func(p store.Page) ([]*hookd.Webhook, string, error) { return f.st.ListWebhooks(f.ctx, app.ID, p) }
		whID := func(w *hookd.Webhook) string { return w.ID }
		for _, limit := range []int{1, 2, 5, 50} {
			sameIDs(f, "webhooks newest first", pageAll(f, limit, list, whID), newestFirst(ids...))
		}
	})

	run(t, open, "Update", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w := f.newWebhook(app)
		before := *f.webhook(app.ID, w.ID)
		fullWebhook(w)
		w.URL, w.Name, w.Secret, w.UpdatedAt = "https://moved.example.com/hook", "renamed", "whsec_new", at(time.Hour)
		f.must(f.st.UpdateWebhook(f.ctx, w, at(time.Hour)), "update webhook")
		sameWebhook(f, f.webhook(app.ID, w.ID), w)

		// Fields can be cleared again.
		w.Events, w.Headers, w.Metadata, w.Description, w.RateLimit, w.Ordered = []string{"*"}, nil, nil, "", 0, false
		w.PreviousSecret, w.PreviousSecretExpiresAt = "", time.Time{}
		f.must(f.st.UpdateWebhook(f.ctx, w, at(2*time.Hour)), "clear fields")
		sameWebhook(f, f.webhook(app.ID, w.ID), w)

		stranger := *w
		stranger.AppID, stranger.Name = other.ID, "hijacked"
		wantCode(f, f.st.UpdateWebhook(f.ctx, &stranger, at(3*time.Hour)), hookd.ENOTFOUND, "update through another app")
		equal(f, "name after an update through another app", f.webhook(app.ID, w.ID).Name, "renamed")
		ghost := before
		ghost.ID = "wh_missing"
		wantCode(f, f.st.UpdateWebhook(f.ctx, &ghost, at(3*time.Hour)), hookd.ENOTFOUND, "update unknown webhook")
	})

	run(t, open, "PauseHoldsActivateReleases", func(f *fixture) {
		app := f.newApp()
		w, bystander := f.newWebhook(app), f.newWebhook(app)
		succeed := func(jobs []*store.Job, now time.Time) {
			f.Helper()
			for _, j := range jobs {
				f.record(result(j, "worker", now, 200))
			}
		}
		// e1's delivery to w fails once and waits an hour for its retry.
		e1 := f.publishType(app, "user.created", t0)
		d1 := f.deliveryTo(app.ID, e1.ID, w.ID)
		for _, j := range f.claim("worker", t0, 10) {
			if j.Delivery.ID == d1.ID {
				f.record(retryAt(result(j, "worker", at(time.Second), 500), at(time.Hour)))
			} else {
				succeed([]*store.Job{j}, at(time.Second))
			}
		}
		e2 := f.publishType(app, "user.created", at(time.Minute))
		d2 := f.deliveryTo(app.ID, e2.ID, w.ID)

		f.setStatus(w, hookd.WebhookPaused, at(2*time.Minute))
		f.wantStatus(app.ID, d1.ID, hookd.DeliveryHeld)
		f.wantStatus(app.ID, d2.ID, hookd.DeliveryHeld)
		// Events published while paused are held too.
		e3 := f.publishType(app, "user.created", at(3*time.Minute))
		d3 := f.deliveryTo(app.ID, e3.ID, w.ID)
		equal(f, "status of a delivery published while paused", d3.Status, hookd.DeliveryHeld)
		f.wantStatus(app.ID, f.deliveryTo(app.ID, e3.ID, bystander.ID).ID, hookd.DeliveryPending)
		jobs := f.claim("worker", at(2*time.Hour), 10)
		for _, j := range jobs {
			if j.Delivery.WebhookID == w.ID {
				f.Errorf("claimed held delivery %s of a paused webhook", j.Delivery.ID)
			}
		}
		equal(f, "bystander deliveries claimed while w is paused", len(jobs), 2)
		succeed(jobs, at(2*time.Hour))

		// Activating makes every held delivery pending and due at once,
		// even one whose retry was scheduled later.
		now := at(150 * time.Minute)
		f.setStatus(w, hookd.WebhookActive, now)
		for _, id := range []string{d1.ID, d2.ID, d3.ID} {
			d := f.wantStatus(app.ID, id, hookd.DeliveryPending)
			if d.NextAttemptAt == nil || d.NextAttemptAt.After(now) {
				f.Errorf("delivery %s after activation: next attempt %v, want by %v", id, d.NextAttemptAt, now)
			}
		}
		sameIDSet(f, "due after activation", f.claimIDs("worker", now, 10), []string{d1.ID, d2.ID, d3.ID})
	})

	run(t, open, "DisableFails", func(f *fixture) {
		app := f.newApp()
		w, bystander := f.newWebhook(app), f.newWebhook(app)
		e1 := f.publishType(app, "user.created", t0)
		f.setStatus(w, hookd.WebhookPaused, at(time.Minute))
		e2 := f.publishType(app, "user.created", at(2*time.Minute))
		f.wantStatus(app.ID, f.deliveryTo(app.ID, e1.ID, w.ID).ID, hookd.DeliveryHeld)

		cur := f.webhook(app.ID, w.ID)
		cur.Status, cur.DisabledReason, cur.UpdatedAt = hookd.WebhookDisabled, "disabled by the customer", at(7*time.Minute)
		f.must(f.st.UpdateWebhook(f.ctx, cur, at(7*time.Minute)), "disable")
		equal(f, "disabled reason", f.webhook(app.ID, w.ID).DisabledReason, "disabled by the customer")
		for _, e := range []*hookd.Event{e1, e2} {
			d := f.wantStatus(app.ID, f.deliveryTo(app.ID, e.ID, w.ID).ID, hookd.DeliveryFailed)
			if d.NextAttemptAt != nil {
				f.Errorf("failed delivery %s still has a next attempt at %v", d.ID, *d.NextAttemptAt)
			}
		}
		e4 := f.publishType(app, "user.created", at(8*time.Minute))
		sameRoutes(f, "routes of an event published while disabled", f.routes(app.ID, e4.ID), map[string]string{bystander.ID: hookd.DeliveryPending})
		for _, j := range f.claim("worker", at(time.Hour), 10) {
			if j.Delivery.WebhookID == w.ID {
				f.Errorf("claimed delivery %s of a disabled webhook", j.Delivery.ID)
			}
		}

		// Re-activating starts clean but does not revive failed deliveries
		// (RecoverWebhook does that).
		f.setStatus(w, hookd.WebhookActive, at(2*time.Hour))
		got := f.webhook(app.ID, w.ID)
		equal(f, "disabled reason after re-activation", got.DisabledReason, "")
		equal(f, "consecutive failures after re-activation", got.ConsecutiveFailures, 0)
		f.wantStatus(app.ID, f.deliveryTo(app.ID, e1.ID, w.ID).ID, hookd.DeliveryFailed)
	})

	run(t, open, "DisableFromActive", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		e1 := f.publishType(app, "user.created", t0)
		f.attemptOnce(t0, 503, at(time.Hour)) // e1 waits for a retry
		e2 := f.publishType(app, "user.created", at(time.Minute))
		f.setStatus(w, hookd.WebhookDisabled, at(2*time.Minute))
		for _, e := range []*hookd.Event{e1, e2} {
			d := f.wantStatus(app.ID, f.deliveryTo(app.ID, e.ID, w.ID).ID, hookd.DeliveryFailed)
			if d.NextAttemptAt != nil {
				f.Errorf("failed delivery %s still has a next attempt at %v", d.ID, *d.NextAttemptAt)
			}
		}
		if ids := f.claimIDs("worker", at(2*time.Hour), 10); len(ids) != 0 {
			f.Errorf("claimed %q after the only webhook was disabled", ids)
		}
		if next, ok, err := f.st.NextDue(f.ctx); err != nil || ok {
			f.Errorf("NextDue after the only webhook was disabled: %v, %v, %v", next, ok, err)
		}
	})

	run(t, open, "TestDeliveriesIgnoreStatus", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		var ids []string
		for _, status := range []string{hookd.WebhookPaused, hookd.WebhookDisabled} {
			pe := f.newEvent(app, "webhook.test")
			pe.Event.Test, pe.OnlyWebhookID = true, w.ID
			f.publish(app, t0, pe)
			id := f.deliveryTo(app.ID, pe.Event.ID, w.ID).ID
			ids = append(ids, id)
			// A test delivery made just before the change goes like one
			// made just after it.
			f.setStatus(w, status, at(time.Minute))
			f.wantStatus(app.ID, id, hookd.DeliveryPending)
		}
		sameIDSet(f, "test deliveries due", f.claimIDs("worker", at(time.Hour), 10), ids)
	})

	run(t, open, "Delete", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w, kept := f.newWebhook(app), f.newWebhook(app)
		e := f.publishType(app, "user.created", t0)
		keptDelivery := f.deliveryTo(app.ID, e.ID, kept.ID)

		wantCode(f, f.st.DeleteWebhook(f.ctx, other.ID, w.ID), hookd.ENOTFOUND, "delete through another app")
		f.webhook(app.ID, w.ID)
		f.must(f.st.DeleteWebhook(f.ctx, app.ID, w.ID), "delete webhook")
		_, err := f.st.GetWebhook(f.ctx, app.ID, w.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get deleted webhook")
		wantCode(f, f.st.DeleteWebhook(f.ctx, app.ID, w.ID), hookd.ENOTFOUND, "delete twice")

		// Its deliveries are gone from the queue; the event stays.
		_, err = f.st.GetEvent(f.ctx, app.ID, e.ID)
		f.must(err, "event of a deleted webhook")
		equal(f, "deliveries of a deleted webhook", len(f.deliveries(store.DeliveryFilter{AppID: app.ID, WebhookID: w.ID})), 0)
		sameIDs(f, "due after the delete", f.claimIDs("worker", at(time.Minute), 10), []string{keptDelivery.ID})
	})
}
