package main

// The four seed products' profiles (examples/profiles/*.json), each checked
// end to end: a real hookd delivers to a raw TCP receiver, which records the
// header names exactly as they were sent, and the delivery is verified with
// the product's own documented algorithm — written here in Go from the doc,
// and run as the doc's JavaScript under Node.js. Nothing here calls hookd's
// webhook or wire packages: the point is to check them from the outside.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
)

// ---------------------------------------------------------------------------
// The profile files.

// profFile returns the bytes of examples/profiles/<name>.json.
func profFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "profiles", name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// profPatched returns the profile file with its retry schedule shortened to
// waits of wait seconds without jitter, and max_attempts (when > 0) and
// auto_disable_after (when >= 0) replaced; the rest is the file's.
func profPatched(tb testing.TB, name string, wait float64, maxAttempts, autoDisable int) json.RawMessage {
	tb.Helper()
	var p map[string]any
	if err := json.Unmarshal(profFile(tb, name), &p); err != nil {
		tb.Fatal(err)
	}
	r := p["retry"].(map[string]any)
	r["schedule_seconds"], r["jitter"] = []float64{wait}, 0
	if maxAttempts > 0 {
		r["max_attempts"] = maxAttempts
	}
	if autoDisable >= 0 {
		p["auto_disable_after"] = autoDisable
	}
	b, err := json.Marshal(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestProfileFiles checks that each file is a complete, valid profile: it
// names every field of hookd.Profile (nothing is left to the defaults) and
// nothing else, and carries the product's documented policies.
func TestProfileFiles(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"alakazam", "alloy", "wazza", "weplaytestgames"} {
		t.Run(name, func(t *testing.T) {
			raw := profFile(t, name)
			var p hookd.Profile
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&p); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			// Complete: the file and the struct written back hold the same
			// keys and values.
			var fromFile, fromStruct map[string]any
			back, _ := json.Marshal(p)
			json.Unmarshal(raw, &fromFile)
			json.Unmarshal(back, &fromStruct)
			if !reflect.DeepEqual(fromFile, fromStruct) {
				t.Errorf("the file is not a complete profile:\n file %v\nfull %v", fromFile, fromStruct)
			}
			s := p.Retry.ScheduleSeconds
			for i := 1; i < len(s); i++ {
				if s[i] < s[i-1] {
					t.Errorf("retry.schedule_seconds %v is not a backoff", s)
				}
			}
			want := map[string]struct{ attempts, disable, maxWebhooks int }{
				"alakazam":        {3, 10, 0}, // "attempted up to 3 times"
				"alloy":           {8, 10, 1}, // "one webhook per user"
				"wazza":           {5, 10, 0}, // "after 5 failed attempts"
				"weplaytestgames": {8, 10, 0}, // "auto-disabled after 10 consecutive failures"
			}[name]
			if p.Retry.MaxAttempts != want.attempts || p.AutoDisableAfter != want.disable || p.MaxWebhooks != want.maxWebhooks {
				t.Errorf("max_attempts %d, auto_disable_after %d, max_webhooks %d; want %+v",
					p.Retry.MaxAttempts, p.AutoDisableAfter, p.MaxWebhooks, want)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// A raw receiver: it reads each request off the TCP connection itself, so
// the header names are recorded exactly as hookd wrote them (Go's server
// would canonicalise X-WPG-Signature to X-Wpg-Signature).

type profWireHeader struct{ Name, Value string }

type profRequest struct {
	Method, Target string
	Headers        []profWireHeader // in wire order, names as sent
	Body           []byte
}

// Header returns the values of the header spelled exactly name.
func (r profRequest) Header(name string) []string {
	var vs []string
	for _, h := range r.Headers {
		if h.Name == name {
			vs = append(vs, h.Value)
		}
	}
	return vs
}

// Get returns the one value of the header spelled exactly name, failing the
// test when there is not exactly one.
func (r profRequest) Get(tb testing.TB, name string) string {
	tb.Helper()
	vs := r.Header(name)
	if len(vs) != 1 {
		var names []string
		for _, h := range r.Headers {
			names = append(names, h.Name)
		}
		tb.Fatalf("header %q sent %d times, want once; names on the wire: %q", name, len(vs), names)
	}
	return vs[0]
}

type profReceiver struct {
	URL     string
	ln      net.Listener
	respond func(n int) int // status of the n-th request (1-based); nil: 200
	notify  chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	got     []profRequest
}

func profNewReceiver(tb testing.TB, path string, respond func(n int) int) *profReceiver {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	rc := &profReceiver{URL: "http://" + ln.Addr().String() + path, ln: ln, respond: respond, notify: make(chan struct{}, 1)}
	rc.wg.Add(1)
	go func() {
		defer rc.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			rc.wg.Add(1)
			go func() {
				defer rc.wg.Done()
				rc.serve(tb, c)
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		rc.wg.Wait()
	})
	return rc
}

// serve answers one request on c and closes it, so that the bytes recorded
// from c are that request's alone.
func (rc *profReceiver) serve(tb testing.TB, c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var raw bytes.Buffer
	req, err := http.ReadRequest(bufio.NewReader(io.TeeReader(c, &raw)))
	if err != nil {
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	head, _, ok := bytes.Cut(raw.Bytes(), []byte("\r\n\r\n"))
	if !ok {
		tb.Errorf("raw receiver: no end of headers in %q", raw.Bytes())
		return
	}
	lines := strings.Split(string(head), "\r\n")
	got := profRequest{Method: req.Method, Target: req.RequestURI, Body: body}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			tb.Errorf("raw receiver: malformed header line %q", l)
			return
		}
		got.Headers = append(got.Headers, profWireHeader{name, strings.Trim(value, " \t")})
	}
	rc.mu.Lock()
	rc.got = append(rc.got, got)
	n := len(rc.got)
	rc.mu.Unlock()
	status := http.StatusOK
	if rc.respond != nil {
		status = rc.respond(n)
	}
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status, http.StatusText(status))
	select {
	case rc.notify <- struct{}{}:
	default:
	}
}

func (rc *profReceiver) Received() []profRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

func (rc *profReceiver) waitFor(tb testing.TB, n int, timeout time.Duration) []profRequest {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		if got := rc.Received(); len(got) >= n {
			return got
		}
		select {
		case <-rc.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			tb.Fatalf("receiver got %d requests, want %d within %v", len(rc.Received()), n, timeout)
		}
	}
}

// profCheckWire checks the request line and that the header names on the
// wire are exactly the transport's, hookd's fixed ones and sigNames, each
// once, spelled as given.
func profCheckWire(t *testing.T, r profRequest, path string, sigNames ...string) {
	t.Helper()
	if r.Method != http.MethodPost || r.Target != path {
		t.Errorf("request %s %s, want POST %s", r.Method, r.Target, path)
	}
	allowed := map[string]bool{"Host": true, "Content-Length": true, "Accept-Encoding": true, "Content-Type": true, "User-Agent": true}
	for _, n := range sigNames {
		allowed[n] = true
		r.Get(t, n)
	}
	for _, h := range r.Headers {
		if !allowed[h.Name] {
			t.Errorf("unexpected header on the wire: %q (want exactly %q plus the transport's)", h.Name, sigNames)
		}
	}
	if ct := r.Get(t, "Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if ua := r.Get(t, "User-Agent"); !strings.HasPrefix(ua, "hookd/") {
		t.Errorf("User-Agent = %q, want hookd/<version>", ua)
	}
}

// profKeys returns the top-level keys of a JSON object in order.
func profKeys(tb testing.TB, body []byte) []string {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		tb.Fatalf("body is not a JSON object: %s", body)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			tb.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			tb.Fatal(err)
		}
	}
	return keys
}

