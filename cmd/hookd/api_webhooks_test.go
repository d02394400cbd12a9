package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// apiWebhookFields are the keys SPEC section 3 lists for a webhook object.
var apiWebhookFields = []string{"id", "app_id", "url", "events", "status", "enabled", "name", "description", "headers", "rate_limit",
	"ordered", "metadata", "created_at", "updated_at", "delivery_count", "last_delivery_at", "consecutive_failures", "disabled_reason"}

func TestAPIWebhookCreate(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := newReceiver(t, nil)
	apiMustCreateEventType(t, srv, "user.created", "")
	apiMustCreateEventType(t, srv, "user.deleted", "")
	apiMustCreateEventType(t, srv, "user.merged", "reserved")
	apiMustCreateEventType(t, srv, "user.renamed", "deprecated")
	app := apiMustCreateApp(t, srv, map[string]any{"name": "A", "uid": "a"})
	appID := apiStr(t, app, "id")

	// The smallest create: every field present, null where empty.
	wh := apiMustCreateWebhook(t, srv, testAdminToken, "a", map[string]any{"url": rc.URL + "/min"})
	for _, f := range append(slices.Clone(apiWebhookFields), "secret", "success_rate_24h") {
		if _, ok := wh[f]; !ok {
			t.Errorf("create answer lacks %q: %v", f, wh)
		}
	}
	for _, f := range []string{"name", "description", "rate_limit", "last_delivery_at", "disabled_reason", "success_rate_24h"} {
		if wh[f] != nil {
			t.Errorf("%s = %#v, want null", f, wh[f])
		}
	}
	want := map[string]any{
		"app_id": appID, "url": rc.URL + "/min", "events": []any{"user.created", "user.deleted"}, "status": "active", "enabled": true,
		"headers": map[string]any{}, "metadata": map[string]any{}, "ordered": false, "delivery_count": float64(0), "consecutive_failures": float64(0),
	}
	for k, v := range want {
		if !reflect.DeepEqual(wh[k], v) {
			t.Errorf("%s = %#v, want %#v", k, wh[k], v)
		}
	}
	if id := apiStr(t, wh, "id"); !strings.HasPrefix(id, "wh_") {
		t.Errorf("id = %q", id)
	}
	apiCheckSecret(t, "secret", apiStr(t, wh, "secret"))
	if c, u := apiTime(t, wh, "created_at"), apiTime(t, wh, "updated_at"); !c.Equal(u) || time.Since(c) > time.Minute {
		t.Errorf("created_at %v, updated_at %v", c, u)
	}

	// Every create field, with an operator-supplied secret.
	raw := make([]byte, 32)
	rand.Read(raw)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(raw)
	full := apiMustCreateWebhook(t, srv, testAdminToken, appID, map[string]any{
		"url": rc.URL + "/full", "events": []string{"user.*", "user.merged"}, "name": "Billing", "description": "the billing service",
		"secret": secret, "headers": map[string]string{"X-Tenant": "t1"}, "rate_limit": 5, "ordered": true,
		"metadata": map[string]string{"team": "payments"},
	})
	want = map[string]any{
		"url": rc.URL + "/full", "events": []any{"user.*", "user.merged"}, "name": "Billing", "description": "the billing service",
		"secret": secret, "headers": map[string]any{"X-Tenant": "t1"}, "rate_limit": float64(5), "ordered": true,
		"metadata": map[string]any{"team": "payments"}, "status": "active", "enabled": true,
	}
	for k, v := range want {
		if !reflect.DeepEqual(full[k], v) {
			t.Errorf("full create: %s = %#v, want %#v", k, full[k], v)
		}
	}
	// "*" and a created-disabled webhook.
	star := apiMustCreateWebhook(t, srv, testAdminToken, appID, map[string]any{"url": rc.URL + "/star", "events": []string{"*"}, "enabled": false})
	if !reflect.DeepEqual(star["events"], []any{"*"}) || star["status"] != "disabled" || star["enabled"] != false {
		t.Errorf("star webhook = %v", star)
	}

	// The list: metadata only, never a secret.
	r := apiAdmin(t, srv, "GET", "/v1/apps/a/webhooks", nil)
	hooks, next := apiItems(t, apiWant(t, r, http.StatusOK), "webhooks")
	if ids := apiIDs(t, hooks); !slices.Equal(ids, []string{apiStr(t, star, "id"), apiStr(t, full, "id"), apiStr(t, wh, "id")}) || next != "" {
		t.Errorf("list = %v next %q", ids, next)
	}
	for _, h := range hooks {
		if _, ok := h["secret"]; ok {
			t.Errorf("listed webhook %v has a secret key", h["id"])
		}
		for _, f := range apiWebhookFields {
			if _, ok := h[f]; !ok {
				t.Errorf("listed webhook %v lacks %q", h["id"], f)
			}
		}
	}
	for _, s := range []string{secret, apiStr(t, wh, "secret"), apiStr(t, star, "secret")} {
		if strings.Contains(string(r.Raw), s) || strings.Contains(string(r.Raw), strings.TrimPrefix(s, "whsec_")) {
			t.Errorf("webhook list contains a secret: %s", r.Raw)
		}
	}
	// A single read has no secret either, and shows what create stored.
	r = apiAdmin(t, srv, "GET", "/v1/apps/a/webhooks/"+apiStr(t, full, "id"), nil)
	got := apiWant(t, r, http.StatusOK)
	if _, ok := got["secret"]; ok || strings.Contains(string(r.Raw), strings.TrimPrefix(secret, "whsec_")) {
		t.Errorf("GET shows the secret: %s", r.Raw)
	}
	for k, v := range want {
		if k != "secret" && !reflect.DeepEqual(got[k], v) {
			t.Errorf("GET: %s = %#v, want %#v", k, got[k], v)
		}
	}
	apiWantError(t, apiAdmin(t, srv, "GET", "/v1/apps/a/webhooks/wh_nope", nil), http.StatusNotFound, "NOT_FOUND", "wh_nope")
	apiWantError(t, apiAdmin(t, srv, "GET", "/v1/apps/nope/webhooks", nil), http.StatusNotFound, "NOT_FOUND", "nope")
	apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/nope/webhooks", map[string]any{"url": rc.URL}), http.StatusNotFound, "NOT_FOUND", "nope")
}

