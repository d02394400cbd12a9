package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd/httpapi"
)

// Hostile input at every route: each route the API registers has a row
// below saying what its body and query hold, and the tests throw wrong
// types, huge and broken strings, deep nesting, bad paths and bad queries
// at it. Every answer must be a 4xx in the error format (or a success
// where the input is in fact fine), nothing may be half-written, and the
// process must keep serving.

// hostileKind is the JSON type a body field takes.
type hostileKind int

const (
	kString    hostileKind = iota
	kInt                   // a whole number
	kNumber                // any number
	kBool                  // true or false
	kStrings               // an array of strings
	kStringMap             // an object of strings
	kObject                // any JSON object
	kTime                  // an RFC 3339 time
	kObjects               // an array of objects
)

// hostileField is one field of a route's body.
type hostileField struct {
	name string
	kind hostileKind
	// enum marks a string field that takes one of a few names.
	enum bool
}

// hostileRoute says what a route reads besides its path.
type hostileRoute struct {
	// body is a valid body, as JSON; "" for routes that read none.
	body string
	// fields are the body's fields.
	fields []hostileField
	// emptyOK marks routes whose body is optional: an empty one is fine.
	emptyOK bool
	// query are the route's query parameters: "limit", "after", "status",
	// "webhook_id".
	query []string
	// raw marks the receive route, which takes any bytes and answers
	// with a verdict on their signature.
	raw bool
	// fine names the cases whose input this route rightly accepts.
	fine []string
	// extra are further hostile values of one field: field, name, raw.
	extra [][3]string
}

var listQuery = []string{"limit", "after"}

// statsQueryParams are the statistics routes' parameters.
var statsQueryParams = []string{"since", "until", "interval"}

// profileCases are hostile app profiles: unknown names where the profile
// takes one of a few, numbers out of range, strings that cannot be
// header names or JSON keys.
var profileCases = [][3]string{
	{"profile", "unknown scheme", `{"signature":{"scheme":"nope"}}`},
	{"profile", "NUL header prefix", `{"signature":{"scheme":"stripe","header_prefix":"X\u0000"}}`},
	{"profile", "header prefix with a colon", `{"signature":{"scheme":"hmac-hex","header_prefix":"X-A:"}}`},
	{"profile", "unknown time_format", `{"envelope":{"time_format":"nope"}}`},
	{"profile", "time_format of another type", `{"envelope":{"time_format":1}}`},
	{"profile", "NUL type_key", `{"envelope":{"type_key":"\u0000"}}`},
	{"profile", "type_key of 1 MB", `{"envelope":{"type_key":"` + strings.Repeat("k", hostileMB) + `"}}`},
	{"profile", "integer data_key", `{"envelope":{"data_key":"0"}}`},
	{"profile", "negative max_attempts", `{"retry":{"max_attempts":-1}}`},
	{"profile", "huge max_attempts", `{"retry":{"max_attempts":1e400}}`},
	{"profile", "fractional max_attempts", `{"retry":{"max_attempts":1.5}}`},
	{"profile", "negative schedule", `{"retry":{"schedule_seconds":[-1]}}`},
	{"profile", "schedule of strings", `{"retry":{"schedule_seconds":["5"]}}`},
	{"profile", "schedule beyond a Duration", `{"retry":{"schedule_seconds":[1e300]}}`},
	{"profile", "schedule of 100,000 entries", `{"retry":{"schedule_seconds":[` + strings.TrimSuffix(strings.Repeat("1,", 100000), ",") + `]}}`},
	{"profile", "jitter of 2", `{"retry":{"jitter":2}}`},
	{"profile", "negative jitter", `{"retry":{"jitter":-0.5}}`},
	{"profile", "negative auto_disable_after", `{"auto_disable_after":-1}`},
	{"profile", "fractional max_webhooks", `{"max_webhooks":1.5}`},
	{"profile", "unknown member", `{"signature":{"schem":"stripe"}}`},
	{"profile", "duplicate member", `{"signature":{"scheme":"stripe","scheme":"standard"}}`},
}

