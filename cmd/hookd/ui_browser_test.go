package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/service"
)

// The dashboard driven in headless Chromium, against a real hookd and
// real receivers, as a new user would use it: the operator, an app key
// holder and a customer through a portal link, directly and inside an
// iframe on another site.

// chromiumPath finds a Chromium to drive: HOOKD_TEST_CHROMIUM, or one on
// PATH. Without one the browser tests skip, except in CI (CI=true), where
// they fail: .ci/run installs Debian's chromium.
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("HOOKD_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("no Chromium found (chromium, chromium-browser or google-chrome on PATH, or HOOKD_TEST_CHROMIUM); CI must run the browser tests")
	}
	tb.Skip("browser tests skipped: no Chromium found; install Debian's chromium package (apt-get install chromium) or set HOOKD_TEST_CHROMIUM")
	return ""
}

// startChromium starts a headless Chromium and returns its first tab.
func startChromium(tb testing.TB) context.Context {
	tb.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(tb)),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		// Block third-party cookies as current Chrome does for the
		// users it has moved: the embedded portal must work anyway.
		chromedp.Flag("test-third-party-cookie-phaseout", true),
		chromedp.WindowSize(1280, 800),
		// Frames of other sites stay in the page's process, where the
		// tests can read them.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,IsolateOrigins,site-per-process"),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	tb.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx, chromedp.WithLogf(func(string, ...any) {}))
	tb.Cleanup(cancel2)
	// The first action starts the browser, which lives as long as the
	// context it was given: this one, not one with a deadline.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// browser opens a tab of chromium in a browser context of its own: a
// fresh profile, with no cookies of the other tabs.
func browser(tb testing.TB, chromium context.Context) context.Context {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(chromium, chromedp.WithNewBrowserContext())
	tb.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// shooter takes screenshots at laptop and phone widths into a directory:
// HOOKD_SCREENSHOT_DIR, or the test's temporary one.
type shooter struct {
	tb  testing.TB
	dir string
}

func newShooter(tb testing.TB, store string) *shooter {
	dir := os.Getenv("HOOKD_SCREENSHOT_DIR")
	if dir == "" {
		dir = tb.TempDir()
	}
	dir = filepath.Join(dir, store)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return &shooter{tb: tb, dir: dir}
}

// shoot saves the current page at both widths, as name-laptop.png and
// name-phone.png, and leaves the window at laptop width.
func (s *shooter) shoot(ctx context.Context, name string) {
	s.tb.Helper()
	for _, size := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"laptop", 1280, 800}} {
		err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h), chromedp.Sleep(150*time.Millisecond))
		var png []byte
		if err == nil {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		if err != nil {
			s.tb.Fatalf("screenshot %s at %s width: %v", name, size.name, err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, name+"-"+size.name+".png"), png, 0o644); err != nil {
			s.tb.Fatal(err)
		}
	}
}

// uiRun runs browser actions, failing the test with what was being done.
func uiRun(tb testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	step, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(step, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		tb.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, shorten(body, 2000))
	}
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// textOf reads the text of the first element sel matches.
func textOf(tb testing.TB, ctx context.Context, sel string) string {
	tb.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		tb.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// waitText reloads the page until sel's text contains want.
func waitText(tb testing.TB, ctx context.Context, sel, want string, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)))
		var s string
		if err == nil {
			s, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		}
		if err == nil && strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s never showed %q; last: %q (%v)", sel, want, shorten(s, 1500), err)
		}
		time.Sleep(300 * time.Millisecond)
		uiRun(tb, ctx, "reload", chromedp.Reload())
	}
}

func location(tb testing.TB, ctx context.Context) string {
	tb.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		tb.Fatalf("read the location: %v", err)
	}
	return loc
}

// signIn signs in at /ui/login with token.
func signIn(tb testing.TB, ctx context.Context, base, token string) {
	tb.Helper()
	uiRun(tb, ctx, "sign in",
		chromedp.Navigate(base+"/ui/login"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`form.signout`)),
	)
}

