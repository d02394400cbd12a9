package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// srcE2EFields are the fields of the SPEC's source object.
var srcE2EFields = []string{"id", "app_id", "name", "provider", "status", "enabled", "forward_url", "events", "description",
	"tolerance_seconds", "receive_url", "event_count", "last_event_at", "created_at", "updated_at"}

// srcE2EWantShape fails unless a source object has every field, nulls
// where named, and a secret exactly when withSecret.
func srcE2EWantShape(tb testing.TB, obj map[string]any, withSecret bool, nulls ...string) {
	tb.Helper()
	for _, f := range srcE2EFields {
		v, ok := obj[f]
		if !ok {
			tb.Fatalf("source object lacks %q: %v", f, obj)
		}
		if slices.Contains(nulls, f) != (v == nil) {
			tb.Fatalf("source field %q = %v, want null: %t", f, v, slices.Contains(nulls, f))
		}
	}
	for _, f := range []string{"created_at", "updated_at", "last_event_at"} {
		if s, ok := obj[f].(string); ok {
			if ts, err := time.Parse(time.RFC3339Nano, s); err != nil || ts.Location() != time.UTC {
				tb.Fatalf("%s = %q is not an RFC 3339 UTC time", f, s)
			}
		}
	}
	if _, ok := obj["secret"]; ok != withSecret {
		tb.Fatalf("source object has a secret: %t, want %t", ok, withSecret)
	}
}