// hostileRoutes has a row for every route pattern the API registers; the
// tests fail on a route without one.
func hostileRoutes(receiverURL string) map[string]hostileRoute {
	appFields := []hostileField{{"uid", kString, false}, {"name", kString, false}, {"contact_email", kString, false}, {"profile", kObject, false}}
	webhookFields := []hostileField{
		{"url", kString, false}, {"events", kStrings, false}, {"name", kString, false}, {"description", kString, false},
		{"secret", kString, false}, {"headers", kStringMap, false}, {"rate_limit", kInt, false}, {"ordered", kBool, false},
		{"metadata", kStringMap, false}, {"status", kString, true}, {"enabled", kBool, false},
	}
	sourceFields := []hostileField{
		{"name", kString, false}, {"provider", kString, true}, {"secret", kString, false}, {"forward_url", kString, false},
		{"events", kStrings, false}, {"description", kString, false}, {"header_prefix", kString, false},
		{"tolerance_seconds", kInt, false}, {"status", kString, true}, {"enabled", kBool, false},
	}
	rotateFields := []hostileField{{"grace_seconds", kNumber, false}, {"secret", kString, false}}
	publishFields := []hostileField{
		{"type", kString, false}, {"data", kObject, false}, {"idempotency_key", kString, false},
		{"webhook_url", kString, false}, {"webhook_events", kStrings, false},
	}
	eventTypeFields := []hostileField{{"name", kString, false}, {"description", kString, false}, {"status", kString, true}, {"schema", kObject, false}}
	return map[string]hostileRoute{
		"GET /healthz":         {},
		"GET /readyz":          {},
		"GET /metrics":         {},
		"GET /v1/openapi.json": {},

		"POST /v1/apps":              {body: `{"name":"Another"}`, fields: appFields, extra: profileCases},
		"GET /v1/apps":               {query: listQuery},
		"GET /v1/apps/{app}":         {},
		"PATCH /v1/apps/{app}":       {body: `{"name":"Renamed"}`, fields: appFields, emptyOK: true, extra: profileCases},
		"DELETE /v1/apps/{app}":      {},
		"POST /v1/apps/{app}/rotate": {},

		"POST /v1/apps/{app}/keys":        {body: `{"name":"k2"}`, fields: []hostileField{{"name", kString, false}}, emptyOK: true},
		"GET /v1/apps/{app}/keys":         {query: listQuery},
		"DELETE /v1/apps/{app}/keys/{id}": {},

		"POST /v1/event-types":         {body: `{"name":"other.event"}`, fields: eventTypeFields},
		"GET /v1/event-types":          {query: listQuery},
		"GET /v1/event-types/{name}":   {},
		"PATCH /v1/event-types/{name}": {body: `{"description":"d"}`, fields: eventTypeFields, emptyOK: true},

		"POST /v1/apps/{app}/webhooks":                {body: `{"url":"` + receiverURL + `/2"}`, fields: webhookFields},
		"GET /v1/apps/{app}/webhooks":                 {query: listQuery},
		"GET /v1/apps/{app}/webhooks/{id}":            {},
		"PATCH /v1/apps/{app}/webhooks/{id}":          {body: `{"name":"n"}`, fields: webhookFields, emptyOK: true},
		"DELETE /v1/apps/{app}/webhooks/{id}":         {},
		"POST /v1/apps/{app}/webhooks/{id}/delete":    {},
		"POST /v1/apps/{app}/webhooks/{id}/rotate":    {body: `{}`, fields: rotateFields, emptyOK: true},
		"POST /v1/apps/{app}/webhooks/{id}/test":      {body: `{}`, fields: []hostileField{{"type", kString, false}, {"data", kObject, false}}, emptyOK: true},
		"POST /v1/apps/{app}/webhooks/{id}/recover":   {body: `{"since":"2020-01-01T00:00:00Z"}`, fields: []hostileField{{"since", kTime, false}, {"until", kTime, false}}},
		"GET /v1/apps/{app}/webhooks/{id}/deliveries": {query: append([]string{"status"}, listQuery...)},
		"GET /v1/apps/{app}/webhooks/{id}/events":     {query: listQuery},
		"GET /v1/apps/{app}/webhooks/{id}/stats":      {query: statsQueryParams},
		"GET /v1/apps/{app}/stats":                    {query: statsQueryParams},
		"GET /v1/apps/{app}/sources/{id}/stats":       {query: statsQueryParams},
		"GET /v1/stats":                               {query: statsQueryParams},

		"POST /v1/apps/{app}/listen": {body: `{"key":"hostile-key-1"}`, fields: []hostileField{{"key", kString, false}, {"events", kStrings, false}}},
		// The world's {id} here is an ordinary webhook: it has no stream,
		// so a request that passes every check is answered at once.
		"GET /v1/apps/{app}/listen/{id}/stream": {},
		"POST /v1/apps/{app}/listen/{id}/results": {body: `{"id":"req_1"}`, fields: []hostileField{
			{"id", kString, false}, {"status_code", kInt, false}, {"duration_ms", kInt, false}, {"body", kString, false}, {"error", kString, false}}},
		"POST /v1/apps/{app}/events":                 {body: `{"type":"hostile.event","data":{}}`, fields: publishFields},
		"POST /v1/apps/{app}/events/batch":           {body: `{"events":[{"type":"hostile.event"}]}`, fields: []hostileField{{"events", kObjects, false}}},
		"GET /v1/apps/{app}/events":                  {query: append([]string{"webhook_id"}, listQuery...)},
		"GET /v1/apps/{app}/events/{id}":             {},
		"GET /v1/apps/{app}/deliveries":              {query: append([]string{"webhook_id", "status"}, listQuery...)},
		"GET /v1/apps/{app}/deliveries/{id}":         {},
		"POST /v1/apps/{app}/deliveries/{id}/retry":  {},
		"POST /v1/apps/{app}/sources":                {body: `{"name":"s2","provider":"github","secret":"secret-2"}`, fields: sourceFields},
		"GET /v1/apps/{app}/sources":                 {query: listQuery},
		"GET /v1/apps/{app}/sources/events":          {query: listQuery},
		"GET /v1/apps/{app}/sources/{id}":            {},
		"PATCH /v1/apps/{app}/sources/{id}":          {body: `{"name":"s3"}`, fields: sourceFields, emptyOK: true},
		"DELETE /v1/apps/{app}/sources/{id}":         {},
		"POST /v1/apps/{app}/sources/{id}/delete":    {},
		"POST /v1/apps/{app}/sources/{id}/rotate":    {body: `{}`, fields: rotateFields, emptyOK: true},
		"POST /v1/apps/{app}/sources/{id}/test":      {},
		"GET /v1/apps/{app}/sources/{id}/events":     {query: listQuery},
		"GET /v1/apps/{app}/sources/{id}/deliveries": {query: listQuery},
		"POST /v1/verify": {body: `{"scheme":"github","secret":"secret-3","body":"","headers":{}}`, fields: []hostileField{
			{"scheme", kString, true}, {"header_prefix", kString, false}, {"secret", kString, false}, {"source_id", kString, false},
			{"headers", kStringMap, false}, {"body", kString, false}, {"tolerance_seconds", kInt, false},
		}, fine: []string{
			// The payload to check is anything a sender may have sent,
			// and none of it is stored; a negative tolerance checks no
			// timestamp.
			"header_prefix: NUL", "header_prefix: control character", "secret: NUL", "secret: control character",
			"body: NUL", "body: control character", "headers: NUL in key", "headers: NUL in value", "tolerance_seconds: negative",
		}},
		"POST /v1/receive/{id}": {raw: true},
	}
}

