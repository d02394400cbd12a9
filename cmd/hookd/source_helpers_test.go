package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Helpers of the inbound source tests (source_*_test.go). They speak raw
// HTTP, so that the tests see exactly what the server answers, and sign
// what they send with implementations written here from each provider's
// published algorithm, never with hookd's own webhook package.

// srcE2EWait is how long a test waits for something the engine does in
// well under a second; generous, so that a loaded machine does not flake.
const srcE2EWait = 20 * time.Second

// srcE2EQuiet is how long a test watches for something that must not
// happen (a forward of a duplicate, a held delivery). A lower bound only.
const srcE2EQuiet = 400 * time.Millisecond

// srcE2EFast is an app profile that retries forwards within a twentieth of
// a second and never auto-disables.
const srcE2EFast = `{"retry":{"schedule_seconds":[0.05],"max_attempts":5,"jitter":0},"auto_disable_after":0}`

// srcE2EResp is one answer of the server.
type srcE2EResp struct {
	Method, URL string
	Status      int
	Header      http.Header
	Raw         []byte
	Body        map[string]any // nil unless the answer is a JSON object
}

// decode decodes the answer into v, failing the test if it cannot.
func (r *srcE2EResp) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Raw, v); err != nil {
		tb.Fatalf("%s %s: answer %s does not decode: %v", r.Method, r.URL, r.Raw, err)
	}
}

// srcE2ESend sends method url with the given headers (no Authorization
// unless they hold one). body is nil, []byte or string sent as is, or a
// value sent as JSON.
func srcE2ESend(tb testing.TB, method, url string, h http.Header, body any) *srcE2EResp {
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
			tb.Fatalf("encode %s %s body: %v", method, url, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatalf("build %s %s: %v", method, url, err)
	}
	for k, vs := range h {
		req.Header[k] = append([]string(nil), vs...)
	}
	resp, err := checkedHTTP(tb).Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read answer: %v", method, url, err)
	}
	r := &srcE2EResp{Method: method, URL: url, Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		r.Body = m
	}
	return r
}

// srcE2ECall sends an API request to srv authenticated with token.
func srcE2ECall(tb testing.TB, srv *testServer, token, method, path string, body any) *srcE2EResp {
	tb.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	return srcE2ESend(tb, method, srv.URL+path, h, body)
}

// srcE2EWant fails the test unless r has the given status.
func srcE2EWant(tb testing.TB, r *srcE2EResp, status int) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("%s %s = %d %s, want %d", r.Method, r.URL, r.Status, r.Raw, status)
	}
}

// srcE2EWantError fails the test unless r is an error answer in the
// documented format with the given status and code.
func srcE2EWantError(tb testing.TB, r *srcE2EResp, status int, code string) string {
	tb.Helper()
	srcE2EWant(tb, r, status)
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Raw, &e); err != nil || e.Error == nil {
		tb.Fatalf("%s %s: answer %s is not {\"error\":{...}}", r.Method, r.URL, r.Raw)
	}
	if e.Error.Code != code || e.Error.Message == "" {
		tb.Fatalf("%s %s: error %s, want code %s and a message", r.Method, r.URL, r.Raw, code)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("%s %s: error answer has Content-Type %q", r.Method, r.URL, ct)
	}
	return e.Error.Message
}

// srcE2ESource is a source as the API shows it.
type srcE2ESource struct {
	ID               string     `json:"id"`
	AppID            string     `json:"app_id"`
	Name             string     `json:"name"`
	Provider         string     `json:"provider"`
	Status           string     `json:"status"`
	Enabled          bool       `json:"enabled"`
	ForwardURL       *string    `json:"forward_url"`
	Events           []string   `json:"events"`
	Description      *string    `json:"description"`
	ToleranceSeconds int        `json:"tolerance_seconds"`
	ReceiveURL       string     `json:"receive_url"`
	EventCount       int64      `json:"event_count"`
	LastEventAt      *time.Time `json:"last_event_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	Secret           *string    `json:"secret"`
}

// srcE2EEvent is what a source received, as the API shows it.
type srcE2EEvent struct {
	ID              string            `json:"id"`
	AppID           string            `json:"app_id"`
	SourceID        string            `json:"source_id"`
	SourceName      string            `json:"source_name"`
	Type            *string           `json:"type"`
	ProviderEventID *string           `json:"provider_event_id"`
	Status          string            `json:"status"`
	ContentType     *string           `json:"content_type"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	Test            bool              `json:"test"`
	CreatedAt       time.Time         `json:"created_at"`
	Deliveries      []struct {
		ID           string `json:"id"`
		Status       string `json:"status"`
		AttemptCount int    `json:"attempt_count"`
	} `json:"deliveries"`
}

