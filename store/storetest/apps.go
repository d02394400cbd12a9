package storetest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

func sameApp(tb testing.TB, got, want *hookd.App) {
	tb.Helper()
	equal(tb, "app id", got.ID, want.ID)
	equal(tb, "app uid", got.UID, want.UID)
	equal(tb, "app name", got.Name, want.Name)
	equal(tb, "app contact email", got.ContactEmail, want.ContactEmail)
	equal(tb, "app default secret", got.DefaultSecret, want.DefaultSecret)
	sameTime(tb, "app created_at", got.CreatedAt, want.CreatedAt)
	sameTime(tb, "app updated_at", got.UpdatedAt, want.UpdatedAt)
	if !reflect.DeepEqual(got.Profile, want.Profile) {
		tb.Errorf("app profile:\n got  %+v\n want %+v", got.Profile, want.Profile)
	}
}

// alloyProfile differs from the default in every part.
func alloyProfile() hookd.Profile {
	p := hookd.DefaultProfile()
	p.Signature = hookd.SignatureConfig{Scheme: hookd.SchemeHMACHex, HeaderPrefix: "X-Alloy", EventHeader: true}
	p.Envelope = hookd.EnvelopeConfig{TypeKey: "event", TimeKey: "timestamp", TimeFormat: hookd.TimeUnix, IDKey: "id", AppKey: "appId"}
	p.Retry = hookd.RetryPolicy{ScheduleSeconds: []float64{0.5, 2, 30}, MaxAttempts: 3, Jitter: 0}
	p.AutoDisableAfter = 3
	p.MaxWebhooks = 1
	return p
}