// TestAPIWebhookEventFilters checks omitted events (the active types at
// that moment), "*" (every type, also later ones), "prefix.*", and unknown
// names, by what a publish delivers to real receivers.
func TestAPIWebhookEventFilters(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	apiMustCreateEventType(t, srv, "job.started", "")
	apiMustCreateEventType(t, srv, "job.step.done", "")
	apiMustCreateEventType(t, srv, "job.internal", "reserved")
	apiMustCreateEventType(t, srv, "job.legacy", "deprecated")
	apiMustCreateEventType(t, srv, "jobs.other", "")

	rcOmitted, rcStar, rcPrefix, rcExact := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	omitted := apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": rcOmitted.URL})
	if !reflect.DeepEqual(omitted["events"], []any{"job.started", "job.step.done", "jobs.other"}) {
		t.Errorf("omitted events = %v, want the three active types", omitted["events"])
	}
	apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": rcStar.URL, "events": []string{"*"}})
	prefix := apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": rcPrefix.URL, "events": []string{"job.*", "job.*"}})
	if !reflect.DeepEqual(prefix["events"], []any{"job.*"}) {
		t.Errorf("events [job.* job.*] stored as %v, want [job.*]", prefix["events"])
	}
	apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": rcExact.URL, "events": []string{"jobs.other"}})

	// A type created later: omitted took a snapshot, "*" and "job.*" see it.
	apiMustCreateEventType(t, srv, "job.finished", "")
	if got := apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+app+"/webhooks/"+apiStr(t, omitted, "id"), nil), http.StatusOK); !reflect.DeepEqual(got["events"], omitted["events"]) {
		t.Errorf("omitted events changed to %v after a new type", got["events"])
	}
	for _, tc := range []struct {
		typ  string
		want int
	}{
		{"job.finished", 2},  // star, prefix
		{"job.step.done", 3}, // omitted, star, prefix
		{"jobs.other", 3},    // omitted, star, exact (job.* must not match jobs.)
		{"job.legacy", 2},    // star, prefix
	} {
		pub := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events", map[string]any{"type": tc.typ}), http.StatusAccepted)
		if pub["deliveries"] != float64(tc.want) {
			t.Errorf("publish %s: %v deliveries, want %d", tc.typ, pub["deliveries"], tc.want)
		}
	}
	rcStar.waitFor(t, 4, 10*time.Second)
	rcPrefix.waitFor(t, 3, 10*time.Second)
	rcOmitted.waitFor(t, 2, 10*time.Second)
	rcExact.waitFor(t, 1, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // nothing more may arrive
	for name, c := range map[string]struct {
		rc   *receiver
		want int
	}{"star": {rcStar, 4}, "prefix": {rcPrefix, 3}, "omitted": {rcOmitted, 2}, "exact": {rcExact, 1}} {
		if n := len(c.rc.Received()); n != c.want {
			t.Errorf("%s receiver got %d requests, want %d", name, n, c.want)
		}
	}

	// Bad filters answer 400 naming the entry, and store nothing.
	for _, tc := range []struct {
		events any
		msg    string
	}{
		{[]string{"job.started", "job.nope"}, `events[1]: "job.nope" is not in the event type catalog`},
		{[]string{"nope"}, `events[0]: "nope" is not in the event type catalog`},
		{[]string{"bad name"}, "events[0] must be"},
		{[]string{".*"}, "events[0] must be"},
		{[]string{"job.**"}, "events[0] must be"},
		{[]string{}, "events must not be empty"},
		{"job.started", "events must be an array"},
	} {
		apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/webhooks", map[string]any{"url": rcExact.URL, "events": tc.events}),
			http.StatusBadRequest, "BAD_REQUEST", tc.msg)
	}
	// PATCH checks the filter the same way.
	apiWantError(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+app+"/webhooks/"+apiStr(t, prefix, "id"), map[string]any{"events": []string{"nope.nope"}}),
		http.StatusBadRequest, "BAD_REQUEST", "events[0]")
	hooks, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+app+"/webhooks", nil), http.StatusOK), "webhooks")
	if len(hooks) != 4 {
		t.Errorf("%d webhooks stored, want 4", len(hooks))
	}
}