// Create answers 201 with every field of the source object, the secret
// once and receive_url from the request's origin; GET adds traffic; list
// and later reads never show the secret.
func TestSourceCreateGetList(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")

	r := env.call(http.MethodPost, env.sourcesPath(), map[string]any{"name": "Minimal"})
	srcE2EWant(t, r, http.StatusCreated)
	srcE2EWantShape(t, r.Body, true, "forward_url", "description", "last_event_at")
	var min srcE2ESource
	r.decode(t, &min)
	if min.Provider != "standard" || min.Status != "active" || !min.Enabled || min.ToleranceSeconds != 300 ||
		min.EventCount != 0 || min.Events == nil || len(min.Events) != 0 || min.AppID != env.appID || !strings.HasPrefix(min.ID, "src_") {
		t.Fatalf("minimal source %s: want standard, active, enabled, tolerance 300, no events, app %s", r.Raw, env.appID)
	}
	if min.ReceiveURL != env.srv.URL+"/v1/receive/"+min.ID {
		t.Fatalf("receive_url %q, want %s/v1/receive/%s (the request's origin)", min.ReceiveURL, env.srv.URL, min.ID)
	}

	// Secrets: generated (whsec_) or, for providers that issue them, required.
	for _, p := range []struct{ provider, prefix string }{{"standard", ""}, {"github", ""}, {"hmac-hex", "X-Acme"}, {"timestamped-hex", "X-Acme"}} {
		in := map[string]any{"name": "gen " + p.provider, "provider": p.provider}
		if p.prefix != "" {
			in["header_prefix"] = p.prefix
		}
		src := env.create(in)
		if !strings.HasPrefix(*src.Secret, "whsec_") || len(*src.Secret) < len("whsec_")+32 {
			t.Fatalf("%s: generated secret %q, want whsec_ and base64 of 24+ bytes", p.provider, *src.Secret)
		}
	}
	before := len(srcE2EList(t, env, ""))
	for _, p := range []string{"stripe", "shopify", "slack", "linear"} {
		r := env.call(http.MethodPost, env.sourcesPath(), map[string]any{"name": "no secret", "provider": p})
		if msg := srcE2EWantError(t, r, http.StatusBadRequest, "BAD_REQUEST"); !strings.Contains(msg, "secret") {
			t.Fatalf("%s without a secret: message %q does not name the secret", p, msg)
		}
		src := env.create(map[string]any{"name": "issued " + p, "provider": p, "secret": "issued-by-" + p + "-0123456789"})
		if *src.Secret != "issued-by-"+p+"-0123456789" {
			t.Fatalf("%s: secret %q, want the one given", p, *src.Secret)
		}
	}
	if after := len(srcE2EList(t, env, "")); after != before+4 {
		t.Fatalf("%d sources after 4 creates and 4 refused ones, want %d", after, before+4)
	}

	// Everything given.
	rc := newReceiver(t, nil)
	r = env.call(http.MethodPost, env.sourcesPath(), map[string]any{"name": "Full", "provider": "github", "secret": "gh-secret-123",
		"forward_url": rc.URL + "/gh", "events": []string{"push", "issues.*"}, "description": "From GitHub", "tolerance_seconds": 60})
	srcE2EWant(t, r, http.StatusCreated)
	srcE2EWantShape(t, r.Body, true, "last_event_at")
	var full srcE2ESource
	r.decode(t, &full)
	if full.Name != "Full" || full.Provider != "github" || *full.Secret != "gh-secret-123" || full.ForwardURL == nil || *full.ForwardURL != rc.URL+"/gh" ||
		!slices.Equal(full.Events, []string{"push", "issues.*"}) || full.Description == nil || *full.Description != "From GitHub" || full.ToleranceSeconds != 60 {
		t.Fatalf("full source %s does not echo its input", r.Raw)
	}

	// GET shows traffic, no secret.
	r = env.call(http.MethodGet, env.sourcesPath()+"/"+full.ID, nil)
	srcE2EWant(t, r, http.StatusOK)
	srcE2EWantShape(t, r.Body, false, "last_event_at")
	var sent []time.Time
	for i := range 2 {
		body := []byte(fmt.Sprintf(`{"ref":"refs/heads/%d"}`, i))
		h := http.Header{"Content-Type": {"application/json"}, "X-GitHub-Event": {"push"}, "X-GitHub-Delivery": {fmt.Sprint("d", i)},
			"X-Hub-Signature-256": {"sha256=" + srcE2EHex("gh-secret-123", body)}}
		srcE2EWantReceived(t, srcE2EReceive(t, full.ReceiveURL, h, body))
		sent = append(sent, time.Now())
	}
	r = env.call(http.MethodGet, env.sourcesPath()+"/"+full.ID, nil)
	srcE2EWantShape(t, r.Body, false)
	got := env.source(full.ID)
	evs := env.events(full.ID)
	if got.EventCount != 2 || got.LastEventAt == nil || !got.LastEventAt.Equal(evs[0].CreatedAt) {
		t.Fatalf("after 2 events: event_count %d last_event_at %v, want 2 and the newest event's %v", got.EventCount, got.LastEventAt, evs[0].CreatedAt)
	}
	if got.LastEventAt.After(sent[1].Add(time.Second)) {
		t.Fatalf("last_event_at %v is after the last event was answered (%v)", got.LastEventAt, sent[1])
	}

	// List: newest first, no secrets, next null.
	r = env.call(http.MethodGet, env.sourcesPath(), nil)
	srcE2EWant(t, r, http.StatusOK)
	if next, ok := r.Body["next"]; !ok || next != nil {
		t.Fatalf("list answer %s, want \"next\": null", r.Raw)
	}
	list, _ := r.Body["sources"].([]any)
	if len(list) != before+4+1 {
		t.Fatalf("list has %d sources, want %d", len(list), before+5)
	}
	for _, item := range list {
		srcE2EWantShape(t, item.(map[string]any), false, srcE2ENulls(item.(map[string]any))...)
	}
	if first := list[0].(map[string]any); first["id"] != full.ID || first["event_count"] != float64(2) {
		t.Fatalf("list starts with %v, want the newest source %s with event_count 2", first["id"], full.ID)
	}
	if last := list[len(list)-1].(map[string]any); last["id"] != min.ID {
		t.Fatalf("list ends with %v, want the oldest source %s", last["id"], min.ID)
	}
	// Cursor paging.
	r = env.call(http.MethodGet, env.sourcesPath()+"?limit=2", nil)
	page1, _ := r.Body["sources"].([]any)
	next, _ := r.Body["next"].(string)
	if len(page1) != 2 || next == "" {
		t.Fatalf("?limit=2 answered %s, want 2 sources and a next cursor", r.Raw)
	}
	r = env.call(http.MethodGet, env.sourcesPath()+"?limit=2&after="+next, nil)
	page2, _ := r.Body["sources"].([]any)
	if len(page2) != 2 || page2[0].(map[string]any)["id"] != list[2].(map[string]any)["id"] {
		t.Fatalf("second page %s, want it to continue the list", r.Raw)
	}
}

// srcE2ENulls names the fields of a source object that are null, for
// shape checks of lists whose items differ.
func srcE2ENulls(obj map[string]any) []string {
	var out []string
	for _, f := range srcE2EFields {
		if v, ok := obj[f]; ok && v == nil {
			out = append(out, f)
		}
	}
	return out
}

// srcE2EList lists an app's sources as token ("" for the env's).
func srcE2EList(tb testing.TB, env *srcE2EEnv, token string) []srcE2ESource {
	tb.Helper()
	if token == "" {
		token = env.token
	}
	r := srcE2ECall(tb, env.srv, token, http.MethodGet, env.sourcesPath()+"?limit=250", nil)
	srcE2EWant(tb, r, http.StatusOK)
	var out struct {
		Sources []srcE2ESource `json:"sources"`
	}
	r.decode(tb, &out)
	return out.Sources
}

