package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/cli"
	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/logtest"
	"github.com/hookd/hookd/internal/pgtest"
)

// secretLine finds the signing secret `hookd listen` prints.
var secretLine = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

// noPrivateNetworks starts hookd as in production: it refuses to dial
// loopback, so whatever reaches a local receiver came over the listen
// connection.
func noPrivateNetworks(c *Config) { c.AllowPrivateNetworks = false }

// listenRun is `hookd listen` running in this process.
type listenRun struct {
	out, errOut *logtest.Buffer
	cancel      context.CancelFunc
	done        chan error
	once        sync.Once
	err         error
}

// startListen runs `hookd listen` with args until the test ends or stop.
func startListen(tb testing.TB, args ...string) *listenRun {
	tb.Helper()
	return startListenVia(tb, nil, args...)
}

// startListenVia is startListen with the HTTP client that talks to hookd.
func startListenVia(tb testing.TB, hc *http.Client, args ...string) *listenRun {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &listenRun{out: &logtest.Buffer{}, errOut: &logtest.Buffer{}, cancel: cancel, done: make(chan error, 1)}
	env := cli.Env{Stdout: r.out, Stderr: r.errOut, Getenv: func(string) string { return "" }, HTTPClient: hc}
	go func() { r.done <- cli.Listen(ctx, env, args) }()
	tb.Cleanup(func() { r.stop(tb) })
	return r
}

// secret waits for the line with the signing secret and returns it.
func (r *listenRun) secret(tb testing.TB) string {
	tb.Helper()
	var s string
	eventually(tb, dlvWait, "hookd listen to print its secret", func() bool {
		s = secretLine.FindString(r.out.String())
		select {
		case err := <-r.done:
			r.done <- err // for stop at cleanup
			tb.Fatalf("hookd listen ended: %v\n%s", err, r.errOut.String())
		default:
		}
		return s != ""
	})
	return s
}

// stop ends the command as Ctrl-C does and returns what it returned.
func (r *listenRun) stop(tb testing.TB) error {
	tb.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(10 * time.Second):
			r.err = errors.New("hookd listen did not stop within 10s")
		}
	})
	return r.err
}

// appKey creates a key of the app and returns it.
func (e *dlvEnv) appKey() string {
	e.tb.Helper()
	k, err := e.c.CreateKey(e.ctx, e.app.ID, "listen")
	if err != nil || k.Key == "" {
		e.tb.Fatalf("create app key: %v", err)
	}
	return k.Key
}

// listenWebhook returns the app's one listen webhook, or nil.
func (e *dlvEnv) listenWebhook() *client.Webhook {
	e.tb.Helper()
	var page struct{ Webhooks []client.Webhook }
	if _, err := e.c.Do(e.ctx, http.MethodGet, "/v1/apps/"+e.app.ID+"/webhooks", nil, &page); err != nil {
		e.tb.Fatalf("list webhooks: %v", err)
	}
	var found *client.Webhook
	for i, w := range page.Webhooks {
		if w.Listen {
			if found != nil {
				e.tb.Fatalf("the app has two listen webhooks: %s and %s", found.ID, w.ID)
			}
			found = &page.Webhooks[i]
		}
	}
	return found
}