// srcE2EDelivery is a forwarding delivery, with its attempts in single
// reads.
type srcE2EDelivery struct {
	ID             string  `json:"id"`
	EventID        string  `json:"event_id"`
	SourceID       *string `json:"source_id"`
	URL            *string `json:"url"`
	Status         string  `json:"status"`
	AttemptCount   int     `json:"attempt_count"`
	LastStatusCode *int    `json:"last_status_code"`
	Test           bool    `json:"test"`
	Attempts       []struct {
		Attempt        int               `json:"attempt"`
		StatusCode     *int              `json:"status_code"`
		RequestHeaders map[string]string `json:"request_headers"`
		ResponseBody   *string           `json:"response_body"`
		Error          *string           `json:"error"`
	} `json:"attempts"`
}

// srcE2EEnv is one hookd and one app of it, for the source tests.
type srcE2EEnv struct {
	tb            testing.TB
	srv           *testServer
	token         string // what API calls authenticate with: the admin token
	appID         string
	defaultSecret string
}

// srcE2ESetup starts hookd (configure adjusts its config) and creates an
// app with the given profile (JSON; "" for the defaults).
func srcE2ESetup(tb testing.TB, profile string, configure ...func(*Config)) *srcE2EEnv {
	tb.Helper()
	return srcE2ESetupOn(tb, startServer(tb, configure...), profile)
}

// srcE2ESetupOn creates an app with the given profile on a running hookd.
func srcE2ESetupOn(tb testing.TB, srv *testServer, profile string) *srcE2EEnv {
	tb.Helper()
	in := map[string]any{"name": "Source test app"}
	if profile != "" {
		in["profile"] = json.RawMessage(profile)
	}
	r := srcE2ECall(tb, srv, testAdminToken, http.MethodPost, "/v1/apps", in)
	srcE2EWant(tb, r, http.StatusCreated)
	var app struct {
		ID            string `json:"id"`
		DefaultSecret string `json:"default_secret"`
	}
	r.decode(tb, &app)
	if app.ID == "" || !strings.HasPrefix(app.DefaultSecret, "whsec_") {
		tb.Fatalf("app create answer %s lacks an id or a whsec_ default_secret", r.Raw)
	}
	return &srcE2EEnv{tb: tb, srv: srv, token: testAdminToken, appID: app.ID, defaultSecret: app.DefaultSecret}
}

// call sends an API request as the env's token.
func (e *srcE2EEnv) call(method, path string, body any) *srcE2EResp {
	e.tb.Helper()
	return srcE2ECall(e.tb, e.srv, e.token, method, path, body)
}

// sourcesPath is the app's sources collection.
func (e *srcE2EEnv) sourcesPath() string { return "/v1/apps/" + e.appID + "/sources" }

// create creates a source and expects 201 with a secret.
func (e *srcE2EEnv) create(in map[string]any) *srcE2ESource {
	e.tb.Helper()
	r := e.call(http.MethodPost, e.sourcesPath(), in)
	srcE2EWant(e.tb, r, http.StatusCreated)
	var src srcE2ESource
	r.decode(e.tb, &src)
	if src.ID == "" || src.Secret == nil || *src.Secret == "" {
		e.tb.Fatalf("source create answer %s lacks an id or a secret", r.Raw)
	}
	return &src
}

