package storetest

import (
	"errors"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

func testStale(t *testing.T, open opener) {
	run(t, open, "WebhookUpdateFromAnOldRead", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		first, second := f.webhook(app.ID, w.ID), f.webhook(app.ID, w.ID)
		first.Name, first.Secret = "first", "whsec_rotatedsecretrotatedsecret00"
		f.must(f.st.UpdateWebhook(f.ctx, first, at(0)), "update from the first read")
		second.Name = "second"
		if err := f.st.UpdateWebhook(f.ctx, second, at(0)); !errors.Is(err, store.ErrStale) {
			f.Fatalf("update from an older read: got %v, want ErrStale", err)
		}
		got := f.webhook(app.ID, w.ID)
		equal(f, "name after the refused update", got.Name, "first")
		equal(f, "secret after the refused update", got.Secret, first.Secret)
		// The store bumps the version it hands back, so the caller's
		// copy stays usable.
		first.Name = "again"
		f.must(f.st.UpdateWebhook(f.ctx, first, at(0)), "a second update from the same copy")
	})

	run(t, open, "WebhookCountersAreTheStores", func(f *fixture) {
		app := f.newApp(func(a *hookd.App) { a.Profile.Retry.MaxAttempts = 1 })
		w := f.newWebhook(app)
		stale := f.webhook(app.ID, w.ID)
		f.publishType(app, "user.created", t0)
		f.record(result(f.claimOne("worker", t0), "worker", t0, 500)) // exhausted: one failure
		stale.Name = "renamed"
		stale.Version = f.webhook(app.ID, w.ID).Version // counters do not bump the version
		f.must(f.st.UpdateWebhook(f.ctx, stale, at(0)), "update")
		equal(f, "consecutive failures after an update", f.webhook(app.ID, w.ID).ConsecutiveFailures, 1)
	})

	run(t, open, "SourceUpdateFromAnOldRead", func(f *fixture) {
		app := f.newApp()
		src := f.srcNew(app)
		first, second := f.srcGet(app.ID, src.ID), f.srcGet(app.ID, src.ID)
		first.Name = "first"
		f.must(f.st.UpdateSource(f.ctx, first, at(0)), "update from the first read")
		second.Name = "second"
		if err := f.st.UpdateSource(f.ctx, second, at(0)); !errors.Is(err, store.ErrStale) {
			f.Fatalf("update from an older read: got %v, want ErrStale", err)
		}
		equal(f, "name after the refused update", f.srcGet(app.ID, src.ID).Name, "first")
	})
}
