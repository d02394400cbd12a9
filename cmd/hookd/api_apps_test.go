package main

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// apiDefaultProfile is SPEC section 4's default profile, verbatim.
const apiDefaultProfile = `{"signature": {"scheme": "standard", "header_prefix": "", "event_header": false},
 "envelope": {"type_key": "type", "time_key": "timestamp", "time_format": "rfc3339ms",
              "id_key": "", "app_key": "", "data_key": "data"},
 "retry": {"schedule_seconds": [5, 300, 1800, 7200, 18000, 36000, 36000], "max_attempts": 8, "jitter": 0.2},
 "auto_disable_after": 10, "max_webhooks": 0}`

// apiProfile returns the default profile with patch applied, as decoded
// JSON, for comparison with an answer's profile.
func apiProfile(tb testing.TB, patch func(p map[string]any)) map[string]any {
	tb.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(apiDefaultProfile), &p); err != nil {
		tb.Fatal(err)
	}
	if patch != nil {
		patch(p)
	}
	return p
}

func apiSub(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

// apiCheckSecret checks a generated secret: whsec_ and base64 of 24 bytes.
func apiCheckSecret(tb testing.TB, what, s string) {
	tb.Helper()
	raw, ok := strings.CutPrefix(s, "whsec_")
	key, err := base64.StdEncoding.DecodeString(raw)
	if !ok || err != nil || len(key) != 24 {
		tb.Errorf("%s = %q, want whsec_ + standard base64 of 24 bytes", what, s)
	}
}

func TestAPIAppLifecycle(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	acme := apiMustCreateApp(t, srv, map[string]any{"name": "Acme", "uid": "acme", "contact_email": "ops@acme.test"})
	wantKeys := []string{"contact_email", "created_at", "default_secret", "id", "name", "profile", "uid", "updated_at"}
	if got := slices.Sorted(maps.Keys(acme)); !slices.Equal(got, wantKeys) {
		t.Errorf("create answer keys = %v, want %v", got, wantKeys)
	}
	id := apiStr(t, acme, "id")
	if !strings.HasPrefix(id, "app_") {
		t.Errorf("id = %q, want app_...", id)
	}
	if acme["uid"] != "acme" || acme["name"] != "Acme" || acme["contact_email"] != "ops@acme.test" {
		t.Errorf("create answer = %v", acme)
	}
	firstSecret := apiStr(t, acme, "default_secret")
	apiCheckSecret(t, "default_secret", firstSecret)
	if created := apiTime(t, acme, "created_at"); time.Since(created) > time.Minute || time.Since(created) < -time.Second {
		t.Errorf("created_at = %v, want about now", created)
	}
	if !reflect.DeepEqual(acme["profile"], apiProfile(t, nil)) {
		t.Errorf("profile of an app created without one = %v, want the default %v", acme["profile"], apiProfile(t, nil))
	}

	bare := apiMustCreateApp(t, srv, map[string]any{"name": "Bare"})
	for _, k := range []string{"uid", "contact_email"} {
		if v, ok := bare[k]; !ok || v != nil {
			t.Errorf("%s of an app without one = %#v (present %t), want null", k, v, ok)
		}
	}

	// Reads by id and by uid; the default secret is never shown again.
	for _, ref := range []string{id, "acme"} {
		got := apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+ref, nil), http.StatusOK)
		if got["id"] != id || got["name"] != "Acme" || got["uid"] != "acme" {
			t.Errorf("GET /v1/apps/%s = %v", ref, got)
		}
		if _, ok := got["default_secret"]; ok {
			t.Errorf("GET /v1/apps/%s shows default_secret", ref)
		}
		if !reflect.DeepEqual(got["profile"], apiProfile(t, nil)) {
			t.Errorf("GET profile = %v, want the defaults", got["profile"])
		}
	}
	apps, next := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps", nil), http.StatusOK), "apps")
	if ids := apiIDs(t, apps); !slices.Equal(ids, []string{apiStr(t, bare, "id"), id}) || next != "" {
		t.Errorf("list = %v next %q, want [Bare Acme] newest first and next null", ids, next)
	}
	for _, a := range apps {
		if _, ok := a["default_secret"]; ok {
			t.Errorf("list shows default_secret of %v", a["id"])
		}
	}

	// PATCH merges: a profile patch replaces only the fields it names.
	patched := apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/apps/acme", map[string]any{
		"name":    "Acme Inc",
		"profile": map[string]any{"retry": map[string]any{"max_attempts": 3}, "signature": map[string]any{"scheme": "stripe", "header_prefix": "Acme"}},
	}), http.StatusOK)
	want := apiProfile(t, func(p map[string]any) {
		apiSub(p, "retry")["max_attempts"] = float64(3)
		apiSub(p, "signature")["scheme"] = "stripe"
		apiSub(p, "signature")["header_prefix"] = "Acme"
	})
	if !reflect.DeepEqual(patched["profile"], want) {
		t.Errorf("patched profile = %v\nwant %v", patched["profile"], want)
	}
	if patched["name"] != "Acme Inc" || patched["uid"] != "acme" || patched["contact_email"] != "ops@acme.test" || patched["id"] != id {
		t.Errorf("PATCH changed fields it did not name: %v", patched)
	}
	if _, ok := patched["default_secret"]; ok {
		t.Error("PATCH answer shows default_secret")
	}
	patched = apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+id, map[string]any{
		"profile": map[string]any{"signature": map[string]any{"event_header": true}, "max_webhooks": 2},
	}), http.StatusOK)
	apiSub(want, "signature")["event_header"] = true
	want["max_webhooks"] = float64(2)
	if !reflect.DeepEqual(patched["profile"], want) {
		t.Errorf("second patch profile = %v\nwant %v", patched["profile"], want)
	}
	if got := apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+id, nil), http.StatusOK); !reflect.DeepEqual(got["profile"], want) || got["name"] != "Acme Inc" {
		t.Errorf("GET after PATCH = %v, want profile %v", got, want)
	}

	// Rotate answers a new default secret, once.
	rot := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/acme/rotate", nil), http.StatusOK)
	newSecret := apiStr(t, rot, "default_secret")
	apiCheckSecret(t, "rotated default_secret", newSecret)
	if newSecret == firstSecret {
		t.Error("rotate returned the old default_secret")
	}
	if got := apiAdmin(t, srv, "GET", "/v1/apps/acme", nil); strings.Contains(string(got.Raw), "default_secret") || strings.Contains(string(got.Raw), newSecret) {
		t.Errorf("GET after rotate shows the secret: %s", got.Raw)
	}

	// Delete by uid; then both references are gone.
	del := apiWant(t, apiAdmin(t, srv, "DELETE", "/v1/apps/acme", nil), http.StatusOK)
	if !reflect.DeepEqual(del, map[string]any{"ok": true}) {
		t.Errorf("delete answer = %v, want {\"ok\":true}", del)
	}
	apiWantError(t, apiAdmin(t, srv, "GET", "/v1/apps/"+id, nil), http.StatusNotFound, "NOT_FOUND", "not found")
	apiWantError(t, apiAdmin(t, srv, "GET", "/v1/apps/acme", nil), http.StatusNotFound, "NOT_FOUND", "not found")
	apiWantError(t, apiAdmin(t, srv, "DELETE", "/v1/apps/"+id, nil), http.StatusNotFound, "NOT_FOUND", "not found")
	apiWantError(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+id, map[string]any{"name": "x"}), http.StatusNotFound, "NOT_FOUND", "not found")
	apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/"+id+"/rotate", nil), http.StatusNotFound, "NOT_FOUND", "not found")
	apps, _ = apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps", nil), http.StatusOK), "apps")
	if ids := apiIDs(t, apps); !slices.Equal(ids, []string{apiStr(t, bare, "id")}) {
		t.Errorf("list after delete = %v, want only Bare", ids)
	}
	// The uid is free again.
	apiMustCreateApp(t, srv, map[string]any{"name": "Acme again", "uid": "acme"})
}

