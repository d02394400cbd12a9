package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hookd/hookd/client"
)

// TestDeliveryTestEvent sends test events: they reach only the chosen
// webhook, are marked test, default to webhook.test, take a catalog type,
// and an unknown type is refused.
func TestDeliveryTestEvent(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	rcA, rcB := newReceiver(t, nil), newReceiver(t, nil)
	wA := e.webhook(&client.WebhookInput{URL: client.Ptr(rcA.URL + "/a"), Events: []string{"*"}})
	e.webhook(&client.WebhookInput{URL: client.Ptr(rcB.URL + "/b"), Events: []string{"*"}})

	def, err := e.c.SendTest(e.ctx, e.app.ID, wA.ID, "")
	if err != nil {
		t.Fatalf("send test: %v", err)
	}
	if def.Type != "webhook.test" || !def.Test {
		t.Errorf("test event answered type %q test %t, want webhook.test and true", def.Type, def.Test)
	}
	if len(def.Deliveries) != 1 || def.Deliveries[0].WebhookID == nil || *def.Deliveries[0].WebhookID != wA.ID {
		t.Errorf("test event deliveries = %+v, want one to webhook A", def.Deliveries)
	}
	typed, err := e.c.SendTest(e.ctx, e.app.ID, wA.ID, "order.paid")
	if err != nil {
		t.Fatalf("send test of order.paid: %v", err)
	}
	if typed.Type != "order.paid" || !typed.Test || len(typed.Deliveries) != 1 {
		t.Errorf("typed test event: type %q test %t deliveries %d", typed.Type, typed.Test, len(typed.Deliveries))
	}
	_, err = e.c.SendTest(e.ctx, e.app.ID, wA.ID, "no.such.type")
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != "BAD_REQUEST" {
		t.Errorf("test with an unknown type: %v, want 400 BAD_REQUEST", err)
	}

	published := e.publishType("order.paid", 1)
	gotA := rcA.waitFor(t, 3, dlvWait)
	if types := dlvTypes(t, gotA[:3]); !slices.Contains(types, "webhook.test") || !slices.Contains(types, "order.paid") {
		t.Errorf("webhook A got types %v, want webhook.test and order.paid", types)
	}
	byID := map[string]bool{}
	for _, g := range gotA {
		byID[g.Header.Get("webhook-id")] = true
	}
	for _, id := range []string{def.ID, typed.ID, published.ID} {
		if !byID[id] {
			t.Errorf("webhook A did not get event %s", id)
		}
	}
	gotB := rcB.waitFor(t, 1, dlvWait)
	for _, g := range gotB {
		if id := g.Header.Get("webhook-id"); id != published.ID {
			t.Errorf("webhook B got event %s, want only the published %s", id, published.ID)
		}
	}

	evs, _, err := e.c.ListEvents(e.ctx, e.app.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	test := map[string]bool{}
	for _, ev := range evs {
		test[ev.ID] = ev.Test
	}
	if !test[def.ID] || !test[typed.ID] || test[published.ID] {
		t.Errorf("GET events test flags %v: want true for %s and %s, false for %s", test, def.ID, typed.ID, published.ID)
	}
	if _, ok := test[published.ID]; !ok {
		t.Errorf("GET events lacks the published event %s", published.ID)
	}
}

// TestDeliveryEventFilters routes events through exact, "*" and prefix
// filters, including a type added to the catalog after the webhooks.
func TestDeliveryEventFilters(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "job.done", "job.a.b", "jobx.a", "job")
	rcs := map[string]*receiver{}
	hooks := map[string]*client.Webhook{}
	for name, filter := range map[string][]string{
		"exact":  {"job.done"},
		"all":    {"*"},
		"prefix": {"job.*"},
	} {
		rcs[name] = newReceiver(t, nil)
		hooks[name] = e.webhook(&client.WebhookInput{URL: client.Ptr(rcs[name].URL + "/" + name), Events: filter})
	}
	if _, err := e.c.CreateEventType(e.ctx, "later.created", "added after the webhooks"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"exact":  {"job.done"},
		"all":    {"job", "job.a.b", "job.done", "jobx.a", "later.created"},
		"prefix": {"job.a.b", "job.done"},
	}
	for i, typ := range []string{"job.done", "job.a.b", "jobx.a", "job", "later.created"} {
		pub := e.publishType(typ, i)
		var gotHooks []string
		for _, d := range e.event(pub.ID).Deliveries {
			for name, w := range hooks {
				if d.WebhookID != nil && *d.WebhookID == w.ID {
					gotHooks = append(gotHooks, name)
				}
			}
		}
		var wantHooks []string
		for name, types := range want {
			if slices.Contains(types, typ) {
				wantHooks = append(wantHooks, name)
			}
		}
		sort.Strings(gotHooks)
		sort.Strings(wantHooks)
		if !slices.Equal(gotHooks, wantHooks) || pub.Deliveries != len(wantHooks) {
			t.Errorf("%s went to %v (%d deliveries), want %v", typ, gotHooks, pub.Deliveries, wantHooks)
		}
	}
	for name, types := range want {
		got := dlvTypes(t, rcs[name].waitFor(t, len(types), dlvWait))
		sort.Strings(got)
		if !slices.Equal(got, types) {
			t.Errorf("webhook %s received %v, want %v", name, got, types)
		}
	}
}

