package main

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// apiPublicURL is a destination on a public address written as an IP, so
// that a server refusing private networks accepts it without DNS.
const apiPublicURL = "https://8.8.8.8/hook"

// TestAPIErrorShape checks SPEC's error JSON byte for byte on its own
// example.
func TestAPIErrorShape(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.AllowPrivateNetworks = false })
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	r := apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/webhooks", map[string]any{"url": "http://8.8.8.8/hook"})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", r.Status)
	}
	if got, want := strings.TrimSpace(string(r.Raw)), `{"error":{"code":"BAD_REQUEST","message":"url must be https"}}`; got != want {
		t.Errorf("body = %s\nwant  %s", got, want)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

// TestAPIWebhookValidation sends bad webhook bodies to a server that
// refuses private networks: each answers 400 naming the field, and nothing
// is stored.
func TestAPIWebhookValidation(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.AllowPrivateNetworks = false })
	apiMustCreateEventType(t, srv, "a.b", "")
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	hooks := "/v1/apps/" + app + "/webhooks"
	with := func(kv ...any) map[string]any {
		m := map[string]any{"url": apiPublicURL}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	long := "https://8.8.8.8/" + strings.Repeat("a", 2048-len("https://8.8.8.8/")+1)
	const blocked = "url must not point to a private, loopback or link-local address"
	cases := []struct {
		name string
		body any
		msg  string
	}{
		{"no url", map[string]any{"name": "x"}, "url is required"},
		{"empty url", with("url", ""), "url is required"},
		{"http", with("url", "http://8.8.8.8/hook"), "url must be https"},
		{"ftp", with("url", "ftp://8.8.8.8/hook"), "url must be https"},
		{"relative", with("url", "/hook"), "url must be an absolute URL"},
		{"no host", with("url", "https:///hook"), "url must have a host"},
		{"userinfo", with("url", "https://u:p@8.8.8.8/hook"), "url must not contain a user name or password"},
		{"bad port", with("url", "https://8.8.8.8:99999/hook"), "url has an invalid port"},
		{"loopback", with("url", "https://127.0.0.1/hook"), blocked},
		{"loopback other", with("url", "https://127.8.9.10:8443/hook"), blocked},
		{"private 10", with("url", "https://10.0.0.1/hook"), blocked},
		{"private 192.168", with("url", "https://192.168.1.1/hook"), blocked},
		{"private 172.16", with("url", "https://172.16.0.1/hook"), blocked},
		{"metadata", with("url", "https://169.254.169.254/latest/meta-data/"), blocked},
		{"cgnat", with("url", "https://100.64.0.1/hook"), blocked},
		{"unspecified", with("url", "https://0.0.0.0/hook"), blocked},
		{"ipv6 loopback", with("url", "https://[::1]/hook"), blocked},
		{"ipv6 mapped loopback", with("url", "https://[::ffff:127.0.0.1]/hook"), blocked},
		{"ipv6 unique local", with("url", "https://[fd00:ec2::254]/hook"), blocked},
		{"ipv6 link-local", with("url", "https://[fe80::1]/hook"), blocked},
		{"localhost", with("url", "https://localhost/hook"), blocked},
		{"localhost port", with("url", "https://localhost:8443/hook"), blocked},
		{"LOCALHOST.", with("url", "https://LOCALHOST./hook"), blocked},
		{"sub.localhost", with("url", "https://api.localhost/hook"), blocked},
		{"decimal ip", with("url", "https://2130706433/hook"), "url has an invalid host"},
		{"short ip", with("url", "https://127.1/hook"), "url has an invalid host"},
		{"url of 2049", with("url", long), "url must be at most 2048 characters"},
		{"empty name", with("name", ""), "name must be 1-120 characters"},
		{"name of 121", with("name", strings.Repeat("n", 121)), "name must be 1-120 characters"},
		{"description of 2001", with("description", strings.Repeat("d", 2001)), "description must be at most 2000 characters"},
		{"header name with space", with("headers", map[string]string{"X Bad": "1"}), "headers"},
		{"header name with colon", with("headers", map[string]string{"X-Bad:": "1"}), "headers"},
		{"empty header name", with("headers", map[string]string{"": "1"}), "headers"},
		{"reserved header", with("headers", map[string]string{"content-type": "text/plain"}), "headers"},
		{"host header", with("headers", map[string]string{"Host": "evil.example"}), "headers"},
		{"header value newline", with("headers", map[string]string{"X-Ok": "a\r\nX-Injected: 1"}), "headers"},
		{"header value too long", with("headers", map[string]string{"X-Ok": strings.Repeat("v", 4097)}), "headers"},
		{"headers not strings", with("headers", map[string]any{"X-Ok": 1}), "headers"},
		{"negative rate_limit", with("rate_limit", -1), "rate_limit"},
		{"fractional rate_limit", with("rate_limit", 1.5), "rate_limit"},
		{"huge rate_limit", with("rate_limit", 100001), "rate_limit"},
		{"bad status", with("status", "on"), "status must be active, paused or disabled"},
		{"bad secret", with("secret", "hunter2"), "secret"},
		{"short secret", with("secret", "whsec_AAAA"), "secret"},
		{"unknown event", with("events", []string{"a.c"}), "events[0]"},
		{"url not a string", with("url", 42), "url"},
		{"not JSON", `{"url":`, "request body"},
		{"two values", `{"url":"https://8.8.8.8/"} {}`, "request body"},
	}
	for _, tc := range cases {
		r := apiAdmin(t, srv, "POST", hooks, tc.body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; body %s", tc.name, r.Status, r.Raw)
			continue
		}
		apiWantError(t, r, http.StatusBadRequest, "BAD_REQUEST", tc.msg)
	}
	items, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", hooks, nil), http.StatusOK), "webhooks")
	if len(items) != 0 {
		t.Fatalf("%d webhooks stored by refused creates", len(items))
	}

	// The limits themselves are fine.
	exact := "https://8.8.8.8/" + strings.Repeat("a", 2048-len("https://8.8.8.8/"))
	ok := apiMustCreateWebhook(t, srv, testAdminToken, app, with("url", exact, "name", strings.Repeat("ñ", 120),
		"description", strings.Repeat("d", 2000), "headers", map[string]string{"X-Api-Key": "k", "Authorization": "Bearer x"}, "rate_limit", 100000))
	if ok["url"] != exact || ok["rate_limit"] != float64(100000) {
		t.Errorf("webhook at the limits = %v", ok)
	}
	path := hooks + "/" + apiStr(t, ok, "id")

	// PATCH checks the same rules and stores nothing when it refuses.
	for _, tc := range cases {
		if tc.name == "no url" || tc.name == "empty name" {
			continue // absent in a PATCH means unchanged; an empty name is covered below
		}
		r := apiAdmin(t, srv, "PATCH", path, tc.body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("PATCH %s: status %d, want 400; body %s", tc.name, r.Status, r.Raw)
			continue
		}
		apiWantError(t, r, http.StatusBadRequest, "BAD_REQUEST", tc.msg)
	}
	apiWantError(t, apiAdmin(t, srv, "PATCH", path, map[string]any{"name": ""}), http.StatusBadRequest, "BAD_REQUEST", "name must be 1-120 characters")
	got := apiWant(t, apiAdmin(t, srv, "GET", path, nil), http.StatusOK)
	for _, k := range []string{"url", "name", "description", "headers", "rate_limit", "status", "events", "updated_at"} {
		if !reflect.DeepEqual(got[k], ok[k]) {
			t.Errorf("after refused PATCHes %s = %#v, want %#v", k, got[k], ok[k])
		}
	}
}