func TestAPIWebhookPatch(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := newReceiver(t, nil)
	apiMustCreateEventType(t, srv, "a.one", "")
	apiMustCreateEventType(t, srv, "a.two", "")
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	wh := apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{
		"url": rc.URL + "/v1", "events": []string{"a.one"}, "name": "First", "description": "d1",
		"headers": map[string]string{"X-A": "1"}, "rate_limit": 10, "metadata": map[string]string{"k": "v"},
	})
	path := "/v1/apps/" + app + "/webhooks/" + apiStr(t, wh, "id")
	state := map[string]any{}
	for _, k := range []string{"url", "events", "name", "description", "headers", "rate_limit", "ordered", "metadata", "status", "enabled", "created_at"} {
		state[k] = wh[k]
	}
	check := func(what string, got map[string]any) {
		t.Helper()
		for k, v := range state {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("after %s: %s = %#v, want %#v", what, k, got[k], v)
			}
		}
		if _, ok := got["secret"]; ok {
			t.Errorf("after %s: the PATCH answer shows the secret", what)
		}
		if g := apiWant(t, apiAdmin(t, srv, "GET", path, nil), http.StatusOK); !reflect.DeepEqual(g, got) {
			t.Errorf("after %s: GET = %v\nPATCH answered %v", what, g, got)
		}
	}
	for _, step := range []struct {
		what  string
		patch map[string]any
		set   map[string]any
	}{
		{"name only", map[string]any{"name": "Second"}, map[string]any{"name": "Second"}},
		{"url and headers", map[string]any{"url": rc.URL + "/v2", "headers": map[string]string{"X-B": "2"}},
			map[string]any{"url": rc.URL + "/v2", "headers": map[string]any{"X-B": "2"}}},
		{"events", map[string]any{"events": []string{"a.two", "a.*"}}, map[string]any{"events": []any{"a.two", "a.*"}}},
		{"description cleared", map[string]any{"description": ""}, map[string]any{"description": nil}},
		{"rate_limit unlimited", map[string]any{"rate_limit": 0}, map[string]any{"rate_limit": nil}},
		{"metadata and ordered", map[string]any{"metadata": map[string]string{}, "ordered": true}, map[string]any{"metadata": map[string]any{}, "ordered": true}},
		{"empty patch", map[string]any{}, nil},
	} {
		before := apiTime(t, apiWant(t, apiAdmin(t, srv, "GET", path, nil), http.StatusOK), "updated_at")
		time.Sleep(2 * time.Millisecond)
		got := apiWant(t, apiAdmin(t, srv, "PATCH", path, step.patch), http.StatusOK)
		for k, v := range step.set {
			state[k] = v
		}
		check(step.what, got)
		if len(step.patch) > 0 && !apiTime(t, got, "updated_at").After(before) {
			t.Errorf("after %s: updated_at did not move", step.what)
		}
	}
	// A PATCH that fails validation changes nothing.
	apiWantError(t, apiAdmin(t, srv, "PATCH", path, map[string]any{"name": "Third", "rate_limit": -1}), http.StatusBadRequest, "BAD_REQUEST", "rate_limit")
	check("a refused PATCH", apiWant(t, apiAdmin(t, srv, "GET", path, nil), http.StatusOK))

	// The patched URL and headers are what the next delivery uses.
	pub := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events", map[string]any{"type": "a.two"}), http.StatusAccepted)
	if pub["deliveries"] != float64(1) {
		t.Fatalf("publish = %v", pub)
	}
	got := rc.waitFor(t, 1, 10*time.Second)[0]
	if got.Header.Get("X-B") != "2" || got.Header.Get("X-A") != "" {
		t.Errorf("delivery headers X-A=%q X-B=%q, want the patched set", got.Header.Get("X-A"), got.Header.Get("X-B"))
	}
}