// hostileWorld is a server holding one of everything for the hostile
// requests to aim at.
type hostileWorld struct {
	srv      *testServer
	rc       *receiver
	app      string
	typeName string
	// ids maps the path segment before an {id} to the id that goes there.
	ids map[string]string
}

func hostileSetup(tb testing.TB) *hostileWorld {
	tb.Helper()
	srv := startServer(tb)
	rc := newReceiver(tb, nil)
	w := &hostileWorld{srv: srv, rc: rc, typeName: "hostile.event", ids: map[string]string{}}
	apiMustCreateEventType(tb, srv, w.typeName, "")
	w.app = apiStr(tb, apiMustCreateApp(tb, srv, map[string]any{"name": "Hostile", "uid": "hostile"}), "id")
	base := "/v1/apps/" + w.app
	w.ids["keys"] = apiStr(tb, apiWant(tb, apiAdmin(tb, srv, "POST", base+"/keys", map[string]any{"name": "k"}), http.StatusCreated), "id")
	w.ids["webhooks"] = apiStr(tb, apiMustCreateWebhook(tb, srv, testAdminToken, w.app, map[string]any{"url": rc.URL}), "id")
	w.ids["listen"] = w.ids["webhooks"]
	src := apiStr(tb, apiWant(tb, apiAdmin(tb, srv, "POST", base+"/sources", map[string]any{"name": "s", "provider": "github", "secret": hostileSourceSecret}), http.StatusCreated), "id")
	w.ids["sources"], w.ids["receive"] = src, src
	w.ids["events"] = apiStr(tb, apiWant(tb, apiAdmin(tb, srv, "POST", base+"/events", map[string]any{"type": w.typeName, "data": map[string]any{"n": 1}}), http.StatusAccepted), "id")
	rc.waitFor(tb, 1, 10*time.Second)
	var delivery string
	eventually(tb, 10*time.Second, "the setup delivery to succeed", func() bool {
		ev := apiWant(tb, apiAdmin(tb, srv, "GET", base+"/events/"+w.ids["events"], nil), http.StatusOK)
		ds, _ := ev["deliveries"].([]any)
		if len(ds) != 1 {
			return false
		}
		d := ds[0].(map[string]any)
		delivery, _ = d["id"].(string)
		return d["status"] == "succeeded"
	})
	w.ids["deliveries"] = delivery
	return w
}

// routes returns the patterns the running server registered.
func (w *hostileWorld) routes(tb testing.TB) []string {
	tb.Helper()
	api, ok := w.srv.Main.http.Handler.(*httpapi.Server)
	if !ok {
		tb.Fatalf("the server's handler is a %T, not the API", w.srv.Main.http.Handler)
	}
	return api.Routes()
}

// path fills a route pattern's parameters with the world's objects, or
// with bad[param] where given. It returns the method and the path.
func (w *hostileWorld) path(pattern string, bad map[string]string) (string, string) {
	method, p, _ := strings.Cut(pattern, " ")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		name := strings.Trim(s, "{}")
		switch v, ok := bad[name]; {
		case ok:
			segs[i] = v
		case name == "app":
			segs[i] = w.app
		case name == "name":
			segs[i] = w.typeName
		default:
			segs[i] = w.ids[segs[i-1]]
		}
	}
	return method, strings.Join(segs, "/")
}

// hostileHTTP sends the hostile requests. It does not check answers
// against the API's description: checkAnswer holds them to the error
// format itself, whatever a route's documented errors.
var hostileHTTP = &http.Client{Timeout: 30 * time.Second}

// hostileCase is one hostile request.
type hostileCase struct {
	name        string
	path        string // "" means the route's own path
	query       string
	body        []byte
	contentType string // "" means application/json when there is a body
	// mayPass marks input that is in fact acceptable.
	mayPass bool
	// field, when set, must be named by a 400's message.
	field string
	// header holds more request headers.
	header http.Header
	// signed marks a receive request signed with the source's secret:
	// header carries its signature.
	signed bool
}