// With a configured public URL, receive_url starts with it.
func TestSourcePublicURL(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "", func(c *Config) { c.PublicURL = "https://hooks.example.com" })
	src := env.create(map[string]any{"name": "Public"})
	want := "https://hooks.example.com/v1/receive/" + src.ID
	if src.ReceiveURL != want {
		t.Fatalf("create receive_url %q, want %q", src.ReceiveURL, want)
	}
	if got := env.source(src.ID).ReceiveURL; got != want {
		t.Fatalf("GET receive_url %q, want %q", got, want)
	}
	if l := srcE2EList(t, env, ""); len(l) != 1 || l[0].ReceiveURL != want {
		t.Fatalf("list receive_url %+v, want %q", l, want)
	}
	// The receive route itself is still served where the server listens.
	body := []byte(`{"type":"x"}`)
	srcE2EWantReceived(t, srcE2EReceive(t, env.srv.URL+"/v1/receive/"+src.ID, srcE2EStandardRequest(t, *src.Secret, "m1", body), body))
}

// PATCH changes each field; status and enabled stay in sync; forward_url
// null or "" stops forwarding.
func TestSourcePatch(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	rc1, rc2 := newReceiver(t, nil), newReceiver(t, nil)
	src := env.create(map[string]any{"name": "Before", "forward_url": rc1.URL, "events": []string{"a.b"}, "description": "old"})
	secret := *src.Secret

	r := env.call(http.MethodPatch, env.sourcesPath()+"/"+src.ID, map[string]any{"name": "After", "forward_url": rc2.URL + "/new",
		"events": []string{"order.*"}, "description": "new words", "tolerance_seconds": 120})
	srcE2EWant(t, r, http.StatusOK)
	srcE2EWantShape(t, r.Body, false, "last_event_at")
	var p srcE2ESource
	r.decode(t, &p)
	if p.Name != "After" || p.ForwardURL == nil || *p.ForwardURL != rc2.URL+"/new" || !slices.Equal(p.Events, []string{"order.*"}) ||
		p.Description == nil || *p.Description != "new words" || p.ToleranceSeconds != 120 || p.Status != "active" || !p.Enabled {
		t.Fatalf("PATCH answered %s", r.Raw)
	}
	if p.UpdatedAt.Before(src.UpdatedAt) || !p.CreatedAt.Equal(src.CreatedAt) {
		t.Fatalf("updated_at %v created_at %v after PATCH (were %v, %v)", p.UpdatedAt, p.CreatedAt, src.UpdatedAt, src.CreatedAt)
	}
	if g := env.source(src.ID); g.Name != "After" || *g.ForwardURL != rc2.URL+"/new" || g.Description == nil || *g.Description != "new words" {
		t.Fatalf("GET after PATCH: %+v", g)
	}
	// The new forward_url and allow-list are in force.
	body := []byte(`{"type":"order.created"}`)
	srcE2EWantReceived(t, srcE2EPost(t, src, secret, "m1", body))
	if got := rc2.waitFor(t, 1, srcE2EWait); got[0].Body == nil || string(got[0].Body) != string(body) {
		t.Fatalf("the new forward_url got %q", got[0].Body)
	}
	if n := len(rc1.Received()); n != 0 {
		t.Fatalf("the old forward_url got %d requests", n)
	}

	// status and enabled, kept in sync.
	for _, c := range []struct {
		in      map[string]any
		status  string
		enabled bool
	}{
		{map[string]any{"status": "paused"}, "paused", true},
		{map[string]any{"enabled": false}, "disabled", false},
		{map[string]any{"enabled": true}, "active", true},
		{map[string]any{"status": "disabled"}, "disabled", false},
		{map[string]any{"status": "active"}, "active", true},
		{map[string]any{"status": "paused", "enabled": true}, "paused", true},
		{map[string]any{"status": "active", "enabled": true}, "active", true},
	} {
		if got := env.patch(src.ID, c.in); got.Status != c.status || got.Enabled != c.enabled {
			t.Fatalf("PATCH %v: status %q enabled %t, want %q %t", c.in, got.Status, got.Enabled, c.status, c.enabled)
		}
		if got := env.source(src.ID); got.Status != c.status || got.Enabled != c.enabled {
			t.Fatalf("GET after PATCH %v: status %q enabled %t", c.in, got.Status, got.Enabled)
		}
	}
	for _, bad := range []map[string]any{{"status": "paused", "enabled": false}, {"status": "disabled", "enabled": true}, {"status": "gone"}, {"enabled": "yes"}} {
		srcE2EWantError(t, env.call(http.MethodPatch, env.sourcesPath()+"/"+src.ID, bad), http.StatusBadRequest, "BAD_REQUEST")
	}
	if got := env.source(src.ID); got.Status != "active" {
		t.Fatalf("refused PATCHes changed the status to %q", got.Status)
	}

	// forward_url null, then "", clears it: events are kept, not forwarded.
	for i, clear := range []string{`{"forward_url":null}`, `{"forward_url":""}`} {
		env.patch(src.ID, map[string]any{"forward_url": rc2.URL})
		r := env.call(http.MethodPatch, env.sourcesPath()+"/"+src.ID, json.RawMessage(clear))
		srcE2EWant(t, r, http.StatusOK)
		if v, ok := r.Body["forward_url"]; !ok || v != nil {
			t.Fatalf("PATCH %s answered forward_url %v, want null", clear, v)
		}
		if g := env.source(src.ID); g.ForwardURL != nil {
			t.Fatalf("GET after PATCH %s: forward_url %q", clear, *g.ForwardURL)
		}
		forwards := len(rc2.Received())
		id := srcE2EWantReceived(t, srcE2EPost(t, src, secret, fmt.Sprint("unforwarded-", i), body))
		evs := env.events(src.ID)
		if evs[0].ID != id || len(evs[0].Deliveries) != 0 {
			t.Fatalf("event %s without forward_url has deliveries %+v", id, evs[0].Deliveries)
		}
		srcE2EQuietFor(t, srcE2EQuiet, "forwards without a forward_url", func() int { return len(rc2.Received()) })
		if len(rc2.Received()) != forwards {
			t.Fatal("an event was forwarded after forward_url was cleared")
		}
	}
	// Other fields survive a PATCH that names only one.
	g := env.patch(src.ID, map[string]any{"description": "only this"})
	if g.Name != "After" || !slices.Equal(g.Events, []string{"order.*"}) || g.ToleranceSeconds != 120 {
		t.Fatalf("a PATCH of description changed other fields: %+v", g)
	}
}