// TestDeliveryIdempotencyKey publishes twice with one key: the second
// answers 200 with the first event and creates nothing.
func TestDeliveryIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	rc := newReceiver(t, nil)
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}})
	first := e.publish(&client.PublishInput{Type: "order.paid", Data: json.RawMessage(`{"n":1}`), IdempotencyKey: "order-42"})
	again, status, err := e.c.Publish(e.ctx, e.app.ID, &client.PublishInput{Type: "order.paid", Data: json.RawMessage(`{"n":2}`), IdempotencyKey: "order-42"})
	if err != nil || status != http.StatusOK {
		t.Fatalf("repeated key: status %d, %v; want 200", status, err)
	}
	if again.ID != first.ID {
		t.Errorf("repeated key answered event %s, want the first %s", again.ID, first.ID)
	}
	if string(again.Data) != `{"n":1}` {
		t.Errorf("repeated key answered data %s, want the first event's", again.Data)
	}
	rc.waitFor(t, 1, dlvWait)
	if n := e.eventCount(); n != 1 {
		t.Errorf("the app has %d events, want 1", n)
	}
	ds, _, err := e.c.ListWebhookDeliveries(e.ctx, e.app.ID, w.ID, nil)
	if err != nil || len(ds) != 1 {
		t.Errorf("webhook has %d deliveries (%v), want 1", len(ds), err)
	}
	other := e.publish(&client.PublishInput{Type: "order.paid", IdempotencyKey: "order-43"})
	if other.ID == first.ID {
		t.Errorf("another key answered the first event")
	}
}

// TestDeliveryBatchPublish publishes three events in one request, then a
// batch with one bad item, which must be rejected whole.
func TestDeliveryBatchPublish(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "a.one", "b.two", "c.three")
	rc := newReceiver(t, nil)
	e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"*"}})
	path := "/v1/apps/" + e.app.ID + "/events/batch"
	types := []string{"a.one", "b.two", "c.three"}
	var items []map[string]any
	for i, typ := range types {
		items = append(items, map[string]any{"type": typ, "data": map[string]int{"i": i}})
	}
	var out struct {
		Events []client.Published `json:"events"`
	}
	status, err := e.c.Do(e.ctx, http.MethodPost, path, map[string]any{"events": items}, &out)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("batch: status %d, %v; want 202", status, err)
	}
	if len(out.Events) != 3 {
		t.Fatalf("batch answered %d events, want 3", len(out.Events))
	}
	for i, p := range out.Events {
		ev := e.event(p.ID)
		if ev.Type != types[i] || p.Deliveries != 1 {
			t.Errorf("batch answer %d is event %s of type %s with %d deliveries, want type %s and 1", i, p.ID, ev.Type, p.Deliveries, types[i])
		}
	}
	rc.waitFor(t, 3, dlvWait)

	bad := []map[string]any{
		{"type": "a.one", "data": map[string]int{"i": 10}},
		{"data": map[string]int{"i": 11}}, // no type
		{"type": "c.three", "data": map[string]int{"i": 12}},
	}
	status, err = e.c.Do(e.ctx, http.MethodPost, path, map[string]any{"events": bad}, nil)
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || status != 400 || apiErr.Code != "BAD_REQUEST" {
		t.Fatalf("batch with a bad item: status %d, %v; want 400 BAD_REQUEST", status, err)
	}
	if !strings.Contains(apiErr.Message, "events[1]") {
		t.Errorf("the 400 says %q, want it to name events[1]", apiErr.Message)
	}
	if n := e.eventCount(); n != 3 {
		t.Errorf("after the rejected batch the app has %d events, want still 3", n)
	}
}