// TestAPIWebhookStatusEnabled checks that status and enabled stay in sync
// whichever of them a PATCH sets.
func TestAPIWebhookStatusEnabled(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := newReceiver(t, nil)
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	path := "/v1/apps/" + app + "/webhooks/" + apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": rc.URL, "events": []string{"*"}}), "id")
	for _, step := range []struct {
		patch         map[string]any
		status        string
		enabled       bool
		disabledIsSet bool
	}{
		{map[string]any{"enabled": false}, "disabled", false, true},
		{map[string]any{"enabled": true}, "active", true, false},
		{map[string]any{"status": "paused"}, "paused", true, false},
		{map[string]any{"enabled": true}, "active", true, false},
		{map[string]any{"status": "disabled"}, "disabled", false, true},
		{map[string]any{"status": "active"}, "active", true, false},
		{map[string]any{"status": "paused", "enabled": true}, "paused", true, false},
		{map[string]any{"status": "disabled", "enabled": false}, "disabled", false, true},
		{map[string]any{"status": "active", "enabled": true}, "active", true, false},
		{map[string]any{"name": "unrelated"}, "active", true, false},
	} {
		for i, body := range []map[string]any{
			apiWant(t, apiAdmin(t, srv, "PATCH", path, step.patch), http.StatusOK),
			apiWant(t, apiAdmin(t, srv, "GET", path, nil), http.StatusOK),
		} {
			if body["status"] != step.status || body["enabled"] != step.enabled {
				t.Errorf("PATCH %v (answer %d): status %v enabled %v, want %s %t", step.patch, i, body["status"], body["enabled"], step.status, step.enabled)
			}
			if reason, _ := body["disabled_reason"].(string); (reason != "") != step.disabledIsSet {
				t.Errorf("PATCH %v: disabled_reason = %#v", step.patch, body["disabled_reason"])
			}
		}
	}
	for _, bad := range []map[string]any{
		{"status": "active", "enabled": false},
		{"status": "disabled", "enabled": true},
		{"status": "paused", "enabled": false},
	} {
		apiWantError(t, apiAdmin(t, srv, "PATCH", path, bad), http.StatusBadRequest, "BAD_REQUEST", "contradicts")
	}
	for _, bad := range []string{"enabled", "deleted", "ACTIVE", ""} {
		apiWantError(t, apiAdmin(t, srv, "PATCH", path, map[string]any{"status": bad}), http.StatusBadRequest, "BAD_REQUEST", "status must be active, paused or disabled")
	}
	apiWantError(t, apiAdmin(t, srv, "PATCH", path, map[string]any{"enabled": "yes"}), http.StatusBadRequest, "BAD_REQUEST", "enabled must be a boolean")
	if got := apiWant(t, apiAdmin(t, srv, "GET", path, nil), http.StatusOK); got["status"] != "active" || got["enabled"] != true {
		t.Errorf("refused PATCHes changed the status: %v", got)
	}
}

