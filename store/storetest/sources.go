package storetest

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// srcNew stores an active stripe source of app that forwards to a URL of
// its own; mods adjust it first.
func (f *fixture) srcNew(app *hookd.App, mods ...func(*hookd.Source)) *hookd.Source {
	f.Helper()
	id := f.id("src")
	src := &hookd.Source{
		ID: id, AppID: app.ID, Name: "source " + id, Provider: hookd.ProviderStripe, Status: hookd.SourceActive,
		ForwardURL: "https://forward.example.com/" + id, ToleranceSeconds: 300, Secret: "whsec_source_" + id,
		CreatedAt: t0, UpdatedAt: t0,
	}
	for _, m := range mods {
		m(src)
	}
	f.must(f.st.CreateSource(f.ctx, src), "create source")
	return src
}

// srcFull sets every optional field of a source.
func srcFull(s *hookd.Source) {
	s.Provider = hookd.ProviderTimestampedHex
	s.Events = []string{"invoice.paid", "customer.*"}
	s.Description = "payments from the billing provider"
	s.HeaderPrefix = "X-Acme"
	s.ToleranceSeconds = 60
	s.PreviousSecret = "whsec_source_previous_" + s.ID
	s.PreviousSecretExpiresAt = at(time.Hour)
	s.UpdatedAt = at(time.Second)
}

// srcNoForward makes a source that keeps what it receives without
// forwarding it.
func srcNoForward(s *hookd.Source) { s.ForwardURL = "" }

func srcSame(tb testing.TB, got, want *hookd.Source) {
	tb.Helper()
	equal(tb, "source id", got.ID, want.ID)
	equal(tb, "source app", got.AppID, want.AppID)
	equal(tb, "source name", got.Name, want.Name)
	equal(tb, "source provider", got.Provider, want.Provider)
	equal(tb, "source status", got.Status, want.Status)
	equal(tb, "source forward url", got.ForwardURL, want.ForwardURL)
	sameStrings(tb, "source events", got.Events, want.Events)
	equal(tb, "source description", got.Description, want.Description)
	equal(tb, "source header prefix", got.HeaderPrefix, want.HeaderPrefix)
	equal(tb, "source tolerance", got.ToleranceSeconds, want.ToleranceSeconds)
	equal(tb, "source secret", got.Secret, want.Secret)
	equal(tb, "source previous secret", got.PreviousSecret, want.PreviousSecret)
	sameTime(tb, "source previous secret expiry", got.PreviousSecretExpiresAt, want.PreviousSecretExpiresAt)
	sameTime(tb, "source created_at", got.CreatedAt, want.CreatedAt)
	sameTime(tb, "source updated_at", got.UpdatedAt, want.UpdatedAt)
}

// srcGet reads one source of an app.
func (f *fixture) srcGet(appID, id string) *hookd.Source {
	f.Helper()
	src, err := f.st.GetSource(f.ctx, appID, id)
	f.must(err, "get source %s", id)
	return src
}

// srcSetStatus moves a source to status at now.
func (f *fixture) srcSetStatus(src *hookd.Source, status string, now time.Time) {
	f.Helper()
	cur := f.srcGet(src.AppID, src.ID)
	cur.Status, cur.UpdatedAt = status, now
	f.must(f.st.UpdateSource(f.ctx, cur, now), "set source %s %s", src.ID, status)
	*src = *cur
}

