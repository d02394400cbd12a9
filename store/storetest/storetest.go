package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
)

// t0 is the suite's epoch. Every time the suite passes a store is t0 plus
// whole seconds, so stores may keep times at millisecond precision.
var t0 = time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)

// at returns t0 + d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// lease is the lease the suite asks for unless a test says otherwise.
const lease = time.Minute

// Exercise runs the conformance suite against the stores open returns. open
// must return a fresh, empty store each time it is called that seals
// secrets with the sealer it is given, and close it when its test ends.
// Tests run in parallel, each on its own store.
func Exercise(t *testing.T, open Opener) {
	t.Helper()
	groups := []struct {
		name string
		fn   func(t *testing.T, open opener)
	}{
		{"Apps", testApps},
		{"AppKeys", testAppKeys},
		{"EventTypes", testEventTypes},
		{"Webhooks", testWebhooks},
		{"Publish", testPublish},
		{"Reads", testReads},
		{"Claim", testClaim},
		{"Record", testRecord},
		{"Queue", testQueue},
		{"Prune", testPrune},
		{"Stale", testStale},
		{"Sources", testSources},
		{"LargeMoves", testLargeMoves},
		{"Handoff", testHandoff},
		{"Bulk", testBulk},
		{"Operations", testOperations},
		{"Storable", testStorable},
		{"Listen", testListen},
		{"Sessions", testSessions},
		{"Stats", testStats},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.fn(t, open)
		})
	}
}

// Opener opens a fresh, empty store that seals secrets with sealer.
type Opener func(t *testing.T, sealer store.Sealer) store.Store

type opener = Opener

// run runs fn as a parallel subtest on a fresh store.
func run(t *testing.T, open opener, name string, fn func(f *fixture)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		fn(newFixture(t, open))
	})
}

// fixture is one test's store and the helpers that drive it. It embeds the
// test so that checks read as f.Fatalf.
type fixture struct {
	testing.TB
	ctx    context.Context
	st     store.Store
	sealer *Sealer
	ids    *ident.Generator
}

func newFixture(t *testing.T, open opener) *fixture {
	t.Helper()
	key := make([]byte, seal.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatalf("key: %v", err)
	}
	inner, err := seal.New(key)
	if err != nil {
		t.Fatalf("sealer: %v", err)
	}
	sealer := &Sealer{inner: inner}
	st := open(t, sealer)
	if st == nil {
		t.Fatal("open returned a nil store")
	}
	f := &fixture{TB: t, ctx: t.Context(), st: st, sealer: sealer, ids: ident.New(nil)}
	t.Cleanup(func() {
		for _, p := range f.sealer.Problems() {
			t.Errorf("sealer: %s", p)
		}
	})
	return f
}

func (f *fixture) id(prefix string) string { return f.ids.New(prefix) }