// source reads a source.
func (e *srcE2EEnv) source(id string) *srcE2ESource {
	e.tb.Helper()
	r := e.call(http.MethodGet, e.sourcesPath()+"/"+id, nil)
	srcE2EWant(e.tb, r, http.StatusOK)
	var src srcE2ESource
	r.decode(e.tb, &src)
	return &src
}

// patch PATCHes a source and expects 200.
func (e *srcE2EEnv) patch(id string, in any) *srcE2ESource {
	e.tb.Helper()
	r := e.call(http.MethodPatch, e.sourcesPath()+"/"+id, in)
	srcE2EWant(e.tb, r, http.StatusOK)
	var src srcE2ESource
	r.decode(e.tb, &src)
	return &src
}

// events lists what a source received, newest first.
func (e *srcE2EEnv) events(id string) []srcE2EEvent {
	e.tb.Helper()
	r := e.call(http.MethodGet, e.sourcesPath()+"/"+id+"/events?limit=250", nil)
	srcE2EWant(e.tb, r, http.StatusOK)
	var out struct {
		Events []srcE2EEvent `json:"events"`
	}
	r.decode(e.tb, &out)
	if out.Events == nil {
		e.tb.Fatalf("events answer %s has no events list", r.Raw)
	}
	return out.Events
}

// deliveries lists a source's forwarding deliveries.
func (e *srcE2EEnv) deliveries(id string) []srcE2EDelivery {
	e.tb.Helper()
	r := e.call(http.MethodGet, e.sourcesPath()+"/"+id+"/deliveries?limit=250", nil)
	srcE2EWant(e.tb, r, http.StatusOK)
	var out struct {
		Deliveries []srcE2EDelivery `json:"deliveries"`
	}
	r.decode(e.tb, &out)
	if out.Deliveries == nil {
		e.tb.Fatalf("deliveries answer %s has no deliveries list", r.Raw)
	}
	return out.Deliveries
}

// delivery reads one delivery with its attempts.
func (e *srcE2EEnv) delivery(id string) *srcE2EDelivery {
	e.tb.Helper()
	r := e.call(http.MethodGet, "/v1/apps/"+e.appID+"/deliveries/"+id, nil)
	srcE2EWant(e.tb, r, http.StatusOK)
	var d srcE2EDelivery
	r.decode(e.tb, &d)
	return &d
}

// waitDelivery polls a delivery until cond holds and returns it.
func (e *srcE2EEnv) waitDelivery(id, what string, cond func(*srcE2EDelivery) bool) *srcE2EDelivery {
	e.tb.Helper()
	var d *srcE2EDelivery
	eventually(e.tb, srcE2EWait, "delivery "+id+" "+what, func() bool {
		r := e.call(http.MethodGet, "/v1/apps/"+e.appID+"/deliveries/"+id, nil)
		if r.Status != http.StatusOK {
			return false
		}
		var got srcE2EDelivery
		r.decode(e.tb, &got)
		d = &got
		return cond(d)
	})
	return d
}

// onlyDelivery returns the one forwarding delivery of a source.
func (e *srcE2EEnv) onlyDelivery(sourceID string) srcE2EDelivery {
	e.tb.Helper()
	ds := e.deliveries(sourceID)
	if len(ds) != 1 {
		e.tb.Fatalf("source %s has %d deliveries, want 1: %+v", sourceID, len(ds), ds)
	}
	return ds[0]
}

// wantNothingStored fails unless a source has no events and says so.
func (e *srcE2EEnv) wantNothingStored(id string) {
	e.tb.Helper()
	if evs := e.events(id); len(evs) != 0 {
		e.tb.Fatalf("source %s stored %d events, want none: %+v", id, len(evs), evs)
	}
	if src := e.source(id); src.EventCount != 0 || src.LastEventAt != nil {
		e.tb.Fatalf("source %s has event_count %d, last_event_at %v, want 0 and null", id, src.EventCount, src.LastEventAt)
	}
}

