package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookd/hookd/cli"
)

// cliRun runs a resource command in-process against srv as the admin,
// with stdin and a terminal or not, and returns stdout, stderr and the
// error.
type cliResult struct {
	out, errOut string
	err         error
}

func cliRun(tb testing.TB, srv *testServer, terminal bool, stdin string, args ...string) cliResult {
	tb.Helper()
	cmd, ok := cli.Command(append(args, "--server", srv.URL, "--token", testAdminToken))
	if !ok {
		tb.Fatalf("%v names no resource command", args)
	}
	var out, errOut bytes.Buffer
	env := cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }, Terminal: terminal}
	err := cli.Run(context.Background(), env, cmd)
	return cliResult{out.String(), errOut.String(), err}
}

// cliJSON runs a command with -o json and decodes its one document.
func cliJSON(tb testing.TB, srv *testServer, args ...string) map[string]any {
	tb.Helper()
	r := cliRun(tb, srv, true, "", append(args, "-o", "json")...)
	if r.err != nil {
		tb.Fatalf("hookd %s: %v\n%s", strings.Join(args, " "), r.err, r.errOut)
	}
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(r.out))
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("hookd %s -o json: not one JSON object: %v\n%s", strings.Join(args, " "), err, r.out)
	}
	if dec.More() {
		tb.Fatalf("hookd %s -o json printed more than one document", strings.Join(args, " "))
	}
	return v
}

