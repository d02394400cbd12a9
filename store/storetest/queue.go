package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

func testClaim(t *testing.T, open opener) {
	run(t, open, "DueOnly", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		ev := f.publishType(app, "user.created", t0)
		if ids := f.claimIDs("worker", at(-time.Second), 10); len(ids) != 0 {
			f.Errorf("claimed %q before they were due", ids)
		}
		sameIDs(f, "claimed when due", f.claimIDs("worker", t0, 10), []string{f.deliveryTo(app.ID, ev.ID, w.ID).ID})
	})

	run(t, open, "Admit", func(f *fixture) {
		app := f.newApp()
		busy := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"user.created"} })
		for i := range 3 {
			f.publishType(app, "user.created", at(time.Duration(i)*time.Millisecond))
		}
		open := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"order.paid"} })
		ev := f.publishType(app, "order.paid", at(time.Second))
		want := f.deliveryTo(app.ID, ev.ID, open.ID).ID

		// Admit turns the open webhook's delivery down: it stays due.
		var asked []string
		jobs, err := f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: "worker", Now: at(time.Minute), Limit: 10, LeaseFor: 3 * time.Hour,
			Full: map[string]time.Time{busy.ID: {}},
			Admit: func(c store.Candidate) bool {
				asked = append(asked, c.WebhookID)
				return false
			}})
		f.must(err, "claim with admit")
		equal(f, "leased when admit says no", len(jobs), 0)
		equal(f, "asked about", fmt.Sprint(asked), fmt.Sprint([]string{open.ID}))

		// A full webhook's deliveries are left due, and looked past.
		jobs, err = f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: "worker", Now: at(time.Minute), Limit: 10, LeaseFor: 3 * time.Hour,
			Full: map[string]time.Time{busy.ID: {}}})
		f.must(err, "claim with a full webhook")
		sameIDs(f, "leased beside a full webhook", jobIDs(jobs), []string{want})
		// Or pushed back to the time given.
		jobs, err = f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: "worker", Now: at(2 * time.Minute), Limit: 10, LeaseFor: 3 * time.Hour,
			Full: map[string]time.Time{busy.ID: at(time.Hour)}})
		f.must(err, "claim pushing a full webhook back")
		equal(f, "leased when all else is full", len(jobs), 0)
		if ids := f.claimIDs("worker", at(time.Hour-time.Second), 10); len(ids) != 0 {
			f.Errorf("claimed %q before the hour they were pushed back to", ids)
		}
		if ids := f.claimIDs("worker", at(time.Hour), 10); len(ids) != 3 {
			f.Errorf("due at the hour: %q, want the three pushed back", ids)
		}

		// Scan bounds how many are looked at.
		for range 2 {
			f.publishType(app, "order.paid", at(2*time.Hour))
		}
		asked = nil
		jobs, err = f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: "worker", Now: at(2 * time.Hour), Limit: 10, Scan: 1, LeaseFor: lease,
			Admit: func(c store.Candidate) bool {
				asked = append(asked, c.WebhookID)
				return true
			}})
		f.must(err, "claim with a scan of 1")
		equal(f, "leased with a scan of 1", len(jobs), 1)
		equal(f, "asked with a scan of 1", len(asked), 1)
	})

	run(t, open, "AdmitSeesWhoseAndWhere", func(f *fixture) {
		// Admit is told each candidate's app and webhook, and where a
		// delivery without a webhook goes: the caller shares its room by
		// app and by destination host.
		app := f.newApp()
		w := f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		pe := f.newEvent(app, "user.created")
		pe.OneOffURL = "https://elsewhere.example.com/hook"
		f.publish(app, at(time.Millisecond), pe)
		var asked []store.Candidate
		_, err := f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: "worker", Now: at(time.Minute), Limit: 10, LeaseFor: lease,
			Admit: func(c store.Candidate) bool {
				asked = append(asked, c)
				return false
			}})
		f.must(err, "claim with admit")
		// The second event goes to the webhook and to the one-off URL.
		webhook, oneOff := 0, 0
		for _, c := range asked {
			switch {
			case c.AppID != app.ID:
				f.Errorf("Admit asked about %+v, of app %q, want %q", c, c.AppID, app.ID)
			case c.WebhookID == w.ID:
				webhook++
			case c.WebhookID == "" && c.URL == pe.OneOffURL:
				oneOff++
			default:
				f.Errorf("Admit asked about %+v", c)
			}
		}
		if webhook != 2 || oneOff != 1 {
			f.Errorf("Admit asked about %d of the webhook's deliveries and %d to the one-off URL, want 2 and 1: %+v", webhook, oneOff, asked)
		}
	})

	run(t, open, "Job", func(f *fixture) {
		app := f.newApp(func(a *hookd.App) { a.Profile = alloyProfile() })
		w := f.newWebhook(app, fullWebhook)
		pe := f.newEvent(app, "user.created")
		pe.Event.CreatedAt = at(-time.Minute)
		f.publish(app, t0, pe)
		job := f.claimOne("worker", t0)

		d := job.Delivery
		equal(f, "job delivery", d.ID, f.deliveryTo(app.ID, pe.Event.ID, w.ID).ID)
		equal(f, "job delivery app", d.AppID, app.ID)
		equal(f, "job delivery event", d.EventID, pe.Event.ID)
		equal(f, "job delivery webhook", d.WebhookID, w.ID)
		equal(f, "job delivery status", d.Status, hookd.DeliveryPending)
		equal(f, "job delivery attempts", d.AttemptCount, 0)
		equal(f, "job delivery test", d.Test, false)
		ev := job.Event
		equal(f, "job event id", ev.ID, pe.Event.ID)
		equal(f, "job event app", ev.AppID, app.ID)
		equal(f, "job event type", ev.Type, "user.created")
		sameBytes(f, "job event payload", ev.Payload, pe.Event.Payload)
		equal(f, "job event test", ev.Test, false)
		sameTime(f, "job event created_at", ev.CreatedAt, pe.Event.CreatedAt)
		if job.Webhook == nil {
			f.Fatalf("job of a webhook delivery has no webhook")
		}
		sameWebhook(f, job.Webhook, w)
		if !reflect.DeepEqual(job.Profile, app.Profile) {
			f.Errorf("job profile:\n got  %+v\n want %+v", job.Profile, app.Profile)
		}
		equal(f, "job default secret", job.DefaultSecret, app.DefaultSecret)
	})

	run(t, open, "JobSeesUpdates", func(f *fixture) {
		// A claim gives the webhook and the app as they are now, not as
		// an earlier claim read (and a store may have cached) them.
		app := f.newApp()
		w := f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		first := f.claimOne("worker", t0)
		equal(f, "first job's webhook url", first.Webhook.URL, w.URL)

		cur := f.webhook(app.ID, w.ID)
		cur.URL, cur.UpdatedAt = "https://moved.example.com/hook", at(time.Second)
		f.must(f.st.UpdateWebhook(f.ctx, cur, at(time.Second)), "update webhook")
		a, err := f.st.GetApp(f.ctx, app.ID)
		f.must(err, "get app")
		a.DefaultSecret, a.UpdatedAt = "whsec_rotated_default", at(time.Second)
		f.must(f.st.UpdateApp(f.ctx, a), "update app")

		f.publishType(app, "user.created", at(2*time.Second))
		second := f.claimOne("worker", at(2*time.Second))
		equal(f, "second job's webhook url", second.Webhook.URL, "https://moved.example.com/hook")
		equal(f, "second job's default secret", second.DefaultSecret, "whsec_rotated_default")
	})

	run(t, open, "OneOffJob", func(f *fixture) {
		app := f.newApp()
		pe := f.newEvent(app, "job.progress")
		pe.OneOffURL = "https://oneoff.example.com/progress"
		f.publish(app, t0, pe)
		job := f.claimOne("worker", t0)
		if job.Webhook != nil {
			f.Errorf("job of a one-off URL has webhook %s", job.Webhook.ID)
		}
		equal(f, "job delivery url", job.Delivery.URL, pe.OneOffURL)
		equal(f, "job delivery webhook", job.Delivery.WebhookID, "")
		equal(f, "job default secret", job.DefaultSecret, app.DefaultSecret)
		equal(f, "job event", job.Event.ID, pe.Event.ID)
	})

	run(t, open, "OnlyPendingOfActiveWebhooks", func(f *fixture) {
		app := f.newApp()
		hook := func() *hookd.Webhook {
			return f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"x"} })
		}
		active, paused, disabled, done := hook(), hook(), hook(), hook()
		ev := f.publishType(app, "x", t0)
		// done's delivery succeeds; the others wait.
		for _, j := range f.claim("worker", t0, 10) {
			if j.Delivery.WebhookID == done.ID {
				f.record(result(j, "worker", t0, 200))
			} else {
				f.must(f.st.Defer(f.ctx, "worker", []store.Deferral{{DeliveryID: j.Delivery.ID, At: t0}}), "defer")
			}
		}
		f.setStatus(paused, hookd.WebhookPaused, at(time.Minute))
		f.setStatus(disabled, hookd.WebhookDisabled, at(time.Minute))
		// A hand retry keeps a paused webhook's delivery held, and is
		// refused for a disabled webhook: neither may receive it.
		d, err := f.st.RetryDelivery(f.ctx, app.ID, f.deliveryTo(app.ID, ev.ID, paused.ID).ID, at(2*time.Minute))
		f.must(err, "retry delivery to a paused webhook")
		equal(f, "retried delivery of a paused webhook", d.Status, hookd.DeliveryHeld)
		_, err = f.st.RetryDelivery(f.ctx, app.ID, f.deliveryTo(app.ID, ev.ID, disabled.ID).ID, at(2*time.Minute))
		wantCode(f, err, hookd.ECONFLICT, "retry delivery to a disabled webhook")
		// Test deliveries and one-off URLs go regardless.
		var want []string
		for _, w := range []*hookd.Webhook{paused, disabled} {
			pe := f.newEvent(app, "webhook.test")
			pe.Event.Test, pe.OnlyWebhookID = true, w.ID
			f.publish(app, at(2*time.Minute), pe)
			want = append(want, f.deliveryTo(app.ID, pe.Event.ID, w.ID).ID)
		}
		pe := f.newEvent(app, "y")
		pe.OneOffURL = "https://oneoff.example.com/"
		f.publish(app, at(2*time.Minute), pe)
		want = append(want, f.deliveryTo(app.ID, pe.Event.ID, "").ID, f.deliveryTo(app.ID, ev.ID, active.ID).ID)

		sameIDSet(f, "claimable", f.claimIDs("worker", at(3*time.Minute), 100), want)
	})

	run(t, open, "Limit", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		var all []string
		for i := range 5 {
			ev := f.publishType(app, "user.created", at(time.Duration(i)*time.Second))
			all = append(all, f.deliveries(store.DeliveryFilter{AppID: app.ID, EventID: ev.ID})[0].ID)
		}
		var got []string
		for i, want := range []int{2, 2, 1, 0} {
			ids := f.claimIDs(fmt.Sprintf("worker-%d", i), at(time.Minute), 2)
			equal(f, "claimed", len(ids), want)
			got = append(got, ids...)
		}
		sameIDSet(f, "claimed in all", got, all)
		// The earliest due go first.
		f2 := f.claimIDs("late", at(time.Hour), 2)
		sameIDs(f, "after the leases ran out, earliest due first", f2, all[:2])
	})

	run(t, open, "Lease", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		first := f.claimIDs("a", t0, 10)
		equal(f, "claimed by a", len(first), 2)
		for _, now := range []time.Time{t0, at(30 * time.Second), at(lease - time.Second)} {
			if ids := f.claimIDs("b", now, 10); len(ids) != 0 {
				f.Errorf("b claimed %q at %v while a's lease lives", ids, now.Sub(t0))
			}
		}
		again := f.claim("b", at(lease+time.Second), 10)
		sameIDSet(f, "claimed by b after a's lease ran out", jobIDs(again), first)
		for _, j := range again {
			equal(f, "attempt count of a reclaimed delivery", j.Delivery.AttemptCount, 0)
		}
		if ids := f.claimIDs("c", at(lease+2*time.Second), 10); len(ids) != 0 {
			f.Errorf("c claimed %q while b's lease lives", ids)
		}
	})

	run(t, open, "ConcurrentClaimsNeverOverlap", func(f *fixture) {
		app := f.newApp()
		for range 3 {
			f.newWebhook(app)
		}
		const events = 20
		for i := range events {
			f.publishType(app, "user.created", at(time.Duration(i)*time.Millisecond))
		}
		var (
			mu    sync.Mutex
			owner = map[string]string{}
			wg    sync.WaitGroup
		)
		for w := range 6 {
			name := fmt.Sprintf("worker-%d", w)
			wg.Go(func() {
				for {
					jobs, err := f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: name, Now: at(time.Second), Limit: 4, LeaseFor: lease})
					if err != nil {
						f.Errorf("%s: claim: %v", name, err)
						return
					}
					if len(jobs) == 0 {
						return
					}
					mu.Lock()
					for _, j := range jobs {
						if prev, dup := owner[j.Delivery.ID]; dup {
							f.Errorf("delivery %s leased to %s and %s", j.Delivery.ID, prev, name)
						}
						owner[j.Delivery.ID] = name
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		equal(f, "deliveries claimed", len(owner), 3*events)
	})

	run(t, open, "Ordered", func(f *fixture) {
		app := f.newApp()
		ordered := f.newWebhook(app, func(w *hookd.Webhook) { w.Ordered = true })
		loose := f.newWebhook(app)
		var evs []*hookd.Event
		for i := range 3 {
			evs = append(evs, f.publishType(app, "user.created", at(time.Duration(i)*time.Second)))
		}
		head := func(i int) string { return f.deliveryTo(app.ID, evs[i].ID, ordered.ID).ID }
		test := f.newEvent(app, "webhook.test")
		test.Event.Test, test.OnlyWebhookID = true, ordered.ID
		f.publish(app, at(3*time.Second), test)
		testID := f.deliveryTo(app.ID, test.Event.ID, ordered.ID).ID

		var want []string
		for _, e := range evs {
			want = append(want, f.deliveryTo(app.ID, e.ID, loose.ID).ID)
		}
		jobs := f.claim("a", at(time.Minute), 100)
		sameIDSet(f, "first claim: the ordered webhook's head and test delivery, all of the other",
			jobIDs(jobs), append(want, head(0), testID))
		for _, j := range jobs {
			if j.Delivery.ID != head(0) { // the head stays in flight
				f.record(result(j, "a", at(time.Minute), 200))
			}
		}
		// While the head is in flight nothing behind it goes.
		if ids := f.claimIDs("b", at(time.Minute+time.Second), 100); len(ids) != 0 {
			f.Errorf("claimed %q while the ordered head is in flight", ids)
		}
		// An unrecorded head whose lease runs out is the head again.
		sameIDs(f, "after the head's lease ran out", f.claimIDs("b", at(3*time.Minute), 100), []string{head(0)})
		// A failing head blocks the rest until its retry.
		headJob := f.claimOne("c", at(5*time.Minute))
		f.record(retryAt(result(headJob, "c", at(5*time.Minute), 500), at(time.Hour)))
		if ids := f.claimIDs("c", at(30*time.Minute), 100); len(ids) != 0 {
			f.Errorf("claimed %q while the ordered head waits for its retry", ids)
		}
		headJob = f.claimOne("c", at(time.Hour))
		equal(f, "retried head", headJob.Delivery.ID, head(0))
		f.record(result(headJob, "c", at(time.Hour), 200))
		// Recorded: the next one is released, and only it.
		next := f.claimOne("c", at(time.Hour))
		equal(f, "head after the first succeeded", next.Delivery.ID, head(1))
		// An exhausted head releases the next too.
		f.record(result(next, "c", at(time.Hour), 500))
		f.wantStatus(app.ID, head(1), hookd.DeliveryFailed)
		sameIDs(f, "head after the second failed", f.claimIDs("c", at(time.Hour), 100), []string{head(2)})
	})

	run(t, open, "PassedOver", func(f *fixture) {
		// Under a backlog a claim may start looking where the last one
		// ended; what it turned down goes with a later claim, what a
		// resumed webhook releases goes at once, and a lease that ran
		// out behind where claims start is found again.
		app := f.newApp()
		busy := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"user.created"} })
		other := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"order.paid"} })
		paused := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"invoice.sent"} })
		paused.Status = hookd.WebhookPaused
		f.must(f.st.UpdateWebhook(f.ctx, paused, t0), "pause webhook")
		for i := range 8 {
			f.publishType(app, "user.created", at(time.Duration(i)*time.Millisecond))
		}
		passed := f.deliveryTo(app.ID, f.publishType(app, "order.paid", at(2*time.Millisecond)).ID, other.ID).ID
		held := f.deliveryTo(app.ID, f.publishType(app, "invoice.sent", at(time.Millisecond)).ID, paused.ID).ID

		jobs, err := f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: "a", Now: at(time.Minute), Limit: 3, LeaseFor: lease,
			Admit: func(c store.Candidate) bool { return c.WebhookID == busy.ID }})
		f.must(err, "claim passing over a webhook")
		equal(f, "claimed of the busy webhook", len(jobs), 3)
		for _, j := range jobs {
			equal(f, "claimed webhook", j.Delivery.WebhookID, busy.ID)
		}
		got := f.claimIDs("a", at(time.Minute), 1)
		got = append(got, f.claimIDs("a", at(time.Minute+time.Second), 100)...)
		if !slices.Contains(got, passed) {
			f.Errorf("the delivery turned down was not claimed later: got %q", got)
		}

		// Claim some of a later backlog, then resume the webhook whose
		// delivery was due before it.
		for i := range 4 {
			f.publishType(app, "user.created", at(10*time.Millisecond+time.Duration(i)*time.Millisecond))
		}
		equal(f, "claimed of the later backlog", len(f.claimIDs("a", at(time.Minute+time.Second), 2)), 2)
		paused.Status = hookd.WebhookActive
		f.must(f.st.UpdateWebhook(f.ctx, paused, at(time.Minute)), "resume webhook")
		if got := f.claimIDs("a", at(time.Minute+time.Second), 100); !slices.Contains(got, held) {
			f.Errorf("the resumed webhook's delivery was not claimed at once: got %q", got)
		}

		for i := range 3 {
			f.publishType(app, "user.created", at(20*time.Millisecond+time.Duration(i)*time.Millisecond))
		}
		lapsed := f.claimOne("a", at(2*time.Minute))
		f.claimOne("a", at(2*time.Minute)) // the next claim starts after this one
		if got := f.claimIDs("a", at(2*time.Minute+lease+time.Second), 100); !slices.Contains(got, lapsed.Delivery.ID) {
			f.Errorf("the delivery whose lease ran out was not claimed again: got %q", got)
		}
	})

	run(t, open, "PushSparesLeases", func(f *fixture) {
		// Pushing a full webhook's deliveries back leaves those in flight
		// alone: they are never claimed twice.
		app := f.newApp()
		w := f.newWebhook(app)
		for i := range 3 {
			f.publishType(app, "user.created", at(time.Duration(i)*time.Millisecond))
		}
		first := f.claimOne("a", at(time.Minute))
		jobs, err := f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: "a", Now: at(time.Minute), Limit: 10, LeaseFor: lease,
			Full: map[string]time.Time{w.ID: at(90 * time.Second)}})
		f.must(err, "claim pushing the webhook back")
		equal(f, "claimed while the webhook is full", len(jobs), 0)
		var got []string
		for range 3 {
			got = append(got, f.claimIDs("b", at(90*time.Second), 1)...)
		}
		if slices.Contains(got, first.Delivery.ID) {
			f.Errorf("the delivery in flight was claimed again after a push: %q", got)
		}
		equal(f, "claimed after the push", len(got), 2)
	})

	run(t, open, "AfterNothingToTake", func(f *fixture) {
		// A claim that finds only a full webhook's deliveries may make the
		// next ones look only at what is new; what is new still goes at
		// once, even when it is due before that claim's time.
		app := f.newApp()
		busy := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"user.created"} })
		other := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"order.paid"} })
		full := map[string]time.Time{busy.ID: {}}
		claimBeside := func(now time.Time) []string {
			f.Helper()
			jobs, err := f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: "a", Now: now, Limit: 10, LeaseFor: lease, Full: full})
			f.must(err, "claim beside a full webhook at %v", now)
			return jobIDs(jobs)
		}
		for i := range 5 {
			f.publishType(app, "user.created", at(time.Duration(i)*time.Millisecond))
		}
		sameIDs(f, "claimed beside the full webhook", claimBeside(at(time.Minute)), nil)

		// Published with a time before that claim's.
		late := f.deliveryTo(app.ID, f.publishType(app, "order.paid", at(time.Second)).ID, other.ID).ID
		sameIDs(f, "claimed after a late publish", claimBeside(at(time.Minute)), []string{late})

		// A retry due before an empty claim's time.
		retried := f.deliveryTo(app.ID, f.publishType(app, "order.paid", at(2*time.Second)).ID, other.ID).ID
		jobs, err := f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: "a", Now: at(time.Minute), Limit: 10, LeaseFor: lease, Full: full})
		f.must(err, "claim the other webhook's delivery")
		sameIDs(f, "claimed to be retried", jobIDs(jobs), []string{retried})
		sameIDs(f, "claimed with the other in flight", claimBeside(at(time.Minute)), nil)
		f.record(retryAt(result(jobs[0], "a", at(time.Minute), 500), at(30*time.Second)))
		sameIDs(f, "claimed after the retry", claimBeside(at(time.Minute)), []string{retried})

		// What comes due later goes when it is due.
		soon := f.deliveryTo(app.ID, f.publishType(app, "order.paid", at(time.Minute+time.Second)).ID, other.ID).ID
		sameIDs(f, "claimed before it is due", claimBeside(at(time.Minute)), nil)
		sameIDs(f, "claimed when due", claimBeside(at(time.Minute+time.Second)), []string{soon})
	})

	run(t, open, "Defer", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		jobs := f.claim("a", t0, 10)
		if len(jobs) != 2 {
			f.Fatalf("claimed %d, want 2", len(jobs))
		}
		deferred, kept := jobs[0].Delivery.ID, jobs[1].Delivery.ID
		f.must(f.st.Defer(f.ctx, "a", []store.Deferral{{DeliveryID: deferred, At: at(10 * time.Minute)}}), "defer")
		// Only the lease holder can hand a delivery back.
		f.must(f.st.Defer(f.ctx, "b", []store.Deferral{{DeliveryID: kept, At: at(10 * time.Hour)}}), "defer by a stranger")

		d := f.wantStatus(app.ID, deferred, hookd.DeliveryPending)
		sameTimePtr(f, "next attempt of a deferred delivery", d.NextAttemptAt, at(10*time.Minute))
		equal(f, "attempt count of a deferred delivery", d.AttemptCount, 0)
		equal(f, "attempts of a deferred delivery", len(d.Attempts), 0)
		next, ok, err := f.st.NextDue(f.ctx)
		f.must(err, "next due")
		if !ok || !next.Equal(at(10*time.Minute)) {
			f.Errorf("NextDue after a deferral: %v %v, want %v", next, ok, at(10*time.Minute))
		}
		if ids := f.claimIDs("c", at(30*time.Second), 10); len(ids) != 0 {
			f.Errorf("claimed %q before the deferral ended", ids)
		}
		jobs = f.claim("c", at(2*time.Minute), 10)
		sameIDs(f, "claim once a's lease ran out: the stranger's deferral did nothing", jobIDs(jobs), []string{kept})
		for _, j := range jobs {
			f.record(result(j, "c", at(2*time.Minute), 200))
		}
		sameIDs(f, "claim when the deferral ends", f.claimIDs("c", at(10*time.Minute), 10), []string{deferred})
	})
}

