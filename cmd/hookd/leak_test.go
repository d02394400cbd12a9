package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/logtest"
	"github.com/hookd/hookd/notify"
)

// leakAnswer is one answer the run got, by what asked for it.
type leakAnswer struct {
	what string
	raw  []byte
}

// leakRun drives a hookd through everything it does with secrets and
// keeps every answer it gives, and everything it logs, to search later.
type leakRun struct {
	t       *testing.T
	m       *Main
	url     string
	logs    *logtest.Buffer // the logger's lines, at debug level
	out     *logtest.Buffer // stdout and stderr
	answers []leakAnswer
	// once maps a value to the one answer that may show it: a secret or
	// key in its create or rotate answer. nowhere lists values that no
	// answer or log line may hold at all.
	once    map[string]int
	nowhere []string
	// key is the encryption key, which the embedded store's key file
	// holds by design.
	key string
	// admin is the admin token hookd generated and printed.
	admin  string
	closed bool
}

// leakMarker is a random value of n bytes, base64, after prefix.
func leakMarker(tb testing.TB, prefix string, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return prefix + base64.StdEncoding.EncodeToString(b)
}

// startLeakRun starts hookd with a logger at debug level writing to a
// buffer, and its stdout and stderr captured too. It is given no admin
// token, so it generates one and prints it once.
func startLeakRun(t *testing.T, configure func(*Config)) *leakRun {
	t.Helper()
	r := &leakRun{t: t, logs: &logtest.Buffer{}, out: &logtest.Buffer{}, once: map[string]int{}}
	m := NewMain(r.out, r.out)
	m.Config = Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AllowPrivateNetworks: true, Timeout: 5 * time.Second}
	configure(&m.Config)
	m.Logger = slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("start hookd: %v", err)
	}
	r.m, r.url = m, "http://"+m.Addr()
	t.Cleanup(r.close)
	printed := generatedAdminToken.FindAllSubmatch([]byte(r.out.String()), -1)
	if len(printed) != 1 {
		t.Fatalf("hookd printed %d admin tokens, want one: %s", len(printed), []byte(r.out.String()))
	}
	r.admin = string(printed[0][1])
	return r
}

// generatedAdminToken finds the admin token hookd prints on first start.
var generatedAdminToken = regexp.MustCompile(`(?m)^\s+(hka_[0-9a-f]{48})$`)

// close stops hookd, once; what it logs while stopping is kept too.
func (r *leakRun) close() {
	if r.closed {
		return
	}
	r.closed = true
	if err := r.m.Close(); err != nil {
		r.t.Errorf("close hookd: %v", err)
	}
}

// send makes a request and keeps its answer; want is the status it must
// have.
func (r *leakRun) send(token, method, path string, h http.Header, body any, want int) *srcE2EResp {
	r.t.Helper()
	if h == nil {
		h = http.Header{}
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if body != nil && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	resp := srcE2ESend(r.t, method, r.url+path, h, body)
	r.answers = append(r.answers, leakAnswer{what: fmt.Sprintf("#%d %s %s = %d", len(r.answers), method, path, resp.Status), raw: resp.Raw})
	srcE2EWant(r.t, resp, want)
	return resp
}

// shownOnce records that the last answer is the one place value may be
// shown, and that it is shown there.
func (r *leakRun) shownOnce(value string) {
	r.t.Helper()
	last := len(r.answers) - 1
	if !bytes.Contains(r.answers[last].raw, []byte(value)) {
		r.t.Fatalf("%s does not show %q, which it should show once", r.answers[last].what, value)
	}
	r.once[value] = last
}

// answerField reads a string field of an answer.
func answerField(tb testing.TB, resp *srcE2EResp, key string) string {
	tb.Helper()
	v, _ := resp.Body[key].(string)
	if v == "" {
		tb.Fatalf("%s %s: answer %s has no %s", resp.Method, resp.URL, resp.Raw, key)
	}
	return v
}

// TestNothingSecretLeaks runs everything hookd does with secrets — the
// admin token, apps and their default secrets, app keys, webhooks with
// secrets and credential headers, rotations, sources and inbound requests,
// publishes, failed attempts and notices — while keeping every log line
// (debug level), everything printed, and every API answer. Each secret,
// key and token may then be found only in the one answer that shows it
// (its create or rotate answer), or nowhere at all; and the store keeps
// none of them in clear.
func TestNothingSecretLeaks(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, configure func(*Config)) {
		opsSecret := leakMarker(t, "whsec_", 24)
		ops := newReceiver(t, nil)
		r := startLeakRun(t, func(c *Config) {
			configure(c)
			c.Notify = notify.Config{WebhookURL: ops.URL, WebhookSecret: opsSecret}
		})
		r.nowhere = append(r.nowhere, opsSecret)
		key := r.m.Config.EncryptionKey
		if key == "" {
			b, err := os.ReadFile(filepath.Join(r.m.Config.DataDir, "encryption.key"))
			if err != nil {
				t.Fatalf("read the key file: %v", err)
			}
			key = strings.TrimSpace(string(b))
		}
		r.key = key
		r.nowhere = append(r.nowhere, key)
		r.flow(ops)
		r.close()
		r.search()
		r.searchStored()
		for i, n := range ops.Received() {
			for _, v := range r.values() {
				if bytes.Contains(n.Body, []byte(v)) || strings.Contains(fmt.Sprint(n.Header), v) {
					t.Errorf("operator notice %d holds %q: %s", i, v, n.Body)
				}
			}
		}
	})
}