func TestListenForwardsSignedDeliveries(t *testing.T) {
	t.Parallel()
	e := dlvSetupOn(t, startServer(t, noPrivateNetworks), dlvFast, "invoice.paid", "invoice.voided")
	local := newReceiver(t, nil)
	run := startListen(t, "--server", e.srv.URL, "--token", e.appKey(), "--forward-to", local.URL+"/hooks", "--events", "invoice.paid")
	secret := run.secret(t)

	hook := e.listenWebhook()
	if hook == nil {
		t.Fatal("no webhook of the app reads as a listen webhook")
	}
	if !strings.HasPrefix(hook.URL, "listen:") || len(hook.Events) != 1 || hook.Events[0] != "invoice.paid" {
		t.Errorf("listen webhook reads url %q, events %q; want listen:<key>, [invoice.paid]", hook.URL, hook.Events)
	}
	e.publishType("invoice.voided", 0) // not subscribed
	pub := e.publish(&client.PublishInput{Type: "invoice.paid", Data: json.RawMessage(`{"amount":"<12>"}`)})
	got := local.waitFor(t, 1, dlvWait)[0]
	if id := got.Header.Get("webhook-id"); id != pub.ID {
		t.Errorf("webhook-id %q, want the event id %q", id, pub.ID)
	}
	if !dlvVerifies(t, got, secret) {
		t.Errorf("the local request's signature %q does not verify with the printed secret", got.Header.Get("webhook-signature"))
	}
	if types := dlvTypes(t, []received{got}); types[0] != "invoice.paid" || !strings.Contains(string(got.Body), `"amount":"<12>"`) {
		t.Errorf("local body %s is not the event's envelope", got.Body)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}

	d := e.waitStatus(e.onlyDelivery(pub.ID), "succeeded")
	if len(d.Attempts) != 1 || d.Attempts[0].StatusCode == nil || *d.Attempts[0].StatusCode != 200 {
		t.Fatalf("attempts %+v, want one answered 200", d.Attempts)
	}
	a := d.Attempts[0]
	if a.ResponseBody == nil || *a.ResponseBody != "answer OK" {
		t.Errorf("recorded response body %v, want the local answer", a.ResponseBody)
	}
	if ct := a.ResponseHeaders["Content-Type"]; !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("recorded response headers %v, want the local answer's Content-Type text/plain", a.ResponseHeaders)
	}
	if sig, _ := dlvHeader(a.RequestHeaders, "webhook-signature"); sig != got.Header.Get("webhook-signature") {
		t.Errorf("recorded signature %q differs from the one sent locally %q", sig, got.Header.Get("webhook-signature"))
	}
	eventually(t, dlvWait, "the delivery's two lines", func() bool {
		out := run.out.String()
		return regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  --> invoice\.paid \[`+pub.ID+`\]`).MatchString(out) &&
			regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  <-- \[200\] POST `+regexp.QuoteMeta(local.URL+"/hooks")+` \(\d+ ms\)`).MatchString(out)
	})
	if n := len(local.Received()); n != 1 {
		t.Errorf("the local server got %d requests, want 1 (the unsubscribed type is not forwarded)", n)
	}
	if err := run.stop(t); err != nil {
		t.Errorf("hookd listen returned %v after Ctrl-C, want nil", err)
	}
	if e.listenWebhook() != nil {
		t.Errorf("the listen webhook is still there after Ctrl-C")
	}
}

func TestListenRetriesLocalFailures(t *testing.T) {
	t.Parallel()
	e := dlvSetupOn(t, startServer(t, noPrivateNetworks), dlvFast, "invoice.paid")
	local := newReceiver(t, func(n int, r *http.Request) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	run := startListen(t, "--server", e.srv.URL, "--token", testAdminToken, "--app", e.app.ID, "--forward-to", local.URL)
	secret := run.secret(t)
	pub := e.publishType("invoice.paid", 1)
	d := e.waitStatus(e.onlyDelivery(pub.ID), "succeeded")
	var codes []int
	for _, a := range d.Attempts {
		if a.StatusCode != nil {
			codes = append(codes, *a.StatusCode)
		}
	}
	if len(codes) != 3 || codes[0] != 500 || codes[1] != 500 || codes[2] != 200 {
		t.Errorf("attempts answered %v, want [500 500 200]", codes)
	}
	for i, g := range local.Received() {
		if !dlvVerifies(t, g, secret) {
			t.Errorf("request %d does not verify with the printed secret", i+1)
		}
	}
	eventually(t, dlvWait, "a line for the local 500", func() bool { return strings.Contains(run.out.String(), "<-- [500] POST "+local.URL) })
}

// hookdListenProcess is the hookd binary running `hookd listen`.
type hookdListenProcess struct {
	cmd    *exec.Cmd
	secret string
}

// startListenProcess runs `hookd listen` from bin and waits for its secret.
func startListenProcess(t *testing.T, bin string, args ...string) *hookdListenProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"listen"}, args...)...)
	cmd.Env = os.Environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = tbWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	secret := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if s := secretLine.FindString(sc.Text()); s != "" {
				secret <- s
			}
		}
	}()
	select {
	case s := <-secret:
		return &hookdListenProcess{cmd: cmd, secret: s}
	case <-time.After(30 * time.Second):
		t.Fatal("hookd listen printed no secret within 30s")
		return nil
	}
}

func TestListenCtrlCDeletesTheWebhook(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hookd binary; skipped with -short")
	}
	t.Parallel()
	bin := buildHookd(t)
	e := dlvSetupOn(t, startServer(t, noPrivateNetworks), dlvFast, "invoice.paid")
	local := newReceiver(t, nil)
	p := startListenProcess(t, bin, "--server", e.srv.URL, "--token", e.appKey(), "--forward-to", local.URL)
	hook := e.listenWebhook()
	if hook == nil {
		t.Fatal("no listen webhook while hookd listen runs")
	}
	e.publishType("invoice.paid", 1)
	local.waitFor(t, 1, dlvWait)

	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("hookd listen exited with %v after SIGINT, want 0", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hookd listen did not exit within 5s of SIGINT")
	}
	if _, err := e.c.GetWebhook(e.ctx, e.app.ID, hook.ID); !isNotFound(err) {
		t.Errorf("reading the listen webhook after SIGINT: %v, want NOT_FOUND", err)
	}
}

