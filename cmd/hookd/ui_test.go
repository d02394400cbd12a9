package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/logtest"
)

// TestPortalLinkAPI checks POST /v1/apps/{app}/portal: who may make one,
// its lifetime's bounds, and an absolute URL under --public-url.
func TestPortalLinkAPI(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.PublicURL = "https://hooks.example.com/" })
	a := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	b := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "B"}), "id")
	keyA := apiMustCreateKey(t, srv, a)

	before := time.Now()
	got := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+a+"/portal", nil), http.StatusCreated)
	link := apiStr(t, got, "url")
	if !strings.HasPrefix(link, "https://hooks.example.com/ui/portal?token=hkp_") {
		t.Errorf("url = %q, want it under the public URL with a portal token", link)
	}
	exp := apiTime(t, got, "expires_at")
	if d := exp.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expires_at is %v away, want the default hour", d)
	}
	got = apiWant(t, apiRequest(t, srv, keyA, "POST", "/v1/apps/"+a+"/portal", map[string]any{"expires_in": 60}), http.StatusCreated)
	if d := apiTime(t, got, "expires_at").Sub(before); d < 55*time.Second || d > 65*time.Second {
		t.Errorf("expires_in 60 gave expires_at %v away", d)
	}
	apiWantError(t, apiRequest(t, srv, keyA, "POST", "/v1/apps/"+b+"/portal", nil), http.StatusNotFound, "NOT_FOUND", "")
	for _, n := range []int{59, 604801, 0, -1} {
		apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/"+a+"/portal", map[string]any{"expires_in": n}), http.StatusBadRequest, "BAD_REQUEST", "expires_in")
	}
	apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+a+"/portal", map[string]any{"expires_in": 604800}), http.StatusCreated)
	apiWantError(t, apiRequest(t, srv, "", "POST", "/v1/apps/"+a+"/portal", nil), http.StatusUnauthorized, "UNAUTHORIZED", "")
}

// uiClient is a browser-like client of the dashboard: it keeps cookies
// and sends what a browser's same-origin form post sends.
type uiClient struct {
	tb  testing.TB
	srv *testServer
	c   *http.Client
}

