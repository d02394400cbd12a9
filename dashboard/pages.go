package dashboard

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/service"
	"github.com/hookd/hookd/store"
)

// pageSize is how many rows a list shows; every list is a paged read,
// never a count, so a page costs the same on a store of any size.
const pageSize = 25

func (d *Dashboard) routes() {
	m := d.mux
	m.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
	})
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/ui/static/", http.FileServerFS(static))
	m.HandleFunc("GET /ui/static/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
	m.HandleFunc("GET /ui/static/brand.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(d.brandCSS)
	})
	m.HandleFunc("GET /ui/login", d.loginPage)
	m.HandleFunc("POST /ui/login", d.login)
	m.HandleFunc("GET /ui/portal", d.openPortal)
	m.HandleFunc("POST /ui/logout", d.authed(d.logout))
	m.HandleFunc("GET /ui/{$}", d.authed(d.home))
	m.HandleFunc("POST /ui/apps", d.authed(d.createApp))
	m.HandleFunc("GET /ui/apps/{app}", d.authed(d.appPage))
	m.HandleFunc("GET /ui/apps/{app}/catalog", d.authed(d.catalogPage))
	m.HandleFunc("POST /ui/apps/{app}/keys", d.authed(d.createKey))
	m.HandleFunc("POST /ui/apps/{app}/keys/{id}/revoke", d.authed(d.revokeKey))
	m.HandleFunc("POST /ui/apps/{app}/portal", d.authed(d.createPortal))
	m.HandleFunc("GET /ui/apps/{app}/webhooks/new", d.authed(d.newWebhookPage))
	m.HandleFunc("POST /ui/apps/{app}/webhooks", d.authed(d.createWebhook))
	m.HandleFunc("GET /ui/apps/{app}/webhooks/{id}", d.authed(d.webhookPage))
	m.HandleFunc("GET /ui/apps/{app}/webhooks/{id}/edit", d.authed(d.editWebhookPage))
	m.HandleFunc("POST /ui/apps/{app}/webhooks/{id}/edit", d.authed(d.editWebhook))
	m.HandleFunc("POST /ui/apps/{app}/webhooks/{id}/status", d.authed(d.setWebhookStatus))
	m.HandleFunc("POST /ui/apps/{app}/webhooks/{id}/delete", d.authed(d.deleteWebhook))
	m.HandleFunc("POST /ui/apps/{app}/webhooks/{id}/rotate", d.authed(d.rotateWebhook))
	m.HandleFunc("POST /ui/apps/{app}/webhooks/{id}/test", d.authed(d.testWebhook))
	m.HandleFunc("POST /ui/apps/{app}/webhooks/{id}/recover", d.authed(d.recoverWebhook))
	m.HandleFunc("GET /ui/apps/{app}/deliveries/{id}", d.authed(d.deliveryPage))
	m.HandleFunc("POST /ui/apps/{app}/deliveries/{id}/retry", d.authed(d.retryDelivery))
	m.HandleFunc("GET /ui/apps/{app}/sources/{id}", d.authed(d.sourcePage))
	m.HandleFunc("GET /ui/apps/{app}/events/{id}", d.authed(d.eventPage))
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		d.fail(w, r, nil, hookd.Errorf(hookd.ENOTFOUND, "not found"))
	})
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		if _, err := d.svc.ResumeSession(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, "/ui/", http.StatusSeeOther)
			return
		}
	}
	pg := &page{Title: "Sign in"}
	if r.URL.Query().Get("ended") != "" {
		pg.Notice = "Your session has ended. Sign in again."
	}
	if r.URL.Query().Get("out") != "" {
		pg.Notice = "You are signed out."
	}
	d.render(w, r, http.StatusOK, "login", nil, pg)
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := checkOrigin(r); err != nil {
		d.fail(w, r, nil, err)
		return
	}
	se, err := d.svc.SignIn(r.Context(), r.PostFormValue("token"))
	if err != nil {
		status := http.StatusUnauthorized
		msg := "That is neither the admin token nor an app key."
		if hookd.ErrorCode(err) != hookd.EUNAUTHORIZED {
			d.log.ErrorContext(r.Context(), "dashboard sign-in failed", "err", err)
			status, msg = http.StatusInternalServerError, "Signing in failed on our side. Try again in a moment."
		}
		d.render(w, r, status, "login", nil, &page{Title: "Sign in", Error: msg})
		return
	}
	d.setCookie(w, r, se)
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// openPortal trades a portal link's token for a session and sends the
// browser on to a URL without the token.
func (d *Dashboard) openPortal(w http.ResponseWriter, r *http.Request) {
	d.frame(w, true)
	se, err := d.svc.OpenPortalLink(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		if hookd.ErrorCode(err) == hookd.EUNAUTHORIZED {
			d.render(w, r, http.StatusUnauthorized, "message", nil, &page{Title: "Link expired", Data: map[string]any{
				"Title": "This link has expired", "Text": "Portal links work for a limited time. Go back to where you found it for a fresh one."}})
			return
		}
		d.fail(w, r, nil, err)
		return
	}
	d.setCookie(w, r, se)
	http.Redirect(w, r, "/ui/apps/"+se.Principal.AppID, http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, v *viewer) {
	if err := d.svc.SignOut(r.Context(), v.Secret); err != nil {
		d.fail(w, r, v, err)
		return
	}
	d.clearCookie(w, r)
	if v.Portal {
		d.render(w, r, http.StatusOK, "message", nil, &page{Title: "Signed out", Data: map[string]any{
			"Title": "You are signed out", "Text": "Open a new portal link to come back."}})
		return
	}
	http.Redirect(w, r, "/ui/login?out=1", http.StatusSeeOther)
}

// pageOf reads ?after= as a page of pageSize rows.
func pageOf(r *http.Request, key string) store.Page {
	after := r.URL.Query().Get(key)
	if after != "" && !ident.Valid(after) {
		after = ""
	}
	return store.Page{Limit: pageSize, After: after}
}

type overview struct {
	Base  string
	Apps  []*hookd.App
	Next  string
	Stats *serverStats
}

func (d *Dashboard) home(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !v.p().Admin {
		http.Redirect(w, r, "/ui/apps/"+v.p().AppID, http.StatusSeeOther)
		return
	}
	apps, next, err := d.svc.ListApps(r.Context(), v.p(), pageOf(r, "after"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	ov := &overview{Base: d.baseURL(r), Apps: apps, Next: next, Stats: d.serverStats(r, v)}
	d.render(w, r, http.StatusOK, "overview", v, &page{Title: "Overview", Nav: "overview", Data: ov})
}

func (d *Dashboard) createApp(w http.ResponseWriter, r *http.Request, v *viewer) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	in := &service.AppInput{Name: &name}
	if uid := strings.TrimSpace(r.PostFormValue("uid")); uid != "" {
		in.UID = &uid
	}
	app, err := d.svc.CreateApp(r.Context(), v.p(), in)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/ui/apps/"+app.ID, http.StatusSeeOther)
}

// webhookRow is one webhook on its app's page, with its health.
type webhookRow struct {
	*service.WebhookView
	Last  *hookd.Delivery
	Spark *chart
}

type appData struct {
	Base     string
	Hooks    []*webhookRow
	Next     string
	Sources  []*service.SourceView
	Keys     []*hookd.AppKey
	NewKey   string
	Portal   *service.PortalLink
	PortalTo string
	Chart    *chart
	// PortalChoices are the lifetimes the portal link form offers.
	PortalChoices []portalChoice
}

func (d *Dashboard) appPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.showApp(w, r, v, &appData{})
}

func (d *Dashboard) showApp(w http.ResponseWriter, r *http.Request, v *viewer, data *appData) {
	ctx := r.Context()
	app, err := d.svc.GetApp(ctx, v.p(), r.PathValue("app"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	hooks, next, err := d.svc.ListWebhooks(ctx, v.p(), app.ID, pageOf(r, "after"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data.Next, data.Base, data.PortalChoices = next, d.baseURL(r), portalChoices
	for _, h := range hooks {
		if h.Listen() {
			continue
		}
		row := &webhookRow{WebhookView: h, Spark: d.webhookSpark(r, v, app.ID, h.ID)}
		last, _, err := d.svc.ListDeliveries(ctx, v.p(), app.ID, h.ID, "", store.Page{Limit: 1})
		if err != nil {
			d.fail(w, r, v, err)
			return
		}
		if len(last) > 0 {
			row.Last = last[0]
		}
		data.Hooks = append(data.Hooks, row)
	}
	if data.Sources, _, err = d.svc.ListSources(ctx, v.p(), app.ID, store.Page{Limit: pageSize}); err != nil {
		d.fail(w, r, v, err)
		return
	}
	if v.p().Admin {
		if data.Keys, _, err = d.svc.ListAppKeys(ctx, v.p(), app.ID, store.Page{Limit: 50}); err != nil {
			d.fail(w, r, v, err)
			return
		}
	}
	data.Chart = d.appChart(r, v, app.ID)
	d.render(w, r, http.StatusOK, "app", v, &page{Title: app.Name, Nav: "app", App: app, Data: data})
}

func (d *Dashboard) createKey(w http.ResponseWriter, r *http.Request, v *viewer) {
	key, plain, err := d.svc.CreateAppKey(r.Context(), v.p(), r.PathValue("app"), &service.KeyInput{Name: strings.TrimSpace(r.PostFormValue("name"))})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	_ = key
	d.showApp(w, r, v, &appData{NewKey: plain})
}

func (d *Dashboard) revokeKey(w http.ResponseWriter, r *http.Request, v *viewer) {
	if err := d.svc.DeleteAppKey(r.Context(), v.p(), r.PathValue("app"), r.PathValue("id")); err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/ui/apps/"+r.PathValue("app")+"?notice=revoked", http.StatusSeeOther)
}

type portalChoice struct {
	Seconds int
	Label   string
}

// portalChoices are the lifetimes the portal link form offers, in
// seconds.
var portalChoices = []portalChoice{{3600, "1 hour"}, {86400, "1 day"}, {604800, "7 days"}, {600, "10 minutes"}}

func (d *Dashboard) createPortal(w http.ResponseWriter, r *http.Request, v *viewer) {
	in := &service.PortalInput{}
	if s := r.PostFormValue("expires_in"); s != "" {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil {
			d.fail(w, r, v, hookd.Errorf(hookd.EINVALID, "expires_in must be a number of seconds"))
			return
		}
		in.ExpiresIn = &n
	}
	link, err := d.svc.CreatePortalLink(r.Context(), v.p(), r.PathValue("app"), in)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	d.showApp(w, r, v, &appData{Portal: link, PortalTo: portalURL(d.baseURL(r), link.Token)})
}

func (d *Dashboard) baseURL(r *http.Request) string {
	if d.cfg.PublicURL != "" {
		return d.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// portalURL is the link of a portal token under base; it matches the
// API's.
func portalURL(base, token string) string {
	return base + "/ui/portal?token=" + token
}

type catalogData struct {
	Types []*catalogType
	Next  string
}

type catalogType struct {
	*hookd.EventType
	Schema string
	Sample string
}

func (d *Dashboard) catalogPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	app, err := d.svc.GetApp(r.Context(), v.p(), r.PathValue("app"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	types, next, err := d.svc.ListEventTypes(r.Context(), v.p(), store.Page{Limit: 100, After: pageOf(r, "after").After})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data := &catalogData{Next: next}
	for _, t := range types {
		ct := &catalogType{EventType: t}
		if len(t.Schema) > 0 {
			ct.Schema = prettyJSON(t.Schema)
			ct.Sample = prettyJSON(sampleOf(t.Schema))
		}
		data.Types = append(data.Types, ct)
	}
	d.render(w, r, http.StatusOK, "catalog", v, &page{Title: "Event catalog", Nav: "catalog", App: app, Data: data})
}

type webhookData struct {
	Hook       *service.WebhookView
	Deliveries []*hookd.Delivery
	Next       string
	Status     string
	After      string
	Types      []*hookd.EventType
	Secret     string
	Verify     []verifySnippet
	Scheme     string
	Chart      *chart
	Latency    *chart
	Statuses   []string
	Live       bool
}

var deliveryStatuses = []string{"pending", "succeeded", "failed", "held"}

func (d *Dashboard) webhookPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.showWebhook(w, r, v, "")
}

func (d *Dashboard) showWebhook(w http.ResponseWriter, r *http.Request, v *viewer, secret string) {
	ctx := r.Context()
	app, err := d.svc.GetApp(ctx, v.p(), r.PathValue("app"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	hook, err := d.svc.GetWebhook(ctx, v.p(), app.ID, r.PathValue("id"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	status := r.URL.Query().Get("status")
	if !slices.Contains(deliveryStatuses, status) {
		status = ""
	}
	pg := pageOf(r, "after")
	dels, next, err := d.svc.ListDeliveries(ctx, v.p(), app.ID, hook.ID, status, pg)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data := &webhookData{Hook: hook, Deliveries: dels, Next: next, Status: status, After: pg.After, Secret: secret,
		Statuses: deliveryStatuses, Live: pg.After == "", Scheme: app.Profile.Signature.Scheme}
	if r.URL.Query().Get("partial") != "" {
		d.renderPartial(w, r, "deliveries", v, &page{App: app, Data: data})
		return
	}
	data.Types, _, err = d.svc.ListEventTypes(ctx, v.p(), store.Page{Limit: 250})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data.Verify = verifySnippets(app.Profile)
	data.Chart, data.Latency = d.webhookCharts(r, v, app.ID, hook.ID)
	d.render(w, r, http.StatusOK, "webhook", v, &page{Title: hookTitle(hook.Webhook), Nav: "app", App: app, Data: data})
}

func (d *Dashboard) renderPartial(w http.ResponseWriter, r *http.Request, name string, v *viewer, pg *page) {
	pg.V, pg.Brand = v, d.cfg.Brand
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := d.pages["webhook"].ExecuteTemplate(w, name, pg); err != nil {
		d.log.ErrorContext(r.Context(), "render dashboard fragment", "fragment", name, "err", err)
	}
}

func hookTitle(h *hookd.Webhook) string {
	if h.Name != "" {
		return h.Name
	}
	return h.URL
}

type formData struct {
	Hook    *service.WebhookView
	Types   []*hookd.EventType
	URL     string
	Name    string
	Desc    string
	Events  map[string]bool
	Other   string
	Headers string
	Rate    string
}

func (d *Dashboard) newWebhookPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.webhookForm(w, r, v, nil, &formData{Events: map[string]bool{}}, "", http.StatusOK)
}

func (d *Dashboard) webhookForm(w http.ResponseWriter, r *http.Request, v *viewer, hook *service.WebhookView, f *formData, msg string, status int) {
	app, err := d.svc.GetApp(r.Context(), v.p(), r.PathValue("app"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if f.Types, _, err = d.svc.ListEventTypes(r.Context(), v.p(), store.Page{Limit: 250}); err != nil {
		d.fail(w, r, v, err)
		return
	}
	f.Hook = hook
	title := "Add a webhook"
	if hook != nil {
		title = "Edit " + hookTitle(hook.Webhook)
	}
	d.render(w, r, status, "webhook_form", v, &page{Title: title, Nav: "app", App: app, Error: msg, Data: f})
}

// readWebhookForm reads the webhook form into an input and the form's
// values, to show again beside an error.
func readWebhookForm(r *http.Request) (*service.WebhookInput, *formData, error) {
	_ = r.ParseForm()
	f := &formData{URL: strings.TrimSpace(r.PostFormValue("url")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Desc: strings.TrimSpace(r.PostFormValue("description")), Other: strings.TrimSpace(r.PostFormValue("other_events")),
		Headers: r.PostFormValue("headers"), Rate: strings.TrimSpace(r.PostFormValue("rate_limit")), Events: map[string]bool{}}
	in := &service.WebhookInput{URL: &f.URL, Name: &f.Name, Description: &f.Desc}
	events := []string{}
	for _, e := range r.PostForm["events"] {
		f.Events[e] = true
		events = append(events, e)
	}
	events = append(events, strings.FieldsFunc(f.Other, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' })...)
	if len(events) > 0 {
		in.Events = &events
	}
	headers := map[string]string{}
	for i, line := range strings.Split(f.Headers, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, val, ok := strings.Cut(line, ":")
		if !ok {
			return in, f, hookd.Errorf(hookd.EINVALID, "headers line %d must be Name: value", i+1)
		}
		headers[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	in.Headers = &headers
	if f.Rate != "" {
		var n int
		if _, err := fmt.Sscan(f.Rate, &n); err != nil {
			return in, f, hookd.Errorf(hookd.EINVALID, "rate limit must be a whole number of deliveries per second")
		}
		in.RateLimit = &n
	} else {
		zero := 0
		in.RateLimit = &zero
	}
	return in, f, nil
}

func (d *Dashboard) createWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	in, f, err := readWebhookForm(r)
	if err == nil {
		var hook *service.WebhookView
		hook, err = d.svc.CreateWebhook(r.Context(), v.p(), r.PathValue("app"), in)
		if err == nil {
			r.URL.RawQuery = "notice=created"
			r.SetPathValue("id", hook.ID)
			d.showWebhook(w, r, v, hook.Secret)
			return
		}
	}
	if hookd.ErrorCode(err) != hookd.EINVALID && hookd.ErrorCode(err) != hookd.ECONFLICT {
		d.fail(w, r, v, err)
		return
	}
	d.webhookForm(w, r, v, nil, f, hookd.ErrorMessage(err), http.StatusBadRequest)
}

func (d *Dashboard) editWebhookPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	hook, err := d.svc.GetWebhook(r.Context(), v.p(), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	f := &formData{URL: hook.URL, Name: hook.Name, Desc: hook.Description, Events: map[string]bool{}}
	if hook.RateLimit > 0 {
		f.Rate = fmt.Sprint(hook.RateLimit)
	}
	var lines []string
	for k, val := range hook.Headers {
		lines = append(lines, k+": "+val)
	}
	slices.Sort(lines)
	f.Headers = strings.Join(lines, "\n")
	d.webhookForm(w, r, v, hook, f, "", http.StatusOK)
	_ = f
}

func (d *Dashboard) editWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	hook, err := d.svc.GetWebhook(r.Context(), v.p(), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	in, f, err := readWebhookForm(r)
	if err == nil {
		_, err = d.svc.UpdateWebhook(r.Context(), v.p(), r.PathValue("app"), hook.ID, in)
		if err == nil {
			http.Redirect(w, r, hookPath(r, hook.ID)+"?notice=saved", http.StatusSeeOther)
			return
		}
	}
	if hookd.ErrorCode(err) != hookd.EINVALID && hookd.ErrorCode(err) != hookd.ECONFLICT {
		d.fail(w, r, v, err)
		return
	}
	d.webhookForm(w, r, v, hook, f, hookd.ErrorMessage(err), http.StatusBadRequest)
}

func hookPath(r *http.Request, id string) string {
	return "/ui/apps/" + r.PathValue("app") + "/webhooks/" + id
}

func (d *Dashboard) setWebhookStatus(w http.ResponseWriter, r *http.Request, v *viewer) {
	status := r.PostFormValue("status")
	if _, err := d.svc.UpdateWebhook(r.Context(), v.p(), r.PathValue("app"), r.PathValue("id"), &service.WebhookInput{Status: &status}); err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, hookPath(r, r.PathValue("id"))+"?notice="+noticeName(status), http.StatusSeeOther)
}

func noticeName(status string) string {
	if _, ok := notices[status]; ok {
		return status
	}
	return "saved"
}

func (d *Dashboard) deleteWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	if err := d.svc.DeleteWebhook(r.Context(), v.p(), r.PathValue("app"), r.PathValue("id")); err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/ui/apps/"+r.PathValue("app")+"?notice=deleted", http.StatusSeeOther)
}

func (d *Dashboard) rotateWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	in := &service.RotateInput{}
	if g := r.PostFormValue("grace_seconds"); g != "" {
		var n float64
		if _, err := fmt.Sscan(g, &n); err != nil {
			d.fail(w, r, v, hookd.Errorf(hookd.EINVALID, "grace period must be a number of seconds"))
			return
		}
		in.GraceSeconds = &n
	}
	hook, err := d.svc.RotateWebhookSecret(r.Context(), v.p(), r.PathValue("app"), r.PathValue("id"), in)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	r.URL.RawQuery = ""
	d.showWebhook(w, r, v, hook.Secret)
}

func (d *Dashboard) testWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	in := &service.TestInput{}
	if t := strings.TrimSpace(r.PostFormValue("type")); t != "" {
		in.Type = &t
	}
	if data := strings.TrimSpace(r.PostFormValue("data")); data != "" {
		if !json.Valid([]byte(data)) {
			d.fail(w, r, v, hookd.Errorf(hookd.EINVALID, "data must be a JSON object"))
			return
		}
		in.Data = json.RawMessage(data)
	}
	if _, err := d.svc.SendTest(r.Context(), v.p(), r.PathValue("app"), r.PathValue("id"), in); err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, hookPath(r, r.PathValue("id"))+"?notice=test", http.StatusSeeOther)
}

func (d *Dashboard) recoverWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	since, err := time.Parse(time.RFC3339, r.PostFormValue("since"))
	if err != nil {
		// A datetime-local field gives no zone; the script fills in the
		// viewer's offset, and without it the time is read as UTC.
		since, err = time.Parse("2006-01-02T15:04", r.PostFormValue("since"))
	}
	if err != nil {
		d.fail(w, r, v, hookd.Errorf(hookd.EINVALID, "since must be a date and time"))
		return
	}
	if _, _, err := d.svc.RecoverWebhook(r.Context(), v.p(), r.PathValue("app"), r.PathValue("id"), &service.RecoverInput{Since: &since}); err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, hookPath(r, r.PathValue("id"))+"?notice=recovered", http.StatusSeeOther)
}

type deliveryData struct {
	Delivery *hookd.Delivery
	Event    *hookd.Event
	Body     string
	Hook     *service.WebhookView
}

func (d *Dashboard) deliveryPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	app, err := d.svc.GetApp(ctx, v.p(), r.PathValue("app"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	del, err := d.svc.GetDelivery(ctx, v.p(), app.ID, r.PathValue("id"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data := &deliveryData{Delivery: del}
	if ev, err := d.svc.GetEvent(ctx, v.p(), app.ID, del.EventID); err == nil {
		data.Event, data.Body = ev, prettyJSON(ev.Payload)
	}
	if del.WebhookID != "" {
		data.Hook, _ = d.svc.GetWebhook(ctx, v.p(), app.ID, del.WebhookID)
	}
	slices.Reverse(del.Attempts)
	d.render(w, r, http.StatusOK, "delivery", v, &page{Title: "Delivery " + del.ID, Nav: "app", App: app, Data: data})
}

func (d *Dashboard) retryDelivery(w http.ResponseWriter, r *http.Request, v *viewer) {
	if _, err := d.svc.RetryDelivery(r.Context(), v.p(), r.PathValue("app"), r.PathValue("id")); err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/ui/apps/"+r.PathValue("app")+"/deliveries/"+r.PathValue("id")+"?notice=retried", http.StatusSeeOther)
}

type sourceData struct {
	ReceiveURL string
	Chart      *chart
	Source     *service.SourceView
	Events     []*hookd.Event
	EventsNext string
	Forwards   []*hookd.Delivery
}

func (d *Dashboard) sourcePage(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	app, err := d.svc.GetApp(ctx, v.p(), r.PathValue("app"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	src, err := d.svc.GetSource(ctx, v.p(), app.ID, r.PathValue("id"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data := &sourceData{Source: src, ReceiveURL: d.baseURL(r) + "/v1/receive/" + src.ID, Chart: d.sourceChart(r, v, app.ID, src.ID)}
	if data.Events, data.EventsNext, err = d.svc.ListSourceEvents(ctx, v.p(), app.ID, src.ID, pageOf(r, "after")); err != nil {
		d.fail(w, r, v, err)
		return
	}
	if data.Forwards, _, err = d.svc.ListSourceDeliveries(ctx, v.p(), app.ID, src.ID, "", store.Page{Limit: pageSize}); err != nil {
		d.fail(w, r, v, err)
		return
	}
	d.render(w, r, http.StatusOK, "source", v, &page{Title: src.Name, Nav: "app", App: app, Data: data})
}

type eventData struct {
	Event   *hookd.Event
	Body    string
	Headers []string
}

func (d *Dashboard) eventPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	app, err := d.svc.GetApp(r.Context(), v.p(), r.PathValue("app"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	ev, err := d.svc.GetEvent(r.Context(), v.p(), app.ID, r.PathValue("id"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data := &eventData{Event: ev, Body: prettyJSON(ev.Payload)}
	if ev.Inbound != nil {
		for k, val := range ev.Inbound.Headers {
			data.Headers = append(data.Headers, k+": "+val)
		}
		slices.Sort(data.Headers)
	}
	d.render(w, r, http.StatusOK, "event", v, &page{Title: "Event " + ev.ID, Nav: "app", App: app, Data: data})
}