// TestDashboardInBrowser clicks through the dashboard as the operator, an
// app key holder and a customer, against live receivers.
func TestDashboardInBrowser(t *testing.T) {
	storeName := "sqlite"
	if usePostgres() {
		storeName = "postgres"
	}
	shots := newShooter(t, storeName)
	chromium := startChromium(t)
	ctx := browser(t, chromium)

	// The operator's own site, on another origin (localhost is another
	// site than 127.0.0.1), frames the portal in its settings page.
	var portalSrc atomic.Value
	portalSrc.Store("")
	framer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>Acme settings</title></head><body style="font-family:sans-serif;margin:0;background:#eef">
<h1 style="padding:12px 24px;margin:0;background:#223;color:#fff;font-size:18px">Acme · Settings · Webhooks</h1>
<iframe id="portal" src="%s" style="width:100%%;height:900px;border:0"></iframe></body></html>`, portalSrc.Load())
	}))
	t.Cleanup(framer.Close)
	framerOrigin := strings.Replace(framer.URL, "127.0.0.1", "localhost", 1)

	srv := startServer(t, func(c *Config) {
		c.PortalFrameAncestors = []string{framerOrigin}
		c.PortalBrand.Name = "Acme"
	})

	// The catalog, two apps, and receivers: one that answers 200, one
	// that fails until told otherwise.
	apiWant(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{"name": "invoice.paid", "description": "An invoice was paid in full.",
		"schema": map[string]any{"type": "object", "required": []string{"invoice_id", "amount"}, "properties": map[string]any{
			"invoice_id": map[string]any{"type": "string", "examples": []string{"in_1042"}}, "amount": map[string]any{"type": "integer", "examples": []int{4200}},
			"currency": map[string]any{"type": "string", "enum": []string{"usd", "eur"}}}}}), http.StatusCreated)
	apiWant(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{"name": "invoice.overdue", "description": "An invoice is past its due date."}), http.StatusCreated)
	apiWant(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{"name": "customer.created", "description": "A customer signed up."}), http.StatusCreated)
	appA := apiMustCreateApp(t, srv, map[string]any{"name": "Globex Corporation", "uid": "globex",
		"profile": map[string]any{"retry": map[string]any{"max_attempts": 1}}})
	a := apiStr(t, appA, "id")
	b := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "Initech"}), "id")
	hookB := apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, b, map[string]any{"url": "http://127.0.0.1:9/initech", "name": "Initech secret hook"}), "id")
	good := newReceiver(t, nil)
	var failing atomic.Bool
	failing.Store(true)
	bad := newReceiver(t, func(int, *http.Request) int {
		if failing.Load() {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})

	// The operator signs in and sees the apps.
	signIn(t, ctx, srv.URL, testAdminToken)
	if s := textOf(t, ctx, "main"); !strings.Contains(s, "Globex Corporation") || !strings.Contains(s, "Initech") {
		t.Fatalf("the overview does not list both apps:\n%s", s)
	}
	shots.shoot(ctx, "overview")

	// Add a webhook through the form.
	uiRun(t, ctx, "add a webhook",
		chromedp.Navigate(srv.URL+"/ui/apps/"+a),
		chromedp.Click(chromedp.CSS(`a[href$="/webhooks/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#url`)),
		chromedp.SendKeys(chromedp.CSS(`#url`), good.URL+"/hooks"),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Production"),
		chromedp.Click(chromedp.CSS(`input[value="invoice.paid"]`)),
		chromedp.Click(chromedp.CSS(`input[value="invoice.overdue"]`)),
	)
	shots.shoot(ctx, "webhook-new")
	uiRun(t, ctx, "save the webhook", chromedp.Submit(chromedp.CSS(`#url`)), chromedp.WaitVisible(chromedp.CSS(`#secret`)))
	secret1 := textOf(t, ctx, "#secret")
	if !strings.HasPrefix(secret1, "whsec_") {
		t.Fatalf("the new webhook's secret shows as %q", secret1)
	}
	hookURL := location(t, ctx)
	hookURL = hookURL[:strings.LastIndex(hookURL, "/webhooks")]
	var hookID string
	{
		hooks, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+a+"/webhooks", nil), 200), "webhooks")
		if len(hooks) != 1 || hooks[0]["url"] != good.URL+"/hooks" {
			t.Fatalf("after the form the app has webhooks %v", hooks)
		}
		hookID = apiStr(t, hooks[0], "id")
	}
	hookPage := srv.URL + "/ui/apps/" + a + "/webhooks/" + hookID

	// Send a test event: it reaches the receiver and the list shows it
	// succeeded, without a reload (the list refreshes itself).
	uiRun(t, ctx, "send a test event",
		chromedp.Navigate(hookPage),
		chromedp.SetValue(chromedp.CSS(`#ttype`), "invoice.paid"),
		chromedp.SetValue(chromedp.CSS(`#tdata`), `{"invoice_id":"in_1042","amount":4200}`),
		chromedp.Submit(chromedp.CSS(`#tdata`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok`)),
	)
	got := good.waitFor(t, 1, 10*time.Second)
	if !strings.Contains(string(got[0].Body), `"in_1042"`) || got[0].Header.Get("webhook-signature") == "" {
		t.Errorf("the test event arrived as %s with headers %v", got[0].Body, got[0].Header)
	}
	uiRun(t, ctx, "see the delivery succeed in the live list",
		uiPoll(`document.querySelector("#deliveries .s-succeeded") !== null`))
	shots.shoot(ctx, "webhook")

	// A webhook whose receiver fails: its delivery fails, and a retry
	// from the delivery's page succeeds once the receiver is back.
	failHook := apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, a, map[string]any{"url": bad.URL + "/flaky", "name": "Staging", "events": []string{"*"}}), "id")
	uiRun(t, ctx, "send a test event to the failing webhook",
		chromedp.Navigate(srv.URL+"/ui/apps/"+a+"/webhooks/"+failHook),
		chromedp.Submit(chromedp.CSS(`#tdata`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok`)),
		uiPoll(`document.querySelector("#deliveries .s-failed") !== null`),
		chromedp.Click(chromedp.CSS(`#deliveries a.mono`)),
		chromedp.WaitVisible(chromedp.CSS(`.attempt`)),
	)
	if s := textOf(t, ctx, "main"); !strings.Contains(s, "503") || !strings.Contains(s, "answer Service Unavailable") || !strings.Contains(s, "webhook-signature") {
		t.Errorf("the failed delivery's page lacks the response code, body or request headers:\n%s", s)
	}
	shots.shoot(ctx, "delivery-failed")
	failing.Store(false)
	uiRun(t, ctx, "retry the failed delivery", chromedp.Click(chromedp.CSS(`form[action$="/retry"] button`)), chromedp.WaitVisible(chromedp.CSS(`.flash.ok`)))
	waitText(t, ctx, "h1", "succeeded", 15*time.Second)
	shots.shoot(ctx, "delivery")

	// The app page shows both webhooks' health.
	uiRun(t, ctx, "open the app", chromedp.Navigate(srv.URL+"/ui/apps/"+a), chromedp.WaitVisible(chromedp.CSS(`table.hooks`)))
	if s := textOf(t, ctx, "table.hooks"); !strings.Contains(s, "Production") || !strings.Contains(s, "Staging") || !strings.Contains(s, "200") {
		t.Errorf("the app's webhook table lacks names or last responses:\n%s", s)
	}
	shots.shoot(ctx, "app")

	// A source that took two signed requests and refused a forged one:
	// its page charts both.
	srcEnv := &srcE2EEnv{tb: t, srv: srv, token: testAdminToken, appID: a}
	src := srcEnv.create(map[string]any{"name": "Billing provider"})
	for _, id := range []string{"msg_1", "msg_2"} {
		srcE2EWantReceived(t, srcE2EPost(t, src, *src.Secret, id, []byte(`{"type":"invoice.paid"}`)))
	}
	srcE2EWantError(t, srcE2EPost(t, src, "whsec_"+"Zm9yZ2VkIHNlY3JldCBmb3JnZWQgc2VjcmV0", "msg_3", []byte(`{}`)), http.StatusUnauthorized, "UNAUTHORIZED")
	// Refusals are counted in memory and flushed every second.
	eventually(t, 10*time.Second, "the refusal counted", func() bool {
		st, err := srv.Client.SourceStats(context.Background(), a, src.ID, hookd.StatsQuery{Interval: hookd.StatsHour})
		return err == nil && st.Totals.Received == 2 && st.Totals.Rejected == 1
	})
	uiRun(t, ctx, "open the source", chromedp.Navigate(srv.URL+"/ui/apps/"+a+"/sources/"+src.ID), chromedp.WaitVisible(chromedp.CSS(`svg.chart`)))
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("svg.chart").getAttribute("aria-label")`))
	if err != nil {
		t.Fatal(err)
	}
	if label != "2 received, 1 rejected" {
		t.Errorf("the source's chart says %q, want 2 received, 1 rejected", label)
	}
	if s := textOf(t, ctx, "main"); !strings.Contains(s, "/v1/receive/"+src.ID) || !strings.Contains(s, "invoice.paid") {
		t.Errorf("the source's page lacks its receive URL or its events:\n%s", s)
	}
	shots.shoot(ctx, "source")

	// Rotate the secret: a new one, shown once.
	uiRun(t, ctx, "rotate the secret",
		chromedp.Navigate(hookPage),
		chromedp.SetValue(chromedp.CSS(`#grace`), "0"),
		chromedp.Submit(chromedp.CSS(`#grace`)),
		chromedp.WaitVisible(chromedp.CSS(`#secret`)),
	)
	secret2 := textOf(t, ctx, "#secret")
	if !strings.HasPrefix(secret2, "whsec_") || secret2 == secret1 {
		t.Errorf("after rotating, the secret shows as %q (was %q)", secret2, secret1)
	}
	shots.shoot(ctx, "secret-rotated")
	uiRun(t, ctx, "reload after rotating", chromedp.Navigate(hookPage), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#secret").length`))
	if err != nil {
		t.Fatal(err)
	}
	if shown != 0 {
		t.Errorf("the secret is shown again after a reload")
	}
	uiRun(t, ctx, "open the catalog", chromedp.Navigate(srv.URL+"/ui/apps/"+a+"/catalog"), chromedp.WaitVisible(chromedp.CSS(`.evtype`)))
	if s := textOf(t, ctx, "main"); !strings.Contains(s, "in_1042") || !strings.Contains(s, "An invoice was paid in full.") {
		t.Errorf("the catalog lacks the schema's sample or a description:\n%s", s)
	}
	shots.shoot(ctx, "catalog")

	// Sign out: the session ends, and its cookie no longer works.
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL + "/ui/"}})
	if err != nil {
		t.Fatalf("read cookies: %v", err)
	}
	before := cookies.Cookies
	uiRun(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`form.signout button`)), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	u := newUIClient(t, srv)
	for _, c := range before {
		u.c.Jar.SetCookies(mustURL(t, srv.URL+"/ui/"), []*http.Cookie{{Name: c.Name, Value: c.Value, Path: c.Path}})
	}
	if resp, _ := u.do("GET", "/ui/", nil, nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login") {
		t.Errorf("the signed-out session's cookie still opens the dashboard: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	shots.shoot(ctx, "login")

	// An app key sees its own app and nothing else.
	key := apiMustCreateKey(t, srv, a)
	kctx := browser(t, chromium)
	signIn(t, kctx, srv.URL, key)
	if loc := location(t, kctx); !strings.HasSuffix(loc, "/ui/apps/"+a) {
		t.Errorf("an app key lands at %s, want its app", loc)
	}
	denied(t, kctx, srv.URL, b, hookB)

	// A portal link, opened directly: the token leaves the address bar,
	// the customer sees their app, and nothing of another or of the
	// operator's views.
	link := apiStr(t, apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+a+"/portal", map[string]any{"expires_in": 600}), http.StatusCreated), "url")
	pctx := browser(t, chromium)
	uiRun(t, pctx, "open the portal link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`table.hooks`)))
	if loc := location(t, pctx); strings.Contains(loc, "token") || !strings.HasSuffix(loc, "/ui/apps/"+a) {
		t.Errorf("after opening the portal link the address is %s", loc)
	}
	if s := textOf(t, pctx, "body"); strings.Contains(s, "App keys") || strings.Contains(s, "Customer portal") || strings.Contains(s, "Overview") {
		t.Errorf("the portal shows the operator's views:\n%s", s)
	}
	shots.shoot(pctx, "portal")
	denied(t, pctx, srv.URL, b, hookB)
	// The link works again until it expires.
	uiRun(t, pctx, "open the portal link again", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`table.hooks`)))

	// The same link inside an iframe on the operator's site, another
	// site than hookd's: the session's cookie must work there, and so
	// must an action.
	portalSrc.Store(strings.Replace(link, "&", "&amp;", -1))
	fctx := browser(t, chromium)
	uiRun(t, fctx, "open the operator's page", chromedp.Navigate(framerOrigin+"/settings"), chromedp.WaitVisible(chromedp.CSS(`#portal`)))
	frame := portalFrame(t, fctx)
	uiRun(t, fctx, "see the portal in the frame",
		chromedp.WaitVisible(chromedp.CSS(`table.hooks`), chromedp.FromNode(frame)))
	inFrame, err := chromedp.Run(fctx, chromedp.Text(chromedp.CSS(`table.hooks`), chromedp.FromNode(frame)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inFrame, "Production") {
		t.Errorf("the framed portal shows %q", inFrame)
	}
	shots.shoot(fctx, "portal-embedded")
	// Pause the webhook from inside the frame: the form's token and the
	// partitioned cookie both reach hookd.
	uiRun(t, fctx, "open the webhook in the frame",
		chromedp.Click(chromedp.CSS(`table.hooks a[href$="/webhooks/`+hookID+`"]`), chromedp.FromNode(frame)))
	pause := chromedp.CSS(`.actions form[action$="/status"] button`)
	eventually(t, 15*time.Second, "the webhook's page in the frame", func() bool {
		step, cancel := context.WithTimeout(fctx, time.Second)
		defer cancel()
		return chromedp.Do(step, chromedp.WaitVisible(pause, chromedp.FromNode(portalFrame(t, fctx)))) == nil
	})
	uiRun(t, fctx, "pause the webhook in the frame", chromedp.Click(pause, chromedp.FromNode(portalFrame(t, fctx))))
	eventually(t, 10*time.Second, "the webhook paused from the framed portal", func() bool {
		hooks, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+a+"/webhooks", nil), 200), "webhooks")
		for _, h := range hooks {
			if h["name"] == "Production" && h["status"] == "paused" {
				return true
			}
		}
		return false
	})

	// An expired link is refused, and a session made from a link ends
	// when the link does.
	st := srv.Main.store
	expired := "hkp_expiredexpiredexpiredexpiredexpired"
	now := time.Now()
	if err := st.CreateSession(context.Background(), &hookd.Session{Hash: service.HashToken(expired), Kind: hookd.SessionLink, AppID: a,
		Credential: "link:", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ectx := browser(t, chromium)
	uiRun(t, ectx, "open an expired link", chromedp.Navigate(srv.URL+"/ui/portal?token="+expired), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	if s := textOf(t, ectx, "main"); !strings.Contains(s, "expired") || strings.Contains(s, "Production") {
		t.Errorf("an expired link shows:\n%s", s)
	}
	shots.shoot(ectx, "portal-expired")
	short := "hkp_shortlivedshortlivedshortlivedshort"
	shortEnd := time.Now().Add(3 * time.Second)
	if err := st.CreateSession(context.Background(), &hookd.Session{Hash: service.HashToken(short), Kind: hookd.SessionLink, AppID: a,
		Credential: "link:", CreatedAt: now, ExpiresAt: shortEnd}); err != nil {
		t.Fatal(err)
	}
	uiRun(t, ectx, "open a link about to expire", chromedp.Navigate(srv.URL+"/ui/portal?token="+short), chromedp.WaitVisible(chromedp.CSS(`table.hooks`)))
	time.Sleep(time.Until(shortEnd.Add(500 * time.Millisecond)))
	uiRun(t, ectx, "reload after the link expired", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`body`)))
	if s := textOf(t, ectx, "body"); strings.Contains(s, "Production") {
		t.Errorf("the session of an expired link still shows the app:\n%s", s)
	}
}