// send sends c to the route and returns the answer.
func (w *hostileWorld) send(tb testing.TB, method, path string, c hostileCase) *apiResp {
	tb.Helper()
	var rd io.Reader
	if c.body != nil {
		rd = bytes.NewReader(c.body)
	}
	if c.query != "" {
		path += "?" + c.query
	}
	req, err := http.NewRequest(method, w.srv.URL+path, rd)
	if err != nil {
		tb.Fatalf("build %s %s: %v", method, path, err)
	}
	if c.body != nil {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	resp, err := hostileHTTP.Do(req)
	if err != nil {
		tb.Fatalf("%s %s (%s): %v", method, path, c.name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s (%s): read answer: %v", method, path, c.name, err)
	}
	return &apiResp{Method: method, Path: path, Status: resp.StatusCode, Header: resp.Header, Raw: raw}
}

// hostileCodes are the error codes of the 4xx statuses the API answers.
var hostileCodes = map[int]string{
	http.StatusBadRequest:            "BAD_REQUEST",
	http.StatusUnauthorized:          "UNAUTHORIZED",
	http.StatusNotFound:              "NOT_FOUND",
	http.StatusConflict:              "CONFLICT",
	http.StatusGone:                  "GONE",
	http.StatusRequestEntityTooLarge: "PAYLOAD_TOO_LARGE",
	http.StatusTooManyRequests:       "RATE_LIMITED",
}

// checkAnswer checks that r is a 4xx in the error format with the right
// code (naming c.field in a 400), or a success where c may pass. It
// reports whether r is a success.
func checkAnswer(tb testing.TB, pattern string, c hostileCase, r *apiResp) bool {
	tb.Helper()
	what := fmt.Sprintf("%s, %s", pattern, c.name)
	if r.Status >= 200 && r.Status < 300 {
		if !c.mayPass {
			tb.Errorf("%s: accepted with %d: %.300s", what, r.Status, r.Raw)
		}
		return true
	}
	code, ok := hostileCodes[r.Status]
	if !ok {
		tb.Errorf("%s: status %d, want a 4xx: %.300s", what, r.Status, r.Raw)
		return false
	}
	var shape struct {
		Error *struct {
			Code    *string `json:"code"`
			Message *string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.Raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&shape); err != nil || shape.Error == nil || shape.Error.Code == nil || shape.Error.Message == nil {
		tb.Errorf("%s: %d answer %.300q is not {\"error\":{\"code\",\"message\"}}", what, r.Status, r.Raw)
		return false
	}
	if *shape.Error.Code != code {
		tb.Errorf("%s: %d with code %q, want %q", what, r.Status, *shape.Error.Code, code)
	}
	msg := *shape.Error.Message
	if msg == "" || len(msg) > 1000 {
		tb.Errorf("%s: message %.100q is empty or far too long (%d bytes)", what, msg, len(msg))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("%s: Content-Type %q", what, ct)
	}
	if c.field != "" && r.Status == http.StatusBadRequest && !strings.Contains(msg, c.field) {
		tb.Errorf("%s: message %q does not name %s", what, msg, c.field)
	}
	return false
}

// snapshot describes every object of the world: how many of each there
// are, and the app, webhook, source and event type as read, without the
// figures that change as deliveries happen.
func (w *hostileWorld) snapshot(tb testing.TB) string {
	tb.Helper()
	base := "/v1/apps/" + w.app
	var b strings.Builder
	for _, l := range []struct{ path, name string }{
		{"/v1/apps", "apps"}, {"/v1/event-types", "event_types"}, {base + "/keys", "keys"},
		{base + "/webhooks", "webhooks"}, {base + "/sources", "sources"}, {base + "/events", "events"},
		{base + "/deliveries", "deliveries"}, {base + "/sources/events", "events"},
	} {
		items, _ := apiItems(tb, apiWant(tb, apiAdmin(tb, w.srv, "GET", l.path+"?limit=250", nil), http.StatusOK), l.name)
		fmt.Fprintf(&b, "%s: %d\n", l.path, len(items))
	}
	for _, p := range []string{base, base + "/webhooks/" + w.ids["webhooks"], base + "/sources/" + w.ids["sources"], "/v1/event-types/" + w.typeName} {
		obj := apiWant(tb, apiAdmin(tb, w.srv, "GET", p, nil), http.StatusOK)
		for _, volatile := range []string{"delivery_count", "last_delivery_at", "success_rate_24h", "consecutive_failures", "event_count", "last_event_at"} {
			delete(obj, volatile)
		}
		raw, _ := json.Marshal(obj)
		fmt.Fprintf(&b, "%s: %s\n", p, raw)
	}
	return b.String()
}

// alive checks that the server still serves a normal request.
func (w *hostileWorld) alive(tb testing.TB, after string) {
	tb.Helper()
	for _, p := range []string{"/readyz", "/v1/event-types?limit=1", "/v1/apps?limit=1"} {
		if r := apiAdmin(tb, w.srv, "GET", p, nil); r.Status != http.StatusOK {
			tb.Fatalf("after %s, GET %s answers %d: %s", after, p, r.Status, r.Raw)
		}
	}
}

const hostileMB = 1 << 20

// hostileValues are wrong or hostile values for a field of kind k, as
// raw JSON, each with a name.
func hostileValues(k hostileKind, enum bool) [][2]string {
	huge := `"` + strings.Repeat("a", hostileMB) + `"`
	str := [][2]string{
		{"number", `42`}, {"boolean", `true`}, {"array", `["a"]`}, {"object", `{"a":"b"}`},
		{"1 MB string", huge}, {"invalid UTF-8", "\"a\xff\xfeb\""}, {"NUL", `"a\u0000b"`}, {"raw NUL", "\"a\x00b\""},
		{"lone surrogate", `"\ud800"`}, {"control character", `"a\u0001b"`},
	}
	if enum {
		str = append(str, [2]string{"unknown enum value", `"nope"`}, [2]string{"enum in capitals", `"ACTIVE"`})
	}
	integer := [][2]string{
		{"string", `"5"`}, {"float", `1.5`}, {"boolean", `true`}, {"1e400", `1e400`}, {"-1e400", `-1e400`},
		{"negative", `-1`}, {"beyond int64", `9223372036854775808`}, {"huge", `1e20`}, {"array", `[1]`},
	}
	switch k {
	case kString:
		return str
	case kInt:
		return integer
	case kNumber:
		return [][2]string{{"string", `"5"`}, {"boolean", `true`}, {"1e400", `1e400`}, {"negative", `-1`}, {"huge", `1e300`}, {"array", `[1]`}}
	case kBool:
		return [][2]string{{"string", `"true"`}, {"number", `1`}, {"array", `[true]`}, {"object", `{}`}}
	case kStrings:
		return [][2]string{
			{"string", `"a"`}, {"object", `{"0":"a"}`}, {"numbers", `[1,2]`}, {"nulls", `[null]`}, {"nested", `[["a"]]`},
			{"NUL entry", `["a\u0000b"]`}, {"invalid UTF-8 entry", "[\"\xff\"]"}, {"1 MB entry", `[` + huge + `]`},
		}
	case kStringMap:
		return [][2]string{
			{"string", `"a"`}, {"array", `["a"]`}, {"number values", `{"X-A":1}`}, {"object values", `{"X-A":{}}`},
			{"NUL in key", `{"X-\u0000":"v"}`}, {"NUL in value", `{"X-A":"a\u0000b"}`}, {"invalid UTF-8 key", "{\"X-\xff\":\"v\"}"},
			{"1 MB value", `{"X-A":` + huge + `}`}, {"duplicate keys", `{"X-A":"1","X-A":"2"}`},
		}
	case kObject:
		return [][2]string{{"string", `"a"`}, {"array", `[{}]`}, {"number", `1`}, {"1e400 inside", `{"n":1e400}`}, {"duplicate keys inside", `{"a":1,"a":2}`}}
	case kTime:
		return [][2]string{{"number", `1700000000`}, {"words", `"yesterday"`}, {"month 13", `"2026-13-01T00:00:00Z"`}, {"year 10000", `"10000-01-01T00:00:00Z"`}, {"NUL", `"2026-01-01T00:00:00Z\u0000"`}}
	case kObjects:
		return [][2]string{
			{"string", `"a"`}, {"object", `{"type":"hostile.event"}`}, {"numbers", `[1]`}, {"nulls", `[null]`},
			{"wrong item type", `[{"type":1}]`}, {"NUL type", `[{"type":"hostile.event\u0000"}]`},
		}
	}
	return nil
}

// withField returns the valid body with field set to the raw value,
// written by hand so that broken bytes reach the server as they are.
func withField(valid, field, raw string) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(valid), &m); err != nil {
		panic("bad valid body " + valid)
	}
	keys := make([]string, 0, len(m)+1)
	for k := range m {
		keys = append(keys, k)
	}
	if _, ok := m[field]; !ok {
		keys = append(keys, field)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", k)
		if k == field {
			b.WriteString(raw)
		} else {
			b.Write(m[k])
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// bodyCases are the hostile bodies for a route that reads one.
func bodyCases(rt hostileRoute) []hostileCase {
	first := "name"
	if len(rt.fields) > 0 {
		first = rt.fields[0].name
	}
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	deepObj := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	cs := []hostileCase{
		{name: "empty body", body: []byte{}, mayPass: rt.emptyOK},
		{name: "null", body: []byte("null"), mayPass: rt.emptyOK},
		{name: "not JSON", body: []byte("hello")},
		{name: "XML", body: []byte("<a>1</a>")},
		{name: "truncated", body: []byte(rt.body[:len(rt.body)-1])},
		{name: "binary", body: []byte("\xff\xfe\x00\x01")},
		{name: "array", body: []byte("[" + rt.body + "]")},
		{name: "string", body: []byte(`"x"`)},
		{name: "number", body: []byte(`1`)},
		{name: "two values", body: []byte(rt.body + rt.body)},
		{name: "duplicate key", body: []byte(`{"` + first + `":"a","` + first + `":"b"}`)},
		// Unknown fields are ignored, so this is an empty body.
		{name: "NUL key", body: []byte(`{"\u0000":1}`), mayPass: rt.emptyOK},
		{name: "raw NUL", body: []byte("{\"" + first + "\":\"a\x00\"}")},
		{name: "nested 10,000 deep", body: withField(rt.body, first, deep)},
		{name: "objects nested 10,000 deep", body: withField(rt.body, first, deepObj)},
		{name: "2 MB body", body: withField(rt.body, first, `"`+strings.Repeat("a", 2*hostileMB)+`"`)},
		{name: "text/plain", body: []byte(rt.body), contentType: "text/plain"},
		{name: "multipart", body: []byte(rt.body), contentType: "multipart/form-data; boundary=x"},
		{name: "unparsable content type", body: []byte(rt.body), contentType: "application/json; ="},
	}
	for _, x := range rt.extra {
		name := x[0] + ": " + x[1]
		cs = append(cs, hostileCase{name: name, body: withField(rt.body, x[0], x[2]), field: x[0], mayPass: slices.Contains(rt.fine, name)})
	}
	for _, f := range rt.fields {
		for _, v := range hostileValues(f.kind, f.enum) {
			name := f.name + ": " + v[0]
			cs = append(cs, hostileCase{name: name, body: withField(rt.body, f.name, v[1]), field: f.name, mayPass: slices.Contains(rt.fine, name)})
		}
	}
	return cs
}

// queryCases are hostile query strings for a route's parameters.
func queryCases(rt hostileRoute) []hostileCase {
	var cs []hostileCase
	for _, q := range rt.query {
		var vals []string
		switch q {
		case "limit":
			vals = []string{"-1", "0", "abc", "251", "1.5", "1e2", "99999999999999999999", "%00", ""}
		case "after":
			vals = []string{"garbage", "%00", "%ff", strings.Repeat("a", 10000), "wh_01JAB3C4D5E6F7G8H9J0K1M2N3", "'--"}
		case "status":
			vals = []string{"nope", "%00", "%ff", "PENDING"}
		case "webhook_id":
			vals = []string{"nope", "%00", "%ff", strings.Repeat("w", 10000), "wh_01jab3c4d5e6f7g8h9j0k1m2n3"}
		case "since", "until":
			vals = []string{"yesterday", "%00", "%ff", "1700000000", "2026-13-01T00:00:00Z", strings.Repeat("9", 10000)}
			if q == "since" {
				// More than 1,500 days before now; after now.
				vals = append(vals, "2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z")
			}
		case "interval":
			vals = []string{"week", "%00", "%ff", "MINUTE", "minute"} // a minute over the default day is fine
		}
		for _, v := range vals {
			c := hostileCase{name: q + "=" + v, query: q + "=" + v}
			if v == "" || q+"="+v == "interval=minute" {
				c.mayPass = true // an empty parameter is an absent one
			}
			if len(c.name) > 60 {
				c.name = c.name[:60] + "..."
			}
			cs = append(cs, c)
		}
	}
	return cs
}

// badPaths are hostile values for a path parameter.
var badPaths = map[string]string{
	"missing":      "nope",
	"NUL":          "%00",
	"invalid UTF8": "%ff%fe",
	"control":      "%01",
	"huge":         strings.Repeat("x", 8000),
	"slash":        "a%2Fb",
	"dots":         "..%2F..",
	"quote":        "'%20OR%201=1--",
	"well-formed":  "wh_01jab3c4d5e6f7g8h9j0k1m2n3",
}

// pathCases are the route's own request with each parameter made bad.
func (w *hostileWorld) pathCases(pattern string, rt hostileRoute) []hostileCase {
	_, p, _ := strings.Cut(pattern, " ")
	var cs []hostileCase
	for _, seg := range strings.Split(p, "/") {
		if !strings.HasPrefix(seg, "{") {
			continue
		}
		param := strings.Trim(seg, "{}")
		for name, v := range badPaths {
			_, path := w.path(pattern, map[string]string{param: v})
			c := hostileCase{name: "{" + param + "} " + name, path: path}
			if rt.body != "" {
				c.body = []byte(rt.body)
			}
			cs = append(cs, c)
		}
	}
	return cs
}

// TestHostileInputEveryRoute sends hostile requests to every route.
func TestHostileInputEveryRoute(t *testing.T) {
	t.Parallel()
	w := hostileSetup(t)
	table := hostileRoutes(w.rc.URL)
	routes := w.routes(t)
	for _, pattern := range routes {
		if _, ok := table[pattern]; !ok {
			t.Errorf("route %q has no row in hostileRoutes", pattern)
		}
	}
	for pattern := range table {
		if !slices.Contains(routes, pattern) {
			t.Errorf("hostileRoutes has a row for %q, which the server does not register", pattern)
		}
	}
	if t.Failed() {
		return
	}
	before := w.snapshot(t)
	for _, pattern := range routes {
		rt := table[pattern]
		method, ownPath := w.path(pattern, nil)
		var cases []hostileCase
		switch {
		case rt.raw:
			cases = append(cases, rawCases()...)
			cases = append(cases, signedCases()...)
			w.resetSourceSecret(t) // the rotate cases gave it others
			before = w.snapshot(t)
		case rt.body != "":
			cases = append(cases, bodyCases(rt)...)
		}
		cases = append(cases, queryCases(rt)...)
		cases = append(cases, w.pathCases(pattern, rt)...)
		cases = append(cases, authCases(pattern, rt)...)
		for _, c := range cases {
			path := ownPath
			if c.path != "" {
				path = c.path
			}
			r := w.send(t, method, path, c)
			if checkAnswer(t, pattern, c, r) {
				if c.signed {
					w.wantInbound(t, c, r)
				}
				before = w.snapshot(t) // a success may change things
				continue
			}
			if method == http.MethodGet {
				continue
			}
			if after := w.snapshot(t); after != before {
				t.Errorf("%s, %s: refused, yet the objects changed:\nbefore %s\nafter  %s", pattern, c.name, before, after)
				before = after
			}
		}
		w.alive(t, pattern)
	}
}

// authCases are hostile bearer tokens, sent with the route's valid body;
// the probes, which need no token, ignore them.
func authCases(pattern string, rt hostileRoute) []hostileCase {
	probe := pattern == "GET /healthz" || pattern == "GET /readyz" || pattern == "GET /metrics" || pattern == "GET /v1/openapi.json"
	var cs []hostileCase
	for name, token := range map[string]string{
		"no Bearer":             "Basic dGVzdA==",
		"invalid UTF-8 token":   "Bearer \xff\xfe",
		"8 KB token":            "Bearer hk_" + strings.Repeat("k", 8000),
		"app key prefix only":   "Bearer hk_",
		"admin token with junk": "Bearer " + testAdminToken + "\x80",
	} {
		c := hostileCase{name: "Authorization: " + name, header: http.Header{"Authorization": {token}}, mayPass: probe}
		if rt.body != "" {
			c.body = []byte(rt.body)
		}
		cs = append(cs, c)
	}
	return cs
}

// rawCases are hostile bodies for the receive route, none of them signed.
func rawCases() []hostileCase {
	return []hostileCase{
		{name: "empty body", body: []byte{}},
		{name: "not JSON", body: []byte("hello"), contentType: "text/plain"},
		{name: "binary", body: []byte("\xff\xfe\x00\x01"), contentType: "application/octet-stream"},
		{name: "nested 10,000 deep", body: []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))},
		{name: "2 MB body", body: bytes.Repeat([]byte("a"), 2*hostileMB)},
		{name: "NUL key", body: []byte(`{"\u0000":1}`)},
	}
}

// TestHostileEventData publishes event data with NUL escapes and other odd
// strings and numbers. Each is refused with a clear 4xx, or accepted, kept
// and delivered intact: the receiver gets exactly the canonical bytes
// (what JSON.stringify(JSON.parse(data)) writes), and reading the event
// gives back the same value.
func TestHostileEventData(t *testing.T) {
	t.Parallel()
	w := hostileSetup(t)
	deep := strings.Repeat(`{"a":`, 127) + "1" + strings.Repeat("}", 127)
	cases := []struct{ name, data, want string }{
		{"NUL in a string", `{"s":"a\u0000b"}`, `{"s":"a\u0000b"}`},
		{"NUL as a key", `{"\u0000":"nul key","k\u0000":1}`, `{"\u0000":"nul key","k\u0000":1}`},
		{"control characters", `{"s":"\u0001\u001f\b\f\n\r\t\u007f"}`, "{\"s\":\"\\u0001\\u001f\\b\\f\\n\\r\\t\x7f\"}"},
		{"separators and HTML", `{"s":"\u2028\u2029<>&'\/"}`, "{\"s\":\"\u2028\u2029<>&'/\"}"},
		{"escaped astral character", `{"s":"\ud83d\ude00"}`, `{"s":"😀"}`},
		{"lone surrogate", `{"s":"\ud800"}`, `{"s":"\ud800"}`},
		{"numbers", `{"n":1E+2,"m":-0,"f":0.10,"big":1e308,"tiny":5e-324,"i":12345678901234567890}`,
			`{"n":100,"m":0,"f":0.1,"big":1e+308,"tiny":5e-324,"i":12345678901234567000}`},
		{"integer keys", `{"b":1,"2":2,"1":1,"01":0}`, `{"1":1,"2":2,"b":1,"01":0}`},
		{"empty key and value", `{"":""}`, `{"":""}`},
		{"nested 128 deep", deep, deep},
	}
	base := "/v1/apps/" + w.app
	delivered := 1 // the setup's event
	for _, c := range cases {
		r := apiAdmin(t, w.srv, "POST", base+"/events", `{"type":"hostile.event","data":`+c.data+`}`)
		if r.Status != http.StatusAccepted {
			checkAnswer(t, "publish", hostileCase{name: c.name}, r)
			t.Logf("%s: refused with %d: %s", c.name, r.Status, r.Raw)
			continue
		}
		id := apiStr(t, apiWant(t, r, http.StatusAccepted), "id")
		delivered++
		got := w.rc.waitFor(t, delivered, 10*time.Second)
		var body []byte
		for _, g := range got {
			if g.Header.Get("webhook-id") == id {
				body = g.Body
			}
		}
		if !bytes.HasSuffix(body, []byte(`,"data":`+c.want+`}`)) {
			t.Errorf("%s: delivered %q, want data %q", c.name, body, c.want)
		}
		ev := apiWant(t, apiAdmin(t, w.srv, "GET", base+"/events/"+id, nil), http.StatusOK)
		var want any
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !sameJSON(ev["data"], want) {
			t.Errorf("%s: stored data %#v, want %#v", c.name, ev["data"], want)
		}
	}
	w.alive(t, "odd event data")
}

// sameJSON reports whether two values decoded by encoding/json encode
// alike.
func sameJSON(a, b any) bool {
	ra, _ := json.Marshal(a)
	rb, _ := json.Marshal(b)
	return bytes.Equal(ra, rb)
}

// wantInbound checks that a signed request the receive route took is
// stored: the source's events list the id it answered, with the bytes of
// the body where they are text a JSON string can carry.
func (w *hostileWorld) wantInbound(tb testing.TB, c hostileCase, r *apiResp) {
	tb.Helper()
	var ans struct {
		Received bool   `json:"received"`
		ID       string `json:"id"`
	}
	if err := json.Unmarshal(r.Raw, &ans); err != nil || !ans.Received || ans.ID == "" {
		tb.Errorf("%s: receive answered %d %s, want {\"received\":true,\"id\":...}", c.name, r.Status, r.Raw)
		return
	}
	path := "/v1/apps/" + w.app + "/sources/" + w.ids["sources"] + "/events?limit=250"
	items, _ := apiItems(tb, apiWant(tb, apiAdmin(tb, w.srv, "GET", path, nil), http.StatusOK), "events")
	for _, it := range items {
		if it["id"] != ans.ID {
			continue
		}
		if body, _ := it["body"].(string); utf8.Valid(c.body) && body != string(c.body) {
			tb.Errorf("%s: stored body %.100q, want %.100q", c.name, body, c.body)
		}
		return
	}
	tb.Errorf("%s: received as %s, which the source's events do not list", c.name, ans.ID)
}

// resetSourceSecret gives the world's source its first secret again.
func (w *hostileWorld) resetSourceSecret(tb testing.TB) {
	tb.Helper()
	path := "/v1/apps/" + w.app + "/sources/" + w.ids["sources"] + "/rotate"
	apiWant(tb, apiAdmin(tb, w.srv, "POST", path, map[string]any{"secret": hostileSourceSecret}), http.StatusOK)
}

// hostileSourceSecret is the world's GitHub source's secret.
const hostileSourceSecret = "secret-1"

// githubSigned returns a receive case with body signed as GitHub signs it,
// with the given event and delivery headers.
func githubSigned(name string, body []byte, event, delivery string) hostileCase {
	m := hmac.New(sha256.New, []byte(hostileSourceSecret))
	m.Write(body)
	h := http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(m.Sum(nil))}}
	if event != "" {
		h["X-Github-Event"] = []string{event}
	}
	if delivery != "" {
		h["X-Github-Delivery"] = []string{delivery}
	}
	return hostileCase{name: "signed, " + name, body: body, header: h, signed: true, mayPass: true, contentType: "application/octet-stream"}
}