// DELETE answers {"ok":true}; the source and its receive URL are then 404.
func TestSourceDelete(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	src := env.create(map[string]any{"name": "Doomed"})
	keep := env.create(map[string]any{"name": "Kept"})
	body := []byte(`{"type":"x"}`)
	srcE2EWantReceived(t, srcE2EPost(t, src, *src.Secret, "m1", body))

	r := env.call(http.MethodDelete, env.sourcesPath()+"/"+src.ID, nil)
	srcE2EWant(t, r, http.StatusOK)
	if string(r.Raw) != "{\"ok\":true}\n" && !(len(r.Body) == 1 && r.Body["ok"] == true) {
		t.Fatalf("DELETE answered %s, want {\"ok\":true}", r.Raw)
	}
	path := env.sourcesPath() + "/" + src.ID
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, path}, {http.MethodPatch, path}, {http.MethodDelete, path}, {http.MethodGet, path + "/events"},
		{http.MethodGet, path + "/deliveries"}, {http.MethodPost, path + "/rotate"}, {http.MethodPost, path + "/test"},
	} {
		var b any
		if c.method != http.MethodGet && c.method != http.MethodDelete {
			b = map[string]any{"name": "x"}
		}
		srcE2EWantError(t, env.call(c.method, c.path, b), http.StatusNotFound, "NOT_FOUND")
	}
	srcE2EWantError(t, srcE2EPost(t, src, *src.Secret, "m2", body), http.StatusNotFound, "NOT_FOUND")
	if l := srcE2EList(t, env, ""); len(l) != 1 || l[0].ID != keep.ID {
		t.Fatalf("after the delete the list is %+v, want only %s", l, keep.ID)
	}
	// The POST .../delete form works too.
	srcE2EWant(t, env.call(http.MethodPost, env.sourcesPath()+"/"+keep.ID+"/delete", nil), http.StatusOK)
	if l := srcE2EList(t, env, ""); len(l) != 0 {
		t.Fatalf("after POST .../delete the list is %+v", l)
	}
}