// TestAPIWebhookHealth checks the health fields of a webhook read against
// deliveries to real receivers, one answering 200 and one 500.
func TestAPIWebhookHealth(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ok := newReceiver(t, nil)
	failing := newReceiver(t, func(int, *http.Request) int { return http.StatusInternalServerError })
	apiMustCreateEventType(t, srv, "ping", "")
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A", "profile": map[string]any{"retry": map[string]any{"max_attempts": 1}}}), "id")
	good := apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": ok.URL, "name": "good"}), "id")
	bad := apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": failing.URL, "name": "bad"}), "id")
	get := func(id string) map[string]any {
		return apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+app+"/webhooks/"+id, nil), http.StatusOK)
	}
	for _, id := range []string{good, bad} {
		h := get(id)
		for k, v := range map[string]any{"delivery_count": float64(0), "last_delivery_at": nil, "consecutive_failures": float64(0),
			"success_rate_24h": nil, "disabled_reason": nil} {
			if v2, present := h[k]; !present || !reflect.DeepEqual(v2, v) {
				t.Errorf("fresh webhook: %s = %#v (present %t), want %#v", k, v2, present, v)
			}
		}
	}

	start := time.Now().Add(-time.Second)
	pub := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events", map[string]any{"type": "ping"}), http.StatusAccepted)
	if pub["deliveries"] != float64(2) {
		t.Fatalf("publish = %v", pub)
	}
	ok.waitFor(t, 1, 10*time.Second)
	failing.waitFor(t, 1, 10*time.Second)
	eventually(t, 10*time.Second, "both deliveries to settle", func() bool {
		ev := apiAdmin(t, srv, "GET", "/v1/apps/"+app+"/events/"+apiStr(t, pub, "id"), nil)
		ds, _ := ev.Body["deliveries"].([]any)
		settled := 0
		for _, d := range ds {
			if s := d.(map[string]any)["status"]; s == "succeeded" || s == "failed" {
				settled++
			}
		}
		return settled == 2
	})

	g := get(good)
	for k, v := range map[string]any{"delivery_count": float64(1), "consecutive_failures": float64(0), "success_rate_24h": float64(1), "disabled_reason": nil} {
		if !reflect.DeepEqual(g[k], v) {
			t.Errorf("good webhook: %s = %#v, want %#v", k, g[k], v)
		}
	}
	if at := apiTime(t, g, "last_delivery_at"); at.Before(start) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("good webhook: last_delivery_at = %v, want just now", at)
	}
	b := get(bad)
	for k, v := range map[string]any{"delivery_count": float64(1), "consecutive_failures": float64(1), "success_rate_24h": float64(0), "disabled_reason": nil, "status": "active"} {
		if !reflect.DeepEqual(b[k], v) {
			t.Errorf("failing webhook: %s = %#v, want %#v", k, b[k], v)
		}
	}
	apiTime(t, b, "last_delivery_at")

	// The list shows the same health.
	hooks, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+app+"/webhooks", nil), http.StatusOK), "webhooks")
	for _, h := range hooks {
		want := g
		if h["id"] == bad {
			want = b
		}
		for _, k := range []string{"delivery_count", "last_delivery_at", "consecutive_failures", "success_rate_24h"} {
			if !reflect.DeepEqual(h[k], want[k]) {
				t.Errorf("listed %v: %s = %#v, want %#v as in GET", h["name"], k, h[k], want[k])
			}
		}
	}

	// Disabling records a reason; enabling clears it and the failure count.
	d := apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+app+"/webhooks/"+bad, map[string]any{"enabled": false}), http.StatusOK)
	if reason, _ := d["disabled_reason"].(string); reason == "" {
		t.Errorf("disabled_reason after disabling = %#v, want a reason", d["disabled_reason"])
	}
	e := apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+app+"/webhooks/"+bad, map[string]any{"enabled": true}), http.StatusOK)
	if e["disabled_reason"] != nil || e["consecutive_failures"] != float64(0) {
		t.Errorf("after re-enabling: disabled_reason %#v consecutive_failures %v, want null and 0", e["disabled_reason"], e["consecutive_failures"])
	}
}