// TestAPIWebhookURLPrivateAllowed checks the URL rules on a server that
// allows private networks (the development set-up): plain http and
// loopback are fine, other schemes still are not.
func TestAPIWebhookURLPrivateAllowed(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	for _, u := range []string{"http://127.0.0.1:9/hook", "https://localhost/hook", "http://10.0.0.1/hook", "https://[::1]:8443/hook"} {
		apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": u})
	}
	for _, tc := range []struct{ url, msg string }{
		{"ftp://127.0.0.1/hook", "url must be http or https"},
		{"https://" + strings.Repeat("a", 2048) + ".com/", "url must be at most 2048 characters"},
		{"http://127.1/", "url has an invalid host"},
	} {
		apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/webhooks", map[string]any{"url": tc.url}), http.StatusBadRequest, "BAD_REQUEST", tc.msg)
	}
}

// TestAPIPublishTooLarge checks the 256 KiB limit on an event's data and
// on the publish body.
func TestAPIPublishTooLarge(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	apiMustCreateEventType(t, srv, "big.event", "")
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	events := "/v1/apps/" + app + "/events"
	// data is {"x":"aaa..."} of exactly n bytes.
	data := func(n int) json.RawMessage {
		return json.RawMessage(`{"x":"` + strings.Repeat("a", n-len(`{"x":""}`)) + `"}`)
	}
	const limit = 256 << 10

	apiWant(t, apiAdmin(t, srv, "POST", events, map[string]any{"type": "big.event", "data": data(limit)}), http.StatusAccepted)
	apiWantError(t, apiAdmin(t, srv, "POST", events, map[string]any{"type": "big.event", "data": data(limit + 1)}),
		http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "data must be at most 262144 bytes")
	apiWantError(t, apiAdmin(t, srv, "POST", events, map[string]any{"type": "big.event", "data": data(1 << 20)}),
		http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "at most")
	// A body far over the limit is cut off while it is read.
	huge := `{"type":"big.event","data":{"x":"` + strings.Repeat("a", 8<<20) + `"}}`
	apiWantError(t, apiAdmin(t, srv, "POST", events, huge), http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "request body must be at most")
	// A batch item over the limit is named.
	apiWantError(t, apiAdmin(t, srv, "POST", events+"/batch", map[string]any{"events": []any{
		map[string]any{"type": "big.event"}, map[string]any{"type": "big.event", "data": data(limit + 1)},
	}}), http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "events[1].data")

	evs, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", events, nil), http.StatusOK), "events")
	if len(evs) != 1 {
		t.Errorf("%d events stored, want only the one at the limit", len(evs))
	}
}