// Create and PATCH refuse invalid input with a 400 naming the field and
// store nothing; forward_url is SSRF-checked where private networks are
// not allowed.
func TestSourceValidation(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "", func(c *Config) { c.AllowPrivateNetworks = false })
	cases := []struct {
		name  string
		in    map[string]any
		field string
	}{
		{"no name", map[string]any{}, "name"},
		{"empty name", map[string]any{"name": ""}, "name"},
		{"121-character name", map[string]any{"name": strings.Repeat("n", 121)}, "name"},
		{"121 runes", map[string]any{"name": strings.Repeat("é", 121)}, "name"},
		{"unknown provider", map[string]any{"name": "x", "provider": "paypal"}, "provider"},
		{"loopback forward_url", map[string]any{"name": "x", "forward_url": "https://127.0.0.1/hook"}, "forward_url"},
		{"private forward_url", map[string]any{"name": "x", "forward_url": "https://10.1.2.3/hook"}, "forward_url"},
		{"metadata forward_url", map[string]any{"name": "x", "forward_url": "https://169.254.169.254/latest/meta-data"}, "forward_url"},
		{"localhost forward_url", map[string]any{"name": "x", "forward_url": "https://localhost/hook"}, "forward_url"},
		{"IPv6 loopback forward_url", map[string]any{"name": "x", "forward_url": "https://[::1]:8443/hook"}, "forward_url"},
		{"plain http forward_url", map[string]any{"name": "x", "forward_url": "http://93.184.216.34/hook"}, "forward_url"},
		{"relative forward_url", map[string]any{"name": "x", "forward_url": "/hook"}, "forward_url"},
		{"tolerance 0", map[string]any{"name": "x", "tolerance_seconds": 0}, "tolerance"},
		{"negative tolerance", map[string]any{"name": "x", "tolerance_seconds": -5}, "tolerance"},
		{"tolerance over a day", map[string]any{"name": "x", "tolerance_seconds": 86401}, "tolerance"},
		{"tolerance as a string", map[string]any{"name": "x", "tolerance_seconds": "300"}, "tolerance"},
		{"description over 2000", map[string]any{"name": "x", "description": strings.Repeat("d", 2001)}, "description"},
		{"hmac-hex without prefix", map[string]any{"name": "x", "provider": "hmac-hex"}, "header_prefix"},
		{"standard secret not whsec_", map[string]any{"name": "x", "secret": "plain"}, "secret"},
		{"empty allow-list entry", map[string]any{"name": "x", "events": []string{""}}, "events"},
	}
	for _, c := range cases {
		r := env.call(http.MethodPost, env.sourcesPath(), c.in)
		msg := srcE2EWantError(t, r, http.StatusBadRequest, "BAD_REQUEST")
		if !strings.Contains(msg, c.field) {
			t.Errorf("%s: message %q does not name %q", c.name, msg, c.field)
		}
	}
	if l := srcE2EList(t, env, ""); len(l) != 0 {
		t.Fatalf("refused creates stored %d sources", len(l))
	}
	ok := env.create(map[string]any{"name": strings.Repeat("é", 120), "tolerance_seconds": 86400})
	if ok.ToleranceSeconds != 86400 {
		t.Fatalf("tolerance_seconds %d, want 86400", ok.ToleranceSeconds)
	}
	for _, in := range []map[string]any{{"forward_url": "https://127.0.0.1/x"}, {"name": ""}, {"tolerance_seconds": 0}, {"provider": "nope"}} {
		srcE2EWantError(t, env.call(http.MethodPatch, env.sourcesPath()+"/"+ok.ID, in), http.StatusBadRequest, "BAD_REQUEST")
	}
	if g := env.source(ok.ID); g.ForwardURL != nil || g.ToleranceSeconds != 86400 || g.Provider != "standard" {
		t.Fatalf("refused PATCHes changed the source: %+v", g)
	}
}