// signedCases are hostile bodies and headers the source's sender signed:
// hookd takes them (a sender's bytes are its own) or refuses them
// clearly.
func signedCases() []hostileCase {
	return []hostileCase{
		githubSigned("invalid UTF-8 body", []byte("\xff\xfe\x00\x01 not json"), "push", "d-1"),
		githubSigned("NUL in JSON", []byte(`{"action":"a\u0000b","\u0000":1}`), "issues", "d-2"),
		githubSigned("nested 10,000 deep", []byte(strings.Repeat(`{"a":`, 10000)+"1"+strings.Repeat("}", 10000)), "push", "d-3"),
		githubSigned("action of another type", []byte(`{"action":{"x":[1e400]}}`), "issues", "d-4"),
		githubSigned("event header of invalid UTF-8", []byte(`{}`), "\xff\xfe", "d-5"),
		githubSigned("huge delivery id", []byte(`{}`), "push", strings.Repeat("d", 8000)),
		githubSigned("delivery id of invalid UTF-8", []byte(`{}`), "push", "\xff\x80"),
		githubSigned("no event header", []byte(`{}`), "", "d-6"),
		githubSigned("2 MB body", bytes.Repeat([]byte("a"), 2*hostileMB), "push", "d-7"),
		githubSigned("empty body", []byte{}, "push", "d-8"),
		withHeaders(githubSigned("content type and header of invalid UTF-8", []byte(`{}`), "push", "d-9"),
			"Content-Type", "application/\xff\xfe", "X-Junk", "\xff\x80 \xc3"),
	}
}

// withHeaders returns c with more headers, given as name, value pairs.
func withHeaders(c hostileCase, kv ...string) hostileCase {
	for i := 0; i < len(kv); i += 2 {
		if kv[i] == "Content-Type" {
			c.contentType = kv[i+1]
			continue
		}
		c.header[kv[i]] = []string{kv[i+1]}
	}
	return c
}