// srcParams is what src received at now, the way the receiver hands it to
// the store: a JSON body of type typ whose provider id is pid, kept byte
// for byte (with its spacing and trailing newline), and the request's
// headers. The delivery is held while src is paused.
func (f *fixture) srcParams(src *hookd.Source, typ, pid string, now time.Time) *store.ReceiveParams {
	id := f.id("evt")
	body := `{"id": "` + pid + `", "type": "` + typ + `",  "data": {"object": {"n": 1, "html": "<b>"}}}` + "\n"
	ev := &hookd.Event{
		ID: id, AppID: src.AppID, Type: typ, Payload: []byte(body), Data: json.RawMessage(strings.TrimSpace(body)), CreatedAt: now,
		Inbound: &hookd.Inbound{
			SourceID: src.ID, SourceName: src.Name, ProviderEventID: pid,
			Headers:     map[string]string{"Stripe-Signature": "t=1893733567,v1=5257a869e7ec", "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
			ContentType: "application/json; charset=utf-8",
			Filtered:    !src.Accepts(typ),
		},
	}
	return &store.ReceiveParams{Event: ev, ForwardURL: src.ForwardURL, Hold: src.Status == hookd.SourcePaused}
}

// srcReceive hands p to the store.
func (f *fixture) srcReceive(p *store.ReceiveParams) (*hookd.Event, bool) {
	f.Helper()
	ev, dup, err := f.st.Receive(f.ctx, p)
	f.must(err, "receive %s", p.Event.ID)
	if ev == nil {
		f.Fatalf("receive %s: no event", p.Event.ID)
	}
	return ev, dup
}

// srcGot stores an event of typ that src received at now, with a provider
// id of its own, and returns it.
func (f *fixture) srcGot(src *hookd.Source, typ string, now time.Time) *hookd.Event {
	f.Helper()
	p := f.srcParams(src, typ, f.id("evt_provider"), now)
	ev, dup := f.srcReceive(p)
	if dup {
		f.Fatalf("receive %s: a fresh provider id is a duplicate", p.Event.ID)
	}
	return ev
}

// srcTest stores a test event that src received at now and returns its
// forwarding delivery. A test delivery goes whatever the source's status,
// so it is never held.
func (f *fixture) srcTest(src *hookd.Source, now time.Time) *hookd.Delivery {
	f.Helper()
	p := f.srcParams(src, "x", "", now)
	p.Event.Test, p.Hold = true, false
	f.srcReceive(p)
	return f.srcForward(src.AppID, p.Event.ID)
}

// srcSucceed records a success of each job at now.
func (f *fixture) srcSucceed(jobs []*store.Job, now time.Time) {
	f.Helper()
	for _, j := range jobs {
		f.record(result(j, "worker", now, 200))
	}
}

// srcForward returns the one delivery of an event, which must forward it.
func (f *fixture) srcForward(appID, eventID string) *hookd.Delivery {
	f.Helper()
	ds := f.deliveries(store.DeliveryFilter{AppID: appID, EventID: eventID})
	if len(ds) != 1 {
		f.Fatalf("event %s has %d deliveries, want 1", eventID, len(ds))
	}
	return ds[0]
}

// srcNoDeliveries checks that an event has no delivery.
func (f *fixture) srcNoDeliveries(appID, eventID, what string) {
	f.Helper()
	if ds := f.deliveries(store.DeliveryFilter{AppID: appID, EventID: eventID}); len(ds) != 0 {
		f.Errorf("%s: event %s has %d deliveries, want none", what, eventID, len(ds))
	}
}

// srcEventIDs lists the ids of the events filt selects, page by page.
func (f *fixture) srcEventIDs(filt store.EventFilter, limit int) []string {
	f.Helper()
	list := func(p store.Page) ([]*hookd.Event, string, error) { return f.st.ListEvents(f.ctx, filt, p) }
	return pageAll(f, limit, list, func(e *hookd.Event) string { return e.ID })
}

// srcStats reads a source's stats.
func (f *fixture) srcStats(sourceID string) *hookd.SourceHealth {
	f.Helper()
	st, err := f.st.SourceHealth(f.ctx, sourceID)
	f.must(err, "source stats of %s", sourceID)
	return st
}

// srcSameInbound checks what a stored event says about where it came from.
func srcSameInbound(tb testing.TB, what string, got, want *hookd.Inbound) {
	tb.Helper()
	if got == nil || want == nil {
		if got != want {
			tb.Errorf("%s: inbound got %+v, want %+v", what, got, want)
		}
		return
	}
	equal(tb, what+": inbound source", got.SourceID, want.SourceID)
	equal(tb, what+": inbound source name", got.SourceName, want.SourceName)
	equal(tb, what+": inbound provider event id", got.ProviderEventID, want.ProviderEventID)
	sameMap(tb, what+": inbound headers", got.Headers, want.Headers)
	equal(tb, what+": inbound content type", got.ContentType, want.ContentType)
	equal(tb, what+": inbound filtered", got.Filtered, want.Filtered)
}

// srcNoWebhookNotices checks that a forwarding delivery raised nothing but
// delivery.exhausted: a source is not a webhook and is never disabled or
// recovered by its deliveries' outcomes.
func srcNoWebhookNotices(tb testing.TB, what string, ns []hookd.Notice) {
	tb.Helper()
	for _, n := range ns {
		if n.Kind != hookd.NoticeDeliveryExhausted {
			tb.Errorf("%s: notice %s (%+v), want none but %s", what, n.Kind, n, hookd.NoticeDeliveryExhausted)
		}
		if n.WebhookID != "" {
			tb.Errorf("%s: notice %s names webhook %q", what, n.Kind, n.WebhookID)
		}
	}
}

func testSources(t *testing.T, open opener) {
	run(t, open, "CreateGet", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		src := f.srcNew(app, srcFull)
		srcSame(f, f.srcGet(app.ID, src.ID), src)
		// The public receive path finds it by id alone.
		srcSame(f, f.srcGet("", src.ID), src)

		bare := f.srcNew(app, srcNoForward, func(s *hookd.Source) { s.Provider = hookd.ProviderStandard })
		srcSame(f, f.srcGet(app.ID, bare.ID), bare)
		if got := f.srcGet(app.ID, bare.ID); !got.PreviousSecretExpiresAt.IsZero() {
			f.Errorf("previous secret expiry of a source without one: %v", got.PreviousSecretExpiresAt)
		}

		_, err := f.st.GetSource(f.ctx, other.ID, src.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get a source through another app")
		_, err = f.st.GetSource(f.ctx, app.ID, "src_missing")
		wantCode(f, err, hookd.ENOTFOUND, "get unknown source")
		_, err = f.st.GetSource(f.ctx, "", "src_missing")
		wantCode(f, err, hookd.ENOTFOUND, "get unknown source by id alone")
		_, err = f.st.GetSource(f.ctx, "", "")
		wantCode(f, err, hookd.ENOTFOUND, "get source by the empty id")
	})

	run(t, open, "SecretsSealed", func(f *fixture) {
		app := f.newApp()
		src := f.srcNew(app, srcFull)
		for _, s := range []string{src.Secret, src.PreviousSecret} {
			if !f.sealer.Sealed(s) {
				f.Errorf("source secret %q was not sealed before it was stored", s)
			}
		}
		got := f.srcGet(app.ID, src.ID)
		equal(f, "secret", got.Secret, src.Secret)
		equal(f, "previous secret", got.PreviousSecret, src.PreviousSecret)
		sameTime(f, "previous secret expiry", got.PreviousSecretExpiresAt, src.PreviousSecretExpiresAt)
		for _, s := range []string{src.Secret, src.PreviousSecret} {
			if !f.sealer.Opened(s) {
				f.Errorf("source secret %q was not read back through the sealer", s)
			}
		}
		sameStrings(f, "verifying secrets within the grace period", got.VerifyingSecrets(at(time.Minute)), []string{src.Secret, src.PreviousSecret})

		// A rotation with grace: the old secret becomes the previous one.
		got.PreviousSecret, got.PreviousSecretExpiresAt = got.Secret, at(2*time.Hour)
		got.Secret, got.UpdatedAt = "whsec_source_rotated_graced", at(time.Minute)
		f.must(f.st.UpdateSource(f.ctx, got, at(time.Minute)), "rotate with grace")
		if !f.sealer.Sealed("whsec_source_rotated_graced") {
			f.Errorf("the rotated source secret was not sealed")
		}
		srcSame(f, f.srcGet(app.ID, src.ID), got)

		// A rotation without grace: new secret, no previous one.
		got.Secret, got.PreviousSecret, got.PreviousSecretExpiresAt = "whsec_source_rotated_now", "", time.Time{}
		got.UpdatedAt = at(2 * time.Minute)
		f.must(f.st.UpdateSource(f.ctx, got, at(2*time.Minute)), "rotate")
		srcSame(f, f.srcGet("", src.ID), got)

		// Listing reads the secrets through the sealer too.
		srcs, _, err := f.st.ListSources(f.ctx, app.ID, store.Page{Limit: 10})
		f.must(err, "list sources")
		if len(srcs) != 1 || srcs[0].Secret != "whsec_source_rotated_now" || srcs[0].PreviousSecret != "" {
			f.Errorf("listed source secrets: got %+v", srcs)
		}
	})

	run(t, open, "List", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		none, next, err := f.st.ListSources(f.ctx, app.ID, store.Page{Limit: 10})
		f.must(err, "list no sources")
		equal(f, "sources of an app without any", len(none), 0)
		equal(f, "cursor of an empty list", next, "")

		var ids []string
		for range 5 {
			ids = append(ids, f.srcNew(app).ID)
		}
		f.srcNew(other)
		list := func(p store.Page) ([]*hookd.Source, string, error) { return f.st.ListSources(f.ctx, app.ID, p) }
		srcID := func(s *hookd.Source) string { return s.ID }
		for _, limit := range []int{1, 2, 5, 250} {
			sameIDs(f, "sources newest first", pageAll(f, limit, list, srcID), newestFirst(ids...))
		}
		all, _, err := f.st.ListSources(f.ctx, app.ID, store.Page{Limit: 250})
		f.must(err, "list sources")
		for _, s := range all {
			srcSame(f, s, f.srcGet(app.ID, s.ID))
		}
	})

	run(t, open, "Update", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		src := f.srcNew(app)
		before := *f.srcGet(app.ID, src.ID)

		// Every field but id, app and creation time.
		srcFull(src)
		src.Name, src.Provider, src.ForwardURL = "renamed", hookd.ProviderHMACHex, "https://moved.example.com/in"
		src.Secret, src.ToleranceSeconds, src.UpdatedAt = "whsec_source_new", 900, at(time.Hour)
		f.must(f.st.UpdateSource(f.ctx, src, at(time.Hour)), "update source")
		srcSame(f, f.srcGet(app.ID, src.ID), src)

		// Fields can be cleared again.
		src.Events, src.Description, src.HeaderPrefix, src.ForwardURL = nil, "", "", ""
		src.PreviousSecret, src.PreviousSecretExpiresAt, src.UpdatedAt = "", time.Time{}, at(2*time.Hour)
		f.must(f.st.UpdateSource(f.ctx, src, at(2*time.Hour)), "clear fields")
		srcSame(f, f.srcGet(app.ID, src.ID), src)

		// Status alone, with nothing to move.
		for _, status := range []string{hookd.SourcePaused, hookd.SourceDisabled, hookd.SourceActive} {
			f.srcSetStatus(src, status, at(3*time.Hour))
			equal(f, "status", f.srcGet(app.ID, src.ID).Status, status)
		}

		stranger := *src
		stranger.AppID, stranger.Name = other.ID, "hijacked"
		wantCode(f, f.st.UpdateSource(f.ctx, &stranger, at(4*time.Hour)), hookd.ENOTFOUND, "update through another app")
		equal(f, "name after an update through another app", f.srcGet(app.ID, src.ID).Name, "renamed")
		ghost := before
		ghost.ID = "src_missing"
		wantCode(f, f.st.UpdateSource(f.ctx, &ghost, at(4*time.Hour)), hookd.ENOTFOUND, "update unknown source")
		if _, err := f.st.GetSource(f.ctx, "", "src_missing"); hookd.ErrorCode(err) != hookd.ENOTFOUND {
			f.Errorf("an update of an unknown source created it: %v", err)
		}
	})

	run(t, open, "DeleteCascades", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w := f.newWebhook(app)
		doomed, kept := f.srcNew(app), f.srcNew(app)
		published := f.publishType(app, "user.created", t0)
		dEvents := []*hookd.Event{f.srcGot(doomed, "invoice.paid", t0), f.srcGot(doomed, "invoice.paid", at(time.Second))}
		kEvent := f.srcGot(kept, "invoice.paid", t0)
		// One attempt of each delivery, so that attempts exist too; the
		// doomed source's first one waits for a retry.
		for _, j := range f.claim("worker", at(time.Second), 10) {
			f.record(retryAt(result(j, "worker", at(2*time.Second), 500), at(time.Hour)))
		}
		dDeliveries := []*hookd.Delivery{f.srcForward(app.ID, dEvents[0].ID), f.srcForward(app.ID, dEvents[1].ID)}
		kDelivery := f.srcForward(app.ID, kEvent.ID)
		equal(f, "attempts of the doomed source's delivery", len(f.delivery(app.ID, dDeliveries[0].ID).Attempts), 1)

		wantCode(f, f.st.DeleteSource(f.ctx, other.ID, doomed.ID), hookd.ENOTFOUND, "delete through another app")
		f.srcGet(app.ID, doomed.ID)
		f.must(f.st.DeleteSource(f.ctx, app.ID, doomed.ID), "delete source")
		_, err := f.st.GetSource(f.ctx, app.ID, doomed.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get deleted source")
		_, err = f.st.GetSource(f.ctx, "", doomed.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get deleted source by id alone")
		wantCode(f, f.st.DeleteSource(f.ctx, app.ID, doomed.ID), hookd.ENOTFOUND, "delete twice")
		wantCode(f, f.st.DeleteSource(f.ctx, app.ID, "src_missing"), hookd.ENOTFOUND, "delete unknown source")

		for _, ev := range dEvents {
			_, err = f.st.GetEvent(f.ctx, app.ID, ev.ID)
			wantCode(f, err, hookd.ENOTFOUND, "event of a deleted source")
		}
		for _, d := range dDeliveries {
			_, err = f.st.GetDelivery(f.ctx, app.ID, d.ID)
			wantCode(f, err, hookd.ENOTFOUND, "delivery of a deleted source")
		}
		equal(f, "deliveries of a deleted source", len(f.deliveries(store.DeliveryFilter{AppID: app.ID, SourceID: doomed.ID})), 0)
		equal(f, "events of a deleted source", len(f.srcEventIDs(store.EventFilter{AppID: app.ID, SourceID: doomed.ID}, 10)), 0)
		equal(f, "event count of a deleted source", f.srcStats(doomed.ID).EventCount, 0)

		// The other source, the published event and its delivery stay,
		// and only their deliveries are left to do.
		f.srcGet(app.ID, kept.ID)
		sameIDs(f, "inbound events after the delete", f.srcEventIDs(store.EventFilter{AppID: app.ID, Inbound: true}, 10), []string{kEvent.ID})
		_, err = f.st.GetEvent(f.ctx, app.ID, published.ID)
		f.must(err, "published event after a source's delete")
		pDelivery := f.deliveryTo(app.ID, published.ID, w.ID)
		sameIDSet(f, "due after the delete", f.claimIDs("worker", at(2*time.Hour), 10), []string{kDelivery.ID, pDelivery.ID})
		equal(f, "attempts of the kept source's delivery", len(f.delivery(app.ID, kDelivery.ID).Attempts), 1)

		// Deleting the app takes its sources with it.
		f.must(f.st.DeleteApp(f.ctx, app.ID), "delete app")
		_, err = f.st.GetSource(f.ctx, "", kept.ID)
		wantCode(f, err, hookd.ENOTFOUND, "source of a deleted app")
		equal(f, "event count of a deleted app's source", f.srcStats(kept.ID).EventCount, 0)
	})

	run(t, open, "Stats", func(f *fixture) {
		app := f.newApp()
		src, quiet, busy := f.srcNew(app), f.srcNew(app), f.srcNew(app, srcNoForward)
		st := f.srcStats(src.ID)
		equal(f, "event count of a new source", st.EventCount, 0)
		sameTimePtr(f, "last event of a new source", st.LastEventAt, time.Time{})
		unknown := f.srcStats("src_missing")
		equal(f, "event count of an unknown source", unknown.EventCount, 0)
		sameTimePtr(f, "last event of an unknown source", unknown.LastEventAt, time.Time{})

		// Events received out of order: the last is the newest, not the
		// latest stored.
		f.srcGot(src, "invoice.paid", at(time.Minute))
		p := f.srcParams(src, "invoice.paid", "evt_repeated", at(3*time.Minute))
		f.srcReceive(p)
		f.srcGot(src, "invoice.paid", at(2*time.Minute))
		for range 3 {
			f.srcGot(busy, "x", at(time.Hour))
		}
		// A duplicate is not an event.
		f.srcReceive(f.srcParams(src, "invoice.paid", "evt_repeated", at(4*time.Minute)))
		f.publishType(app, "user.created", at(5*time.Hour))

		st = f.srcStats(src.ID)
		equal(f, "event count", st.EventCount, 3)
		sameTimePtr(f, "last event", st.LastEventAt, at(3*time.Minute))
		st = f.srcStats(busy.ID)
		equal(f, "event count of a source that does not forward", st.EventCount, 3)
		sameTimePtr(f, "last event of a source that does not forward", st.LastEventAt, at(time.Hour))
		equal(f, "event count of a quiet source", f.srcStats(quiet.ID).EventCount, 0)
	})

	run(t, open, "Receive", func(f *fixture) {
		app := f.newApp(func(a *hookd.App) { a.UID = "acme" })
		src := f.srcNew(app, func(s *hookd.Source) { s.Name = "stripe payments" })
		p := f.srcParams(src, "invoice.paid", "evt_1Nq", at(time.Minute))
		p.Event.Inbound.SourceName = "" // the store names the source itself
		ev, dup := f.srcReceive(p)
		equal(f, "duplicate", dup, false)
		equal(f, "answered event", ev.ID, p.Event.ID)
		if len(ev.Deliveries) != 1 {
			f.Fatalf("answered event has %d deliveries, want 1", len(ev.Deliveries))
		}
		s := ev.Deliveries[0]
		equal(f, "answered delivery source", s.SourceID, src.ID)
		equal(f, "answered delivery url", s.URL, src.ForwardURL)
		equal(f, "answered delivery status", s.Status, hookd.DeliveryPending)
		equal(f, "answered delivery webhook", s.WebhookID, "")

		want := *p.Event.Inbound
		want.SourceName = "stripe payments"
		got, err := f.st.GetEvent(f.ctx, app.ID, p.Event.ID)
		f.must(err, "get received event")
		sameEvent(f, got, p.Event)
		srcSameInbound(f, "got event", got.Inbound, &want)
		if len(got.Deliveries) != 1 {
			f.Fatalf("received event has %d deliveries, want 1", len(got.Deliveries))
		}
		equal(f, "delivery summary id", got.Deliveries[0].ID, s.ID)
		equal(f, "delivery summary source", got.Deliveries[0].SourceID, src.ID)
		equal(f, "delivery summary url", got.Deliveries[0].URL, src.ForwardURL)
		equal(f, "delivery summary status", got.Deliveries[0].Status, hookd.DeliveryPending)
		equal(f, "delivery summary attempts", got.Deliveries[0].AttemptCount, 0)
		_, err = f.st.GetEvent(f.ctx, f.newApp().ID, p.Event.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get a received event through another app")

		d := f.srcForward(app.ID, p.Event.ID)
		equal(f, "delivery id", d.ID, s.ID)
		equal(f, "delivery app", d.AppID, app.ID)
		equal(f, "delivery event", d.EventID, p.Event.ID)
		equal(f, "delivery source", d.SourceID, src.ID)
		equal(f, "delivery url", d.URL, src.ForwardURL)
		equal(f, "delivery webhook", d.WebhookID, "")
		equal(f, "delivery status", d.Status, hookd.DeliveryPending)
		equal(f, "delivery attempt count", d.AttemptCount, 0)
		equal(f, "delivery test", d.Test, false)
		sameTimePtr(f, "delivery next attempt", d.NextAttemptAt, at(time.Minute))
		sameTime(f, "delivery created_at", d.CreatedAt, at(time.Minute))
		d = f.delivery(app.ID, d.ID)
		equal(f, "delivery source read alone", d.SourceID, src.ID)
		equal(f, "attempts of a new delivery", len(d.Attempts), 0)

		evs, _, err := f.st.ListEvents(f.ctx, store.EventFilter{AppID: app.ID, SourceID: src.ID}, store.Page{Limit: 10})
		f.must(err, "list the source's events")
		if len(evs) != 1 {
			f.Fatalf("source lists %d events, want 1", len(evs))
		}
		sameEvent(f, evs[0], p.Event)
		srcSameInbound(f, "listed event", evs[0].Inbound, &want)
		if len(evs[0].Deliveries) != 1 || evs[0].Deliveries[0].SourceID != src.ID || evs[0].Deliveries[0].URL != src.ForwardURL {
			f.Errorf("listed event's deliveries: got %+v", evs[0].Deliveries)
		}

		// Published events carry no inbound part.
		pub := f.publishType(app, "user.created", t0)
		got, err = f.st.GetEvent(f.ctx, app.ID, pub.ID)
		f.must(err, "get published event")
		if got.Inbound != nil {
			f.Errorf("a published event reads back with inbound %+v", got.Inbound)
		}
	})

	run(t, open, "ReceiveRawBodies", func(f *fixture) {
		app := f.newApp()
		src := f.srcNew(app, srcNoForward)
		for _, tc := range []struct {
			name        string
			body        []byte
			contentType string
			data        json.RawMessage
		}{
			{"form", []byte("payload=%7B%22a%22%3A1%7D&token=xyz"), "application/x-www-form-urlencoded", nil},
			{"binary", []byte{0x00, 0xff, 0xfe, '{', 0x80, '\n', 0x00}, "application/octet-stream", nil},
			{"json array", []byte(`[{"a":1},{"b":2}]`), "application/json", nil},
			{"empty", []byte{}, "", nil},
			{"json object", []byte("\n\t{\"z\": 1,  \"a\": [true, null]}\r\n"), "application/json", json.RawMessage(`{"z": 1,  "a": [true, null]}`)},
		} {
			p := f.srcParams(src, "", "", at(time.Second))
			p.Event.Payload, p.Event.Data, p.Event.Inbound.ContentType = tc.body, tc.data, tc.contentType
			p.Event.Inbound.Headers = map[string]string{"Content-Type": tc.contentType, "X-Weird": "a, b; \"c\" = d"}
			f.srcReceive(p)
			got, err := f.st.GetEvent(f.ctx, app.ID, p.Event.ID)
			f.must(err, "get %s event", tc.name)
			sameBytes(f, tc.name+": payload", got.Payload, tc.body)
			if tc.data == nil && got.Data != nil {
				f.Errorf("%s: data got %q, want nil", tc.name, got.Data)
			}
			sameJSON(f, tc.name+": data", got.Data, tc.data)
			equal(f, tc.name+": type", got.Type, "")
			srcSameInbound(f, tc.name, got.Inbound, p.Event.Inbound)
			f.srcNoDeliveries(app.ID, p.Event.ID, tc.name)
		}

		// No headers at all.
		p := f.srcParams(src, "ping", "", at(2*time.Second))
		p.Event.Inbound.Headers = nil
		f.srcReceive(p)
		got, err := f.st.GetEvent(f.ctx, app.ID, p.Event.ID)
		f.must(err, "get event without headers")
		srcSameInbound(f, "no headers", got.Inbound, p.Event.Inbound)
	})

	run(t, open, "ReceiveRouting", func(f *fixture) {
		app := f.newApp()
		allowList := f.srcNew(app, func(s *hookd.Source) { s.Events = []string{"invoice.*"} })
		keeper := f.srcNew(app, srcNoForward)

		// Hold: held, not due.
		p := f.srcParams(allowList, "invoice.paid", "", t0)
		p.Hold = true
		ev, _ := f.srcReceive(p)
		if len(ev.Deliveries) != 1 || ev.Deliveries[0].Status != hookd.DeliveryHeld {
			f.Errorf("answered deliveries of a held event: %+v", ev.Deliveries)
		}
		held := f.srcForward(app.ID, ev.ID)
		equal(f, "status of a held forward", held.Status, hookd.DeliveryHeld)
		equal(f, "source of a held forward", held.SourceID, allowList.ID)

		// Filtered: stored and marked, never forwarded, held or not.
		for _, hold := range []bool{false, true} {
			p = f.srcParams(allowList, "customer.created", "", t0)
			p.Hold = hold
			if !p.Event.Inbound.Filtered {
				f.Fatalf("customer.created passes %q", allowList.Events)
			}
			ev, _ = f.srcReceive(p)
			equal(f, "answered deliveries of a filtered event", len(ev.Deliveries), 0)
			got, err := f.st.GetEvent(f.ctx, app.ID, ev.ID)
			f.must(err, "get filtered event")
			equal(f, "filtered", got.Inbound.Filtered, true)
			equal(f, "deliveries of a filtered event", len(got.Deliveries), 0)
			f.srcNoDeliveries(app.ID, ev.ID, "filtered")
		}

		// No forward URL: kept only.
		ev = f.srcGot(keeper, "invoice.paid", t0)
		equal(f, "answered deliveries without a forward URL", len(ev.Deliveries), 0)
		f.srcNoDeliveries(app.ID, ev.ID, "no forward URL")
		p = f.srcParams(keeper, "invoice.paid", "", t0)
		p.Hold = true
		f.srcReceive(p)
		f.srcNoDeliveries(app.ID, p.Event.ID, "no forward URL, held")

		// A test event makes a test delivery.
		p = f.srcParams(allowList, "invoice.paid", "", t0)
		p.Event.Test = true
		f.srcReceive(p)
		got, err := f.st.GetEvent(f.ctx, app.ID, p.Event.ID)
		f.must(err, "get test event")
		equal(f, "test flag of a received test event", got.Test, true)
		test := f.srcForward(app.ID, p.Event.ID)
		equal(f, "test flag of its forward", test.Test, true)
		equal(f, "status of its forward", test.Status, hookd.DeliveryPending)

		// Of all that, only the test forward is due.
		sameIDs(f, "due", f.claimIDs("worker", at(time.Hour), 10), []string{test.ID})
	})

	run(t, open, "Dedupe", func(f *fixture) {
		app := f.newApp()
		src, sibling := f.srcNew(app), f.srcNew(app)
		first := f.srcParams(src, "invoice.paid", "evt_1NqXyZ", t0)
		f.srcReceive(first)
		firstDelivery := f.srcForward(app.ID, first.Event.ID)
		want := *first.Event.Inbound

		for i, later := range []time.Duration{time.Second, 72 * time.Hour} {
			again := f.srcParams(src, "invoice.updated", "evt_1NqXyZ", at(later))
			again.Hold = i == 1
			ev, dup := f.srcReceive(again)
			equal(f, "duplicate after "+later.String(), dup, true)
			sameEvent(f, ev, first.Event)
			srcSameInbound(f, "answered first event", ev.Inbound, &want)
			if len(ev.Deliveries) != 1 || ev.Deliveries[0].ID != firstDelivery.ID {
				f.Errorf("deliveries of the answered first event: %+v, want %s", ev.Deliveries, firstDelivery.ID)
			}
			_, err := f.st.GetEvent(f.ctx, app.ID, again.Event.ID)
			wantCode(f, err, hookd.ENOTFOUND, "the duplicate itself")
		}
		sameIDs(f, "events after duplicates", f.srcEventIDs(store.EventFilter{AppID: app.ID, SourceID: src.ID}, 10), []string{first.Event.ID})
		sameIDs(f, "deliveries after duplicates", srcDeliveryIDs(f.deliveries(store.DeliveryFilter{AppID: app.ID, SourceID: src.ID})), []string{firstDelivery.ID})

		// Even after the first was forwarded.
		f.record(result(f.claimOne("worker", t0), "worker", at(time.Second), 200))
		_, dup := f.srcReceive(f.srcParams(src, "invoice.paid", "evt_1NqXyZ", at(time.Minute)))
		equal(f, "duplicate after the first was forwarded", dup, true)

		// Provider ids belong to one source.
		other := f.srcParams(sibling, "invoice.paid", "evt_1NqXyZ", at(time.Second))
		ev, dup := f.srcReceive(other)
		equal(f, "same provider id at another source", dup, false)
		equal(f, "event at another source", ev.ID, other.Event.ID)
		f.srcForward(app.ID, other.Event.ID)

		// Ids differ by case and by a space.
		for _, pid := range []string{"EVT_1NQXYZ", "evt_1NqXyZ "} {
			_, dup := f.srcReceive(f.srcParams(src, "invoice.paid", pid, at(time.Second)))
			equal(f, "duplicate of provider id "+pid, dup, false)
		}

		// No provider id: never a duplicate.
		var ids []string
		for range 3 {
			p := f.srcParams(src, "invoice.paid", "", at(time.Second))
			ev, dup := f.srcReceive(p)
			equal(f, "duplicate without a provider id", dup, false)
			equal(f, "event without a provider id", ev.ID, p.Event.ID)
			ids = append(ids, ev.ID)
			got, err := f.st.GetEvent(f.ctx, app.ID, p.Event.ID)
			f.must(err, "get event without a provider id")
			equal(f, "provider id", got.Inbound.ProviderEventID, "")
		}
		equal(f, "event count", f.srcStats(src.ID).EventCount, 6)
	})

	run(t, open, "DedupeConcurrent", func(f *fixture) {
		app := f.newApp()
		src := f.srcNew(app)
		const n = 8
		type answer struct {
			ev  *hookd.Event
			dup bool
		}
		answers := make([]answer, n)
		var wg sync.WaitGroup
		for i := range n {
			p := f.srcParams(src, "invoice.paid", "evt_race", t0)
			wg.Go(func() {
				ev, dup, err := f.st.Receive(f.ctx, p)
				if err != nil {
					f.Errorf("receive %d: %v", i, err)
					return
				}
				answers[i] = answer{ev, dup}
			})
		}
		wg.Wait()
		firsts := 0
		var firstID string
		for _, a := range answers {
			if a.ev == nil {
				continue
			}
			if !a.dup {
				firsts++
				firstID = a.ev.ID
			}
		}
		equal(f, "receives that were not duplicates", firsts, 1)
		for i, a := range answers {
			if a.ev != nil && a.ev.ID != firstID {
				f.Errorf("receive %d answers event %s, want the first, %s", i, a.ev.ID, firstID)
			}
		}
		sameIDs(f, "events stored", f.srcEventIDs(store.EventFilter{AppID: app.ID, SourceID: src.ID}, 10), []string{firstID})
		equal(f, "forwarding deliveries", len(f.deliveries(store.DeliveryFilter{AppID: app.ID})), 1)
	})

	run(t, open, "ListEvents", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		f.newWebhook(app)
		a, b := f.srcNew(app, func(s *hookd.Source) { s.Name = "a" }), f.srcNew(app, srcNoForward, func(s *hookd.Source) { s.Name = "b" })
		foreign := f.srcNew(other)
		var published, fromA, inbound []string
		for i := range 4 {
			now := at(time.Duration(i) * time.Second)
			published = append(published, f.publishType(app, "user.created", now).ID)
			ev := f.srcGot(a, "invoice.paid", now)
			fromA = append(fromA, ev.ID)
			inbound = append(inbound, ev.ID)
			if i%2 == 0 {
				inbound = append(inbound, f.srcGot(b, "invoice.paid", now).ID)
			}
		}
		f.srcGot(foreign, "invoice.paid", t0)
		f.publishType(other, "user.created", t0)

		for _, limit := range []int{1, 2, 3, 250} {
			sameIDs(f, "default listing: published events only", f.srcEventIDs(store.EventFilter{AppID: app.ID}, limit), newestFirst(published...))
			sameIDs(f, "events of source a", f.srcEventIDs(store.EventFilter{AppID: app.ID, SourceID: a.ID}, limit), newestFirst(fromA...))
			sameIDs(f, "inbound events", f.srcEventIDs(store.EventFilter{AppID: app.ID, Inbound: true}, limit), newestFirst(inbound...))
		}
		equal(f, "events of another app's source", len(f.srcEventIDs(store.EventFilter{AppID: app.ID, SourceID: foreign.ID}, 10)), 0)
		equal(f, "events of an unknown source", len(f.srcEventIDs(store.EventFilter{AppID: app.ID, SourceID: "src_missing"}, 10)), 0)

		evs, _, err := f.st.ListEvents(f.ctx, store.EventFilter{AppID: app.ID, Inbound: true}, store.Page{Limit: 250})
		f.must(err, "list inbound events")
		names := map[string]string{a.ID: "a", b.ID: "b"}
		for _, ev := range evs {
			if ev.Inbound == nil {
				f.Errorf("inbound listing shows event %s without its inbound part", ev.ID)
				continue
			}
			equal(f, "listed source name", ev.Inbound.SourceName, names[ev.Inbound.SourceID])
			wantDeliveries := map[string]int{a.ID: 1, b.ID: 0}[ev.Inbound.SourceID]
			equal(f, "listed deliveries of "+ev.ID, len(ev.Deliveries), wantDeliveries)
		}
		evs, _, err = f.st.ListEvents(f.ctx, store.EventFilter{AppID: app.ID}, store.Page{Limit: 250})
		f.must(err, "list published events")
		for _, ev := range evs {
			if ev.Inbound != nil {
				f.Errorf("default listing shows inbound event %s", ev.ID)
			}
		}
	})

	run(t, open, "ListDeliveries", func(f *fixture) {
		app, other := f.newApp(), f.newApp()
		w := f.newWebhook(app)
		a, b := f.srcNew(app), f.srcNew(app)
		var fromA []string
		for i := range 3 {
			fromA = append(fromA, f.srcForward(app.ID, f.srcGot(a, "x", at(time.Duration(i)*time.Second)).ID).ID)
		}
		f.srcGot(b, "x", t0)
		f.publishType(app, "user.created", t0)
		// a's oldest forward succeeds.
		for _, j := range f.claim("worker", at(time.Minute), 10) {
			if j.Delivery.ID == fromA[0] {
				f.record(result(j, "worker", at(time.Minute), 200))
			} else {
				f.record(retryAt(result(j, "worker", at(time.Minute), 500), at(time.Hour)))
			}
		}

		list := func(filt store.DeliveryFilter) func(store.Page) ([]*hookd.Delivery, string, error) {
			return func(p store.Page) ([]*hookd.Delivery, string, error) { return f.st.ListDeliveries(f.ctx, filt, p) }
		}
		dID := func(d *hookd.Delivery) string { return d.ID }
		for _, limit := range []int{1, 2, 250} {
			sameIDs(f, "deliveries of source a", pageAll(f, limit, list(store.DeliveryFilter{AppID: app.ID, SourceID: a.ID}), dID), newestFirst(fromA...))
		}
		sameIDs(f, "pending deliveries of source a",
			srcDeliveryIDs(f.deliveries(store.DeliveryFilter{AppID: app.ID, SourceID: a.ID, Status: hookd.DeliveryPending})), newestFirst(fromA[1:]...))
		sameIDs(f, "succeeded deliveries of source a",
			srcDeliveryIDs(f.deliveries(store.DeliveryFilter{AppID: app.ID, SourceID: a.ID, Status: hookd.DeliverySucceeded})), fromA[:1])
		for _, d := range f.deliveries(store.DeliveryFilter{AppID: app.ID, SourceID: a.ID}) {
			equal(f, "listed delivery source", d.SourceID, a.ID)
			equal(f, "listed delivery url", d.URL, a.ForwardURL)
		}
		equal(f, "deliveries of source a through another app", len(f.deliveries(store.DeliveryFilter{AppID: other.ID, SourceID: a.ID})), 0)
		equal(f, "deliveries of source a to a webhook", len(f.deliveries(store.DeliveryFilter{AppID: app.ID, SourceID: a.ID, WebhookID: w.ID})), 0)
		equal(f, "all deliveries of the app", len(f.deliveries(store.DeliveryFilter{AppID: app.ID})), 5)
		for _, d := range f.deliveries(store.DeliveryFilter{AppID: app.ID, WebhookID: w.ID}) {
			equal(f, "source of a webhook's delivery", d.SourceID, "")
		}
	})

	run(t, open, "PauseHoldsActivateReleases", func(f *fixture) {
		app := f.newApp()
		src, bystander := f.srcNew(app), f.srcNew(app)
		// e1's forward fails once and waits an hour for its retry.
		e1 := f.srcGot(src, "x", t0)
		d1 := f.srcForward(app.ID, e1.ID)
		for _, j := range f.claim("worker", t0, 10) {
			f.record(retryAt(result(j, "worker", at(time.Second), 500), at(time.Hour)))
		}
		e2 := f.srcGot(src, "x", at(time.Minute))
		d2 := f.srcForward(app.ID, e2.ID)
		test := f.srcTest(src, at(time.Minute))

		f.srcSetStatus(src, hookd.SourcePaused, at(2*time.Minute))
		f.wantStatus(app.ID, d1.ID, hookd.DeliveryHeld)
		f.wantStatus(app.ID, d2.ID, hookd.DeliveryHeld)
		f.wantStatus(app.ID, test.ID, hookd.DeliveryPending)
		// What a paused source receives is held (the receiver asks).
		e3 := f.srcGot(src, "x", at(3*time.Minute))
		d3 := f.srcForward(app.ID, e3.ID)
		equal(f, "status of a forward received while paused", d3.Status, hookd.DeliveryHeld)
		eb := f.srcGot(bystander, "x", at(3*time.Minute))
		db := f.srcForward(app.ID, eb.ID)
		f.wantStatus(app.ID, db.ID, hookd.DeliveryPending)
		jobs := f.claim("worker", at(2*time.Hour), 10)
		sameIDSet(f, "due while paused", jobIDs(jobs), []string{test.ID, db.ID})
		f.srcSucceed(jobs, at(2*time.Hour))
		equal(f, "held forwards", len(f.deliveries(store.DeliveryFilter{AppID: app.ID, SourceID: src.ID, Status: hookd.DeliveryHeld})), 3)

		// Activating makes every held forward pending and due at once,
		// even one whose retry was scheduled later.
		now := at(150 * time.Minute)
		f.srcSetStatus(src, hookd.SourceActive, now)
		for _, id := range []string{d1.ID, d2.ID, d3.ID} {
			d := f.wantStatus(app.ID, id, hookd.DeliveryPending)
			if d.NextAttemptAt == nil || d.NextAttemptAt.After(now) {
				f.Errorf("forward %s after activation: next attempt %v, want by %v", id, d.NextAttemptAt, now)
			}
		}
		sameIDSet(f, "due after activation", f.claimIDs("worker", now, 10), []string{d1.ID, d2.ID, d3.ID})
	})

	run(t, open, "DisableFails", func(f *fixture) {
		app := f.newApp()
		src, bystander := f.srcNew(app), f.srcNew(app)
		e1 := f.srcGot(src, "x", t0)
		f.attemptOnce(t0, 503, at(time.Hour)) // e1 waits for a retry
		e2 := f.srcGot(src, "x", at(time.Minute))
		f.srcSetStatus(src, hookd.SourcePaused, at(2*time.Minute))
		e3 := f.srcGot(src, "x", at(3*time.Minute))
		test := f.srcTest(src, at(3*time.Minute))
		eb := f.srcGot(bystander, "x", at(3*time.Minute))

		f.srcSetStatus(src, hookd.SourceDisabled, at(4*time.Minute))
		for _, e := range []*hookd.Event{e1, e2, e3} {
			d := f.wantStatus(app.ID, f.srcForward(app.ID, e.ID).ID, hookd.DeliveryFailed)
			if d.NextAttemptAt != nil {
				f.Errorf("failed forward %s still has a next attempt at %v", d.ID, *d.NextAttemptAt)
			}
		}
		f.wantStatus(app.ID, test.ID, hookd.DeliveryPending)
		jobs := f.claim("worker", at(2*time.Hour), 10)
		sameIDSet(f, "due after the disable", jobIDs(jobs), []string{test.ID, f.srcForward(app.ID, eb.ID).ID})
		f.srcSucceed(jobs, at(2*time.Hour))

		// Re-activating does not revive failed forwards.
		f.srcSetStatus(src, hookd.SourceActive, at(3*time.Hour))
		for _, e := range []*hookd.Event{e1, e2, e3} {
			f.wantStatus(app.ID, f.srcForward(app.ID, e.ID).ID, hookd.DeliveryFailed)
		}
		if ids := f.claimIDs("worker", at(4*time.Hour), 10); len(ids) != 0 {
			f.Errorf("claimed %q after re-activation", ids)
		}
	})

	run(t, open, "ClaimOnlyWhileActive", func(f *fixture) {
		app := f.newApp()
		src := f.srcNew(app)
		// Forwards made pending while the source is not active (the store
		// does not check): still not due until it is.
		for _, status := range []string{hookd.SourcePaused, hookd.SourceDisabled} {
			f.srcSetStatus(src, status, t0)
			p := f.srcParams(src, "x", "", at(time.Second))
			p.Hold = false
			f.srcReceive(p)
			d := f.srcForward(app.ID, p.Event.ID)
			equal(f, "status of an unheld forward of a "+status+" source", d.Status, hookd.DeliveryPending)
			test := f.srcTest(src, at(time.Second))
			jobs := f.claim("worker", at(time.Minute), 10)
			sameIDs(f, "due while "+status, jobIDs(jobs), []string{test.ID})
			f.srcSucceed(jobs, at(time.Minute))
			if next, ok, err := f.st.NextDue(f.ctx); err != nil || ok {
				f.Errorf("NextDue while the source is %s: %v %v %v", status, next, ok, err)
			}
			f.must(f.st.DeleteSource(f.ctx, app.ID, src.ID), "delete source")
			src = f.srcNew(app)
		}
	})

	run(t, open, "Job", func(f *fixture) {
		app := f.newApp(func(a *hookd.App) { a.Profile = alloyProfile() })
		src := f.srcNew(app)
		p := f.srcParams(src, "invoice.paid", "evt_job", at(time.Second))
		p.Event.Payload = []byte("{\"raw\" :  true}\n\n")
		p.Event.Data = json.RawMessage(`{"raw" :  true}`)
		f.srcReceive(p)
		d := f.srcForward(app.ID, p.Event.ID)

		job := f.claimOne("worker", at(time.Minute))
		equal(f, "job delivery", job.Delivery.ID, d.ID)
		equal(f, "job delivery source", job.Delivery.SourceID, src.ID)
		equal(f, "job delivery url", job.Delivery.URL, src.ForwardURL)
		equal(f, "job delivery webhook", job.Delivery.WebhookID, "")
		equal(f, "job delivery app", job.Delivery.AppID, app.ID)
		equal(f, "job delivery event", job.Delivery.EventID, p.Event.ID)
		equal(f, "job delivery attempts", job.Delivery.AttemptCount, 0)
		if job.Webhook != nil {
			f.Errorf("the job of a forward has webhook %+v", job.Webhook)
		}
		equal(f, "job event id", job.Event.ID, p.Event.ID)
		equal(f, "job event app", job.Event.AppID, app.ID)
		equal(f, "job event type", job.Event.Type, "invoice.paid")
		equal(f, "job event test", job.Event.Test, false)
		sameTime(f, "job event created_at", job.Event.CreatedAt, at(time.Second))
		sameBytes(f, "job payload (the raw body)", job.Event.Payload, p.Event.Payload)
		if job.Event.Inbound == nil {
			f.Fatalf("the job of a forward has no inbound part")
		}
		equal(f, "job inbound source", job.Event.Inbound.SourceID, src.ID)
		sameMap(f, "job inbound headers", job.Event.Inbound.Headers, p.Event.Inbound.Headers)
		equal(f, "job inbound content type", job.Event.Inbound.ContentType, p.Event.Inbound.ContentType)
		if !reflect.DeepEqual(job.Profile, app.Profile) {
			f.Errorf("job profile:\n got  %+v\n want %+v", job.Profile, app.Profile)
		}

		// A published event's job has no inbound part.
		w := f.newWebhook(app)
		f.publishType(app, "user.created", at(2*time.Minute))
		job = f.claimOne("worker", at(2*time.Minute))
		equal(f, "job webhook", job.Webhook.ID, w.ID)
		equal(f, "job delivery source of a published event", job.Delivery.SourceID, "")
		if job.Event.Inbound != nil {
			f.Errorf("the job of a published event has inbound %+v", job.Event.Inbound)
		}
	})

	run(t, open, "Record", func(f *fixture) {
		app := f.newApp()
		src := f.srcNew(app)
		// Thresholds that would disable a webhook at its first failure.
		strict := func(r *store.AttemptResult) { r.AutoDisableAfter, r.AutoDisableAge = 1, time.Second }

		// Success.
		e1 := f.srcGot(src, "x", t0)
		job, notices := f.attemptOnce(t0, 204, time.Time{}, strict)
		equal(f, "claimed", job.Delivery.EventID, e1.ID)
		srcNoWebhookNotices(f, "success", notices)
		equal(f, "notices of a success", len(notices), 0)
		d := f.wantStatus(app.ID, job.Delivery.ID, hookd.DeliverySucceeded)
		equal(f, "attempt count", d.AttemptCount, 1)
		equal(f, "last status code", d.LastStatusCode, 204)
		sameTimePtr(f, "next attempt of a success", d.NextAttemptAt, time.Time{})
		if len(d.Attempts) != 1 {
			f.Fatalf("attempts: %d, want 1", len(d.Attempts))
		}
		equal(f, "attempt webhook", d.Attempts[0].WebhookID, "")
		equal(f, "attempt status code", d.Attempts[0].StatusCode, 204)

		// Retry, then exhausted.
		e2 := f.srcGot(src, "x", at(time.Minute))
		job, notices = f.attemptOnce(at(time.Minute), 500, at(time.Hour), strict)
		equal(f, "claimed", job.Delivery.EventID, e2.ID)
		srcNoWebhookNotices(f, "retry", notices)
		equal(f, "notices of a retry", len(notices), 0)
		d = f.wantStatus(app.ID, job.Delivery.ID, hookd.DeliveryPending)
		sameTimePtr(f, "next attempt of a retry", d.NextAttemptAt, at(time.Hour))
		equal(f, "attempt count after a retry", d.AttemptCount, 1)
		if ids := f.claimIDs("worker", at(30*time.Minute), 10); len(ids) != 0 {
			f.Errorf("claimed %q before the retry is due", ids)
		}
		job, notices = f.attemptOnce(at(time.Hour), 0, time.Time{}, strict)
		srcNoWebhookNotices(f, "exhausted", notices)
		n := findNotice(f, notices, hookd.NoticeDeliveryExhausted)
		equal(f, "exhausted notice app", n.AppID, app.ID)
		equal(f, "exhausted notice delivery", n.DeliveryID, job.Delivery.ID)
		equal(f, "exhausted notice event", n.EventID, e2.ID)
		d = f.wantStatus(app.ID, job.Delivery.ID, hookd.DeliveryFailed)
		equal(f, "attempt count when exhausted", d.AttemptCount, 2)
		equal(f, "attempts when exhausted", len(d.Attempts), 2)
		sameTimePtr(f, "next attempt when exhausted", d.NextAttemptAt, time.Time{})

		// The source was not touched by any of it.
		got := f.srcGet(app.ID, src.ID)
		equal(f, "source status after failures", got.Status, hookd.SourceActive)
		sameTime(f, "source updated_at after failures", got.UpdatedAt, t0)

		// A failed forward can be retried by hand.
		_, err := f.st.RetryDelivery(f.ctx, app.ID, job.Delivery.ID, at(2*time.Hour))
		f.must(err, "retry a failed forward")
		_, notices = f.attemptOnce(at(2*time.Hour), 200, time.Time{}, strict)
		equal(f, "notices of a success after a retry", len(notices), 0)
		f.wantStatus(app.ID, job.Delivery.ID, hookd.DeliverySucceeded)
	})

	run(t, open, "StatusChangedInFlight", func(f *fixture) {
		app := f.newApp()
		paused, disabled := f.srcNew(app), f.srcNew(app)
		f.srcGot(paused, "x", t0)
		f.srcGot(disabled, "x", t0)
		jobs := f.claim("worker", t0, 10)
		if len(jobs) != 2 {
			f.Fatalf("claimed %d, want 2", len(jobs))
		}
		f.srcSetStatus(paused, hookd.SourcePaused, at(time.Second))
		f.srcSetStatus(disabled, hookd.SourceDisabled, at(time.Second))
		want := map[string]string{paused.ID: hookd.DeliveryHeld, disabled.ID: hookd.DeliveryFailed}
		for _, j := range jobs {
			notices := f.record(retryAt(result(j, "worker", at(2*time.Second), 500), at(time.Hour)))
			srcNoWebhookNotices(f, "retry of a forward whose source changed", notices)
			f.wantStatus(app.ID, j.Delivery.ID, want[j.Delivery.SourceID])
		}
		if ids := f.claimIDs("worker", at(2*time.Hour), 10); len(ids) != 0 {
			f.Errorf("claimed %q of a paused and a disabled source", ids)
		}
	})

	run(t, open, "Prune", func(f *fixture) {
		app := f.newApp()
		src, keeper := f.srcNew(app), f.srcNew(app, srcNoForward)
		kept := f.srcGot(keeper, "x", t0)                     // nothing to forward: finished
		filtered := f.srcParams(src, "x", "evt_filtered", t0) // filtered: finished
		filtered.Event.Inbound.Filtered = true
		f.srcReceive(filtered)
		forwarded := f.srcGot(src, "x", t0)
		f.record(result(f.claimOne("worker", t0), "worker", t0, 200))
		failed := f.srcGot(src, "x", at(time.Second))
		f.attemptOnce(at(time.Second), 500, time.Time{})
		pending := f.srcGot(src, "x", at(2*time.Second))
		p := f.srcParams(src, "x", "", at(3*time.Second))
		p.Hold = true
		f.srcReceive(p)
		held := p.Event
		recent := f.srcGot(keeper, "x", at(40*24*time.Hour))

		n, err := f.st.Prune(f.ctx, at(30*24*time.Hour), 100)
		f.must(err, "prune")
		equal(f, "pruned events", n, 4)
		for _, ev := range []*hookd.Event{kept, filtered.Event, forwarded, failed} {
			_, err := f.st.GetEvent(f.ctx, app.ID, ev.ID)
			wantCode(f, err, hookd.ENOTFOUND, "get a pruned inbound event")
		}
		for _, ev := range []*hookd.Event{pending, held, recent} {
			if _, err := f.st.GetEvent(f.ctx, app.ID, ev.ID); err != nil {
				f.Errorf("inbound event %s was pruned but is unfinished or recent: %v", ev.ID, err)
			}
		}
		equal(f, "forwards left", len(f.deliveries(store.DeliveryFilter{AppID: app.ID, SourceID: src.ID})), 2)
		// The event count is kept, not counted: it counts every event the
		// source received, whatever retention deleted since.
		equal(f, "event count after the prune", f.srcStats(src.ID).EventCount, 5)
		equal(f, "event count of the keeper after the prune", f.srcStats(keeper.ID).EventCount, 2)
		// The sources themselves stay.
		f.srcGet(app.ID, src.ID)
		f.srcGet(app.ID, keeper.ID)
	})
}

// srcDeliveryIDs returns the ids of deliveries in order.
func srcDeliveryIDs(ds []*hookd.Delivery) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}