// Rotation without grace_seconds stops the old secret at once; with it,
// both verify until it ends.
func TestSourceRotate(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	src := env.create(map[string]any{"name": "Rotating", "provider": "github"})
	sendGH := func(secret, delivery string) *srcE2EResp {
		body := []byte(`{"zen":"` + delivery + `"}`)
		h := http.Header{"Content-Type": {"application/json"}, "X-GitHub-Event": {"ping"}, "X-GitHub-Delivery": {delivery},
			"X-Hub-Signature-256": {"sha256=" + srcE2EHex(secret, body)}}
		return srcE2EReceive(t, src.ReceiveURL, h, body)
	}
	s0 := *src.Secret
	srcE2EWantReceived(t, sendGH(s0, "a"))

	r := env.call(http.MethodPost, env.sourcesPath()+"/"+src.ID+"/rotate", nil)
	if r.Status != http.StatusOK && r.Status != http.StatusAccepted {
		t.Fatalf("rotate = %d %s", r.Status, r.Raw)
	}
	srcE2EWantShape(t, r.Body, true, "forward_url", "description")
	s1, _ := r.Body["secret"].(string)
	if !strings.HasPrefix(s1, "whsec_") || s1 == s0 {
		t.Fatalf("rotate answered secret %q, want a new whsec_ one", s1)
	}
	srcE2EWantError(t, sendGH(s0, "b"), http.StatusUnauthorized, "UNAUTHORIZED")
	srcE2EWantReceived(t, sendGH(s1, "c"))
	g := env.call(http.MethodGet, env.sourcesPath()+"/"+src.ID, nil)
	srcE2EWantShape(t, g.Body, false, "forward_url", "description")
	if strings.Contains(string(g.Raw), s1) {
		t.Fatal("GET after rotate shows the secret")
	}

	r = env.call(http.MethodPost, env.sourcesPath()+"/"+src.ID+"/rotate", map[string]any{"grace_seconds": 3600})
	srcE2EWant(t, r, http.StatusOK)
	s2, _ := r.Body["secret"].(string)
	if s2 == "" || s2 == s1 {
		t.Fatalf("second rotate answered secret %q", s2)
	}
	srcE2EWantReceived(t, sendGH(s1, "d"))
	srcE2EWantReceived(t, sendGH(s2, "e"))
	srcE2EWantError(t, sendGH(s0, "f"), http.StatusUnauthorized, "UNAUTHORIZED")
	if n := len(env.events(src.ID)); n != 4 {
		t.Fatalf("%d events, want the 4 accepted", n)
	}

	// A provider that issues its secret must be given the new one; with a
	// short grace, the old one verifies during it and not after.
	stripe := env.create(map[string]any{"name": "Stripe", "provider": "stripe", "secret": "whsec_stripe_old_0000"})
	srcE2EWantError(t, env.call(http.MethodPost, env.sourcesPath()+"/"+stripe.ID+"/rotate", map[string]any{}), http.StatusBadRequest, "BAD_REQUEST")
	r = env.call(http.MethodPost, env.sourcesPath()+"/"+stripe.ID+"/rotate", map[string]any{"secret": "whsec_stripe_new_1111", "grace_seconds": 2})
	srcE2EWant(t, r, http.StatusOK)
	if r.Body["secret"] != "whsec_stripe_new_1111" {
		t.Fatalf("rotate with a given secret answered %v", r.Body["secret"])
	}
	stripeProv := srcE2EProviders[1]
	sendStripe := func(secret, id string) *srcE2EResp {
		h, body := stripeProv.signed(t, secret, id, time.Now())
		return srcE2EReceive(t, stripe.ReceiveURL, h, body)
	}
	graceEnds := time.Now().Add(2 * time.Second)
	srcE2EWantReceived(t, sendStripe("whsec_stripe_new_1111", "evt_new"))
	if time.Now().Before(graceEnds.Add(-500 * time.Millisecond)) {
		srcE2EWantReceived(t, sendStripe("whsec_stripe_old_0000", "evt_old_in_grace"))
	}
	// The server set the grace's end before it answered, so it has passed
	// once graceEnds has.
	time.Sleep(time.Until(graceEnds) + 100*time.Millisecond)
	srcE2EWantError(t, sendStripe("whsec_stripe_old_0000", "evt_old_after"), http.StatusUnauthorized, "UNAUTHORIZED")
	srcE2EWantReceived(t, sendStripe("whsec_stripe_new_1111", "evt_new_after"))

	for _, bad := range []map[string]any{{"grace_seconds": -1}, {"grace_seconds": "soon"}} {
		srcE2EWantError(t, env.call(http.MethodPost, env.sourcesPath()+"/"+src.ID+"/rotate", bad), http.StatusBadRequest, "BAD_REQUEST")
	}
}