// srcE2EReceive POSTs body to a receive URL with h and no Authorization.
func srcE2EReceive(tb testing.TB, url string, h http.Header, body []byte) *srcE2EResp {
	tb.Helper()
	if h.Get("Authorization") != "" {
		tb.Fatal("a receive request must not carry an Authorization header")
	}
	return srcE2ESend(tb, http.MethodPost, url, h, body)
}

// srcE2EWantReceived fails unless r is 200 {"received":true,"id":...} and
// returns the id.
func srcE2EWantReceived(tb testing.TB, r *srcE2EResp) string {
	tb.Helper()
	srcE2EWant(tb, r, http.StatusOK)
	var a struct {
		Received *bool  `json:"received"`
		ID       string `json:"id"`
	}
	r.decode(tb, &a)
	if a.Received == nil || !*a.Received || !strings.HasPrefix(a.ID, "evt_") {
		tb.Fatalf("receive answer %s, want {\"received\":true,\"id\":\"evt_...\"}", r.Raw)
	}
	return a.ID
}

// srcE2EMAC is HMAC-SHA256 of the concatenated parts under key.
func srcE2EMAC(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// srcE2EStandardKey is the HMAC key of a Standard Webhooks secret: the
// base64 after whsec_.
func srcE2EStandardKey(tb testing.TB, secret string) []byte {
	tb.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		tb.Fatalf("secret %q is not whsec_ + base64", secret)
	}
	return key
}

// srcE2ESignStandard is Standard Webhooks' v1 signature:
// base64(HMAC-SHA256(key, "{id}.{ts}.{body}")).
func srcE2ESignStandard(tb testing.TB, secret, id, ts string, body []byte) string {
	tb.Helper()
	sig := srcE2EMAC(srcE2EStandardKey(tb, secret), []byte(id+"."+ts+"."), body)
	return "v1," + base64.StdEncoding.EncodeToString(sig)
}

// srcE2EHex is hex(HMAC-SHA256(secret as is, parts...)), the form Stripe,
// GitHub, Linear, Slack and the hex schemes use.
func srcE2EHex(secret string, parts ...[]byte) string {
	return hex.EncodeToString(srcE2EMAC([]byte(secret), parts...))
}

// srcE2EUnix is a time as Unix seconds in decimal.
func srcE2EUnix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// srcE2EHookdSigned fails unless a forwarded request carries hookd's
// Standard Webhooks signature for message id eventID, made with secret
// and computed here by hand.
func srcE2EHookdSigned(tb testing.TB, got received, eventID, secret string) {
	tb.Helper()
	id, ts, sigs := got.Header.Get("webhook-id"), got.Header.Get("webhook-timestamp"), got.Header.Get("webhook-signature")
	if id != eventID {
		tb.Fatalf("forward has webhook-id %q, want the event id %q", id, eventID)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		tb.Fatalf("forward has webhook-timestamp %q, not Unix seconds", ts)
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		tb.Fatalf("forward's webhook-timestamp %s is %v away from now", ts, d)
	}
	want := srcE2ESignStandard(tb, secret, id, ts, got.Body)
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return
		}
	}
	tb.Fatalf("forward's webhook-signature %q does not hold %q (app default_secret over the raw body)", sigs, want)
}

// srcE2EQuietFor waits d and fails if count() changed meanwhile: for checks
// that something does not happen. d is a lower bound only.
func srcE2EQuietFor(tb testing.TB, d time.Duration, what string, count func() int) {
	tb.Helper()
	before := count()
	time.Sleep(d)
	if after := count(); after != before {
		tb.Fatalf("%s: count went from %d to %d while it should not have changed", what, before, after)
	}
}

// srcE2EStr shows an optional string field for a failure message.
func srcE2EStr(p *string) string {
	if p == nil {
		return "null"
	}
	return strconv.Quote(*p)
}

// String methods make failure messages show values, not pointers.

func (s srcE2ESource) String() string   { return srcE2EJSON(s) }
func (e srcE2EEvent) String() string    { return srcE2EJSON(e) }
func (d srcE2EDelivery) String() string { return srcE2EJSON(d) }

func srcE2EJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
