package storetest

import (
	"maps"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// testOperations covers what metrics and the operator read of the whole
// store: the backlog, webhooks by status, and the status a record leaves.
func testOperations(t *testing.T, open opener) {
	run(t, open, "BacklogCountsDuePendingDeliveries", func(f *fixture) {
		backlog := func(now time.Time) store.Backlog {
			f.Helper()
			b, err := f.st.Backlog(f.ctx, now)
			f.must(err, "backlog")
			return b
		}
		if b := backlog(at(0)); b.Due != 0 || !b.OldestDueAt.IsZero() {
			f.Fatalf("empty store: backlog %+v", b)
		}
		app := f.newApp()
		hook := f.newWebhook(app)
		for range 3 {
			f.publishType(app, "order.created", at(0))
		}
		for range 2 {
			f.publishType(app, "order.created", at(10*time.Second))
		}
		if b := backlog(at(5 * time.Second)); b.Due != 3 || !b.OldestDueAt.Equal(at(0)) {
			f.Errorf("at 5s: backlog %+v, want 3 due since t0", b)
		}
		if b := backlog(at(20 * time.Second)); b.Due != 5 || !b.OldestDueAt.Equal(at(0)) {
			f.Errorf("at 20s: backlog %+v, want 5 due since t0", b)
		}
		// In flight is still due; retried later is not due yet; done is gone.
		jobs := f.claim("worker", at(20*time.Second), 2)
		if b := backlog(at(20 * time.Second)); b.Due != 5 {
			f.Errorf("with 2 in flight: backlog %+v, want 5", b)
		}
		f.record(retryAt(result(jobs[0], "worker", at(21*time.Second), 500), at(time.Hour)),
			result(jobs[1], "worker", at(21*time.Second), 200))
		if b := backlog(at(22 * time.Second)); b.Due != 3 || !b.OldestDueAt.Equal(at(0)) {
			f.Errorf("after a retry and a success: backlog %+v, want 3 due since t0", b)
		}
		if b := backlog(at(2 * time.Hour)); b.Due != 4 || !b.OldestDueAt.Equal(at(0)) {
			f.Errorf("when the retry is due: backlog %+v, want 4", b)
		}
		// A paused webhook's deliveries are held, not due.
		f.setStatus(f.webhook(app.ID, hook.ID), hookd.WebhookPaused, at(23*time.Second))
		if b := backlog(at(2 * time.Hour)); b.Due != 0 || !b.OldestDueAt.IsZero() {
			f.Errorf("all held: backlog %+v, want none due", b)
		}
	})

	run(t, open, "CountWebhooksByStatus", func(f *fixture) {
		counts := func() map[string]int64 {
			f.Helper()
			c, err := f.st.CountWebhooks(f.ctx)
			f.must(err, "count webhooks")
			return c
		}
		if c := counts(); len(c) != 0 {
			f.Errorf("empty store: %v", c)
		}
		a, b := f.newApp(), f.newApp()
		f.newWebhook(a)
		f.newWebhook(b)
		f.newWebhook(b, func(w *hookd.Webhook) { w.Status = hookd.WebhookPaused })
		f.newWebhook(a, func(w *hookd.Webhook) { w.Status, w.DisabledReason = hookd.WebhookDisabled, "by hand" })
		want := map[string]int64{hookd.WebhookActive: 2, hookd.WebhookPaused: 1, hookd.WebhookDisabled: 1}
		if c := counts(); !maps.Equal(c, want) {
			f.Errorf("counts = %v, want %v", c, want)
		}
	})

	run(t, open, "RecordTellsTheStatusItLeft", func(f *fixture) {
		app := f.newApp(func(a *hookd.App) { a.Profile.AutoDisableAfter = 0 })
		f.newWebhook(app)
		for range 4 {
			f.publishType(app, "order.created", at(0))
		}
		jobs := f.claim("worker", at(0), 4)
		if len(jobs) != 4 {
			f.Fatalf("claimed %d, want 4", len(jobs))
		}
		ok := result(jobs[0], "worker", at(time.Second), 200)
		retry := retryAt(result(jobs[1], "worker", at(time.Second), 503), at(time.Minute))
		exhausted := result(jobs[2], "worker", at(time.Second), 500)
		stale := result(jobs[3], "someone-else", at(time.Second), 200) // not the lease holder
		f.record(ok, retry, exhausted, stale)
		for r, want := range map[*store.AttemptResult]string{
			ok: hookd.DeliverySucceeded, retry: hookd.DeliveryPending, exhausted: hookd.DeliveryFailed, stale: "",
		} {
			if r.Status != want {
				f.Errorf("delivery %s: recorded status %q, want %q", r.Attempt.DeliveryID, r.Status, want)
			}
		}
	})
}