// TestAPIPublishValidation checks the publish body's rules.
func TestAPIPublishValidation(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	apiMustCreateEventType(t, srv, "a.b", "")
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	events := "/v1/apps/" + app + "/events"
	for _, tc := range []struct {
		body any
		msg  string
	}{
		{map[string]any{}, "type is required"},
		{map[string]any{"type": ""}, "type is required"},
		{map[string]any{"type": "bad type"}, "type must be"},
		{map[string]any{"type": "a.b", "data": []int{1}}, "data"},
		{map[string]any{"type": "a.b", "data": "text"}, "data"},
		{map[string]any{"type": "a.b", "idempotency_key": ""}, "idempotency_key"},
		{map[string]any{"type": "a.b", "idempotency_key": strings.Repeat("k", 256)}, "idempotency_key"},
		{map[string]any{"type": "a.b", "idempotency_key": "key\x00"}, "idempotency_key must not contain NUL"},
		{map[string]any{"type": "a.b", "webhook_events": []string{"a.b"}}, "webhook_events needs webhook_url"},
		{map[string]any{"type": "a.b", "webhook_url": "ftp://x.example/"}, "webhook_url"},
	} {
		apiWantError(t, apiAdmin(t, srv, "POST", events, tc.body), http.StatusBadRequest, "BAD_REQUEST", tc.msg)
	}
	apiWantError(t, apiAdmin(t, srv, "POST", events+"/batch", map[string]any{"events": []any{map[string]any{"type": "a.b"}, map[string]any{}}}),
		http.StatusBadRequest, "BAD_REQUEST", "events[1].type is required")
	apiWantError(t, apiAdmin(t, srv, "POST", events+"/batch", map[string]any{}), http.StatusBadRequest, "BAD_REQUEST", "events")
	evs, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", events, nil), http.StatusOK), "events")
	if len(evs) != 0 {
		t.Errorf("%d events stored by refused publishes", len(evs))
	}
}

// TestAPIMalformedBodies sends bodies that are not what the API reads:
// each answers 400 saying what is wrong and where, and nothing is stored.
func TestAPIMalformedBodies(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	apiMustCreateEventType(t, srv, "a.b", "")
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	events := "/v1/apps/" + app + "/events"
	for _, tc := range []struct {
		path, body, msg string
	}{
		{events, `{"type":"a.b"} {"type":"a.b"}`, "request body must be one JSON value"},
		{events, `{"type":"a.b","type":"a.b"}`, "request body: duplicate field type"},
		{events, `{"type":"a.b","data":{"x":1}`, "request body: invalid JSON at byte 28"},
		{events, "{\"type\":\"a.b\",\"data\":{\"x\":\"\xff\"}}", "request body: invalid JSON at byte"},
		{events, `{"type":7}`, "request body: type must be a string"},
		{events + "/batch", `{"events":[{"type":"a.b"},{"type":["a.b"]}]}`, "request body: events[1].type must be a string"},
		{events + "/batch", `{"events":{"type":"a.b"}}`, "request body: events must be an array"},
		{"/v1/apps/" + app + "/webhooks", `{"url":"https://8.8.8.8/","events":"a.b"}`, "request body: events must be an array"},
	} {
		apiWantError(t, apiAdmin(t, srv, "POST", tc.path, tc.body), http.StatusBadRequest, "BAD_REQUEST", tc.msg)
	}
	evs, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", events, nil), http.StatusOK), "events")
	if len(evs) != 0 {
		t.Errorf("%d events stored by refused publishes", len(evs))
	}
}

// TestAPIUnknownRoutes checks that paths and methods the API does not
// serve answer 404 in the error format, with or without a token.
func TestAPIUnknownRoutes(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	apiMustCreateApp(t, srv, map[string]any{"name": "A", "uid": "a"})
	for _, token := range []string{testAdminToken, ""} {
		for _, rt := range []struct{ method, path string }{
			{"GET", "/"},
			{"GET", "/nope"},
			{"GET", "/v1"},
			{"GET", "/v1/nope"},
			{"GET", "/v2/apps"},
			{"GET", "/v1/apps/a/nope"},
			{"GET", "/v1/apps/a/webhooks/wh_x/nope"},
			{"POST", "/v1/apps/a/webhooks/wh_x/nope"},
			{"PUT", "/v1/apps"},
			{"DELETE", "/v1/event-types/a.b"},
			{"POST", "/healthz"},
		} {
			apiWantError(t, apiRequest(t, srv, token, rt.method, rt.path, nil), http.StatusNotFound, "NOT_FOUND", rt.path)
		}
	}
}

// TestAPIProbes checks that /healthz and /readyz answer without a token.
func TestAPIProbes(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for path, want := range map[string]map[string]any{"/healthz": {"status": "ok"}, "/readyz": {"status": "ready"}} {
		for _, token := range []string{"", "garbage"} {
			if got := apiWant(t, apiRequest(t, srv, token, "GET", path, nil), http.StatusOK); !reflect.DeepEqual(got, want) {
				t.Errorf("GET %s = %v, want %v", path, got, want)
			}
		}
	}
}