// profTimestamp returns the body's "timestamp" string.
func profTimestamp(tb testing.TB, body []byte) string {
	tb.Helper()
	var v struct {
		Timestamp string `json:"timestamp"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Fatal(err)
	}
	return v.Timestamp
}

// profSetup starts hookd, adds the catalog types and an app with profile.
func profSetup(t *testing.T, uid string, profile json.RawMessage, types ...string) (*testServer, *client.App) {
	t.Helper()
	ctx := context.Background()
	srv := startServer(t)
	for _, typ := range types {
		if _, err := srv.Client.CreateEventType(ctx, typ, "seed event "+typ); err != nil {
			t.Fatal(err)
		}
	}
	app, err := srv.Client.CreateApp(ctx, &client.AppInput{Name: client.Ptr(uid), UID: client.Ptr(uid), Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	return srv, app
}

// profCheckAppProfile checks that the app took the profile file as it is.
func profCheckAppProfile(t *testing.T, app *client.App, file []byte) {
	t.Helper()
	var got, want any
	raw, err := json.Marshal(app.Profile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(file, &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("app profile\n got %s\nwant %s", raw, file)
	}
}

// profCheckSucceeded waits for the event's one delivery to be recorded.
func profCheckSucceeded(t *testing.T, c *client.Client, app, eventID string) {
	t.Helper()
	eventually(t, 5*time.Second, "the delivery to be recorded as succeeded", func() bool {
		ev, err := c.GetEvent(context.Background(), app, eventID)
		return err == nil && len(ev.Deliveries) == 1 && ev.Deliveries[0].Status == "succeeded"
	})
}

func profMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

func profHMACHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func profTamper(body []byte, from, to string) []byte {
	return bytes.Replace(body, []byte(from), []byte(to), 1)
}

// ---------------------------------------------------------------------------
// Node.js: each doc's JavaScript, run as written. The scripts read the
// request (raw header lines and base64 body) as JSON on stdin and secrets
// from the environment the docs name.

// profNodeHarness builds the express-like request and response the docs'
// handlers use: req.headers with lower-cased names (as Node's http module
// makes them), req.get() (express, case-insensitive), the raw body, and a
// res that records status and answer. console.log is captured.
const profNodeHarness = `
const __in = JSON.parse(fs.readFileSync(0, "utf8"));
const __logs = [];
console.log = (...args) => __logs.push(args);
const __headers = {};
for (const [name, value] of __in.headers) __headers[name.toLowerCase()] = value;
const __raw = Buffer.from(__in.body, "base64");
const res = {
  statusCode: 200, sent: null,
  status(c) { this.statusCode = c; return this; },
  send(b) { this.sent = b; return this; },
  json(b) { this.sent = b; return this; },
};
function __finish(extra) {
  process.stdout.write(JSON.stringify({ status: res.statusCode, sent: res.sent, logs: __logs, ...extra }));
}
`

// Alakazam: the doc's express handler, verbatim between the markers;
// express.raw() makes req.body the raw Buffer.
const profNodeAlakazam = `import crypto from "node:crypto";
import fs from "node:fs";
` + profNodeHarness + `
const SECRET = process.env.ALAKAZAM_WEBHOOK_SECRET; // whsec_…
const TOLERANCE_SECONDS = 300;
const req = { headers: __headers, get: (n) => __headers[n.toLowerCase()], body: __raw };
const handler =
  // ---- from the Alakazam doc ----
  (req, res) => {
    const header = req.get("Alakazam-Signature") || "";
    const parts = Object.fromEntries(
      header.split(",").map((kv) => kv.split("=")),
    );
    const t = parts.t;
    const rawBody = req.body.toString("utf8");

    const expected = crypto
      .createHmac("sha256", SECRET)
      .update(` + "`${t}.${rawBody}`" + `)
      .digest("hex");

    // Compare as raw bytes. timingSafeEqual THROWS on length mismatch,
    // so guard equal length first — a malformed v1 must be rejected, not 500.
    const received = Buffer.from(parts.v1 || "", "hex");
    const digest = Buffer.from(expected, "hex");
    const signatureOk =
      received.length === digest.length &&
      crypto.timingSafeEqual(received, digest);

    const ok =
      signatureOk &&
      Math.abs(Date.now() / 1000 - Number(t)) < TOLERANCE_SECONDS;

    if (!ok) return res.status(400).send("bad signature");

    const event = JSON.parse(rawBody);
    console.log("verified", event.type, event.data);
    res.json({ received: true });
  };
  // ---- end ----
handler(req, res);
__finish({});
`

// Alloy: the doc's Node.js example, verbatim; the usage passes the raw body
// and the API key.
const profNodeAlloy = `const fs = require("fs");
` + profNodeHarness + `
const request = { headers: __headers, body: __raw };
// ---- from the Alloy doc ----
const crypto = require('crypto');

function verifyWebhookSignature(payload, signature, apiKey) {
  // Derive the secret: SHA256 hash of the API key
  const secret = crypto
    .createHash('sha256')
    .update(` + "`alloy_${apiKey}`" + `)
    .digest('hex');
  
  // Calculate expected signature
  const expected = crypto
    .createHmac('sha256', secret)
    .update(payload)
    .digest('hex');
  
  // Use timing-safe comparison
  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(expected)
  );
}

// Usage
const isValid = verifyWebhookSignature(
  request.body,
  request.headers['x-alloy-signature'],
  process.env.ALLOY_API_KEY // 'yourapikey'
);
// ---- end ----
const event = JSON.parse(__raw.toString("utf8"));
__finish({ valid: isValid, event: event.event, dataKeys: Object.keys(event.data) });
`

// Wazza: the doc's Security section verbatim; express.json() makes req.body
// the parsed object, so the check only passes if JSON.stringify of it
// reproduces the signed bytes.
const profNodeWazza = `import crypto from 'crypto';
import fs from "node:fs";
` + profNodeHarness + `
const WEBHOOK_SECRET = process.env.WAZZA_WEBHOOK_SECRET;
const req = { headers: __headers, body: JSON.parse(__raw.toString("utf8")) };
// ---- from the Wazza doc (Security) ----
function verifyWazzaWebhook(req) {
const signature = req.headers['x-wazza-signature'];
const timestamp = req.headers['x-wazza-timestamp'];
const body = JSON.stringify(req.body);
// 1. Check timestamp to prevent replay attacks
const requestTime = parseInt(timestamp);
const currentTime = Math.floor(Date.now() / 1000);
if (Math.abs(currentTime - requestTime) > 300) { // 5 minutes
throw new Error('Webhook timestamp too old');
}
// 2. Verify HMAC signature
const payload = ` + "`${timestamp}.${body}`" + `;
const hmac = crypto.createHmac('sha256', WEBHOOK_SECRET);
const expectedSignature = hmac.update(payload).digest('hex');
if (!crypto.timingSafeEqual(
Buffer.from(signature),
Buffer.from(expectedSignature)
)) {
throw new Error('Invalid webhook signature');
}
return true;
}
// ---- end ----
let __valid = false, __error = null;
try { __valid = verifyWazzaWebhook(req); } catch (e) { __error = e.message; }
// ---- from the Wazza doc (handler) ----
const { event, jobId, status, output, error } = req.body;
// ---- end ----
__finish({ valid: __valid, error: __error, event, jobId, jobStatus: status, output,
  restringified: JSON.stringify(req.body) === __raw.toString("utf8") });
`

// WePlaytestGames: the doc's express handler with only its TypeScript
// annotations removed; express.json({verify}) keeps req.rawBody.
const profNodeWPG = `import crypto from 'crypto';
import fs from "node:fs";
` + profNodeHarness + `
const req = { headers: __headers, rawBody: __raw, body: JSON.parse(__raw.toString("utf8")) };
const handler =
// ---- from the WePlaytestGames doc ----
(req, res) => {
// Verify signature
const signature = req.headers['x-wpg-signature'];
const timestamp = req.headers['x-wpg-timestamp'];
const secret = process.env.WPG_WEBHOOK_SECRET;
const age = Math.floor(Date.now() / 1000) - parseInt(timestamp);
if (age > 300) {
return res.status(401).json({ error: 'Stale timestamp' });
}
const expected = crypto
.createHmac('sha256', secret)
.update(` + "`${timestamp}.${req.rawBody}`" + `)
.digest('hex');
if (!crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
return res.status(401).json({ error: 'Invalid signature' });
}
// Process the event
const { event, data } = req.body;
switch (event) {
case 'slot.submitted':
console.log(` + "`New submission for slot ${data.slotId}`" + `);
// Queue for review
break;
case 'slot.accepted':
console.log(` + "`Submission accepted for slot ${data.slotId}`" + `);
break;
case 'slot.rejected':
console.log(` + "`Submission rejected for slot ${data.slotId}`" + `);
break;
}
res.status(200).json({ received: true });
};
// ---- end ----
handler(req, res);
__finish({});
`

// profNodeResult is what the scripts print.
type profNodeResult struct {
	Status        int             `json:"status"`
	Sent          json.RawMessage `json:"sent"`
	Logs          [][]any         `json:"logs"`
	Valid         bool            `json:"valid"`
	Error         *string         `json:"error"`
	Event         string          `json:"event"`
	DataKeys      []string        `json:"dataKeys"`
	JobID         string          `json:"jobId"`
	JobStatus     string          `json:"jobStatus"`
	Output        json.RawMessage `json:"output"`
	Restringified bool            `json:"restringified"`
}

// profNodePath returns node's path, skipping the test when it is missing
// outside CI and failing it in CI.
func profNodePath(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("node is not on PATH and CI=%s: install Node.js to run the seed docs' JavaScript verification", ci)
		}
		t.Skip("node is not on PATH: skipping the seed docs' JavaScript verification (required when CI is set)")
	}
	return node
}

// profRunNode runs script (an ES module when module is set) on the request
// r, with body in place of r's body, and env added to the environment.
func profRunNode(t *testing.T, node string, module bool, script string, r profRequest, body []byte, env ...string) profNodeResult {
	t.Helper()
	headers := make([][2]string, len(r.Headers))
	for i, h := range r.Headers {
		headers[i] = [2]string{h.Name, h.Value}
	}
	in, _ := json.Marshal(map[string]any{"headers": headers, "body": base64.StdEncoding.EncodeToString(body)})
	args := []string{"-e", script}
	if module {
		args = []string{"--input-type=module", "-e", script}
	}
	cmd := exec.Command(node, args...)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	var res profNodeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output %q: %v", out, err)
	}
	return res
}

// ---------------------------------------------------------------------------
// Alakazam

// profVerifyAlakazam is the Alakazam doc's verification: parse t and v1 from
// Alakazam-Signature, hex HMAC-SHA256 of "{t}.{rawBody}" keyed by the whsec_
// secret string, constant-time compare as bytes, |now - t| < 300 s.
func profVerifyAlakazam(secret, header string, rawBody []byte, now time.Time) error {
	parts := map[string]string{}
	for _, kv := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(kv, "=")
		parts[k] = v
	}
	t := parts["t"]
	expected := profHMACHex(secret, t+"."+string(rawBody))
	received, err := hex.DecodeString(parts["v1"])
	digest, _ := hex.DecodeString(expected)
	if err != nil || !hmac.Equal(received, digest) {
		return errors.New("bad signature")
	}
	ts, err := strconv.ParseInt(t, 10, 64)
	if err != nil || math.Abs(float64(now.Unix()-ts)) >= 300 {
		return fmt.Errorf("timestamp %q out of tolerance", t)
	}
	return nil
}

func TestProfileAlakazam(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const appID = "11111111-2222-4333-8444-555555555555" // the doc's appId
	file := profFile(t, "alakazam")
	srv, app := profSetup(t, appID, file, "world.generation.succeeded", "world.generation.failed")
	profCheckAppProfile(t, app, file)
	c := srv.Client
	rc := profNewReceiver(t, "/webhooks/alakazam", nil)
	wh, err := c.CreateWebhook(ctx, appID, &client.WebhookInput{URL: client.Ptr(rc.URL),
		Events: []string{"world.generation.succeeded", "world.generation.failed"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(wh.Secret, "whsec_") {
		t.Fatalf("secret %q, want whsec_...", wh.Secret)
	}
	pub, _, err := c.Publish(ctx, appID, &client.PublishInput{Type: "world.generation.succeeded",
		Data: json.RawMessage(`{"worldId": "66666666-7777-4888-8999-aaaaaaaaaaaa", "jobId": "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"}`)})
	if err != nil || pub.Deliveries != 1 {
		t.Fatalf("publish = %+v, %v", pub, err)
	}
	got := rc.waitFor(t, 1, 10*time.Second)[0]

	profCheckWire(t, got, "/webhooks/alakazam", "Alakazam-Signature", "Alakazam-Event")
	if ev := got.Get(t, "Alakazam-Event"); ev != "world.generation.succeeded" {
		t.Errorf("Alakazam-Event = %q", ev)
	}
	want := `{"type":"world.generation.succeeded","created":` + strconv.FormatInt(pub.CreatedAt.Unix(), 10) +
		`,"appId":"` + appID + `","data":{"worldId":"66666666-7777-4888-8999-aaaaaaaaaaaa","jobId":"bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"}}`
	if string(got.Body) != want {
		t.Errorf("body\n got %s\nwant %s", got.Body, want)
	}
	if keys := profKeys(t, got.Body); !slices.Equal(keys, []string{"type", "created", "appId", "data"}) {
		t.Errorf("keys %q", keys)
	}
	var env struct {
		Created json.Number `json:"created"`
	}
	json.Unmarshal(got.Body, &env)
	if _, err := strconv.ParseInt(string(env.Created), 10, 64); err != nil {
		t.Errorf("created %q is not integer Unix seconds", env.Created)
	}

	sig := got.Get(t, "Alakazam-Signature")
	if !profMatch(`^t=[0-9]+,v1=[0-9a-f]{64}$`, sig) {
		t.Errorf("Alakazam-Signature = %q, want t=<unix>,v1=<hex>", sig)
	}
	if err := profVerifyAlakazam(wh.Secret, sig, got.Body, time.Now()); err != nil {
		t.Errorf("the doc's verification: %v", err)
	}
	if err := profVerifyAlakazam(wh.Secret, sig, profTamper(got.Body, "6666", "6667"), time.Now()); err == nil {
		t.Error("the doc's verification accepted a tampered body")
	}
	profCheckSucceeded(t, c, appID, pub.ID)

	t.Run("node", func(t *testing.T) {
		node := profNodePath(t)
		env := "ALAKAZAM_WEBHOOK_SECRET=" + wh.Secret
		res := profRunNode(t, node, true, profNodeAlakazam, got, got.Body, env)
		if res.Status != 200 || string(res.Sent) != `{"received":true}` || len(res.Logs) != 1 {
			t.Fatalf("the doc's handler answered %d %s, logs %v", res.Status, res.Sent, res.Logs)
		}
		if l := res.Logs[0]; l[0] != "verified" || l[1] != "world.generation.succeeded" || l[2].(map[string]any)["worldId"] != "66666666-7777-4888-8999-aaaaaaaaaaaa" {
			t.Errorf("the doc's handler logged %v", l)
		}
		if res := profRunNode(t, node, true, profNodeAlakazam, got, profTamper(got.Body, "6666", "6667"), env); res.Status != 400 {
			t.Errorf("the doc's handler answered %d to a tampered body, want 400", res.Status)
		}
	})
}

// TestProfileAlakazamRetries: the file's 3 attempts (with its schedule cut
// short), each the same body, freshly signed.
func TestProfileAlakazamRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _ := profSetup(t, "alakazam-retries", profPatched(t, "alakazam", 0.1, 0, -1), "world.generation.failed")
	rc := profNewReceiver(t, "/hook", func(int) int { return http.StatusInternalServerError })
	wh, err := srv.Client.CreateWebhook(ctx, "alakazam-retries", &client.WebhookInput{URL: client.Ptr(rc.URL)})
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := srv.Client.Publish(ctx, "alakazam-retries", &client.PublishInput{Type: "world.generation.failed",
		Data: json.RawMessage(`{"jobId":"bbbbbbbb-cccc-4ddd-8eee-ffffffffffff","error":"out of worlds"}`)})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the delivery to fail", func() bool {
		ev, err := srv.Client.GetEvent(ctx, "alakazam-retries", pub.ID)
		return err == nil && len(ev.Deliveries) == 1 && ev.Deliveries[0].Status == "failed"
	})
	time.Sleep(300 * time.Millisecond) // three waits' worth: no fourth attempt
	got := rc.Received()
	if len(got) != 3 {
		t.Fatalf("%d attempts, want 3", len(got))
	}
	for i, r := range got {
		if !bytes.Equal(r.Body, got[0].Body) {
			t.Errorf("attempt %d body differs", i+1)
		}
		if err := profVerifyAlakazam(wh.Secret, r.Get(t, "Alakazam-Signature"), r.Body, time.Now()); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
}

// ---------------------------------------------------------------------------
// Alloy

// profAlloySecret is the Alloy doc's derivation: sha256(b"alloy_<key>").hexdigest().
func profAlloySecret(apiKey string) string {
	sum := sha256.Sum256([]byte("alloy_" + apiKey))
	return hex.EncodeToString(sum[:])
}

// profVerifyAlloy is the Alloy doc's verification: hex HMAC-SHA256 of the
// raw body keyed by the UTF-8 of the derived hex secret, compare_digest.
func profVerifyAlloy(apiKey, signature string, payload []byte) error {
	m := hmac.New(sha256.New, []byte(profAlloySecret(apiKey)))
	m.Write(payload)
	if !hmac.Equal([]byte(signature), []byte(hex.EncodeToString(m.Sum(nil)))) {
		return errors.New("invalid webhook signature")
	}
	return nil
}

func TestProfileAlloy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const apiKey = "yourapikey"
	file := profFile(t, "alloy")
	srv, app := profSetup(t, "alloy-user", file, "dashboard.ready")
	profCheckAppProfile(t, app, file)
	c := srv.Client
	rc := profNewReceiver(t, "/webhooks/alloy", nil)
	secret := profAlloySecret(apiKey)
	wh, err := c.CreateWebhook(ctx, "alloy-user", &client.WebhookInput{URL: client.Ptr(rc.URL), Secret: client.Ptr(secret)})
	if err != nil {
		t.Fatal(err)
	}
	if wh.Secret != secret {
		t.Errorf("create answered secret %q, want the supplied %q", wh.Secret, secret)
	}
	// One webhook per user.
	_, err = c.CreateWebhook(ctx, "alloy-user", &client.WebhookInput{URL: client.Ptr(rc.URL + "2")})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict {
		t.Errorf("second webhook: %v, want 409 (max_webhooks 1)", err)
	}

	data := `{"generation_id":"af52d214-...","dashboard_id":"d6ad65c0-...","dataset_id":"1b0b7d3e-...","title":"Q3 Sales Overview","share_link_id":"4a5b...","share_url":"https://api.example.com/share/4a5b.../view/"}`
	pub, _, err := c.Publish(ctx, "alloy-user", &client.PublishInput{Type: "dashboard.ready", Data: json.RawMessage(data)})
	if err != nil || pub.Deliveries != 1 {
		t.Fatalf("publish = %+v, %v", pub, err)
	}
	got := rc.waitFor(t, 1, 10*time.Second)[0]

	profCheckWire(t, got, "/webhooks/alloy", "X-Alloy-Signature")
	ts := pub.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")
	if want := `{"event":"dashboard.ready","timestamp":"` + ts + `","data":` + data + `}`; string(got.Body) != want {
		t.Errorf("body\n got %s\nwant %s", got.Body, want)
	}
	if keys := profKeys(t, got.Body); !slices.Equal(keys, []string{"event", "timestamp", "data"}) {
		t.Errorf("keys %q", keys)
	}
	if bt := profTimestamp(t, got.Body); !profMatch(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, bt) {
		t.Errorf("timestamp %q is not like the doc's 2025-01-08T10:16:12.456Z", bt)
	}
	sig := got.Get(t, "X-Alloy-Signature")
	if !profMatch(`^[0-9a-f]{64}$`, sig) {
		t.Errorf("X-Alloy-Signature = %q, want 64 lowercase hex digits", sig)
	}
	if err := profVerifyAlloy(apiKey, sig, got.Body); err != nil {
		t.Errorf("the doc's verification: %v", err)
	}
	if err := profVerifyAlloy(apiKey, sig, profTamper(got.Body, "Q3", "Q4")); err == nil {
		t.Error("the doc's verification accepted a tampered body")
	}
	if err := profVerifyAlloy("otherkey", sig, got.Body); err == nil {
		t.Error("the doc's verification accepted another API key")
	}
	profCheckSucceeded(t, c, "alloy-user", pub.ID)

	t.Run("node", func(t *testing.T) {
		node := profNodePath(t)
		res := profRunNode(t, node, false, profNodeAlloy, got, got.Body, "ALLOY_API_KEY="+apiKey)
		if !res.Valid || res.Event != "dashboard.ready" || len(res.DataKeys) != 6 {
			t.Fatalf("the doc's check: %+v", res)
		}
		if res := profRunNode(t, node, false, profNodeAlloy, got, profTamper(got.Body, "Q3", "Q4"), "ALLOY_API_KEY="+apiKey); res.Valid {
			t.Error("the doc's check accepted a tampered body")
		}
	})
}

// ---------------------------------------------------------------------------
// Wazza

// profJSStringify returns what JavaScript's JSON.stringify(JSON.parse(s))
// gives for the JSON text s: compact, object keys in insertion order except
// that array-index keys lead in numeric order, a repeated key keeping its
// first place and its last value, numbers as Number.prototype.toString,
// strings escaping only '"', '\' and control characters.
func profJSStringify(s []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(s))
	dec.UseNumber()
	var out []byte
	var value func() error
	value = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '[' {
				out = append(out, '[')
				for i := 0; dec.More(); i++ {
					if i > 0 {
						out = append(out, ',')
					}
					if err := value(); err != nil {
						return err
					}
				}
				out = append(out, ']')
				_, err := dec.Token()
				return err
			}
			// An object: render each member's value, then order them.
			var keys []string
			vals := map[string][]byte{}
			saved := out
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key := k.(string)
				out = nil
				if err := value(); err != nil {
					return err
				}
				if _, seen := vals[key]; !seen {
					keys = append(keys, key)
				}
				vals[key] = out
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			var idx, rest []string
			for _, k := range keys {
				if n, err := strconv.ParseUint(k, 10, 32); err == nil && n < math.MaxUint32 && strconv.FormatUint(n, 10) == k {
					idx = append(idx, k)
				} else {
					rest = append(rest, k)
				}
			}
			sort.Slice(idx, func(i, j int) bool {
				a, _ := strconv.ParseUint(idx[i], 10, 32)
				b, _ := strconv.ParseUint(idx[j], 10, 32)
				return a < b
			})
			out = append(saved, '{')
			for i, k := range append(idx, rest...) {
				if i > 0 {
					out = append(out, ',')
				}
				out = profJSString(out, k)
				out = append(out, ':')
				out = append(out, vals[k]...)
			}
			out = append(out, '}')
		case string:
			out = profJSString(out, v)
		case json.Number:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil && !math.IsInf(f, 0) {
				return err
			}
			out = append(out, profJSNumber(f)...)
		case bool:
			out = strconv.AppendBool(out, v)
		case nil:
			out = append(out, "null"...)
		}
		return nil
	}
	if err := value(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return out, nil
}

func profJSString(out []byte, s string) []byte {
	out = append(out, '"')
	for _, r := range s {
		switch r {
		case '"':
			out = append(out, `\"`...)
		case '\\':
			out = append(out, `\\`...)
		case '\b':
			out = append(out, `\b`...)
		case '\f':
			out = append(out, `\f`...)
		case '\n':
			out = append(out, `\n`...)
		case '\r':
			out = append(out, `\r`...)
		case '\t':
			out = append(out, `\t`...)
		default:
			if r < 0x20 {
				out = fmt.Appendf(out, `\u%04x`, r)
			} else {
				out = append(out, string(r)...)
			}
		}
	}
	return append(out, '"')
}