func TestAPIWebhookDelete(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := newReceiver(t, nil)
	apiMustCreateEventType(t, srv, "x.y", "")
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A", "uid": "a"}), "id")
	keep := apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": rc.URL + "/keep"}), "id")
	for _, how := range []struct{ method, suffix string }{{"DELETE", ""}, {"POST", "/delete"}} {
		id := apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": rc.URL + "/gone"}), "id")
		path := "/v1/apps/a/webhooks/" + id
		r := apiAdmin(t, srv, how.method, path+how.suffix, nil)
		if body := apiWant(t, r, http.StatusOK); !reflect.DeepEqual(body, map[string]any{"ok": true}) {
			t.Errorf("%s %s = %s, want {\"ok\":true}", how.method, path+how.suffix, r.Raw)
		}
		apiWantError(t, apiAdmin(t, srv, "GET", path, nil), http.StatusNotFound, "NOT_FOUND", id)
		apiWantError(t, apiAdmin(t, srv, "PATCH", path, map[string]any{"name": "x"}), http.StatusNotFound, "NOT_FOUND", id)
		apiWantError(t, apiAdmin(t, srv, "DELETE", path, nil), http.StatusNotFound, "NOT_FOUND", id)
		apiWantError(t, apiAdmin(t, srv, "POST", path+"/delete", nil), http.StatusNotFound, "NOT_FOUND", id)
		apiWantError(t, apiAdmin(t, srv, "GET", path+"/deliveries", nil), http.StatusNotFound, "NOT_FOUND", id)
	}
	hooks, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/a/webhooks", nil), http.StatusOK), "webhooks")
	if ids := apiIDs(t, hooks); !slices.Equal(ids, []string{keep}) {
		t.Errorf("webhooks after deletes = %v, want only %s", ids, keep)
	}
	// A deleted webhook gets no deliveries.
	pub := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/a/events", map[string]any{"type": "x.y"}), http.StatusAccepted)
	if pub["deliveries"] != float64(1) {
		t.Errorf("publish after deletes = %v deliveries, want 1", pub["deliveries"])
	}
	rc.waitFor(t, 1, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	if got := rc.Received(); len(got) != 1 {
		t.Errorf("receiver got %d requests, want 1", len(got))
	}
}

// TestAPIWebhookMaxWebhooks checks the profile's cap on an app's webhooks.
func TestAPIWebhookMaxWebhooks(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := newReceiver(t, nil)
	capped := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "Alloy user", "profile": map[string]any{"max_webhooks": 1}}), "id")
	free := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "Free"}), "id")
	key := apiMustCreateKey(t, srv, capped)

	first := apiStr(t, apiMustCreateWebhook(t, srv, key, capped, map[string]any{"url": rc.URL + "/1"}), "id")
	apiWantError(t, apiRequest(t, srv, key, "POST", "/v1/apps/"+capped+"/webhooks", map[string]any{"url": rc.URL + "/2"}), http.StatusConflict, "CONFLICT", "max_webhooks")
	apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/"+capped+"/webhooks", map[string]any{"url": rc.URL + "/2"}), http.StatusConflict, "CONFLICT", "max_webhooks")
	hooks, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+capped+"/webhooks", nil), http.StatusOK), "webhooks")
	if ids := apiIDs(t, hooks); !slices.Equal(ids, []string{first}) {
		t.Errorf("webhooks = %v, want only the first", ids)
	}
	// The cap is per app.
	for i := range 3 {
		apiMustCreateWebhook(t, srv, testAdminToken, free, map[string]any{"url": fmt.Sprintf("%s/free/%d", rc.URL, i)})
	}
	// Deleting frees the slot; raising the cap makes room.
	apiWant(t, apiAdmin(t, srv, "DELETE", "/v1/apps/"+capped+"/webhooks/"+first, nil), http.StatusOK)
	apiMustCreateWebhook(t, srv, key, capped, map[string]any{"url": rc.URL + "/3"})
	apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+capped, map[string]any{"profile": map[string]any{"max_webhooks": 2}}), http.StatusOK)
	apiMustCreateWebhook(t, srv, key, capped, map[string]any{"url": rc.URL + "/4"})
	apiWantError(t, apiRequest(t, srv, key, "POST", "/v1/apps/"+capped+"/webhooks", map[string]any{"url": rc.URL + "/5"}), http.StatusConflict, "CONFLICT", "max_webhooks")
	// 0 lifts the cap.
	apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+capped, map[string]any{"profile": map[string]any{"max_webhooks": 0}}), http.StatusOK)
	apiMustCreateWebhook(t, srv, key, capped, map[string]any{"url": rc.URL + "/6"})
}