// TestDeliveryOneOffURL publishes to a URL given with the request: signed
// with the app's default secret, filtered by webhook_events, and when the
// URL is a webhook of the app, sent once under that webhook's secret.
func TestDeliveryOneOffURL(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.created", "user.created")
	oneOff := newReceiver(t, nil)
	rcW := newReceiver(t, nil)
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rcW.URL + "/hook"), Events: []string{"user.created"}})
	oneOffURL := oneOff.URL + "/one-off"

	pub := e.publish(&client.PublishInput{Type: "order.created", Data: json.RawMessage(`{"n":1}`),
		WebhookURL: oneOffURL, WebhookEvents: []string{"order.*"}})
	if pub.Deliveries != 1 {
		t.Errorf("one-off publish made %d deliveries, want 1", pub.Deliveries)
	}
	got := oneOff.waitFor(t, 1, dlvWait)[0]
	if id := got.Header.Get("webhook-id"); id != pub.ID {
		t.Errorf("one-off webhook-id = %q, want %s", id, pub.ID)
	}
	if !dlvVerifies(t, got, e.app.DefaultSecret) {
		t.Errorf("one-off delivery is not signed with the app's default_secret: %q", got.Header.Get("webhook-signature"))
	}
	if dlvVerifies(t, got, w.Secret) {
		t.Errorf("one-off delivery is signed with an unrelated webhook's secret")
	}
	if ev := e.event(pub.ID); len(ev.Deliveries) != 1 || ev.Deliveries[0].WebhookID != nil {
		t.Errorf("one-off event deliveries = %+v, want one with no webhook", ev.Deliveries)
	}

	filtered := e.publish(&client.PublishInput{Type: "user.created", WebhookURL: oneOffURL, WebhookEvents: []string{"order.*"}})
	ev := e.event(filtered.ID)
	if len(ev.Deliveries) != 1 || ev.Deliveries[0].WebhookID == nil || *ev.Deliveries[0].WebhookID != w.ID {
		t.Errorf("user.created with a one-off filtered to order.*: deliveries %+v, want only the subscribed webhook", ev.Deliveries)
	}

	atHook := e.publish(&client.PublishInput{Type: "order.created", Data: json.RawMessage(`{"n":3}`),
		WebhookURL: rcW.URL + "/hook", WebhookEvents: []string{"order.*"}})
	ev = e.event(atHook.ID)
	if atHook.Deliveries != 1 || len(ev.Deliveries) != 1 || ev.Deliveries[0].WebhookID == nil || *ev.Deliveries[0].WebhookID != w.ID {
		t.Fatalf("one-off at a webhook's URL: %d deliveries %+v, want one, to that webhook", atHook.Deliveries, ev.Deliveries)
	}
	var toHook []received
	for _, g := range rcW.waitFor(t, 2, dlvWait) {
		if g.Header.Get("webhook-id") == atHook.ID {
			toHook = append(toHook, g)
		}
	}
	if len(toHook) != 1 {
		t.Fatalf("the webhook got event %s %d times, want once", atHook.ID, len(toHook))
	}
	if !dlvVerifies(t, toHook[0], w.Secret) {
		t.Errorf("one-off at a webhook's URL is not signed with that webhook's secret")
	}
	if dlvVerifies(t, toHook[0], e.app.DefaultSecret) {
		t.Errorf("one-off at a webhook's URL is signed with the app's default_secret")
	}
	if n := len(oneOff.Received()); n != 1 {
		t.Errorf("the one-off URL got %d requests, want 1", n)
	}
}