func isNotFound(err error) bool {
	var apiErr *client.Error
	return errors.As(err, &apiErr) && apiErr.Code == "NOT_FOUND"
}

func TestListenResumesAfterKillAndExpiresWithoutConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hookd binary; skipped with -short")
	}
	t.Parallel()
	bin := buildHookd(t)
	const timeout = 2 * time.Second
	e := dlvSetupOn(t, startServer(t, noPrivateNetworks, func(c *Config) { c.ListenTimeout = timeout }), dlvFast, "invoice.paid")
	local := newReceiver(t, nil)
	args := []string{"--server", e.srv.URL, "--token", e.appKey(), "--forward-to", local.URL}

	first := startListenProcess(t, bin, args...)
	hook := e.listenWebhook()
	if hook == nil {
		t.Fatal("no listen webhook while hookd listen runs")
	}
	// Connected, the webhook outlives the timeout many times over.
	time.Sleep(2 * timeout)
	if e.listenWebhook() == nil {
		t.Fatal("the listen webhook was swept while its connection was open")
	}
	first.cmd.Process.Kill()
	first.cmd.Wait()

	again := startListenProcess(t, bin, args...)
	if again.secret != first.secret {
		t.Errorf("after kill -9 and a restart within the timeout the secret is %q, want the same %q", again.secret, first.secret)
	}
	if w := e.listenWebhook(); w == nil || w.ID != hook.ID {
		t.Fatalf("after the restart the listen webhook is %+v, want the same %s", w, hook.ID)
	}
	pub := e.publishType("invoice.paid", 1)
	if got := local.waitFor(t, 1, dlvWait)[0]; !dlvVerifies(t, got, first.secret) || got.Header.Get("webhook-id") != pub.ID {
		t.Errorf("the resumed webhook's delivery does not verify with the first secret")
	}

	again.cmd.Process.Kill()
	again.cmd.Wait()
	killed := time.Now()
	eventually(t, dlvWait, "the idle listen webhook to be swept", func() bool {
		_, err := e.c.GetWebhook(e.ctx, e.app.ID, hook.ID)
		return isNotFound(err)
	})
	if since := time.Since(killed); since < timeout/2 {
		t.Errorf("the webhook was swept %v after the kill, before the timeout could run out", since)
	}
}