func newUIClient(tb testing.TB, srv *testServer) *uiClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &uiClient{tb: tb, srv: srv, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (u *uiClient) do(method, path string, form url.Values, header http.Header) (*http.Response, string) {
	u.tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u.srv.URL+path, body)
	if err != nil {
		u.tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", u.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := u.c.Do(req)
	if err != nil {
		u.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf reads the form token of the page at path.
func (u *uiClient) csrf(path string) string {
	u.tb.Helper()
	_, page := u.do("GET", path, nil, nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		u.tb.Fatalf("GET %s has no form token:\n%s", path, page)
	}
	return m[1]
}

func (u *uiClient) signIn(token string) {
	u.tb.Helper()
	resp, page := u.do("POST", "/ui/login", url.Values{"token": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		u.tb.Fatalf("sign in: %d\n%s", resp.StatusCode, page)
	}
}

// TestDashboardSafety checks what keeps the dashboard's sessions safe:
// the cookie's attributes, the form token and origin checks, the frame
// and script policies, and that no token reaches a log line.
func TestDashboardSafety(t *testing.T) {
	t.Parallel()
	logs := &logtest.Buffer{}
	srv := startServerLogging(t, logs, slog.LevelDebug, func(c *Config) { c.PortalFrameAncestors = []string{"https://operator.example"} })
	a := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	hook := apiStr(t, apiMustCreateWebhook(t, srv, testAdminToken, a, map[string]any{"url": "http://127.0.0.1:9/hook"}), "id")

	u := newUIClient(t, srv)
	resp, _ := u.do("GET", "/ui/login", nil, nil)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("login CSP = %q, want scripts from self only and no framing", csp)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("login X-Frame-Options = %q, want DENY", resp.Header.Get("X-Frame-Options"))
	}
	// A sign-in posted from another site is refused.
	resp, _ = u.do("POST", "/ui/login", url.Values{"token": {testAdminToken}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if resp.StatusCode == http.StatusSeeOther {
		t.Errorf("a cross-site sign-in succeeded")
	}
	resp, page := u.do("POST", "/ui/login", url.Values{"token": {"wrong-token-wrong-token"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "neither the admin token nor an app key") {
		t.Errorf("a wrong token answered %d", resp.StatusCode)
	}

	resp, _ = u.do("POST", "/ui/login", url.Values{"token": {testAdminToken}}, nil)
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"hookd_session=hks_", "HttpOnly", "Path=/ui", "SameSite=Lax", "Secure"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	token := u.csrf("/ui/apps/" + a + "/webhooks/" + hook)
	path := "/ui/apps/" + a + "/webhooks/" + hook + "/status"
	// Without the form token, with a wrong one, or from another origin,
	// nothing changes.
	for name, c := range map[string]struct {
		form   url.Values
		header http.Header
	}{
		"no token":       {url.Values{"status": {"paused"}}, nil},
		"wrong token":    {url.Values{"status": {"paused"}, "csrf": {strings.Repeat("0", 64)}}, nil},
		"cross-site":     {url.Values{"status": {"paused"}, "csrf": {token}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		"another origin": {url.Values{"status": {"paused"}, "csrf": {token}}, http.Header{"Origin": {"https://evil.example"}}},
	} {
		resp, _ := u.do("POST", path, c.form, c.header)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status post answered %d, want 403", name, resp.StatusCode)
		}
	}
	if st := apiStr(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+a+"/webhooks/"+hook, nil), 200), "status"); st != "active" {
		t.Fatalf("a refused form changed the webhook to %s", st)
	}
	resp, _ = u.do("POST", path, url.Values{"status": {"paused"}, "csrf": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status post with its token answered %d", resp.StatusCode)
	}
	if st := apiStr(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+a+"/webhooks/"+hook, nil), 200), "status"); st != "paused" {
		t.Errorf("webhook is %s after pausing it in the dashboard", st)
	}

	// A portal page may be framed by the configured origins; its cookie
	// is for a cross-site frame.
	link := apiStr(t, apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+a+"/portal", nil), http.StatusCreated), "url")
	linkURL, _ := url.Parse(link)
	p := newUIClient(t, srv)
	resp, _ = p.do("GET", linkURL.RequestURI(), nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/apps/"+a {
		t.Fatalf("portal link answered %d to %q, want a redirect to the app without the token", resp.StatusCode, resp.Header.Get("Location"))
	}
	if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, "SameSite=None") || !strings.Contains(c, "Partitioned") || !strings.Contains(c, "Secure") {
		t.Errorf("portal cookie %q is not SameSite=None; Secure; Partitioned", c)
	}
	resp, _ = p.do("GET", "/ui/apps/"+a, nil, nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://operator.example") {
		t.Errorf("portal page CSP = %q, want the configured frame ancestors", csp)
	}

	// Signing out ends the session on the server: the old cookie no
	// longer works.
	old := u.c.Jar.Cookies(mustURL(t, srv.URL+"/ui/"))
	u.do("POST", "/ui/logout", url.Values{"csrf": {token}}, nil)
	replay := newUIClient(t, srv)
	replay.c.Jar.SetCookies(mustURL(t, srv.URL+"/ui/"), old)
	resp, _ = replay.do("GET", "/ui/apps/"+a, nil, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login") {
		t.Errorf("a signed-out session's cookie answered %d %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}

	linkToken := linkURL.Query().Get("token")
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "hks_") || strings.Contains(line, "hkp_") || strings.Contains(line, testAdminToken) || strings.Contains(line, linkToken) {
			t.Errorf("a log line holds a token: %s", line)
		}
	}
	if !strings.Contains(logs.String(), "/ui/") {
		t.Errorf("the debug log shows no dashboard request, so the check above read nothing:\n%s", logs.String())
	}
}

func mustURL(tb testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