func testRecord(t *testing.T, open opener) {
	run(t, open, "Success", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		job, notices := f.attemptOnce(t0, 204, time.Time{})
		equal(f, "notices", len(notices), 0)
		d := f.wantStatus(app.ID, job.Delivery.ID, hookd.DeliverySucceeded)
		equal(f, "attempt count", d.AttemptCount, 1)
		equal(f, "last status code", d.LastStatusCode, 204)
		sameTimePtr(f, "next attempt", d.NextAttemptAt, time.Time{})
		sameTime(f, "updated_at", d.UpdatedAt, at(time.Second))
		if ids := f.claimIDs("worker", at(time.Hour), 10); len(ids) != 0 {
			f.Errorf("claimed %q after success", ids)
		}
		if _, ok, _ := f.st.NextDue(f.ctx); ok {
			f.Errorf("NextDue after success: something pending")
		}
		// The lease is gone: a manual retry is no conflict.
		_, err := f.st.RetryDelivery(f.ctx, app.ID, job.Delivery.ID, at(2*time.Second))
		f.must(err, "retry a succeeded delivery")
	})

	run(t, open, "NextDuePassesOverLeased", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		f.attemptOnce(t0, 500, at(5*time.Minute)) // due again in five minutes
		f.publishType(app, "user.created", at(time.Second))
		if ids := f.claimIDs("worker", at(time.Second), 1); len(ids) != 1 {
			f.Fatalf("claimed %q, want the new delivery", ids)
		}
		// The leased delivery is due first, but its holder records it.
		next, ok, err := f.st.NextDue(f.ctx)
		f.must(err, "next due")
		if !ok || !next.Equal(at(5*time.Minute)) {
			f.Errorf("NextDue with the first due leased: %v %v, want %v", next, ok, at(5*time.Minute))
		}
	})

	run(t, open, "Retry", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		job, notices := f.attemptOnce(t0, 500, at(5*time.Minute))
		equal(f, "notices", len(notices), 0)
		d := f.wantStatus(app.ID, job.Delivery.ID, hookd.DeliveryPending)
		equal(f, "attempt count", d.AttemptCount, 1)
		equal(f, "last status code", d.LastStatusCode, 500)
		sameTimePtr(f, "next attempt", d.NextAttemptAt, at(5*time.Minute))
		if ids := f.claimIDs("worker", at(5*time.Minute-time.Second), 10); len(ids) != 0 {
			f.Errorf("claimed %q before the retry was due", ids)
		}
		next, ok, err := f.st.NextDue(f.ctx)
		f.must(err, "next due")
		if !ok || !next.Equal(at(5*time.Minute)) {
			f.Errorf("NextDue: %v %v, want %v", next, ok, at(5*time.Minute))
		}
		again, _ := f.attemptOnce(at(5*time.Minute), 200, time.Time{})
		equal(f, "retried delivery", again.Delivery.ID, job.Delivery.ID)
		equal(f, "attempt count seen by the retry", again.Delivery.AttemptCount, 1)
		d = f.wantStatus(app.ID, job.Delivery.ID, hookd.DeliverySucceeded)
		equal(f, "attempt count", d.AttemptCount, 2)
		equal(f, "attempts", len(d.Attempts), 2)
	})

	run(t, open, "Exhausted", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		ev := f.publishType(app, "user.created", t0)
		job, notices := f.attemptOnce(t0, 0, time.Time{})
		d := f.wantStatus(app.ID, job.Delivery.ID, hookd.DeliveryFailed)
		equal(f, "last status code of a network error", d.LastStatusCode, 0)
		sameTimePtr(f, "next attempt", d.NextAttemptAt, time.Time{})
		sameIDs(f, "notices", noticeKinds(notices), []string{hookd.NoticeDeliveryExhausted})
		n := findNotice(f, notices, hookd.NoticeDeliveryExhausted)
		equal(f, "notice app", n.AppID, app.ID)
		equal(f, "notice webhook", n.WebhookID, w.ID)
		equal(f, "notice delivery", n.DeliveryID, job.Delivery.ID)
		equal(f, "notice event", n.EventID, ev.ID)
		sameTime(f, "notice at", n.At, at(time.Second))
		equal(f, "consecutive failures", f.webhook(app.ID, w.ID).ConsecutiveFailures, 1)
		equal(f, "webhook status without a threshold", f.webhook(app.ID, w.ID).Status, hookd.WebhookActive)

		// A one-off URL is exhausted the same way.
		pe := f.newEvent(app, "job.progress")
		pe.OneOffURL = "https://oneoff.example.com/"
		f.publish(app, at(time.Hour), pe)
		oneOff := f.deliveryTo(app.ID, pe.Event.ID, "")
		for _, j := range f.claim("worker", at(time.Hour), 10) {
			r := result(j, "worker", at(time.Hour), 404)
			notices := f.record(r)
			if j.Delivery.ID == oneOff.ID {
				n := findNotice(f, notices, hookd.NoticeDeliveryExhausted)
				equal(f, "one-off notice webhook", n.WebhookID, "")
				equal(f, "one-off notice delivery", n.DeliveryID, oneOff.ID)
			}
		}
		f.wantStatus(app.ID, oneOff.ID, hookd.DeliveryFailed)
	})

	run(t, open, "Batch", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		jobs := f.claim("worker", t0, 10)
		if len(jobs) != 2 {
			f.Fatalf("claimed %d, want 2", len(jobs))
		}
		notices := f.record(result(jobs[0], "worker", t0, 200), result(jobs[1], "worker", t0, 500))
		sameIDs(f, "notices", noticeKinds(notices), []string{hookd.NoticeDeliveryExhausted})
		f.wantStatus(app.ID, jobs[0].Delivery.ID, hookd.DeliverySucceeded)
		f.wantStatus(app.ID, jobs[1].Delivery.ID, hookd.DeliveryFailed)
	})

	run(t, open, "DisableReason", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"a"} })
		bystander := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"b"} })
		f.publishType(app, "a", t0)
		job := f.claimOne("worker", t0)
		e2 := f.publishType(app, "a", at(time.Minute))
		e3 := f.publishType(app, "b", at(time.Minute))
		r := result(job, "worker", at(2*time.Minute), 410)
		r.DisableReason, r.AutoDisableAfter = "410 Gone", 10
		notices := f.record(r)

		n := findNotice(f, notices, hookd.NoticeWebhookDisabled)
		equal(f, "notice webhook", n.WebhookID, w.ID)
		equal(f, "notice app", n.AppID, app.ID)
		equal(f, "notice reason", n.Reason, "410 Gone")
		got := f.webhook(app.ID, w.ID)
		equal(f, "webhook status", got.Status, hookd.WebhookDisabled)
		equal(f, "disabled reason", got.DisabledReason, "410 Gone")
		f.wantStatus(app.ID, job.Delivery.ID, hookd.DeliveryFailed)
		f.wantStatus(app.ID, f.deliveryTo(app.ID, e2.ID, w.ID).ID, hookd.DeliveryFailed)
		f.wantStatus(app.ID, f.deliveryTo(app.ID, e3.ID, bystander.ID).ID, hookd.DeliveryPending)
		equal(f, "bystander", f.webhook(app.ID, bystander.ID).Status, hookd.WebhookActive)
	})

	run(t, open, "AutoDisableAfter", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		step := 0
		// try publishes one event, attempts it and checks the webhook's
		// consecutive failures afterwards.
		try := func(code int, next time.Time, test bool, wantFailures int) []hookd.Notice {
			f.Helper()
			step++
			now := at(time.Duration(step) * time.Minute)
			pe := f.newEvent(app, "user.created")
			if test {
				pe.Event.Test, pe.OnlyWebhookID = true, w.ID
			}
			f.publish(app, now, pe)
			_, notices := f.attemptOnce(now, code, next, func(r *store.AttemptResult) { r.AutoDisableAfter = 3 })
			equal(f, fmt.Sprintf("step %d: consecutive failures", step), f.webhook(app.ID, w.ID).ConsecutiveFailures, wantFailures)
			return notices
		}
		far := at(1000 * time.Hour)
		try(500, time.Time{}, false, 1)
		try(500, far, false, 1) // a failed attempt with a retry left is no failed delivery
		retrying := f.deliveries(store.DeliveryFilter{AppID: app.ID, Status: hookd.DeliveryPending})
		if len(retrying) != 1 {
			f.Fatalf("%d deliveries waiting for a retry, want 1", len(retrying))
		}
		try(500, time.Time{}, false, 2)
		n := findNotice(f, try(200, time.Time{}, false, 0), hookd.NoticeWebhookRecovered)
		equal(f, "recovered notice webhook", n.WebhookID, w.ID)
		equal(f, "recovered notice app", n.AppID, app.ID)
		if ns := try(200, time.Time{}, false, 0); hasNotice(ns, hookd.NoticeWebhookRecovered) {
			f.Errorf("a success after a success raised %q", noticeKinds(ns))
		}
		try(500, time.Time{}, false, 1)
		try(500, time.Time{}, true, 1) // test deliveries do not count
		try(500, time.Time{}, false, 2)
		equal(f, "status below the threshold", f.webhook(app.ID, w.ID).Status, hookd.WebhookActive)
		notices := try(500, time.Time{}, false, 3)
		n = findNotice(f, notices, hookd.NoticeWebhookDisabled)
		equal(f, "disabled notice webhook", n.WebhookID, w.ID)
		if n.Reason == "" {
			f.Errorf("disabled notice has no reason")
		}
		got := f.webhook(app.ID, w.ID)
		equal(f, "status at the threshold", got.Status, hookd.WebhookDisabled)
		if got.DisabledReason == "" {
			f.Errorf("auto-disabled webhook has no disabled_reason")
		}
		// The delivery still waiting for its retry failed with it.
		f.wantStatus(app.ID, retrying[0].ID, hookd.DeliveryFailed)
		for _, d := range f.deliveries(store.DeliveryFilter{AppID: app.ID, Status: hookd.DeliveryPending}) {
			if !d.Test {
				f.Errorf("delivery %s still pending after auto-disable", d.ID)
			}
		}
		equal(f, "failed deliveries", len(f.deliveries(store.DeliveryFilter{AppID: app.ID, Status: hookd.DeliveryFailed})), 7)
	})

	run(t, open, "AutoDisableAge", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		far := at(1000 * time.Hour)
		try := func(now time.Time, code int, next time.Time) []hookd.Notice {
			f.Helper()
			f.publishType(app, "user.created", now)
			_, notices := f.attemptOnce(now, code, next, func(r *store.AttemptResult) { r.AutoDisableAge = time.Hour })
			return notices
		}
		status := func() string { f.Helper(); return f.webhook(app.ID, w.ID).Status }
		try(t0, 500, far)
		try(at(30*time.Minute), 200, time.Time{}) // a success starts the clock over
		try(at(90*time.Minute), 500, time.Time{})
		try(at(2*time.Hour), 500, far)
		equal(f, "status after 30 minutes of failures", status(), hookd.WebhookActive)
		notices := try(at(90*time.Minute+time.Hour), 500, far)
		findNotice(f, notices, hookd.NoticeWebhookDisabled)
		equal(f, "status after an hour of failures", status(), hookd.WebhookDisabled)
	})

	run(t, open, "StaleOwner", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		stale := f.claimOne("a", t0)
		fresh := f.claimOne("b", at(2*time.Minute))
		id := stale.Delivery.ID
		equal(f, "reclaimed delivery", fresh.Delivery.ID, id)

		// a's late result is logged and changes nothing: not the delivery,
		// not the webhook, and b still holds the lease.
		r := result(stale, "a", at(2*time.Minute+time.Second), 500)
		notices := f.record(r)
		equal(f, "notices of a stale result", len(notices), 0)
		d := f.wantStatus(app.ID, id, hookd.DeliveryPending)
		equal(f, "attempt count after a stale result", d.AttemptCount, 0)
		equal(f, "attempts logged", len(d.Attempts), 1)
		equal(f, "consecutive failures after a stale result", f.webhook(app.ID, w.ID).ConsecutiveFailures, 0)
		_, err := f.st.RetryDelivery(f.ctx, app.ID, id, at(2*time.Minute+2*time.Second))
		wantCode(f, err, hookd.ECONFLICT, "retry while b's lease lives")
		if ids := f.claimIDs("c", at(2*time.Minute+2*time.Second), 10); len(ids) != 0 {
			f.Errorf("claimed %q while b's lease lives", ids)
		}

		f.record(result(fresh, "b", at(2*time.Minute+3*time.Second), 200))
		d = f.wantStatus(app.ID, id, hookd.DeliverySucceeded)
		equal(f, "attempt count", d.AttemptCount, 1)
		equal(f, "attempts logged", len(d.Attempts), 2)

		// After a manual retry the old holder's result does not count either.
		f.publishType(app, "user.created", at(time.Hour))
		old := f.claimOne("a", at(time.Hour))
		_, err = f.st.RetryDelivery(f.ctx, app.ID, old.Delivery.ID, at(time.Hour+2*time.Minute))
		f.must(err, "retry after the lease ran out")
		f.record(result(old, "a", at(time.Hour+3*time.Minute), 200))
		f.wantStatus(app.ID, old.Delivery.ID, hookd.DeliveryPending)
	})
	run(t, open, "DeletedInFlight", func(f *fixture) {
		app, doomedApp := f.newApp(), f.newApp()
		kept, doomed := f.newWebhook(app), f.newWebhook(app)
		f.newWebhook(doomedApp)
		ev := f.publishType(app, "user.created", t0)
		f.publishType(doomedApp, "user.created", t0)
		jobs := f.claim("worker", t0, 10)
		if len(jobs) != 3 {
			f.Fatalf("claimed %d, want 3", len(jobs))
		}
		// While the attempts are in flight a webhook and an app go away.
		f.must(f.st.DeleteWebhook(f.ctx, app.ID, doomed.ID), "delete webhook")
		f.must(f.st.DeleteApp(f.ctx, doomedApp.ID), "delete app")
		var results []*store.AttemptResult
		for _, j := range jobs {
			results = append(results, result(j, "worker", at(time.Second), 200))
		}
		// The results of deliveries that no longer exist are dropped; they
		// must not sink the batch, or the others would be sent again.
		_, err := f.st.RecordAttempts(f.ctx, results)
		if err != nil {
			f.Fatalf("record a batch that holds results of deleted deliveries: %v", err)
		}
		f.wantStatus(app.ID, f.deliveryTo(app.ID, ev.ID, kept.ID).ID, hookd.DeliverySucceeded)
	})

	run(t, open, "StatusChangedInFlight", func(f *fixture) {
		app := f.newApp()
		paused, disabled := f.newWebhook(app), f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		f.publishType(app, "user.created", at(time.Second))
		jobs := f.claim("worker", at(time.Second), 10)
		if len(jobs) != 4 {
			f.Fatalf("claimed %d, want 4", len(jobs))
		}
		f.setStatus(paused, hookd.WebhookPaused, at(2*time.Second))
		f.setStatus(disabled, hookd.WebhookDisabled, at(2*time.Second))
		// Of each webhook's two deliveries in flight one succeeds and one
		// fails with a retry left.
		done := map[string]bool{}
		want := map[string]string{}
		for _, j := range jobs {
			r := result(j, "worker", at(3*time.Second), 200)
			want[j.Delivery.ID] = hookd.DeliverySucceeded
			if done[j.Delivery.WebhookID] {
				r = retryAt(result(j, "worker", at(3*time.Second), 500), at(time.Hour))
				want[j.Delivery.ID] = map[string]string{paused.ID: hookd.DeliveryHeld, disabled.ID: hookd.DeliveryFailed}[j.Delivery.WebhookID]
			}
			done[j.Delivery.WebhookID] = true
			f.record(r)
		}
		for id, status := range want {
			f.wantStatus(app.ID, id, status)
		}
		if ids := f.claimIDs("worker", at(2*time.Hour), 10); len(ids) != 0 {
			f.Errorf("claimed %q of a paused and a disabled webhook", ids)
		}
	})
}