// flow is everything the run does.
func (r *leakRun) flow(ops *receiver) {
	t, admin := r.t, r.admin
	const fast = `{"retry":{"schedule_seconds":[0.05],"max_attempts":2,"jitter":0},"auto_disable_after":0}`
	ok := newReceiver(t, nil)
	// echo answers with the headers it got, as some endpoints do (an
	// error page, a debugging endpoint): the attempt log keeps the
	// answer.
	echo := dlvNewServer(t, func(_ int, w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(http.StatusOK)
		req.Header.Write(w)
	})
	failing := newReceiver(t, func(int, *http.Request) int { return http.StatusInternalServerError })

	r.send(admin, "POST", "/v1/event-types", nil, map[string]any{"name": "leak.test"}, http.StatusCreated)
	app := r.send(admin, "POST", "/v1/apps", nil, map[string]any{"name": "Leaks", "uid": "leaks", "profile": json.RawMessage(fast)}, http.StatusCreated)
	r.shownOnce(answerField(t, app, "default_secret"))
	appID := answerField(t, app, "id")
	base := "/v1/apps/" + appID
	rot := r.send(admin, "POST", base+"/rotate", nil, nil, http.StatusOK)
	r.shownOnce(answerField(t, rot, "default_secret"))
	r.send(admin, "GET", base, nil, nil, http.StatusOK)
	r.send(admin, "GET", "/v1/apps", nil, nil, http.StatusOK)
	keyResp := r.send(admin, "POST", base+"/keys", nil, map[string]any{"name": "backend"}, http.StatusCreated)
	appKey := answerField(t, keyResp, "key")
	r.shownOnce(appKey)
	r.send(admin, "GET", base+"/keys", nil, nil, http.StatusOK)

	// Webhooks: a generated secret and credential headers; an operator's
	// secret on an endpoint that fails.
	auth, apiKey := leakMarker(t, "Bearer ", 24), leakMarker(t, "", 24)
	r.nowhere = append(r.nowhere, strings.TrimPrefix(auth, "Bearer "), apiKey)
	headers := map[string]string{"Authorization": auth, "X-Api-Key": apiKey, "X-Tenant": "acme"}
	a := r.send(appKey, "POST", base+"/webhooks", nil, map[string]any{"url": echo.URL, "events": []string{"*"}, "headers": headers}, http.StatusCreated)
	r.shownOnce(answerField(t, a, "secret"))
	hookA := answerField(t, a, "id")
	given := leakMarker(t, "whsec_", 32)
	b := r.send(appKey, "POST", base+"/webhooks", nil, map[string]any{"url": failing.URL, "events": []string{"leak.test"}, "secret": given}, http.StatusCreated)
	r.shownOnce(given)
	hookB := answerField(t, b, "id")
	bad := leakMarker(t, "whsec_", 8) + "!"
	r.nowhere = append(r.nowhere, bad)
	r.send(appKey, "POST", base+"/webhooks", nil, map[string]any{"url": ok.URL, "secret": bad}, http.StatusBadRequest)
	rotA := r.send(appKey, "POST", base+"/webhooks/"+hookA+"/rotate", nil, map[string]any{"grace_seconds": 60}, http.StatusOK)
	r.shownOnce(answerField(t, rotA, "secret"))
	got := r.send(appKey, "GET", base+"/webhooks/"+hookA, nil, nil, http.StatusOK)
	r.send(appKey, "PATCH", base+"/webhooks/"+hookA, nil, map[string]any{"headers": got.Body["headers"], "name": "A"}, http.StatusOK)
	r.send(appKey, "GET", base+"/webhooks", nil, nil, http.StatusOK)
	patchedSecret := leakMarker(t, "whsec_", 24)
	r.nowhere = append(r.nowhere, patchedSecret) // given in a PATCH, never shown back
	r.send(appKey, "PATCH", base+"/webhooks/"+hookB, nil, map[string]any{"secret": patchedSecret}, http.StatusOK)
	r.send(appKey, "GET", base+"/webhooks/"+hookB, nil, nil, http.StatusOK)

	// Publishes, a test event, a one-off destination; deliveries succeed
	// at A and fail at B until B's are exhausted.
	pub := r.send(appKey, "POST", base+"/events", nil, map[string]any{"type": "leak.test", "data": map[string]any{"n": 1}}, http.StatusAccepted)
	r.send(appKey, "POST", base+"/events/batch", nil, map[string]any{"events": []any{
		map[string]any{"type": "leak.test", "data": map[string]any{"n": 2}},
		map[string]any{"type": "leak.other", "data": map[string]any{"n": 3}},
	}}, http.StatusAccepted)
	r.send(appKey, "POST", base+"/events", nil, map[string]any{"type": "leak.test", "data": map[string]any{"n": 4}, "webhook_url": ok.URL + "/one-off"}, http.StatusAccepted)
	r.send(appKey, "POST", base+"/webhooks/"+hookA+"/test", nil, nil, http.StatusAccepted)
	echo.waitFor(t, 4, srcE2EWait)
	ok.waitFor(t, 1, srcE2EWait)
	ops.waitFor(t, 1, srcE2EWait) // delivery.exhausted of B's first delivery
	ev := r.send(appKey, "GET", base+"/events/"+answerField(t, pub, "id"), nil, nil, http.StatusOK)
	for _, d := range ev.Body["deliveries"].([]any) {
		id := d.(map[string]any)["id"].(string)
		eventually(t, srcE2EWait, "delivery "+id+" to finish", func() bool {
			resp := srcE2ECall(t, &testServer{URL: r.url}, appKey, "GET", base+"/deliveries/"+id, nil)
			return resp.Body["status"] == "succeeded" || resp.Body["status"] == "failed"
		})
		r.send(appKey, "GET", base+"/deliveries/"+id, nil, nil, http.StatusOK)
		r.send(appKey, "POST", base+"/deliveries/"+id+"/retry", nil, nil, http.StatusAccepted)
	}
	r.send(appKey, "GET", base+"/events", nil, nil, http.StatusOK)
	r.send(appKey, "GET", base+"/deliveries", nil, nil, http.StatusOK)
	r.send(appKey, "GET", base+"/webhooks/"+hookB+"/deliveries", nil, nil, http.StatusOK)

	// Sources: generated, rotated and provider-issued secrets; inbound
	// requests signed well and badly; a test event; verification.
	s1 := r.send(appKey, "POST", base+"/sources", nil, map[string]any{"name": "Standard", "provider": "standard", "forward_url": ok.URL + "/in"}, http.StatusCreated)
	r.shownOnce(answerField(t, s1, "secret"))
	src1 := answerField(t, s1, "id")
	rotS := r.send(appKey, "POST", base+"/sources/"+src1+"/rotate", nil, nil, http.StatusOK)
	s1Secret := answerField(t, rotS, "secret")
	r.shownOnce(s1Secret)
	ghSecret := leakMarker(t, "gh-", 24)
	s2 := r.send(appKey, "POST", base+"/sources", nil, map[string]any{"name": "GitHub", "provider": "github", "secret": ghSecret, "forward_url": ok.URL + "/gh"}, http.StatusCreated)
	r.shownOnce(ghSecret)
	src2 := answerField(t, s2, "id")
	stripeSecret := leakMarker(t, "whsec_", 24)
	r.send(appKey, "POST", base+"/sources", nil, map[string]any{"name": "Stripe", "provider": "stripe", "secret": stripeSecret}, http.StatusCreated)
	r.shownOnce(stripeSecret)
	ghNext := leakMarker(t, "whsec_", 24)
	r.send(appKey, "POST", base+"/sources/"+src2+"/rotate", nil, map[string]any{"secret": ghNext}, http.StatusOK)
	r.shownOnce(ghNext)
	badSource := leakMarker(t, "whsec_", 4)
	r.nowhere = append(r.nowhere, badSource)
	r.send(appKey, "POST", base+"/sources", nil, map[string]any{"name": "Bad", "provider": "standard", "secret": badSource}, http.StatusBadRequest)

	standard, github := srcE2EProviders[0], srcE2EProviders[2]
	h, body := standard.signed(t, s1Secret, "msg_leak_1", time.Now())
	r.send("", "POST", "/v1/receive/"+src1, h, body, http.StatusOK)
	r.send("", "POST", "/v1/receive/"+src1, h.Clone(), body, http.StatusOK) // a duplicate
	h, body = standard.signed(t, leakMarker(t, "whsec_", 24), "msg_leak_2", time.Now())
	r.send("", "POST", "/v1/receive/"+src1, h, body, http.StatusUnauthorized)
	h, body = github.signed(t, ghNext, "gh-delivery-1", time.Now())
	r.send("", "POST", "/v1/receive/"+src2, h, body, http.StatusOK)
	r.send(appKey, "POST", base+"/sources/"+src1+"/test", nil, nil, http.StatusAccepted)
	ok.waitFor(t, 4, srcE2EWait)
	r.send(appKey, "GET", base+"/sources", nil, nil, http.StatusOK)
	r.send(appKey, "GET", base+"/sources/"+src1, nil, nil, http.StatusOK)
	r.send(appKey, "PATCH", base+"/sources/"+src1, nil, map[string]any{"description": "patched"}, http.StatusOK)
	r.send(appKey, "GET", base+"/sources/"+src1+"/events", nil, nil, http.StatusOK)
	r.send(appKey, "GET", base+"/sources/"+src1+"/deliveries", nil, nil, http.StatusOK)
	r.send(appKey, "GET", base+"/sources/events", nil, nil, http.StatusOK)
	verifySecret := leakMarker(t, "whsec_", 24)
	r.nowhere = append(r.nowhere, verifySecret)
	r.send(appKey, "POST", "/v1/verify", nil, map[string]any{"scheme": "standard", "secret": verifySecret,
		"headers": map[string]string{"webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"}, "body": "{}"}, http.StatusOK)
	r.send(appKey, "POST", "/v1/verify", nil, map[string]any{"source_id": src1, "headers": map[string]string{}, "body": "{}"}, http.StatusOK)

	// Secrets and credentials in requests that fail.
	r.send(admin+"x", "GET", "/v1/apps", nil, nil, http.StatusUnauthorized)
	r.send(appKey+"x", "GET", base, nil, nil, http.StatusUnauthorized)
	r.send(appKey, "PATCH", base+"/webhooks/"+hookA, nil, map[string]any{"headers": map[string]string{"X-Auth-Token": "[redacted]"}}, http.StatusBadRequest)
	r.send(appKey, "DELETE", base+"/webhooks/"+hookB, nil, nil, http.StatusOK)
}