// must fails the test on err.
func (f *fixture) must(err error, what string, args ...any) {
	f.Helper()
	if err != nil {
		f.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// wantCode checks that err carries the hookd error code code.
func wantCode(tb testing.TB, err error, code, what string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("%s: got no error, want %s", what, code)
	}
	if got := hookd.ErrorCode(err); got != code {
		tb.Fatalf("%s: got %v (code %s), want code %s", what, err, got, code)
	}
}

// equal checks got == want.
func equal[T comparable](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if got != want {
		tb.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// sameTime checks that got and want are the same instant.
func sameTime(tb testing.TB, what string, got, want time.Time) {
	tb.Helper()
	if !got.Equal(want) {
		tb.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// sameTimePtr checks an optional time: nil when want is zero.
func sameTimePtr(tb testing.TB, what string, got *time.Time, want time.Time) {
	tb.Helper()
	switch {
	case want.IsZero() && got != nil:
		tb.Errorf("%s: got %v, want none", what, *got)
	case !want.IsZero() && got == nil:
		tb.Errorf("%s: got none, want %v", what, want)
	case got != nil && !got.Equal(want):
		tb.Errorf("%s: got %v, want %v", what, *got, want)
	}
}

// sameJSON checks that two JSON texts mean the same: a database may keep
// JSON in a form of its own (PostgreSQL's jsonb reorders keys).
func sameJSON(tb testing.TB, what string, got, want []byte) {
	tb.Helper()
	if len(got) == 0 || len(want) == 0 {
		if len(got) != len(want) {
			tb.Errorf("%s: got %q, want %q", what, got, want)
		}
		return
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		tb.Errorf("%s: got invalid JSON %q: %v", what, got, err)
		return
	}
	if err := json.Unmarshal(want, &w); err != nil {
		tb.Fatalf("%s: want invalid JSON %q: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("%s: got %s, want %s", what, got, want)
	}
}

// sameStrings compares string lists, nil and empty alike.
func sameStrings(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if len(got) != len(want) || (len(got) > 0 && !slices.Equal(got, want)) {
		tb.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// sameMap compares string maps, nil and empty alike.
func sameMap(tb testing.TB, what string, got, want map[string]string) {
	tb.Helper()
	if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
		tb.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// pageAll walks a newest-first list page by page and returns the ids it
// saw, checking that no page is over-full, that a page is never empty but
// for the very first, and that only the last page has no cursor.
func pageAll[T any](tb testing.TB, limit int, list func(store.Page) ([]T, string, error), id func(T) string) []string {
	tb.Helper()
	var ids []string
	page := store.Page{Limit: limit}
	for n := 0; ; n++ {
		if n > 1000 {
			tb.Fatalf("paging does not end")
		}
		items, next, err := list(page)
		if err != nil {
			tb.Fatalf("list page %d (after %q): %v", n, page.After, err)
		}
		if len(items) > limit {
			tb.Fatalf("page %d has %d items, limit %d", n, len(items), limit)
		}
		if len(items) == 0 && n > 0 {
			tb.Fatalf("page %d is empty but the previous page gave a cursor", n)
		}
		if next != "" && len(items) < limit {
			tb.Fatalf("page %d has %d of %d items and a cursor", n, len(items), limit)
		}
		for _, it := range items {
			ids = append(ids, id(it))
		}
		if next == "" {
			return ids
		}
		page.After = next
	}
}

// newestFirst returns ids in reverse.
func newestFirst(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

// sameIDs checks an ordered id list.
func sameIDs(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if !slices.Equal(got, want) {
		tb.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// sameIDSet checks an id list regardless of order, and that it has no
// repeats.
func sameIDSet(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		tb.Errorf("%s:\n got  %q\n want %q (any order)", what, got, want)
	}
}

// newApp stores an app with the default profile; mods adjust it first.
func (f *fixture) newApp(mods ...func(*hookd.App)) *hookd.App {
	f.Helper()
	id := f.id("app")
	a := &hookd.App{
		ID: id, Name: "App " + id, ContactEmail: "ops@example.com", Profile: hookd.DefaultProfile(),
		DefaultSecret: "whsec_default_" + id, CreatedAt: t0, UpdatedAt: t0,
	}
	for _, m := range mods {
		m(a)
	}
	f.must(f.st.CreateApp(f.ctx, a), "create app")
	return a
}

// newWebhook stores an active webhook of app subscribed to everything; mods
// adjust it first.
func (f *fixture) newWebhook(app *hookd.App, mods ...func(*hookd.Webhook)) *hookd.Webhook {
	f.Helper()
	id := f.id("wh")
	w := &hookd.Webhook{
		ID: id, AppID: app.ID, URL: "https://receiver.example.com/" + id, Events: []string{"*"},
		Status: hookd.WebhookActive, Name: "hook " + id, Secret: "whsec_secret_" + id, CreatedAt: t0, UpdatedAt: t0,
	}
	for _, m := range mods {
		m(w)
	}
	f.must(f.st.CreateWebhook(f.ctx, w, 0), "create webhook")
	return w
}

// newEvent returns an event of app ready to publish.
func (f *fixture) newEvent(app *hookd.App, typ string) *store.PublishEvent {
	id := f.id("evt")
	return &store.PublishEvent{Event: &hookd.Event{
		ID: id, AppID: app.ID, Type: typ,
		Data:    json.RawMessage(`{"id":"` + id + `","n":1,"html":"<b>"}`),
		Payload: []byte(`{"type":"` + typ + `","data":{"id":"` + id + `","n":1,"html":"<b>"}}`),
	}}
}

// publish commits pes at now, setting events' creation time to now.
func (f *fixture) publish(app *hookd.App, now time.Time, pes ...*store.PublishEvent) []store.PublishResult {
	f.Helper()
	for _, pe := range pes {
		if pe.Event.CreatedAt.IsZero() {
			pe.Event.CreatedAt = now
		}
	}
	res, err := f.st.Publish(f.ctx, &store.PublishParams{AppID: app.ID, Now: now, Events: pes})
	f.must(err, "publish")
	if len(res) != len(pes) {
		f.Fatalf("publish: %d results for %d events", len(res), len(pes))
	}
	return res
}

// publishType publishes one event of typ at now and returns it.
func (f *fixture) publishType(app *hookd.App, typ string, now time.Time) *hookd.Event {
	f.Helper()
	pe := f.newEvent(app, typ)
	f.publish(app, now, pe)
	return pe.Event
}

// deliveries lists all of an app's deliveries that match filt.
func (f *fixture) deliveries(filt store.DeliveryFilter) []*hookd.Delivery {
	f.Helper()
	var all []*hookd.Delivery
	page := store.Page{Limit: 250}
	for {
		ds, next, err := f.st.ListDeliveries(f.ctx, filt, page)
		f.must(err, "list deliveries")
		all = append(all, ds...)
		if next == "" {
			return all
		}
		page.After = next
	}
}

// deliveryTo returns the one delivery of event to webhook.
func (f *fixture) deliveryTo(appID, eventID, webhookID string) *hookd.Delivery {
	f.Helper()
	var ds []*hookd.Delivery
	// An empty WebhookID filter means any webhook; "" here means none.
	for _, d := range f.deliveries(store.DeliveryFilter{AppID: appID, EventID: eventID, WebhookID: webhookID}) {
		if d.WebhookID == webhookID {
			ds = append(ds, d)
		}
	}
	if len(ds) != 1 {
		f.Fatalf("event %s has %d deliveries to webhook %q, want 1", eventID, len(ds), webhookID)
	}
	return ds[0]
}

// delivery reads one delivery with its attempts.
func (f *fixture) delivery(appID, id string) *hookd.Delivery {
	f.Helper()
	d, err := f.st.GetDelivery(f.ctx, appID, id)
	f.must(err, "get delivery %s", id)
	return d
}

// wantStatus checks a delivery's status.
func (f *fixture) wantStatus(appID, id, status string) *hookd.Delivery {
	f.Helper()
	d := f.delivery(appID, id)
	if d.Status != status {
		f.Errorf("delivery %s: status %s, want %s", id, d.Status, status)
	}
	return d
}

// webhook reads one webhook.
func (f *fixture) webhook(appID, id string) *hookd.Webhook {
	f.Helper()
	w, err := f.st.GetWebhook(f.ctx, appID, id)
	f.must(err, "get webhook %s", id)
	return w
}

// setStatus moves a webhook to status at now.
func (f *fixture) setStatus(w *hookd.Webhook, status string, now time.Time) {
	f.Helper()
	cur := f.webhook(w.AppID, w.ID)
	cur.Status, cur.UpdatedAt = status, now
	f.must(f.st.UpdateWebhook(f.ctx, cur, now), "set webhook %s %s", w.ID, status)
	*w = *cur
}

// claim leases up to limit due deliveries to owner at now.
func (f *fixture) claim(owner string, now time.Time, limit int) []*store.Job {
	f.Helper()
	jobs, err := f.st.ClaimDue(f.ctx, &store.ClaimParams{Owner: owner, Now: now, Limit: limit, LeaseFor: lease})
	f.must(err, "claim as %s", owner)
	if len(jobs) > limit {
		f.Fatalf("claim as %s: %d jobs, limit %d", owner, len(jobs), limit)
	}
	return jobs
}

// claimIDs is claim returning the delivery ids.
func (f *fixture) claimIDs(owner string, now time.Time, limit int) []string {
	f.Helper()
	return jobIDs(f.claim(owner, now, limit))
}

// claimOne claims exactly one delivery, and fails when there is none.
func (f *fixture) claimOne(owner string, now time.Time) *store.Job {
	f.Helper()
	jobs := f.claim(owner, now, 1)
	if len(jobs) != 1 {
		f.Fatalf("claim as %s at %v: %d jobs, want 1", owner, now, len(jobs))
	}
	return jobs[0]
}

func jobIDs(jobs []*store.Job) []string {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.Delivery.ID
	}
	return ids
}

// result is one attempt of job by owner at now answered with code
// (0: a network error). The caller sets the outcome fields.
func result(job *store.Job, owner string, now time.Time, code int) *store.AttemptResult {
	a := &hookd.Attempt{
		DeliveryID: job.Delivery.ID, Attempt: job.Delivery.AttemptCount + 1, At: now,
		Duration: 150 * time.Millisecond, StatusCode: code,
		RequestHeaders: map[string]string{"Content-Type": "application/json", "Webhook-Id": job.Event.ID},
	}
	if job.Webhook != nil {
		a.WebhookID = job.Webhook.ID
	}
	if code != 0 {
		a.ResponseHeaders = map[string]string{"Content-Type": "text/plain", "X-Receiver": "yes, " + job.Delivery.ID}
	}
	switch {
	case code == 0:
		a.Error = "dial tcp: connection refused"
	case code >= 200 && code < 300:
		a.ResponseBody = "ok"
	default:
		a.ResponseBody = fmt.Sprintf("status %d", code)
	}
	return &store.AttemptResult{Owner: owner, AttemptReport: hookd.AttemptReport{Attempt: a}}
}

// retryAt marks r as a failure to try again at next.
func retryAt(r *store.AttemptResult, next time.Time) *store.AttemptResult {
	r.NextAttemptAt = next
	return r
}

// record stores results and returns the notices.
func (f *fixture) record(results ...*store.AttemptResult) []hookd.Notice {
	f.Helper()
	notices, err := f.st.RecordAttempts(f.ctx, results)
	f.must(err, "record attempts")
	return notices
}

// attemptOnce claims the one due delivery of the store at now as owner,
// records an answer code (retrying at next unless next is zero) and
// returns the job and the notices.
func (f *fixture) attemptOnce(now time.Time, code int, next time.Time, adjust ...func(*store.AttemptResult)) (*store.Job, []hookd.Notice) {
	f.Helper()
	job := f.claimOne("worker", now)
	r := retryAt(result(job, "worker", now.Add(time.Second), code), next)
	for _, a := range adjust {
		a(r)
	}
	return job, f.record(r)
}

// noticeKinds returns the kinds of notices in order.
func noticeKinds(ns []hookd.Notice) []string {
	kinds := make([]string, len(ns))
	for i, n := range ns {
		kinds[i] = n.Kind
	}
	return kinds
}

// findNotice returns the notice of kind, or fails.
func findNotice(tb testing.TB, ns []hookd.Notice, kind string) hookd.Notice {
	tb.Helper()
	for _, n := range ns {
		if n.Kind == kind {
			return n
		}
	}
	tb.Fatalf("no %s notice among %q", kind, noticeKinds(ns))
	return hookd.Notice{}
}

// hasNotice reports whether ns holds a notice of kind.
func hasNotice(ns []hookd.Notice, kind string) bool {
	return slices.ContainsFunc(ns, func(n hookd.Notice) bool { return n.Kind == kind })
}

// summaryByWebhook indexes an event's delivery summaries by webhook id
// ("" for a one-off URL), failing on repeats.
func summaryByWebhook(tb testing.TB, ev *hookd.Event) map[string]*hookd.DeliverySummary {
	tb.Helper()
	m := map[string]*hookd.DeliverySummary{}
	for _, d := range ev.Deliveries {
		if _, dup := m[d.WebhookID]; dup {
			tb.Fatalf("event %s has two deliveries to webhook %q", ev.ID, d.WebhookID)
		}
		m[d.WebhookID] = d
	}
	return m
}

// routes returns webhook id → delivery status for an event, "" standing
// for a one-off URL.
func (f *fixture) routes(appID, eventID string) map[string]string {
	f.Helper()
	out := map[string]string{}
	for _, d := range f.deliveries(store.DeliveryFilter{AppID: appID, EventID: eventID}) {
		if _, dup := out[d.WebhookID]; dup {
			f.Fatalf("event %s has two deliveries to webhook %q", eventID, d.WebhookID)
		}
		out[d.WebhookID] = d.Status
	}
	return out
}

// sameRoutes compares routes maps.
func sameRoutes(tb testing.TB, what string, got, want map[string]string) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s: deliveries by webhook got %v, want %v", what, got, want)
	}
}

// sameBytes compares byte strings exactly.
func sameBytes(tb testing.TB, what string, got, want []byte) {
	tb.Helper()
	if !bytes.Equal(got, want) {
		tb.Errorf("%s: got %q, want %q", what, got, want)
	}
}