// uiPoll waits until expression is true on the page.
func uiPoll(expression string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expression, chromedp.WithPollingTimeout(15*time.Second))(ctx, t)
		return err
	})
}

// portalFrame returns the portal iframe's node, with its document.
func portalFrame(tb testing.TB, ctx context.Context) *chromedp.Node {
	tb.Helper()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`#portal`)))
	if err != nil || len(nodes) == 0 {
		tb.Fatalf("find the portal frame: %v", err)
	}
	return nodes[0]
}

// denied checks that a session of one app cannot see another app, its
// webhook, or the operator's overview.
func denied(tb testing.TB, ctx context.Context, base, otherApp, otherHook string) {
	tb.Helper()
	for _, path := range []string{"/ui/apps/" + otherApp, "/ui/apps/" + otherApp + "/webhooks/" + otherHook, "/ui/apps/" + otherApp + "/catalog"} {
		uiRun(tb, ctx, "open "+path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(`main`)))
		if s := textOf(tb, ctx, "main"); strings.Contains(s, "Initech") || !strings.Contains(s, "not yours to see") {
			tb.Errorf("%s shows another app's page:\n%s", path, s)
		}
	}
	uiRun(tb, ctx, "open the overview", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`main`)))
	if loc := location(tb, ctx); !strings.Contains(loc, "/ui/apps/") {
		tb.Errorf("the overview answered %s to an app's session", loc)
	}
	// Nor can it make an app or a key, even with a valid form token.
	token, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name=csrf]`)))
	if err != nil {
		tb.Fatalf("read a form token: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch("/ui/apps/%s/keys", {method: "POST", body: new URLSearchParams({csrf: %q, name: "x"})}).then(r => r.status)`,
		url.PathEscape(otherApp), token), chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("post as an app: %v", err)
	}
	if status != http.StatusNotFound && status != http.StatusForbidden {
		tb.Errorf("an app's session creating a key for another app answered %d", status)
	}
}