// apiRaw is the API's own answer to a GET, for comparing with -o json.
func apiRaw(tb testing.TB, srv *testServer, path string) string {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestCLIWalkthrough does the README's walk-through with the CLI only,
// each read in table and JSON form, and checks JSON is the API's answer
// byte for byte.
func TestCLIWalkthrough(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := newReceiver(t, nil)

	et := cliJSON(t, srv, "event-type", "create", "--name", "invoice.paid", "--description", "An invoice was paid",
		"--schema", `{"type":"object","required":["invoice"]}`)
	if et["name"] != "invoice.paid" || et["schema"] == nil {
		t.Errorf("event-type create = %v", et)
	}
	app := cliJSON(t, srv, "app", "create", "--name", "Acme Inc", "--uid", "acme", "--contact-email", "ops@acme.example")
	if app["uid"] != "acme" || !strings.HasPrefix(app["default_secret"].(string), "whsec_") {
		t.Errorf("app create = %v", app)
	}
	key := cliJSON(t, srv, "key", "create", "--app", "acme", "--name", "acme backend")
	if !strings.HasPrefix(key["key"].(string), "hk_") {
		t.Errorf("key create = %v", key)
	}
	// Flags before the resource, before the verb and after the arguments.
	hookArgs := []string{"--app", "acme", "webhook", "create", "--url", rc.URL + "/hooks", "--events", "invoice.paid",
		"--header", "X-Team: billing", "--name", "Acme production", "--metadata", "tier=gold", "--rate-limit", "50"}
	hook := cliJSON(t, srv, hookArgs...)
	hookID, _ := hook["id"].(string)
	if hook["url"] != rc.URL+"/hooks" || hook["rate_limit"] != float64(50) || !strings.HasPrefix(hook["secret"].(string), "whsec_") ||
		hook["headers"].(map[string]any)["X-Team"] != "billing" || hook["metadata"].(map[string]any)["tier"] != "gold" {
		t.Errorf("webhook create = %v", hook)
	}

	// Event data three ways: inline, from a file, from standard input.
	file := filepath.Join(t.TempDir(), "data.json")
	os.WriteFile(file, []byte(`{"invoice":"in_2","amount":2}`), 0o600)
	ev1 := cliJSON(t, srv, "event", "publish", "--app", "acme", "--type", "invoice.paid", "--data", `{"invoice":"in_1","amount":1}`)
	ev2 := cliJSON(t, srv, "event", "publish", "--app", "acme", "--type", "invoice.paid", "--data", "@"+file)
	r := cliRun(t, srv, false, `{"invoice":"in_3","amount":3}`, "event", "publish", "--app", "acme", "--type", "invoice.paid", "--data", "-")
	if r.err != nil {
		t.Fatalf("publish from stdin: %v %s", r.err, r.errOut)
	}
	got := rc.waitFor(t, 3, dlvWait)
	var invoices []string
	for _, g := range got {
		var body struct {
			Data struct{ Invoice string } `json:"data"`
		}
		json.Unmarshal(g.Body, &body)
		invoices = append(invoices, body.Data.Invoice)
		if g.Header.Get("X-Team") != "billing" {
			t.Errorf("delivery without the webhook's header: %v", g.Header)
		}
	}
	for _, want := range []string{"in_1", "in_2", "in_3"} {
		if !strings.Contains(strings.Join(invoices, " "), want) {
			t.Errorf("receiver got %v, want %s among them", invoices, want)
		}
	}

	// Reads compare with the API's answers: wait until nothing moves.
	eventually(t, dlvWait, "the three deliveries recorded as succeeded", func() bool {
		var page struct{ Deliveries []struct{ Status string } }
		json.Unmarshal([]byte(apiRaw(t, srv, "/v1/apps/acme/deliveries?status=succeeded")), &page)
		return len(page.Deliveries) == 3
	})

	// Reads: -o json is the API's answer exactly; tables show the ids.
	for _, c := range []struct {
		args []string
		path string
		ids  []string
	}{
		{[]string{"app", "list"}, "/v1/apps", []string{"acme"}},
		{[]string{"app", "get", "acme"}, "/v1/apps/acme", []string{"Acme Inc"}},
		{[]string{"key", "list", "--app", "acme"}, "/v1/apps/acme/keys", []string{"acme backend"}},
		{[]string{"event-type", "list"}, "/v1/event-types", []string{"invoice.paid"}},
		{[]string{"event-type", "get", "invoice.paid"}, "/v1/event-types/invoice.paid", []string{"An invoice was paid"}},
		{[]string{"webhook", "list", "--app", "acme"}, "/v1/apps/acme/webhooks", []string{hookID}},
		{[]string{"webhook", "get", hookID, "--app", "acme"}, "/v1/apps/acme/webhooks/" + hookID, []string{hookID, "Acme production"}},
		{[]string{"event", "list", "--app", "acme"}, "/v1/apps/acme/events", []string{ev1["id"].(string), ev2["id"].(string)}},
		{[]string{"event", "list", "--app", "acme", "--webhook", hookID}, "/v1/apps/acme/webhooks/" + hookID + "/events", []string{ev1["id"].(string)}},
		{[]string{"event", "get", "--app", "acme", ev1["id"].(string)}, "/v1/apps/acme/events/" + ev1["id"].(string), []string{hookID}},
		{[]string{"delivery", "list", "--app", "acme", "--webhook", hookID, "--status", "succeeded"}, "/v1/apps/acme/webhooks/" + hookID + "/deliveries?status=succeeded", []string{"succeeded"}},
	} {
		r := cliRun(t, srv, false, "", c.args...) // not a terminal: JSON
		if r.err != nil {
			t.Errorf("hookd %v: %v %s", c.args, r.err, r.errOut)
			continue
		}
		if want := apiRaw(t, srv, c.path); strings.TrimSpace(r.out) != strings.TrimSpace(want) {
			t.Errorf("hookd %v printed\n%s\nthe API answers\n%s", c.args, r.out, want)
		}
		tab := cliRun(t, srv, true, "", c.args...) // a terminal: a table
		if tab.err != nil || strings.HasPrefix(strings.TrimSpace(tab.out), "{") {
			t.Errorf("hookd %v on a terminal: %v\n%s", c.args, tab.err, tab.out)
		}
		for _, id := range c.ids {
			if !strings.Contains(tab.out, id) {
				t.Errorf("hookd %v table lacks %q:\n%s", c.args, id, tab.out)
			}
		}
	}
	tab := cliRun(t, srv, true, "", "webhook", "list", "--app", "acme").out
	if lines := strings.Split(strings.TrimSpace(tab), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "STATUS") || !strings.Contains(lines[0], "URL") {
		t.Errorf("webhook list table:\n%s", tab)
	}

	// The delivery with its attempts, then a retry of it.
	ds := cliJSON(t, srv, "delivery", "list", "--app", "acme", "--webhook", hookID)["deliveries"].([]any)
	dlv := ds[0].(map[string]any)["id"].(string)
	one := cliRun(t, srv, true, "", "delivery", "get", "--app", "acme", dlv)
	if !strings.Contains(one.out, "ATTEMPTS") || !strings.Contains(one.out, "STATUS CODE") || !strings.Contains(one.out, "200") {
		t.Errorf("delivery get table lacks its attempts:\n%s", one.out)
	}
	if d := cliJSON(t, srv, "delivery", "retry", "--app", "acme", dlv); d["id"] != dlv {
		t.Errorf("delivery retry = %v", d)
	}
	rc.waitFor(t, 4, dlvWait)

	// Changes: pause, rotate with grace, test, recover.
	if w := cliJSON(t, srv, "webhook", "update", "--app", "acme", hookID, "--status", "paused"); w["status"] != "paused" || w["url"] != rc.URL+"/hooks" {
		t.Errorf("webhook update = %v", w)
	}
	cliJSON(t, srv, "webhook", "update", "--app", "acme", hookID, "--status", "active")
	rot := cliJSON(t, srv, "webhook", "rotate", "--app", "acme", hookID, "--grace-seconds", "60")
	if rot["secret"] == hook["secret"] || !strings.HasPrefix(rot["secret"].(string), "whsec_") {
		t.Errorf("webhook rotate = %v", rot)
	}
	test := cliJSON(t, srv, "webhook", "test", "--app", "acme", hookID, "--type", "invoice.paid", "--data", `{"invoice":"in_test"}`)
	if test["test"] != true {
		t.Errorf("webhook test = %v", test)
	}
	rc.waitFor(t, 5, dlvWait)
	rec := cliRun(t, srv, false, "", "webhook", "recover", "--app", "acme", hookID, "--since", "2020-01-01T00:00:00Z")
	if rec.err != nil {
		t.Errorf("webhook recover: %v %s", rec.err, rec.errOut)
	}

	// Sources.
	src := cliJSON(t, srv, "source", "create", "--app", "acme", "--name", "GitHub", "--provider", "github", "--forward-url", rc.URL+"/github")
	srcID := src["id"].(string)
	if src["receive_url"] == nil || src["secret"] == nil {
		t.Errorf("source create = %v", src)
	}
	if s := cliJSON(t, srv, "source", "update", "--app", "acme", srcID, "--description", "from GitHub"); s["description"] != "from GitHub" {
		t.Errorf("source update = %v", s)
	}
	if s := cliJSON(t, srv, "source", "get", "--app", "acme", srcID); s["id"] != srcID || s["secret"] != nil {
		t.Errorf("source get = %v", s)
	}
	if s := cliJSON(t, srv, "source", "list", "--app", "acme"); len(s["sources"].([]any)) != 1 {
		t.Errorf("source list = %v", s)
	}
	cliJSON(t, srv, "source", "test", "--app", "acme", srcID)
	rc.waitFor(t, 6, dlvWait) // the test event forwarded
	if s := cliJSON(t, srv, "source", "rotate", "--app", "acme", srcID); s["secret"] == src["secret"] {
		t.Errorf("source rotate kept the secret")
	}
	for _, del := range [][]string{{"source", "delete", "--app", "acme", srcID}, {"webhook", "delete", "--app", "acme", hookID}, {"key", "delete", "--app", "acme", key["id"].(string)}} {
		if d := cliJSON(t, srv, del...); d["ok"] != true {
			t.Errorf("hookd %v = %v", del, d)
		}
	}
	if a := cliJSON(t, srv, "app", "update", "acme", "--name", "Acme Corp"); a["name"] != "Acme Corp" || a["contact_email"] != "ops@acme.example" {
		t.Errorf("app update = %v", a)
	}
	if p := cliJSON(t, srv, "app", "portal", "acme", "--expires-in", "600"); !strings.HasPrefix(p["url"].(string), srv.URL+"/ui/portal?token=hkp_") || p["expires_at"] == nil {
		t.Errorf("app portal = %v", p)
	}
	if r := cliRun(t, srv, false, "", "app", "portal", "acme"); r.err != nil || !strings.Contains(r.out, srv.URL+"/ui/portal?token=hkp_") {
		t.Errorf("app portal printed %q (%v)", r.out, r.err)
	}
	if r := cliRun(t, srv, false, "", "app", "portal", "acme", "--expires-in", "30"); r.err == nil || !strings.Contains(r.errOut, "expires_in") {
		t.Errorf("app portal --expires-in 30 = %q, %v", r.errOut, r.err)
	}
	if a := cliJSON(t, srv, "app", "rotate", "acme"); a["default_secret"] == app["default_secret"] {
		t.Errorf("app rotate kept the default secret")
	}
	if e := cliJSON(t, srv, "event-type", "update", "invoice.paid", "--status", "deprecated"); e["status"] != "deprecated" {
		t.Errorf("event-type update = %v", e)
	}
	if d := cliJSON(t, srv, "app", "delete", "acme"); d["ok"] != true {
		t.Errorf("app delete = %v", d)
	}
}

// TestCLIListsPageOrFollowCursors checks --limit and --all.
func TestCLIListsPageOrFollowCursors(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	const types = 260 // more than one page of 250
	for i := range types {
		apiWant(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{"name": "t.n" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + "." + itoa(i)}), http.StatusCreated)
	}
	page := cliJSON(t, srv, "event-type", "list", "--limit", "3")
	if len(page["event_types"].([]any)) != 3 || page["next"] == nil {
		t.Errorf("--limit 3 = %d items, next %v", len(page["event_types"].([]any)), page["next"])
	}
	all := cliJSON(t, srv, "event-type", "list", "--all")
	if items := all["event_types"].([]any); len(items) != types || all["next"] != nil {
		t.Errorf("--all = %d items, next %v; want %d and null", len(items), all["next"], types)
	}
	if r := cliRun(t, srv, true, "", "event-type", "list", "--limit", "2"); !strings.Contains(r.out, "More:") {
		t.Errorf("a table of one page does not say there is more:\n%s", r.out)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestCLIErrors checks what an API error and a usage error print, and the
// exit codes of the real binary.
func TestCLIErrors(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	apiMustCreateApp(t, srv, map[string]any{"name": "Acme", "uid": "acme"})
	r := cliRun(t, srv, true, "", "webhook", "get", "--app", "acme", "wh_missing")
	if !errors.Is(r.err, cli.ErrFailed) || !strings.Contains(r.errOut, "NOT_FOUND") || r.out != "" {
		t.Errorf("a missing webhook: %v, stderr %q, stdout %q", r.err, r.errOut, r.out)
	}
	r = cliRun(t, srv, true, "", "webhook", "create", "--app", "acme", "--url", "ftp://x")
	if !errors.Is(r.err, cli.ErrFailed) || !strings.Contains(r.errOut, "BAD_REQUEST") {
		t.Errorf("a bad url: %v, stderr %q", r.err, r.errOut)
	}
	for _, args := range [][]string{
		{"webhook", "frob"},
		{"webhook", "get"},  // the id is missing
		{"webhook", "list"}, // --app is missing
		{"webhook", "list", "--app", "acme", "-o", "yaml"},
		{"webhook", "list", "--app", "acme", "--colour"},
		{"webhook", "create", "--app", "acme"}, // --url is required
		{"webhook", "create", "--app", "acme", "--url", "https://a.example", "--rate-limit", "fast"},
		{"event", "publish", "--app", "acme", "--type", "x.y", "--data", "{not json"},
		{"webhook", "list", "--app", "acme", "--all", "--limit", "5"},
	} {
		r := cliRun(t, srv, true, "", args...)
		if !errors.Is(r.err, cli.ErrUsage) || r.errOut == "" {
			t.Errorf("hookd %v: %v, stderr %q; want a usage error", args, r.err, r.errOut)
		}
	}

	bin := buildHookd(t)
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"app", "list"}, 0},
		{[]string{"app", "get", "nope"}, 1},
		{[]string{"app", "get"}, 2},
		{[]string{"app", "frob"}, 2},
	} {
		cmd := exec.Command(bin, append(c.args, "--server", srv.URL)...)
		cmd.Env = append(os.Environ(), "HOOKD_TOKEN="+testAdminToken)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, _ := cmd.Output()
		if got := cmd.ProcessState.ExitCode(); got != c.code {
			t.Errorf("hookd %v exited %d, want %d; stderr %s", c.args, got, c.code, stderr.String())
		}
		if c.code == 0 && !json.Valid(out) {
			t.Errorf("hookd %v to a pipe printed no JSON: %s", c.args, out)
		}
		if c.code == 1 && !strings.Contains(stderr.String(), "NOT_FOUND") {
			t.Errorf("hookd %v stderr %q lacks the error code", c.args, stderr.String())
		}
	}
}