// search fails for every secret found where it may not be.
func (r *leakRun) search() {
	t := r.t
	logs, printed := []byte(r.logs.String()), []byte(r.out.String())
	if !bytes.Contains(logs, []byte("hookd is serving")) {
		t.Fatalf("the captured logs lack the start line; the search proves nothing: %s", logs)
	}
	check := func(value string, allowed int) {
		t.Helper()
		if i := bytes.Index(logs, []byte(value)); i >= 0 {
			t.Errorf("a log line holds %q: %s", value, lineAround(logs, i))
		}
		if n := bytes.Count(printed, []byte(value)); n > 0 && (value != r.admin || n > 1) {
			t.Errorf("what hookd printed holds %q %d times (only the generated admin token may be printed, once): %s", value, n, printed)
		}
		for i, a := range r.answers {
			if i != allowed && bytes.Contains(a.raw, []byte(value)) {
				t.Errorf("%s shows %q: %s", a.what, value, a.raw)
			}
		}
	}
	for value, i := range r.once {
		check(value, i)
	}
	for _, value := range r.nowhere {
		check(value, -1)
	}
	check(r.admin, -1)
	t.Logf("searched %d answers, %d bytes of logs, for %d values", len(r.answers), len(logs), len(r.values()))
}

// values is every secret, key and token of the run.
func (r *leakRun) values() []string {
	out := append([]string{r.admin}, r.nowhere...)
	for v := range r.once {
		out = append(out, v)
	}
	return out
}

// searchStored fails for every secret, key, token or credential header
// found in clear in what the store keeps (the embedded store's key file
// holds the encryption key, as it must).
func (r *leakRun) searchStored() {
	var values []string
	for _, v := range r.values() {
		if r.m.Config.Database != "" || v != r.key {
			values = append(values, v)
		}
	}
	wantStored(r.t, &testServer{Main: r.m}, "leak.test", values...)
}

// lineAround returns the line of b around index i.
func lineAround(b []byte, i int) string {
	start := bytes.LastIndexByte(b[:i], '\n') + 1
	end := bytes.IndexByte(b[i:], '\n')
	if end < 0 {
		return string(b[start:])
	}
	return string(b[start : i+end])
}