func testApps(t *testing.T, open opener) {
	run(t, open, "Ping", func(f *fixture) {
		f.must(f.st.Ping(f.ctx), "ping")
	})

	run(t, open, "CreateGet", func(f *fixture) {
		app := f.newApp(func(a *hookd.App) {
			a.UID, a.Profile = "acme", alloyProfile()
			a.UpdatedAt = at(time.Second)
		})
		if !f.sealer.Sealed(app.DefaultSecret) {
			f.Errorf("the app's default secret was not sealed")
		}
		got, err := f.st.GetApp(f.ctx, app.ID)
		f.must(err, "get app by id")
		sameApp(f, got, app)
		if !f.sealer.Opened(app.DefaultSecret) {
			f.Errorf("the app's default secret was not read back through the sealer")
		}
		got, err = f.st.GetApp(f.ctx, "acme")
		f.must(err, "get app by uid")
		sameApp(f, got, app)

		_, err = f.st.GetApp(f.ctx, "app_missing")
		wantCode(f, err, hookd.ENOTFOUND, "get unknown app")
		// An app without a uid must not answer to the empty uid.
		f.newApp()
		_, err = f.st.GetApp(f.ctx, "")
		wantCode(f, err, hookd.ENOTFOUND, "get app by empty ref")
	})

	run(t, open, "UIDConflict", func(f *fixture) {
		a := f.newApp(func(a *hookd.App) { a.UID = "taken" })
		b := &hookd.App{ID: f.id("app"), UID: "taken", Name: "B", Profile: hookd.DefaultProfile(), DefaultSecret: "s", CreatedAt: t0, UpdatedAt: t0}
		wantCode(f, f.st.CreateApp(f.ctx, b), hookd.ECONFLICT, "create app with a taken uid")
		_, err := f.st.GetApp(f.ctx, b.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get the app whose create conflicted")

		// Any number of apps may go without a uid.
		c, d := f.newApp(), f.newApp()
		c.UID, c.UpdatedAt = "taken", at(time.Minute)
		wantCode(f, f.st.UpdateApp(f.ctx, c), hookd.ECONFLICT, "update app to a taken uid")
		got, err := f.st.GetApp(f.ctx, "taken")
		f.must(err, "get by uid")
		equal(f, "owner of uid", got.ID, a.ID)
		got, err = f.st.GetApp(f.ctx, d.ID)
		f.must(err, "get app")
		equal(f, "uid of an app that has none", got.UID, "")
	})

	run(t, open, "IDBeforeUID", func(f *fixture) {
		a := f.newApp()
		b := f.newApp(func(b *hookd.App) { b.UID = a.ID })
		got, err := f.st.GetApp(f.ctx, a.ID)
		f.must(err, "get app")
		equal(f, "an id that is also another app's uid finds", got.ID, a.ID)
		_ = b
	})

	run(t, open, "ListPaging", func(f *fixture) {
		none, next, err := f.st.ListApps(f.ctx, store.Page{Limit: 10})
		f.must(err, "list empty")
		equal(f, "apps in an empty store", len(none), 0)
		equal(f, "cursor of an empty list", next, "")

		var created []string
		for range 7 {
			created = append(created, f.newApp().ID)
		}
		list := func(p store.Page) ([]*hookd.App, string, error) { return f.st.ListApps(f.ctx, p) }
		appID := func(a *hookd.App) string { return a.ID }
		for _, limit := range []int{1, 3, 7, 250} {
			sameIDs(f, "apps newest first", pageAll(f, limit, list, appID), newestFirst(created...))
		}
		// A list that fills its last page exactly ends without an empty page.
		f.newApp()
		got := pageAll(f, 4, list, appID)
		equal(f, "apps paged by 4", len(got), 8)

		// A cursor outlives the item it names: no gap after a delete.
		all := pageAll(f, 250, list, appID)
		first, next, err := f.st.ListApps(f.ctx, store.Page{Limit: 3})
		f.must(err, "list apps")
		f.must(f.st.DeleteApp(f.ctx, first[2].ID), "delete the cursor's app")
		rest, _, err := f.st.ListApps(f.ctx, store.Page{Limit: 3, After: next})
		f.must(err, "list apps after a deleted cursor")
		var restIDs []string
		for _, a := range rest {
			restIDs = append(restIDs, a.ID)
		}
		sameIDs(f, "page after a deleted cursor", restIDs, all[3:6])

		apps, _, err := f.st.ListApps(f.ctx, store.Page{Limit: 2})
		f.must(err, "list apps")
		if len(apps) == 2 && apps[1].DefaultSecret == "" {
			f.Errorf("listed apps lack their default secret")
		}
	})

	run(t, open, "Update", func(f *fixture) {
		app := f.newApp(func(a *hookd.App) { a.UID = "old-uid" })
		app.UID, app.Name, app.ContactEmail = "new-uid", "Renamed", "new@example.com"
		app.Profile, app.DefaultSecret, app.UpdatedAt = alloyProfile(), "whsec_rotated_default", at(time.Hour)
		f.must(f.st.UpdateApp(f.ctx, app), "update app")
		if !f.sealer.Sealed("whsec_rotated_default") {
			f.Errorf("the rotated default secret was not sealed")
		}
		got, err := f.st.GetApp(f.ctx, "new-uid")
		f.must(err, "get by new uid")
		sameApp(f, got, app)
		_, err = f.st.GetApp(f.ctx, "old-uid")
		wantCode(f, err, hookd.ENOTFOUND, "get by the old uid")

		// Clearing the uid frees it.
		app.UID = ""
		f.must(f.st.UpdateApp(f.ctx, app), "clear uid")
		_, err = f.st.GetApp(f.ctx, "new-uid")
		wantCode(f, err, hookd.ENOTFOUND, "get by a cleared uid")
		f.newApp(func(a *hookd.App) { a.UID = "new-uid" })

		ghost := *app
		ghost.ID = "app_missing"
		wantCode(f, f.st.UpdateApp(f.ctx, &ghost), hookd.ENOTFOUND, "update unknown app")
	})

	run(t, open, "DeleteCascades", func(f *fixture) {
		doomed, kept := f.newApp(), f.newApp()
		seed := func(app *hookd.App) (*hookd.AppKey, *hookd.Webhook, *hookd.Event) {
			key := &hookd.AppKey{ID: f.id("key"), AppID: app.ID, Name: "k", Hash: "hash-" + app.ID, CreatedAt: t0}
			f.must(f.st.CreateAppKey(f.ctx, key), "create key")
			w := f.newWebhook(app)
			pe := f.newEvent(app, "user.created")
			pe.Event.IdempotencyKey = "same-key"
			f.publish(app, t0, pe)
			return key, w, pe.Event
		}
		dKey, dHook, dEvent := seed(doomed)
		kKey, kHook, kEvent := seed(kept)
		// One attempt of each, so that attempts exist too.
		for range 2 {
			job := f.claimOne("worker", t0)
			f.record(retryAt(result(job, "worker", t0, 500), at(time.Hour)))
		}
		dDelivery := f.deliveryTo(doomed.ID, dEvent.ID, dHook.ID)

		f.must(f.st.DeleteApp(f.ctx, doomed.ID), "delete app")
		_, err := f.st.GetApp(f.ctx, doomed.ID)
		wantCode(f, err, hookd.ENOTFOUND, "get deleted app")
		_, err = f.st.AppKeyByHash(f.ctx, dKey.Hash)
		wantCode(f, err, hookd.ENOTFOUND, "key of deleted app")
		_, err = f.st.GetWebhook(f.ctx, doomed.ID, dHook.ID)
		wantCode(f, err, hookd.ENOTFOUND, "webhook of deleted app")
		_, err = f.st.GetEvent(f.ctx, doomed.ID, dEvent.ID)
		wantCode(f, err, hookd.ENOTFOUND, "event of deleted app")
		_, err = f.st.GetDelivery(f.ctx, doomed.ID, dDelivery.ID)
		wantCode(f, err, hookd.ENOTFOUND, "delivery of deleted app")
		events, _, err := f.st.ListEvents(f.ctx, store.EventFilter{AppID: doomed.ID}, store.Page{Limit: 10})
		f.must(err, "list events")
		equal(f, "events of deleted app", len(events), 0)
		equal(f, "deliveries of deleted app", len(f.deliveries(store.DeliveryFilter{AppID: doomed.ID})), 0)
		h, err := healthOf(f.ctx, f.st, dHook.ID, at(2*time.Hour))
		f.must(err, "health of deleted webhook")
		equal(f, "delivery count of deleted webhook", h.DeliveryCount, 0)
		wantCode(f, f.st.DeleteApp(f.ctx, doomed.ID), hookd.ENOTFOUND, "delete app twice")

		// The other app is whole, and only its delivery is left to do.
		_, err = f.st.AppKeyByHash(f.ctx, kKey.Hash)
		f.must(err, "key of kept app")
		f.webhook(kept.ID, kHook.ID)
		kDelivery := f.deliveryTo(kept.ID, kEvent.ID, kHook.ID)
		sameIDs(f, "due after the delete", f.claimIDs("worker", at(2*time.Hour), 10), []string{kDelivery.ID})
		equal(f, "attempts of kept delivery", len(f.delivery(kept.ID, kDelivery.ID).Attempts), 1)
	})
}

func testAppKeys(t *testing.T, open opener) {
	run(t, open, "CRUD", func(f *fixture) {
		a, b := f.newApp(), f.newApp()
		newKey := func(app *hookd.App, name string) *hookd.AppKey {
			k := &hookd.AppKey{ID: f.id("key"), AppID: app.ID, Name: name, Hash: "sha256-" + f.id("h"), CreatedAt: at(time.Second)}
			f.must(f.st.CreateAppKey(f.ctx, k), "create key")
			return k
		}
		k1, k2, k3 := newKey(a, "ci"), newKey(a, "backend"), newKey(a, "")
		kb := newKey(b, "other")

		got, err := f.st.AppKeyByHash(f.ctx, k2.Hash)
		f.must(err, "key by hash")
		equal(f, "key id", got.ID, k2.ID)
		equal(f, "key app", got.AppID, a.ID)
		equal(f, "key name", got.Name, "backend")
		equal(f, "key hash", got.Hash, k2.Hash)
		sameTime(f, "key created_at", got.CreatedAt, k2.CreatedAt)
		_, err = f.st.AppKeyByHash(f.ctx, "sha256-unknown")
		wantCode(f, err, hookd.ENOTFOUND, "unknown hash")

		list := func(p store.Page) ([]*hookd.AppKey, string, error) { return f.st.ListAppKeys(f.ctx, a.ID, p) }
		keyID := func(k *hookd.AppKey) string { return k.ID }
		for _, limit := range []int{1, 2, 50} {
			sameIDs(f, "keys of app newest first", pageAll(f, limit, list, keyID), newestFirst(k1.ID, k2.ID, k3.ID))
		}

		wantCode(f, f.st.DeleteAppKey(f.ctx, b.ID, k1.ID), hookd.ENOTFOUND, "delete a key through another app")
		_, err = f.st.AppKeyByHash(f.ctx, k1.Hash)
		f.must(err, "key survives a delete through another app")
		f.must(f.st.DeleteAppKey(f.ctx, a.ID, k1.ID), "delete key")
		_, err = f.st.AppKeyByHash(f.ctx, k1.Hash)
		wantCode(f, err, hookd.ENOTFOUND, "deleted key by hash")
		wantCode(f, f.st.DeleteAppKey(f.ctx, a.ID, k1.ID), hookd.ENOTFOUND, "delete key twice")
		sameIDs(f, "keys after delete", pageAll(f, 10, list, keyID), newestFirst(k2.ID, k3.ID))
		_, err = f.st.AppKeyByHash(f.ctx, kb.Hash)
		f.must(err, "other app's key")
	})
}

func sameEventType(tb testing.TB, got, want *hookd.EventType) {
	tb.Helper()
	equal(tb, "event type id", got.ID, want.ID)
	equal(tb, "event type name", got.Name, want.Name)
	equal(tb, "event type description", got.Description, want.Description)
	equal(tb, "event type status", got.Status, want.Status)
	sameJSON(tb, "event type schema", got.Schema, want.Schema)
	sameTime(tb, "event type created_at", got.CreatedAt, want.CreatedAt)
	sameTime(tb, "event type updated_at", got.UpdatedAt, want.UpdatedAt)
}

func testEventTypes(t *testing.T, open opener) {
	run(t, open, "CRUD", func(f *fixture) {
		all, err := f.st.AllEventTypes(f.ctx)
		f.must(err, "all event types of an empty store")
		equal(f, "catalog of an empty store", len(all), 0)

		newType := func(name, status string, schema string) *hookd.EventType {
			et := &hookd.EventType{ID: f.id("etp"), Name: name, Description: "about " + name, Status: status, CreatedAt: t0, UpdatedAt: t0}
			if schema != "" {
				et.Schema = json.RawMessage(schema)
			}
			f.must(f.st.CreateEventType(f.ctx, et), "create event type %s", name)
			return et
		}
		created := newType("user.created", hookd.EventTypeActive, `{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}`)
		reserved := newType("webhook.test", hookd.EventTypeReserved, "")
		deprecated := newType("user.renamed", hookd.EventTypeDeprecated, "")
		job := newType("job.done", hookd.EventTypeActive, "")

		got, err := f.st.GetEventType(f.ctx, "user.created")
		f.must(err, "get event type")
		sameEventType(f, got, created)
		got, err = f.st.GetEventType(f.ctx, "webhook.test")
		f.must(err, "get event type")
		sameEventType(f, got, reserved)
		if got.Schema != nil {
			f.Errorf("schema of a type without one: got %q, want nil", got.Schema)
		}
		_, err = f.st.GetEventType(f.ctx, "no.such")
		wantCode(f, err, hookd.ENOTFOUND, "get unknown event type")

		dup := &hookd.EventType{ID: f.id("etp"), Name: "user.created", Status: hookd.EventTypeActive, CreatedAt: t0, UpdatedAt: t0}
		wantCode(f, f.st.CreateEventType(f.ctx, dup), hookd.ECONFLICT, "create a taken name")
		got, err = f.st.GetEventType(f.ctx, "user.created")
		f.must(err, "get event type")
		sameEventType(f, got, created)

		list := func(p store.Page) ([]*hookd.EventType, string, error) { return f.st.ListEventTypes(f.ctx, p) }
		etID := func(e *hookd.EventType) string { return e.ID }
		for _, limit := range []int{1, 3, 100} {
			sameIDs(f, "event types newest first", pageAll(f, limit, list, etID), newestFirst(created.ID, reserved.ID, deprecated.ID, job.ID))
		}
		all, err = f.st.AllEventTypes(f.ctx)
		f.must(err, "all event types")
		var names []string
		for _, et := range all {
			names = append(names, et.Name)
			if et.Name == "user.created" {
				sameEventType(f, et, created)
			}
		}
		sameIDSet(f, "whole catalog", names, []string{"user.created", "webhook.test", "user.renamed", "job.done"})

		created.Description, created.Status, created.Schema, created.UpdatedAt = "changed", hookd.EventTypeDeprecated, nil, at(time.Hour)
		f.must(f.st.UpdateEventType(f.ctx, created), "update event type")
		got, err = f.st.GetEventType(f.ctx, "user.created")
		f.must(err, "get updated event type")
		sameEventType(f, got, created)
		job.Schema = json.RawMessage(`{"type":"object"}`)
		f.must(f.st.UpdateEventType(f.ctx, job), "add schema")
		got, err = f.st.GetEventType(f.ctx, "job.done")
		f.must(err, "get updated event type")
		sameEventType(f, got, job)

		ghost := &hookd.EventType{ID: f.id("etp"), Name: "no.such", Status: hookd.EventTypeActive, UpdatedAt: t0}
		wantCode(f, f.st.UpdateEventType(f.ctx, ghost), hookd.ENOTFOUND, "update unknown event type")
	})
}