// TestAPIWebhookPaging walks webhook lists with every page size that
// matters and checks the order, the cursors and the limits.
func TestAPIWebhookPaging(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := newReceiver(t, nil)
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	other := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "B"}), "id")
	const n = 55
	var created []string
	for i := range n {
		created = append(created, apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": fmt.Sprintf("%s/%d", rc.URL, i)}), "id"))
		if i%10 == 0 {
			apiMustCreateWebhook(t, srv, testAdminToken, other, map[string]any{"url": rc.URL}) // interleaved, must not show
		}
	}
	newestFirst := slices.Clone(created)
	slices.Reverse(newestFirst)
	list := func(query string) ([]string, string) {
		t.Helper()
		items, next := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+app+"/webhooks"+query, nil), http.StatusOK), "webhooks")
		return apiIDs(t, items), next
	}

	// Default limit is 50.
	ids, next := list("")
	if !slices.Equal(ids, newestFirst[:50]) || next == "" {
		t.Fatalf("default page: %d items (newest first: %t), next %q; want the 50 newest and a cursor", len(ids), slices.Equal(ids, newestFirst[:len(ids)]), next)
	}
	ids, next2 := list("?after=" + next)
	if !slices.Equal(ids, newestFirst[50:]) || next2 != "" {
		t.Errorf("second default page = %v next %q, want the 5 oldest and null", ids, next2)
	}

	for _, limit := range []int{1, 7, 11, 54, 55, 56, 250} {
		var walked []string
		cursor, pages := "", 0
		for {
			q := fmt.Sprintf("?limit=%d", limit)
			if cursor != "" {
				q += "&after=" + cursor
			}
			ids, next := list(q)
			pages++
			if len(ids) > limit || (next != "" && len(ids) != limit) {
				t.Fatalf("limit %d page %d: %d items, next %q", limit, pages, len(ids), next)
			}
			walked = append(walked, ids...)
			if next == "" {
				break
			}
			cursor = next
			if pages > n+1 {
				t.Fatalf("limit %d: paging does not end", limit)
			}
		}
		if !slices.Equal(walked, newestFirst) {
			t.Errorf("limit %d: walked %d ids, want all %d newest first without overlaps or gaps", limit, len(walked), n)
		}
		if want := (n + limit - 1) / limit; pages != want {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, want)
		}
	}

	for _, bad := range []string{"251", "0", "-1", "abc", "1.5", "1000000000000000000000"} {
		apiWantError(t, apiAdmin(t, srv, "GET", "/v1/apps/"+app+"/webhooks?limit="+bad, nil), http.StatusBadRequest, "BAD_REQUEST", "limit")
	}
	// A cursor past the end gives an empty page, not an error.
	ids, next = list("?after=" + created[0])
	if len(ids) != 0 || next != "" {
		t.Errorf("after the oldest = %v next %q, want [] and null", ids, next)
	}
}