func TestListenAcrossProcessesOnPostgres(t *testing.T) {
	if !usePostgres() {
		t.Skip("needs several processes on one PostgreSQL database: run with HOOKD_TEST_STORE=postgres")
	}
	t.Parallel()
	db := pgtest.URL(t)
	onDB := func(c *Config) { c.Database, c.AllowPrivateNetworks = db, false }
	connected := startServer(t, onDB)
	e := dlvSetupOn(t, connected, dlvFast, "invoice.paid")
	other := startServer(t, onDB)
	local := newReceiver(t, nil)
	startListen(t, "--server", connected.URL, "--token", e.appKey(), "--forward-to", local.URL).secret(t)

	const n = 20
	via := client.New(other.URL, testAdminToken, nil)
	ids := map[string]bool{}
	for i := range n {
		pub, _, err := via.Publish(e.ctx, e.app.ID, &client.PublishInput{Type: "invoice.paid", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
		if err != nil {
			t.Fatalf("publish through the other process: %v", err)
		}
		ids[pub.ID] = true
	}
	got := local.waitFor(t, n, 2*dlvWait)
	missing := maps.Clone(ids)
	for _, g := range got {
		delete(missing, g.Header.Get("webhook-id"))
	}
	if len(missing) > 0 {
		t.Errorf("%d events never reached the local server: %v", len(missing), missing)
	}
	// The process without the connection hands deliveries back rather
	// than record an attempt that could not be made.
	for id := range ids {
		d := e.waitStatus(e.onlyDelivery(id), "succeeded")
		if len(d.Attempts) != 1 {
			t.Errorf("event %s's delivery has %d attempts, want the one answered locally: %+v", id, len(d.Attempts), d.Attempts)
		}
	}
}

func TestListenHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^  hookd listen .*--forward-to`).MatchString(out.String()) {
		t.Errorf("hookd help has no line for listen:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"listen", "-h"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--forward-to", "--events", "--server", "--token", "--app", "Example:", "hookd listen --forward-to localhost:3000"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("hookd listen -h does not mention %q:\n%s", want, out.String())
		}
	}
	var errOut bytes.Buffer
	err := run(context.Background(), []string{"listen", "--token", "x"}, io.Discard, &errOut)
	if !errors.Is(err, cli.ErrUsage) || !strings.Contains(errOut.String(), "--forward-to is required") {
		t.Errorf("hookd listen without --forward-to: %v, %q; want a usage error naming it", err, errOut.String())
	}
}

func TestListenAPI(t *testing.T) {
	t.Parallel()
	e := dlvSetupOn(t, startServer(t, noPrivateNetworks), "", "invoice.paid")
	other := dlvSetupOn(t, e.srv, "")
	path := "/v1/apps/" + e.app.ID + "/listen"
	wantError := func(what string, err error, status int, code, inMessage string) {
		t.Helper()
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Status != status || apiErr.Code != code || !strings.Contains(apiErr.Message, inMessage) {
			t.Errorf("%s: %v, want %d %s mentioning %q", what, err, status, code, inMessage)
		}
	}
	_, err := e.c.Do(e.ctx, http.MethodPost, path, map[string]any{}, nil)
	wantError("listen without a key", err, 400, "BAD_REQUEST", "key")
	_, err = e.c.Do(e.ctx, http.MethodPost, path, map[string]any{"key": "k/../x"}, nil)
	wantError("listen with a bad key", err, 400, "BAD_REQUEST", "key")
	_, err = e.c.Do(e.ctx, http.MethodPost, path, map[string]any{"key": "abcdefgh12", "events": []string{"no.such"}}, nil)
	wantError("listen to an unknown type", err, 400, "BAD_REQUEST", "events[0]")
	_, err = e.c.CreateWebhook(e.ctx, e.app.ID, &client.WebhookInput{URL: client.Ptr("listen:abcdefgh12")})
	wantError("a webhook create with a listen: URL", err, 400, "BAD_REQUEST", "url")

	first, created, err := e.c.Listen(e.ctx, e.app.ID, "abcdefgh12", nil)
	if err != nil || !created || !first.Listen || first.Secret == "" || first.ListenTimeoutSeconds != 300 || len(first.Events) != 1 || first.Events[0] != "*" {
		t.Fatalf("first listen: %+v created=%v err=%v; want a new listen webhook to every type, secret and timeout 300", first, created, err)
	}
	again, created, err := e.c.Listen(e.ctx, e.app.ID, "abcdefgh12", []string{"invoice.*"})
	if err != nil || created || again.ID != first.ID || again.Secret != first.Secret || len(again.Events) != 1 || again.Events[0] != "invoice.*" {
		t.Fatalf("listen again with the same key: %+v created=%v err=%v; want the same webhook and secret, events set", again, created, err)
	}
	if w := e.getWebhook(first.ID); !w.Listen || w.Secret != "" {
		t.Errorf("GET of a listen webhook: listen=%v secret=%q, want listen true and no secret", w.Listen, w.Secret)
	}

	// Another app's key finds neither the route's app nor the webhook.
	key := other.appKey()
	_, _, err = e.c.WithToken(key).Listen(e.ctx, e.app.ID, "abcdefgh12", nil)
	wantError("listen in another app", err, 404, "NOT_FOUND", "")
	_, err = e.c.WithToken(key).ListenStream(e.ctx, e.app.ID, first.ID)
	wantError("another app's stream", err, 404, "NOT_FOUND", "")
	// An ordinary webhook has no stream.
	plain := e.webhook(&client.WebhookInput{URL: client.Ptr("https://example.com/hook")})
	_, err = e.c.ListenStream(e.ctx, e.app.ID, plain.ID)
	wantError("an ordinary webhook's stream", err, 404, "NOT_FOUND", "not a listen webhook")
	err = e.c.ListenResult(e.ctx, e.app.ID, first.ID, &client.ListenResult{ID: "lreq_unknown", StatusCode: 200})
	wantError("a result nobody waits for", err, 404, "NOT_FOUND", "")
}

func TestListenRecordsATimeoutWhenTheLocalAnswerIsLate(t *testing.T) {
	t.Parallel()
	srv := startServer(t, noPrivateNetworks, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	e := dlvSetupOn(t, srv, dlvFast, "invoice.paid")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	local := dlvNewServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			select {
			case <-release:
			case <-time.After(3 * time.Second):
			}
		}
	})
	startListen(t, "--server", e.srv.URL, "--token", e.appKey(), "--forward-to", local.URL).secret(t)
	pub := e.publishType("invoice.paid", 1)
	d := e.waitStatus(e.onlyDelivery(pub.ID), "succeeded")
	if len(d.Attempts) < 2 {
		t.Fatalf("attempts %+v, want a timeout, then a success", d.Attempts)
	}
	if a := d.Attempts[0]; a.StatusCode != nil || a.Error == nil || !strings.Contains(*a.Error, "deadline") {
		t.Errorf("first attempt %+v, want no status and a timeout error", a)
	}
}

func TestListenReconnectsWhenTheServerRestarts(t *testing.T) {
	t.Parallel()
	first := startServer(t, noPrivateNetworks)
	c := first.Main.Config
	e := dlvSetupOn(t, first, dlvFast, "invoice.paid")
	local := newReceiver(t, nil)
	run := startListen(t, "--server", first.URL, "--token", e.appKey(), "--forward-to", local.URL)
	secret := run.secret(t)
	hook := e.listenWebhook()
	if err := first.Main.Close(); err != nil {
		t.Fatal(err)
	}
	// The same address, data and database: a restart.
	second := startServer(t, func(cfg *Config) {
		cfg.Addr, cfg.DataDir, cfg.Database, cfg.AllowPrivateNetworks = first.Main.Addr(), c.DataDir, c.Database, false
	})
	e.srv, e.c = second, second.Client
	eventually(t, dlvWait, "hookd listen to reconnect", func() bool {
		return strings.Contains(run.errOut.String(), "reconnecting")
	})
	pub := e.publishType("invoice.paid", 1)
	got := local.waitFor(t, 1, dlvWait)[0]
	if got.Header.Get("webhook-id") != pub.ID || !dlvVerifies(t, got, secret) {
		t.Errorf("after the restart the delivery did not come with the first secret")
	}
	if w := e.listenWebhook(); w == nil || w.ID != hook.ID {
		t.Errorf("after the restart the listen webhook is %+v, want the same %s", w, hook.ID)
	}
	if n := strings.Count(run.out.String(), "whsec_"); n != 1 {
		t.Errorf("the secret line was printed %d times, want once: the webhook resumed", n)
	}
}

func TestListenThroughAnHTTPProxy(t *testing.T) {
	t.Parallel()
	e := dlvSetupOn(t, startServer(t, noPrivateNetworks), dlvFast, "invoice.paid")
	local := newReceiver(t, nil)
	var mu sync.Mutex
	proxied := map[string]int{}
	// An ordinary forwarding proxy: requests in absolute form, passed on.
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		mu.Lock()
		proxied[pr.In.Method+" "+pr.In.URL.Path]++
		mu.Unlock()
	}})
	t.Cleanup(proxy.Close)
	proxyURL, _ := url.Parse(proxy.URL)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	run := startListenVia(t, hc, "--server", e.srv.URL, "--token", e.appKey(), "--forward-to", local.URL)
	secret := run.secret(t)
	pub := e.publishType("invoice.paid", 1)
	if got := local.waitFor(t, 1, dlvWait)[0]; !dlvVerifies(t, got, secret) {
		t.Errorf("the delivery through the proxy does not verify")
	}
	e.waitStatus(e.onlyDelivery(pub.ID), "succeeded")
	hook := e.listenWebhook()
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"GET /v1/apps/" + e.app.ID + "/listen/" + hook.ID + "/stream", "POST /v1/apps/" + e.app.ID + "/listen/" + hook.ID + "/results"} {
		if proxied[want] == 0 {
			t.Errorf("the proxy did not carry %s; it carried %v", want, proxied)
		}
	}
}

func TestListenStopsWhenItsAppIsDeleted(t *testing.T) {
	t.Parallel()
	srv := startServer(t, noPrivateNetworks, func(c *Config) { c.ListenTimeout = 300 * time.Millisecond })
	e := dlvSetupOn(t, srv, dlvFast, "invoice.paid")
	run := startListen(t, "--server", e.srv.URL, "--token", testAdminToken, "--app", e.app.ID, "--forward-to", "localhost:1")
	run.secret(t)
	if _, err := e.c.Do(e.ctx, http.MethodDelete, "/v1/apps/"+e.app.ID, nil, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-run.done:
		run.done <- err // for stop at cleanup
		if !errors.Is(err, cli.ErrFailed) || !strings.Contains(run.errOut.String(), "NOT_FOUND") {
			t.Errorf("hookd listen ended with %v, %q; want a failure naming NOT_FOUND", err, run.errOut.String())
		}
	case <-time.After(dlvWait):
		t.Fatalf("hookd listen kept running after its app was deleted:\n%s", run.errOut.String())
	}
}