// POST /v1/verify checks a signed payload by scheme and secret, or by a
// source's settings.
func TestSourceVerifyEndpoint(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	verify := func(token string, in map[string]any) *srcE2EResp {
		t.Helper()
		return srcE2ECall(t, env.srv, token, http.MethodPost, "/v1/verify", in)
	}
	wantValid := func(r *srcE2EResp) {
		t.Helper()
		srcE2EWant(t, r, http.StatusOK)
		reason, ok := r.Body["reason"]
		if r.Body["valid"] != true || !ok || reason != nil {
			t.Fatalf("verify answered %s, want {\"valid\":true,\"reason\":null}", r.Raw)
		}
	}
	wantInvalid := func(r *srcE2EResp) string {
		t.Helper()
		srcE2EWant(t, r, http.StatusOK)
		reason, _ := r.Body["reason"].(string)
		if v, ok := r.Body["valid"]; !ok || v != false || reason == "" {
			t.Fatalf("verify answered %s, want {\"valid\":false,\"reason\":\"...\"}", r.Raw)
		}
		return reason
	}
	flat := func(h http.Header) map[string]string {
		out := map[string]string{}
		for k := range h {
			out[k] = h.Get(k)
		}
		return out
	}

	// By scheme and secret, every provider.
	for _, p := range srcE2EProviders {
		secret := p.secret
		if secret == "" {
			secret = "whsec_" + "dmVyaWZ5LWVuZHBvaW50LXRlc3Qtc2VjcmV0"
		}
		h, body := p.signed(t, secret, "v-"+p.provider, time.Now())
		in := map[string]any{"scheme": p.provider, "secret": secret, "headers": flat(h), "body": string(body)}
		if p.prefix != "" {
			in["header_prefix"] = p.prefix
		}
		wantValid(verify(testAdminToken, in))
		in["body"] = string(body) + " "
		t.Logf("%s, body changed: %s", p.provider, wantInvalid(verify(testAdminToken, in)))
		in["body"], in["secret"] = string(body), p.otherSecret()
		wantInvalid(verify(testAdminToken, in))
		if p.stale {
			h, body := p.signed(t, secret, "v-old-"+p.provider, time.Now().Add(-time.Hour))
			in["secret"], in["headers"], in["body"] = secret, flat(h), string(body)
			if reason := wantInvalid(verify(testAdminToken, in)); !strings.Contains(reason, "tolerance") {
				t.Fatalf("%s: an hour-old signature's reason %q does not mention the tolerance", p.provider, reason)
			}
		}
	}

	// By source_id: the source's provider, prefix and secret.
	src := env.create(map[string]any{"name": "Wazza", "provider": "timestamped-hex", "header_prefix": "X-Wazza"})
	wz := srcE2EProviders[7]
	h, body := wz.signed(t, *src.Secret, "w1", time.Now())
	wantValid(verify(testAdminToken, map[string]any{"source_id": src.ID, "headers": flat(h), "body": string(body)}))
	h.Del("X-Wazza-Signature")
	if reason := wantInvalid(verify(testAdminToken, map[string]any{"source_id": src.ID, "headers": flat(h), "body": string(body)})); !strings.Contains(reason, "missing") {
		t.Fatalf("reason %q for a missing signature", reason)
	}
	// An app key verifies with its own app's sources, not another app's.
	key := srcE2EKey(t, env.srv, env.appID)
	h, body = wz.signed(t, *src.Secret, "w2", time.Now())
	wantValid(verify(key, map[string]any{"source_id": src.ID, "headers": flat(h), "body": string(body)}))
	other := srcE2ESetupOn(t, env.srv, "")
	theirs := other.create(map[string]any{"name": "Theirs"})
	srcE2EWantError(t, verify(key, map[string]any{"source_id": theirs.ID, "headers": map[string]string{}, "body": "{}"}), http.StatusNotFound, "NOT_FOUND")
	srcE2EWantError(t, verify(key, map[string]any{"source_id": "src_nonexistent", "headers": map[string]string{}, "body": "{}"}), http.StatusNotFound, "NOT_FOUND")

	// Incomplete requests.
	srcE2EWantError(t, verify(testAdminToken, map[string]any{"scheme": "github", "headers": map[string]string{}, "body": "{}"}), http.StatusBadRequest, "BAD_REQUEST")
	srcE2EWantError(t, verify(testAdminToken, map[string]any{"scheme": "github", "secret": "s3cret"}), http.StatusBadRequest, "BAD_REQUEST")
	r := srcE2ESend(t, http.MethodPost, env.srv.URL+"/v1/verify", http.Header{"Content-Type": {"application/json"}}, `{"scheme":"github","secret":"x","body":""}`)
	srcE2EWantError(t, r, http.StatusUnauthorized, "UNAUTHORIZED")
}

// srcE2EKey creates an app key for app and returns it.
func srcE2EKey(tb testing.TB, srv *testServer, app string) string {
	tb.Helper()
	r := srcE2ECall(tb, srv, testAdminToken, http.MethodPost, "/v1/apps/"+app+"/keys", map[string]string{"name": "source tests"})
	srcE2EWant(tb, r, http.StatusCreated)
	key, _ := r.Body["key"].(string)
	if !strings.HasPrefix(key, "hk_") {
		tb.Fatalf("key create answered %s", r.Raw)
	}
	return key
}

// GET /v1/apps/{app}/sources/events: every source's events of the app,
// newest first, each with its source's name, at most 100.
func TestSourceEventsAcrossSources(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	alpha := env.create(map[string]any{"name": "Alpha", "provider": "hmac-hex", "header_prefix": "X-A"})
	beta := env.create(map[string]any{"name": "Beta", "provider": "hmac-hex", "header_prefix": "X-B"})
	send := func(src *srcE2ESource, prefix string, n int) string {
		body := []byte(fmt.Sprintf(`{"type":"tick","n":%d}`, n))
		h := http.Header{"Content-Type": {"application/json"}, prefix + "-Signature": {srcE2EHex(*src.Secret, body)}}
		return srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, body))
	}
	// Another app's source: its events never show here.
	other := srcE2ESetupOn(t, env.srv, "")
	theirs := other.create(map[string]any{"name": "Theirs", "provider": "hmac-hex", "header_prefix": "X-T"})
	send(theirs, "X-T", -1)

	const total = 105
	var ids []string
	names := map[string]string{}
	for i := range total {
		src, prefix := alpha, "X-A"
		if i%3 == 2 {
			src, prefix = beta, "X-B"
		}
		id := send(src, prefix, i)
		ids = append(ids, id)
		names[id] = src.Name
	}
	path := "/v1/apps/" + env.appID + "/sources/events"
	for _, q := range []string{"", "?limit=100", "?limit=250"} {
		r := env.call(http.MethodGet, path+q, nil)
		srcE2EWant(t, r, http.StatusOK)
		var out struct {
			Events []srcE2EEvent `json:"events"`
			Next   *string       `json:"next"`
		}
		r.decode(t, &out)
		want := 100
		if q == "" {
			want = 50
		}
		if len(out.Events) != want || out.Next == nil {
			t.Fatalf("GET %s: %d events, next %v; want %d and a next cursor", q, len(out.Events), out.Next, want)
		}
		for i, ev := range out.Events {
			wantID := ids[total-1-i]
			if ev.ID != wantID || ev.SourceName != names[wantID] || ev.AppID != env.appID {
				t.Fatalf("GET %s: event %d is %s of %q, want %s of %q (newest first)", q, i, ev.ID, ev.SourceName, wantID, names[wantID])
			}
			if i > 0 && ev.CreatedAt.After(out.Events[i-1].CreatedAt) {
				t.Fatalf("GET %s: event %d is newer than the one before it", q, i)
			}
		}
		if q == "?limit=250" {
			r := env.call(http.MethodGet, path+"?limit=100&after="+*out.Next, nil)
			var rest struct {
				Events []srcE2EEvent `json:"events"`
				Next   *string       `json:"next"`
			}
			r.decode(t, &rest)
			if len(rest.Events) != total-100 || rest.Events[0].ID != ids[total-101] || rest.Next != nil {
				t.Fatalf("the page after 100 has %d events, next %v; want the %d oldest and no next", len(rest.Events), rest.Next, total-100)
			}
		}
	}
	if n := len(env.events(alpha.ID)); n != 70 {
		t.Fatalf("Alpha has %d events, want 70", n)
	}
	// source_name is the source's name now.
	env.patch(beta.ID, map[string]any{"name": "Beta renamed"})
	r := env.call(http.MethodGet, path+"?limit=1", nil)
	var out struct {
		Events []srcE2EEvent `json:"events"`
	}
	r.decode(t, &out)
	if len(out.Events) != 1 || out.Events[0].SourceID != beta.ID || out.Events[0].SourceName != "Beta renamed" {
		t.Fatalf("after a rename the newest event is %v, want Beta's under its new name", out.Events)
	}
}

