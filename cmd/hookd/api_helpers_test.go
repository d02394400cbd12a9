package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Helpers of the management API tests (api_*_test.go). They talk raw HTTP
// so that the tests see the exact status, headers and JSON the server
// writes, not what the Go client makes of them.

// apiResp is one answer of the API.
type apiResp struct {
	Method, Path string
	Status       int
	Header       http.Header
	Raw          []byte
	Body         map[string]any // nil unless the answer is a JSON object
}

// apiRequest sends method path to srv with token ("" sends no
// Authorization header). body is nil (no body), a []byte or string sent as
// is, or a value sent as JSON.
func apiRequest(tb testing.TB, srv *testServer, token, method, path string, body any) *apiResp {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("encode %s %s body: %v", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		tb.Fatalf("build %s %s: %v", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := checkedHTTP(tb).Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	r := &apiResp{Method: method, Path: path, Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		r.Body = m
	}
	return r
}

// apiAdmin sends a request with the admin token.
func apiAdmin(tb testing.TB, srv *testServer, method, path string, body any) *apiResp {
	tb.Helper()
	return apiRequest(tb, srv, testAdminToken, method, path, body)
}

// apiWant fails the test unless r has the status, and returns its body.
func apiWant(tb testing.TB, r *apiResp, status int) map[string]any {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("%s %s = %d, want %d; body %s", r.Method, r.Path, r.Status, status, r.Raw)
	}
	if r.Body == nil {
		tb.Fatalf("%s %s: answer is not a JSON object: %s", r.Method, r.Path, r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("%s %s: Content-Type = %q, want application/json", r.Method, r.Path, ct)
	}
	return r.Body
}

// apiWantError checks that r is exactly
// {"error":{"code":code,"message":"..."}} with status and a message that
// contains msg, and returns the message.
func apiWantError(tb testing.TB, r *apiResp, status int, code, msg string) string {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("%s %s = %d, want %d %s; body %s", r.Method, r.Path, r.Status, status, code, r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("%s %s: Content-Type = %q, want application/json", r.Method, r.Path, ct)
	}
	var shape map[string]map[string]any
	if err := json.Unmarshal(r.Raw, &shape); err != nil || len(shape) != 1 || shape["error"] == nil {
		tb.Fatalf("%s %s: error body %s is not {\"error\":{...}}", r.Method, r.Path, r.Raw)
	}
	e := shape["error"]
	gotCode, ok1 := e["code"].(string)
	gotMsg, ok2 := e["message"].(string)
	if len(e) != 2 || !ok1 || !ok2 {
		tb.Fatalf("%s %s: error object %s must hold exactly a string code and message", r.Method, r.Path, r.Raw)
	}
	if gotCode != code {
		tb.Errorf("%s %s: code = %q, want %q (message %q)", r.Method, r.Path, gotCode, code, gotMsg)
	}
	if gotMsg == "" || !strings.Contains(gotMsg, msg) {
		tb.Errorf("%s %s: message = %q, want it to contain %q", r.Method, r.Path, gotMsg, msg)
	}
	return gotMsg
}

// apiMustCreateApp creates an app as the admin and returns the answer.
func apiMustCreateApp(tb testing.TB, srv *testServer, body map[string]any) map[string]any {
	tb.Helper()
	return apiWant(tb, apiAdmin(tb, srv, "POST", "/v1/apps", body), http.StatusCreated)
}

// apiMustCreateEventType adds a catalog entry with the given status.
func apiMustCreateEventType(tb testing.TB, srv *testServer, name, status string) map[string]any {
	tb.Helper()
	body := map[string]any{"name": name, "description": "the " + name + " event"}
	if status != "" {
		body["status"] = status
	}
	return apiWant(tb, apiAdmin(tb, srv, "POST", "/v1/event-types", body), http.StatusCreated)
}

// apiMustCreateWebhook creates a webhook in app with token.
func apiMustCreateWebhook(tb testing.TB, srv *testServer, token, app string, body map[string]any) map[string]any {
	tb.Helper()
	return apiWant(tb, apiRequest(tb, srv, token, "POST", "/v1/apps/"+app+"/webhooks", body), http.StatusCreated)
}

// apiMustCreateKey makes an app key as the admin and returns the key.
func apiMustCreateKey(tb testing.TB, srv *testServer, app string) string {
	tb.Helper()
	k := apiWant(tb, apiAdmin(tb, srv, "POST", "/v1/apps/"+app+"/keys", map[string]any{"name": "ci"}), http.StatusCreated)
	key, _ := k["key"].(string)
	if !strings.HasPrefix(key, "hk_") {
		tb.Fatalf("key create answer %v has no hk_ key", k)
	}
	return key
}

// apiStr returns m[key] as a string, failing the test if it is not one.
func apiStr(tb testing.TB, m map[string]any, key string) string {
	tb.Helper()
	s, ok := m[key].(string)
	if !ok {
		tb.Fatalf("%q = %#v in %v, want a string", key, m[key], m)
	}
	return s
}

// apiItems returns the list under name of a list answer, checking that the
// answer holds exactly name and next, and returns next ("" for null).
func apiItems(tb testing.TB, body map[string]any, name string) ([]map[string]any, string) {
	tb.Helper()
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{name, "next"}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		tb.Fatalf("list answer has keys %v, want %v", keys, want)
	}
	raw, ok := body[name].([]any)
	if !ok {
		tb.Fatalf("%q = %#v, want an array", name, body[name])
	}
	items := make([]map[string]any, len(raw))
	for i, v := range raw {
		if items[i], ok = v.(map[string]any); !ok {
			tb.Fatalf("%s[%d] = %#v, want an object", name, i, v)
		}
	}
	switch next := body["next"].(type) {
	case nil:
		return items, ""
	case string:
		if next == "" {
			tb.Fatalf("next is \"\", want a cursor or null")
		}
		return items, next
	default:
		tb.Fatalf("next = %#v, want a string or null", body["next"])
	}
	return nil, ""
}

// apiIDs returns the ids of items.
func apiIDs(tb testing.TB, items []map[string]any) []string {
	tb.Helper()
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = apiStr(tb, it, "id")
	}
	return ids
}

// apiTime parses an RFC 3339 UTC time field.
func apiTime(tb testing.TB, m map[string]any, key string) time.Time {
	tb.Helper()
	s := apiStr(tb, m, key)
	if !strings.HasSuffix(s, "Z") {
		tb.Errorf("%s = %q, want a UTC time ending in Z", key, s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("%s = %q is not RFC 3339: %v", key, s, err)
	}
	return t
}

// apiReadAll reads and closes resp's body.
func apiReadAll(tb testing.TB, resp *http.Response) []byte {
	tb.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read answer: %v", err)
	}
	return raw
}