func TestAPIAppValidation(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	apiMustCreateApp(t, srv, map[string]any{"name": "Taken", "uid": "taken"})
	other := apiMustCreateApp(t, srv, map[string]any{"name": "Other", "uid": "other"})

	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
		msg    string
	}{
		{"no name", map[string]any{"uid": "x"}, 400, "BAD_REQUEST", "name is required"},
		{"empty name", map[string]any{"name": ""}, 400, "BAD_REQUEST", "name must be 1-120 characters"},
		{"name of 121", map[string]any{"name": strings.Repeat("n", 121)}, 400, "BAD_REQUEST", "name must be 1-120 characters"},
		{"bad uid", map[string]any{"name": "x", "uid": "has space"}, 400, "BAD_REQUEST", "uid"},
		{"uid like an id", map[string]any{"name": "x", "uid": "app_123"}, 400, "BAD_REQUEST", "uid"},
		{"duplicate uid", map[string]any{"name": "x", "uid": "taken"}, 409, "CONFLICT", "taken"},
		{"bad email", map[string]any{"name": "x", "contact_email": "not an email"}, 400, "BAD_REQUEST", "contact_email"},
		{"bad scheme", map[string]any{"name": "x", "profile": map[string]any{"signature": map[string]any{"scheme": "md5"}}}, 400, "BAD_REQUEST", "profile.signature.scheme"},
		{"prefix missing", map[string]any{"name": "x", "profile": map[string]any{"signature": map[string]any{"scheme": "hmac-hex"}}}, 400, "BAD_REQUEST", "profile.signature.header_prefix"},
		{"unknown profile field", map[string]any{"name": "x", "profile": map[string]any{"colour": "red"}}, 400, "BAD_REQUEST", "profile"},
		{"negative max_webhooks", map[string]any{"name": "x", "profile": map[string]any{"max_webhooks": -1}}, 400, "BAD_REQUEST", "profile.max_webhooks"},
		{"bad time_format", map[string]any{"name": "x", "profile": map[string]any{"envelope": map[string]any{"time_format": "iso"}}}, 400, "BAD_REQUEST", "profile.envelope.time_format"},
		{"not JSON", "{name:", 400, "BAD_REQUEST", "request body"},
		{"not an object", `["x"]`, 400, "BAD_REQUEST", "request body"},
	} {
		apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps", tc.body), tc.status, tc.code, tc.msg)
	}
	// 120 characters (not bytes) is fine.
	long := apiMustCreateApp(t, srv, map[string]any{"name": strings.Repeat("é", 120)})
	if long["name"] != strings.Repeat("é", 120) {
		t.Errorf("name = %v", long["name"])
	}
	apps, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps", nil), http.StatusOK), "apps")
	if len(apps) != 3 {
		t.Errorf("%d apps stored, want 3: the rejected creates must store nothing", len(apps))
	}

	// PATCH validates the same way and changes nothing when it refuses.
	oid := apiStr(t, other, "id")
	apiWantError(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+oid, map[string]any{"uid": "taken"}), 409, "CONFLICT", "taken")
	apiWantError(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+oid, map[string]any{"name": ""}), 400, "BAD_REQUEST", "name")
	apiWantError(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+oid, map[string]any{"profile": map[string]any{"retry": map[string]any{"max_attempts": 0}}}), 400, "BAD_REQUEST", "profile.retry.max_attempts")
	got := apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+oid, nil), http.StatusOK)
	if got["uid"] != "other" || got["name"] != "Other" || !reflect.DeepEqual(got["profile"], apiProfile(t, nil)) {
		t.Errorf("app after refused PATCHes = %v", got)
	}
	apiWantError(t, apiAdmin(t, srv, "GET", "/v1/apps/nope", nil), 404, "NOT_FOUND", "nope")
}