func testQueue(t *testing.T, open opener) {
	run(t, open, "RetryDelivery", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		job, _ := f.attemptOnce(t0, 500, time.Time{})
		id := job.Delivery.ID
		f.wantStatus(app.ID, id, hookd.DeliveryFailed)

		_, err := f.st.RetryDelivery(f.ctx, other.ID, id, at(time.Hour))
		wantCode(f, err, hookd.ENOTFOUND, "retry through another app")
		_, err = f.st.RetryDelivery(f.ctx, app.ID, "dlv_missing", at(time.Hour))
		wantCode(f, err, hookd.ENOTFOUND, "retry unknown delivery")

		d, err := f.st.RetryDelivery(f.ctx, app.ID, id, at(time.Hour))
		f.must(err, "retry failed delivery")
		equal(f, "returned id", d.ID, id)
		equal(f, "returned status", d.Status, hookd.DeliveryPending)
		equal(f, "returned attempt count", d.AttemptCount, 1)
		sameTimePtr(f, "returned next attempt", d.NextAttemptAt, at(time.Hour))
		got := f.wantStatus(app.ID, id, hookd.DeliveryPending)
		sameTimePtr(f, "stored next attempt", got.NextAttemptAt, at(time.Hour))

		// In flight: a conflict until the lease runs out.
		f.claimOne("worker", at(time.Hour))
		_, err = f.st.RetryDelivery(f.ctx, app.ID, id, at(time.Hour+time.Second))
		wantCode(f, err, hookd.ECONFLICT, "retry in flight")
		_, err = f.st.RetryDelivery(f.ctx, app.ID, id, at(time.Hour+lease+time.Second))
		f.must(err, "retry after the lease ran out")
		sameIDs(f, "due after the retry", f.claimIDs("worker", at(time.Hour+lease+time.Second), 10), []string{id})
	})

	run(t, open, "RecoverWebhook", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w := f.newWebhook(app)
		var ids []string
		for i := range 4 {
			ev := f.publishType(app, "user.created", at(time.Duration(i)*time.Hour))
			ids = append(ids, f.deliveryTo(app.ID, ev.ID, w.ID).ID)
		}
		codes := map[string]int{ids[0]: 500, ids[1]: 200, ids[2]: 500, ids[3]: 500}
		for _, j := range f.claim("worker", at(4*time.Hour), 10) {
			f.record(result(j, "worker", at(4*time.Hour), codes[j.Delivery.ID]))
		}

		recoverN := func(since, until, now time.Time) int {
			f.Helper()
			n, done, err := f.st.RecoverWebhook(f.ctx, &store.RecoverParams{AppID: app.ID, WebhookID: w.ID, Since: since, Until: until, Now: now})
			f.must(err, "recover")
			equal(f, "recovered all at once", done, true)
			return n
		}
		// [since, until): the third only; the fourth was created at until.
		now := at(5 * time.Hour)
		equal(f, "recovered in [2h, 3h)", recoverN(at(2*time.Hour), at(3*time.Hour), now), 1)
		d := f.wantStatus(app.ID, ids[2], hookd.DeliveryPending)
		sameTimePtr(f, "next attempt of a recovered delivery", d.NextAttemptAt, now)
		f.wantStatus(app.ID, ids[3], hookd.DeliveryFailed)
		f.wantStatus(app.ID, ids[0], hookd.DeliveryFailed)
		// No upper bound; succeeded deliveries are left alone.
		equal(f, "recovered since 0", recoverN(t0, time.Time{}, now), 2)
		f.wantStatus(app.ID, ids[1], hookd.DeliverySucceeded)
		sameIDSet(f, "due after recovery", f.claimIDs("worker", now, 10), []string{ids[0], ids[2], ids[3]})
		equal(f, "nothing left to recover", recoverN(t0, time.Time{}, now), 0)

		_, _, err := f.st.RecoverWebhook(f.ctx, &store.RecoverParams{AppID: other.ID, WebhookID: w.ID, Since: t0, Now: now})
		wantCode(f, err, hookd.ENOTFOUND, "recover through another app")
		_, _, err = f.st.RecoverWebhook(f.ctx, &store.RecoverParams{AppID: app.ID, WebhookID: "wh_missing", Since: t0, Now: now})
		wantCode(f, err, hookd.ENOTFOUND, "recover unknown webhook")
	})

	run(t, open, "RecoverPausedWebhookHolds", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		job, _ := f.attemptOnce(t0, 500, time.Time{})
		f.setStatus(w, hookd.WebhookPaused, at(time.Minute))
		n, _, err := f.st.RecoverWebhook(f.ctx, &store.RecoverParams{AppID: app.ID, WebhookID: w.ID, Since: t0, Now: at(2 * time.Minute)})
		f.must(err, "recover")
		equal(f, "recovered", n, 1)
		f.wantStatus(app.ID, job.Delivery.ID, hookd.DeliveryHeld)
		f.setStatus(w, hookd.WebhookActive, at(3*time.Minute))
		sameIDs(f, "due after activation", f.claimIDs("worker", at(3*time.Minute), 10), []string{job.Delivery.ID})
	})

	run(t, open, "NextDue", func(f *fixture) {
		wantNext := func(what string, want time.Time) {
			f.Helper()
			next, ok, err := f.st.NextDue(f.ctx)
			f.must(err, "next due")
			switch {
			case want.IsZero() && ok:
				f.Errorf("%s: NextDue %v, want none", what, next)
			case !want.IsZero() && (!ok || !next.Equal(want)):
				f.Errorf("%s: NextDue %v %v, want %v", what, next, ok, want)
			}
		}
		wantNext("empty store", time.Time{})
		app := f.newApp()
		w := f.newWebhook(app)
		f.publishType(app, "user.created", at(time.Minute))
		wantNext("after publish", at(time.Minute))
		job := f.claimOne("worker", at(time.Minute))
		wantNext("while the only delivery is leased", time.Time{})
		f.record(retryAt(result(job, "worker", at(time.Minute), 500), at(6*time.Minute)))
		wantNext("after a failed attempt", at(6*time.Minute))
		f.publishType(app, "user.created", at(10*time.Minute))
		wantNext("the earliest of two", at(6*time.Minute))
		f.setStatus(w, hookd.WebhookPaused, at(11*time.Minute))
		wantNext("held deliveries are not pending", time.Time{})
		f.setStatus(w, hookd.WebhookActive, at(12*time.Minute))
		next, ok, err := f.st.NextDue(f.ctx)
		f.must(err, "next due")
		if !ok || next.After(at(12*time.Minute)) {
			f.Errorf("after activation: NextDue %v %v, want by %v", next, ok, at(12*time.Minute))
		}
	})

	run(t, open, "WebhookHealth", func(f *fixture) {
		app := f.newApp()
		w := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"a"} })
		bystander := f.newWebhook(app, func(w *hookd.Webhook) { w.Events = []string{"a"} })
		now := at(48 * time.Hour)

		h, err := healthOf(f.ctx, f.st, w.ID, now)
		f.must(err, "health of a new webhook")
		equal(f, "delivery count", h.DeliveryCount, 0)
		if h.LastDeliveryAt != nil || h.SuccessRate24h != nil {
			f.Errorf("health of a new webhook: last %v, rate %v; want none", h.LastDeliveryAt, h.SuccessRate24h)
		}

		// Four deliveries: one attempted 25 hours ago (failed), then a
		// success, a failure and a success within the day; the bystander
		// fails everything.
		attempts := []struct {
			ago  time.Duration
			code int
		}{{25 * time.Hour, 500}, {2 * time.Hour, 200}, {time.Hour, 0}, {30 * time.Minute, 201}}
		for _, a := range attempts {
			when := now.Add(-a.ago)
			f.publishType(app, "a", when)
			for _, j := range f.claim("worker", when, 10) {
				code := a.code
				if j.Delivery.WebhookID == bystander.ID {
					code = 503
				}
				f.record(result(j, "worker", when, code))
			}
		}
		f.publishType(app, "a", now) // not attempted yet: not counted (deliveries count at their first attempt)

		h, err = healthOf(f.ctx, f.st, w.ID, now)
		f.must(err, "health")
		equal(f, "delivery count", h.DeliveryCount, 4)
		sameTimePtr(f, "last delivery at", h.LastDeliveryAt, now.Add(-30*time.Minute))
		if h.SuccessRate24h == nil {
			f.Fatalf("success rate: none, want 2/3")
		}
		if r := *h.SuccessRate24h; r < 0.666 || r > 0.667 {
			f.Errorf("success rate: got %v, want 2/3 (the attempt 25h ago is out of the window)", r)
		}

		h, err = healthOf(f.ctx, f.st, bystander.ID, now)
		f.must(err, "bystander health")
		if h.SuccessRate24h == nil || *h.SuccessRate24h != 0 {
			f.Errorf("bystander success rate: got %v, want 0", h.SuccessRate24h)
		}
		// A day later nothing is in the window.
		h, err = healthOf(f.ctx, f.st, w.ID, now.Add(48*time.Hour))
		f.must(err, "later health")
		if h.SuccessRate24h != nil {
			f.Errorf("success rate with no attempts in the window: got %v, want none", *h.SuccessRate24h)
		}
	})
}