// A webhook's events are those published to it, each with its delivery to
// that webhook, newest first, paged like every list.
func TestAPIWebhookEvents(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := newReceiver(t, nil)
	apiMustCreateEventType(t, srv, "order.paid", "")
	apiMustCreateEventType(t, srv, "order.shipped", "")
	apiMustCreateApp(t, srv, map[string]any{"name": "Shop", "uid": "shop"})
	paid := apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, "shop", map[string]any{"url": rc.URL + "/paid", "events": []string{"order.paid"}}), "id")
	apiMustCreateWebhook(t, srv, testAdminToken, "shop", map[string]any{"url": rc.URL + "/all", "events": []string{"*"}})
	var published []string
	for _, typ := range []string{"order.paid", "order.shipped", "order.paid"} {
		ev := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/shop/events", map[string]any{"type": typ, "data": map[string]any{"n": 1}}), http.StatusAccepted)
		published = append(published, apiStr(t, ev, "id"))
	}

	items, next := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/shop/webhooks/"+paid+"/events?limit=1", nil), http.StatusOK), "events")
	if got := apiIDs(t, items); !slices.Equal(got, published[2:3]) || next == "" {
		t.Fatalf("first page = %v next %q, want [%s] and a cursor", got, next, published[2])
	}
	items, next = apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/shop/webhooks/"+paid+"/events?limit=1&after="+next, nil), http.StatusOK), "events")
	if got := apiIDs(t, items); !slices.Equal(got, published[0:1]) {
		t.Fatalf("second page = %v, want [%s]: order.shipped never went to this webhook", got, published[0])
	}
	// Each event shows its delivery to this webhook, not the other's.
	deliveries, _ := items[0]["deliveries"].([]any)
	if len(deliveries) != 1 {
		t.Fatalf("event %s shows %d deliveries, want this webhook's one: %v", published[0], len(deliveries), deliveries)
	}
	if d, _ := deliveries[0].(map[string]any); d["webhook_id"] != paid {
		t.Errorf("delivery %v is not to webhook %s", d, paid)
	}
	if next != "" {
		if rest, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/shop/webhooks/"+paid+"/events?after="+next, nil), http.StatusOK), "events"); len(rest) != 0 {
			t.Errorf("a third page holds %v", apiIDs(t, rest))
		}
	}
}