func TestAPIAppKeys(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	app := apiMustCreateApp(t, srv, map[string]any{"name": "Keyed", "uid": "keyed"})
	appID := apiStr(t, app, "id")

	k := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/keyed/keys", map[string]any{"name": "backend"}), http.StatusCreated)
	for _, f := range []string{"id", "name", "key", "created_at"} {
		if _, ok := k[f]; !ok {
			t.Errorf("key create answer %v lacks %s", k, f)
		}
	}
	key := apiStr(t, k, "key")
	keyID := apiStr(t, k, "id")
	if !strings.HasPrefix(key, "hk_") || len(key) < 20 {
		t.Errorf("key = %q, want a long hk_... token", key)
	}
	if k["name"] != "backend" || k["app_id"] != appID {
		t.Errorf("key answer = %v", k)
	}
	apiTime(t, k, "created_at")
	k2 := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+appID+"/keys", map[string]any{"name": "second"}), http.StatusCreated)
	if apiStr(t, k2, "key") == key {
		t.Error("two keys are equal")
	}

	// Listed newest first, without the key itself.
	r := apiAdmin(t, srv, "GET", "/v1/apps/keyed/keys", nil)
	keys, next := apiItems(t, apiWant(t, r, http.StatusOK), "keys")
	if ids := apiIDs(t, keys); !slices.Equal(ids, []string{apiStr(t, k2, "id"), keyID}) || next != "" {
		t.Errorf("keys = %v next %q", ids, next)
	}
	for _, it := range keys {
		if _, ok := it["key"]; ok {
			t.Errorf("listed key %v shows the key", it["id"])
		}
	}
	if strings.Contains(string(r.Raw), key) || strings.Contains(string(r.Raw), apiStr(t, k2, "key")) {
		t.Errorf("key list contains a key: %s", r.Raw)
	}

	// The key works, until it is deleted.
	apiWant(t, apiRequest(t, srv, key, "GET", "/v1/apps/keyed", nil), http.StatusOK)
	del := apiWant(t, apiAdmin(t, srv, "DELETE", "/v1/apps/keyed/keys/"+keyID, nil), http.StatusOK)
	if !reflect.DeepEqual(del, map[string]any{"ok": true}) {
		t.Errorf("delete answer = %v", del)
	}
	apiWantError(t, apiRequest(t, srv, key, "GET", "/v1/apps/keyed", nil), 401, "UNAUTHORIZED", "token")
	apiWantError(t, apiAdmin(t, srv, "DELETE", "/v1/apps/keyed/keys/"+keyID, nil), 404, "NOT_FOUND", "not found")
	keys, _ = apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/keyed/keys", nil), http.StatusOK), "keys")
	if ids := apiIDs(t, keys); !slices.Equal(ids, []string{apiStr(t, k2, "id")}) {
		t.Errorf("keys after delete = %v", ids)
	}
	// The other key still works.
	apiWant(t, apiRequest(t, srv, apiStr(t, k2, "key"), "GET", "/v1/apps/keyed", nil), http.StatusOK)

	// A key of one app cannot be deleted through another.
	apiMustCreateApp(t, srv, map[string]any{"name": "Else", "uid": "else"})
	apiWantError(t, apiAdmin(t, srv, "DELETE", "/v1/apps/else/keys/"+apiStr(t, k2, "id"), nil), 404, "NOT_FOUND", "not found")
	apiWant(t, apiRequest(t, srv, apiStr(t, k2, "key"), "GET", "/v1/apps/keyed", nil), http.StatusOK)

	// Deleting the app revokes its keys.
	apiWant(t, apiAdmin(t, srv, "DELETE", "/v1/apps/keyed", nil), http.StatusOK)
	apiWantError(t, apiRequest(t, srv, apiStr(t, k2, "key"), "GET", "/v1/event-types", nil), 401, "UNAUTHORIZED", "token")
}