// profJSNumber is Number.prototype.toString for JSON.stringify.
func profJSNumber(f float64) string {
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return "null"
	case f == 0:
		return "0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// Shortest round-trip digits d (k of them) and n with f = 0.d × 10^n.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	d := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(d), x+1
	switch {
	case k <= n && n <= 21:
		return sign + d + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + d[:n] + "." + d[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + d
	}
	es := "+"
	if n-1 < 0 {
		es = "-"
	}
	if k == 1 {
		return sign + d + "e" + es + strconv.Itoa(profAbs(n-1))
	}
	return sign + d[:1] + "." + d[1:] + "e" + es + strconv.Itoa(profAbs(n-1))
}

func profAbs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestProfileJSStringify(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"b": 1, "a": [1.50, 1e21, 1e-7, 123e-9, -0, 0.000001, 100], "2": "<&>\u2028\u0001", "1": null, "b": true}`: `{"1":null,"2":"<&>` + "\u2028" + `\u0001","b":true,"a":[1.5,1e+21,1e-7,1.23e-7,0,0.000001,100]}`,
		`{"x": 123456789012345678901234, "y": 1.7976931348623157e308, "z": "\"\\\n"}`:                                `{"x":1.2345678901234569e+23,"y":1.7976931348623157e+308,"z":"\"\\\n"}`,
	} {
		got, err := profJSStringify([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("profJSStringify(%s)\n got %s, %v\nwant %s", in, got, err, want)
		}
	}
}

// profVerifyWazza is the Wazza doc's Security section: |now - ts| <= 300,
// hex HMAC-SHA256 of "{ts}.{JSON.stringify(req.body)}" keyed by the
// operator's secret, timing-safe compare.
func profVerifyWazza(secret, signature, timestamp string, rawBody []byte, now time.Time) error {
	body, err := profJSStringify(rawBody) // express.json(), then JSON.stringify(req.body)
	if err != nil {
		return err
	}
	requestTime, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || math.Abs(float64(now.Unix()-requestTime)) > 300 {
		return errors.New("webhook timestamp too old")
	}
	if !hmac.Equal([]byte(signature), []byte(profHMACHex(secret, timestamp+"."+string(body)))) {
		return errors.New("invalid webhook signature")
	}
	return nil
}

func TestProfileWazza(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const secret = "your-webhook-secret" // operator-supplied, as in the doc
	file := profFile(t, "wazza")
	srv, app := profSetup(t, "wazza-team", file, "job.completed", "job.failed", "job.processing")
	profCheckAppProfile(t, app, file)
	c := srv.Client
	rc := profNewReceiver(t, "/api/webhooks/wazza", nil)
	wh, err := c.CreateWebhook(ctx, "wazza-team", &client.WebhookInput{URL: client.Ptr(rc.URL),
		Events: []string{"job.completed", "job.failed", "job.processing"}, Secret: client.Ptr(secret)})
	if err != nil {
		t.Fatal(err)
	}
	if wh.Secret != secret {
		t.Errorf("create answered secret %q, want the supplied one", wh.Secret)
	}
	// The doc's job.completed sample, its timestamp aside (hookd writes it).
	data := `{"jobId":"job_abc123","status":"completed","output":{"url":"https://cdn.wazza.ai/outputs/abc123.mp4","width":1920,"height":1080,"duration":10,"format":"mp4"},"metadata":{"provider":"openai","model":"sora-2-pro","creditsUsed":15}}`
	// Wazza-style: the webhook URL given with the request; it is signed
	// with the secret of the app's webhook at that URL.
	pub, _, err := c.Publish(ctx, "wazza-team", &client.PublishInput{Type: "job.completed", Data: json.RawMessage(data),
		WebhookURL: rc.URL, WebhookEvents: []string{"job.completed", "job.failed"}})
	if err != nil || pub.Deliveries != 1 {
		t.Fatalf("publish = %+v, %v", pub, err)
	}
	got := rc.waitFor(t, 1, 10*time.Second)[0]

	profCheckWire(t, got, "/api/webhooks/wazza", "X-Wazza-Signature", "X-Wazza-Timestamp")
	ts := pub.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")
	want := `{"event":"job.completed","timestamp":"` + ts + `",` + data[1:]
	if string(got.Body) != want {
		t.Errorf("body\n got %s\nwant %s", got.Body, want)
	}
	// The doc's sample has the same keys in the same order except that
	// timestamp comes last there (see examples/profiles/README.md).
	keys := profKeys(t, got.Body)
	sample := []string{"event", "jobId", "status", "output", "metadata", "timestamp"}
	if !slices.Equal(slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "timestamp" }), sample[:5]) || keys[1] != "timestamp" {
		t.Errorf("keys %q, want the sample's %q with timestamp second", keys, sample)
	}
	if bt := profTimestamp(t, got.Body); !profMatch(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, bt) {
		t.Errorf("timestamp %q is not like the doc's 2025-10-22T10:30:00Z", bt)
	}
	sig, stamp := got.Get(t, "X-Wazza-Signature"), got.Get(t, "X-Wazza-Timestamp")
	if !profMatch(`^[0-9a-f]{64}$`, sig) || !profMatch(`^[0-9]+$`, stamp) {
		t.Errorf("X-Wazza-Signature %q, X-Wazza-Timestamp %q", sig, stamp)
	}
	if err := profVerifyWazza(secret, sig, stamp, got.Body, time.Now()); err != nil {
		t.Errorf("the doc's verification: %v", err)
	}
	if err := profVerifyWazza(secret, sig, stamp, profTamper(got.Body, "1920", "1921"), time.Now()); err == nil {
		t.Error("the doc's verification accepted a tampered body")
	}
	if err := profVerifyWazza(secret, sig, stamp, got.Body, time.Now().Add(10*time.Minute)); err == nil {
		t.Error("the doc's verification accepted a stale timestamp")
	}
	profCheckSucceeded(t, c, "wazza-team", pub.ID)

	t.Run("node", func(t *testing.T) {
		node := profNodePath(t)
		env := "WAZZA_WEBHOOK_SECRET=" + secret
		res := profRunNode(t, node, true, profNodeWazza, got, got.Body, env)
		if !res.Valid || !res.Restringified {
			t.Fatalf("the doc's verifyWazzaWebhook: valid %v, error %v, JSON.stringify(JSON.parse(body)) == body: %v", res.Valid, profDeref(res.Error), res.Restringified)
		}
		if res.Event != "job.completed" || res.JobID != "job_abc123" || res.JobStatus != "completed" || !strings.Contains(string(res.Output), `"width":1920`) {
			t.Errorf("the doc's handler read %+v", res)
		}
		res = profRunNode(t, node, true, profNodeWazza, got, profTamper(got.Body, "1920", "1921"), env)
		if res.Valid || profDeref(res.Error) != "Invalid webhook signature" {
			t.Errorf("tampered body: valid %v, error %v", res.Valid, profDeref(res.Error))
		}
	})
}

func profDeref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestProfileWazzaRetries: the file's 5 attempts, then the delivery fails.
func TestProfileWazzaRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const secret = "wazza-operator-secret"
	srv, _ := profSetup(t, "wazza-retries", profPatched(t, "wazza", 0.1, 0, -1), "job.failed")
	rc := profNewReceiver(t, "/hook", func(int) int { return http.StatusServiceUnavailable })
	if _, err := srv.Client.CreateWebhook(ctx, "wazza-retries", &client.WebhookInput{URL: client.Ptr(rc.URL), Secret: client.Ptr(secret)}); err != nil {
		t.Fatal(err)
	}
	pub, _, err := srv.Client.Publish(ctx, "wazza-retries", &client.PublishInput{Type: "job.failed",
		Data: json.RawMessage(`{"jobId":"job_abc123","status":"failed","error":{"code":"CONTENT_POLICY_VIOLATION","message":"Content violates safety policy"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the delivery to fail", func() bool {
		ev, err := srv.Client.GetEvent(ctx, "wazza-retries", pub.ID)
		return err == nil && len(ev.Deliveries) == 1 && ev.Deliveries[0].Status == "failed" && ev.Deliveries[0].AttemptCount == 5
	})
	time.Sleep(300 * time.Millisecond)
	got := rc.Received()
	if len(got) != 5 {
		t.Fatalf("%d attempts, want 5", len(got))
	}
	for i, r := range got {
		if err := profVerifyWazza(secret, r.Get(t, "X-Wazza-Signature"), r.Get(t, "X-Wazza-Timestamp"), r.Body, time.Now()); err != nil || !bytes.Equal(r.Body, got[0].Body) {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
}

// ---------------------------------------------------------------------------
// WePlaytestGames

// profVerifyWPG is the WePlaytestGames doc's verification: now - ts <= 300,
// hex HMAC-SHA256 of "{ts}.{rawBody}" keyed by the secret, compare_digest.
func profVerifyWPG(secret, signature, timestamp string, rawBody []byte, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || now.Unix()-ts > 300 {
		return errors.New("stale timestamp")
	}
	if !hmac.Equal([]byte(signature), []byte(profHMACHex(secret, timestamp+"."+string(rawBody)))) {
		return errors.New("invalid signature")
	}
	return nil
}

func TestProfileWePlaytestGames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := profFile(t, "weplaytestgames")
	srv, app := profSetup(t, "wpg-studio", file, "slot.submitted", "slot.accepted", "slot.rejected")
	profCheckAppProfile(t, app, file)
	c := srv.Client
	rc := profNewReceiver(t, "/webhooks/wpg", nil)
	wh, err := c.CreateWebhook(ctx, "wpg-studio", &client.WebhookInput{URL: client.Ptr(rc.URL),
		Events: []string{"slot.submitted", "slot.accepted", "slot.rejected"}})
	if err != nil {
		t.Fatal(err)
	}
	data := `{"slotId":"slot_123","gameId":"game_456","videoUrl":"https://cdn.example.com/v/slot_123.mp4"}`
	pub, _, err := c.Publish(ctx, "wpg-studio", &client.PublishInput{Type: "slot.submitted", Data: json.RawMessage(data)})
	if err != nil || pub.Deliveries != 1 {
		t.Fatalf("publish = %+v, %v", pub, err)
	}
	got := rc.waitFor(t, 1, 10*time.Second)[0]

	// X-WPG-*, not X-Wpg-* as Go's canonical form would have it.
	profCheckWire(t, got, "/webhooks/wpg", "X-WPG-Signature", "X-WPG-Timestamp")
	if len(got.Header("X-Wpg-Signature")) != 0 {
		t.Error("the signature header went out canonicalised")
	}
	ts := pub.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")
	if want := `{"event":"slot.submitted","timestamp":"` + ts + `","data":` + data + `}`; string(got.Body) != want {
		t.Errorf("body\n got %s\nwant %s", got.Body, want)
	}
	if keys := profKeys(t, got.Body); !slices.Equal(keys, []string{"event", "timestamp", "data"}) {
		t.Errorf("keys %q", keys)
	}
	sig, stamp := got.Get(t, "X-WPG-Signature"), got.Get(t, "X-WPG-Timestamp")
	if !profMatch(`^[0-9a-f]{64}$`, sig) || !profMatch(`^[0-9]+$`, stamp) {
		t.Errorf("X-WPG-Signature %q, X-WPG-Timestamp %q", sig, stamp)
	}
	if err := profVerifyWPG(wh.Secret, sig, stamp, got.Body, time.Now()); err != nil {
		t.Errorf("the doc's verification: %v", err)
	}
	if err := profVerifyWPG(wh.Secret, sig, stamp, profTamper(got.Body, "slot_123", "slot_124"), time.Now()); err == nil {
		t.Error("the doc's verification accepted a tampered body")
	}
	if err := profVerifyWPG(wh.Secret, sig, stamp, got.Body, time.Now().Add(6*time.Minute)); err == nil {
		t.Error("the doc's verification accepted a stale timestamp")
	}
	profCheckSucceeded(t, c, "wpg-studio", pub.ID)

	t.Run("node", func(t *testing.T) {
		node := profNodePath(t)
		env := "WPG_WEBHOOK_SECRET=" + wh.Secret
		res := profRunNode(t, node, true, profNodeWPG, got, got.Body, env)
		if res.Status != 200 || string(res.Sent) != `{"received":true}` {
			t.Fatalf("the doc's handler answered %d %s", res.Status, res.Sent)
		}
		if len(res.Logs) != 1 || res.Logs[0][0] != "New submission for slot slot_123" {
			t.Errorf("the doc's handler logged %v", res.Logs)
		}
		res = profRunNode(t, node, true, profNodeWPG, got, profTamper(got.Body, "slot_123", "slot_124"), env)
		if res.Status != 401 || string(res.Sent) != `{"error":"Invalid signature"}` {
			t.Errorf("tampered body: %d %s", res.Status, res.Sent)
		}
	})
}

// TestProfileWePlaytestGamesAutoDisable: the file's auto_disable_after 10
// (with one attempt per delivery): nine failed deliveries leave the webhook
// active, the tenth disables it.
func TestProfileWePlaytestGamesAutoDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _ := profSetup(t, "wpg-disable", profPatched(t, "weplaytestgames", 0.1, 1, -1), "slot.expired")
	c := srv.Client
	rc := profNewReceiver(t, "/hook", func(int) int { return http.StatusInternalServerError })
	wh, err := c.CreateWebhook(ctx, "wpg-disable", &client.WebhookInput{URL: client.Ptr(rc.URL)})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(i int) {
		if _, _, err := c.Publish(ctx, "wpg-disable", &client.PublishInput{Type: "slot.expired",
			Data: json.RawMessage(fmt.Sprintf(`{"slotId":"slot_%d"}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	failed := func(n int) func() bool {
		return func() bool {
			ds, _, err := c.ListWebhookDeliveries(ctx, "wpg-disable", wh.ID, &client.ListOptions{Status: "failed"})
			return err == nil && len(ds) == n
		}
	}
	for i := range 9 {
		publish(i)
	}
	eventually(t, 10*time.Second, "nine failed deliveries", failed(9))
	w, err := c.GetWebhook(ctx, "wpg-disable", wh.ID)
	if err != nil || w.Status != "active" || w.ConsecutiveFailures != 9 {
		t.Fatalf("after 9 failures: %+v, %v", w, err)
	}
	publish(9)
	eventually(t, 10*time.Second, "the webhook to be disabled", func() bool {
		w, err = c.GetWebhook(ctx, "wpg-disable", wh.ID)
		return err == nil && w.Status == "disabled"
	})
	if w.ConsecutiveFailures != 10 || w.DisabledReason == nil || !strings.Contains(*w.DisabledReason, "10 consecutive") {
		t.Errorf("disabled webhook: failures %d, reason %v", w.ConsecutiveFailures, profDeref(w.DisabledReason))
	}
	if n := len(rc.Received()); n != 10 {
		t.Errorf("%d requests, want 10 (one attempt per delivery)", n)
	}
}