// An app key manages its own app's sources and gets 404 for another app's.
func TestSourceAppKeyScope(t *testing.T) {
	t.Parallel()
	mine := srcE2ESetup(t, "")
	theirs := srcE2ESetupOn(t, mine.srv, "")
	my := mine.create(map[string]any{"name": "Mine"})
	their := theirs.create(map[string]any{"name": "Theirs"})
	key := srcE2EKey(t, mine.srv, mine.appID)
	as := *mine
	as.token = key

	if l := srcE2EList(t, &as, key); len(l) != 1 || l[0].ID != my.ID {
		t.Fatalf("the key lists %+v, want only %s", l, my.ID)
	}
	if g := as.source(my.ID); g.Name != "Mine" {
		t.Fatalf("the key reads %+v", g)
	}
	created := as.create(map[string]any{"name": "Made with a key"})
	as.patch(created.ID, map[string]any{"description": "patched with a key"})
	srcE2EWant(t, as.call(http.MethodPost, as.sourcesPath()+"/"+my.ID+"/test", nil), http.StatusAccepted)
	srcE2EWant(t, as.call(http.MethodGet, "/v1/apps/"+mine.appID+"/sources/events", nil), http.StatusOK)

	mineBase, theirBase := "/v1/apps/"+mine.appID+"/sources/", "/v1/apps/"+theirs.appID+"/sources"
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, theirBase},
		{http.MethodPost, theirBase},
		{http.MethodGet, theirBase + "/events"},
		{http.MethodGet, theirBase + "/" + their.ID},
		{http.MethodPatch, theirBase + "/" + their.ID},
		{http.MethodDelete, theirBase + "/" + their.ID},
		{http.MethodPost, theirBase + "/" + their.ID + "/rotate"},
		{http.MethodPost, theirBase + "/" + their.ID + "/test"},
		{http.MethodGet, theirBase + "/" + their.ID + "/events"},
		{http.MethodGet, theirBase + "/" + their.ID + "/deliveries"},
		// Their source under my app's path.
		{http.MethodGet, mineBase + their.ID},
		{http.MethodPatch, mineBase + their.ID},
		{http.MethodDelete, mineBase + their.ID},
		{http.MethodPost, mineBase + their.ID + "/rotate"},
		{http.MethodPost, mineBase + their.ID + "/test"},
		{http.MethodGet, mineBase + their.ID + "/events"},
	} {
		var body any
		if c.method == http.MethodPost || c.method == http.MethodPatch {
			body = map[string]any{"name": "hijacked"}
		}
		srcE2EWantError(t, as.call(c.method, c.path, body), http.StatusNotFound, "NOT_FOUND")
	}
	// Their source is untouched and has received nothing.
	g := theirs.source(their.ID)
	if g.Name != "Theirs" || g.EventCount != 0 || g.Status != "active" {
		t.Fatalf("their source after the key's attempts: %+v", g)
	}
	if l := srcE2EList(t, theirs, ""); len(l) != 1 {
		t.Fatalf("their app has %d sources, want 1", len(l))
	}
}
