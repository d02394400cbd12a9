package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/service"
	"github.com/hookd/hookd/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Service is what the dashboard asks of hookd's service layer: the same
// operations, with the same authorization, as the API.
type Service interface {
	SignIn(ctx context.Context, token string) (*service.Session, error)
	OpenPortalLink(ctx context.Context, token string) (*service.Session, error)
	ResumeSession(ctx context.Context, secret string) (*service.Session, error)
	SignOut(ctx context.Context, secret string) error
	CreatePortalLink(ctx context.Context, p *service.Principal, app string, in *service.PortalInput) (*service.PortalLink, error)

	CreateApp(ctx context.Context, p *service.Principal, in *service.AppInput) (*hookd.App, error)
	GetApp(ctx context.Context, p *service.Principal, ref string) (*hookd.App, error)
	ListApps(ctx context.Context, p *service.Principal, page store.Page) ([]*hookd.App, string, error)
	CreateAppKey(ctx context.Context, p *service.Principal, app string, in *service.KeyInput) (*hookd.AppKey, string, error)
	ListAppKeys(ctx context.Context, p *service.Principal, app string, page store.Page) ([]*hookd.AppKey, string, error)
	DeleteAppKey(ctx context.Context, p *service.Principal, app, id string) error

	ListEventTypes(ctx context.Context, p *service.Principal, page store.Page) ([]*hookd.EventType, string, error)

	CreateWebhook(ctx context.Context, p *service.Principal, app string, in *service.WebhookInput) (*service.WebhookView, error)
	GetWebhook(ctx context.Context, p *service.Principal, app, id string) (*service.WebhookView, error)
	ListWebhooks(ctx context.Context, p *service.Principal, app string, page store.Page) ([]*service.WebhookView, string, error)
	UpdateWebhook(ctx context.Context, p *service.Principal, app, id string, in *service.WebhookInput) (*service.WebhookView, error)
	DeleteWebhook(ctx context.Context, p *service.Principal, app, id string) error
	RotateWebhookSecret(ctx context.Context, p *service.Principal, app, id string, in *service.RotateInput) (*service.WebhookView, error)
	SendTest(ctx context.Context, p *service.Principal, app, id string, in *service.TestInput) (*hookd.Event, error)
	RecoverWebhook(ctx context.Context, p *service.Principal, app, id string, in *service.RecoverInput) (int, bool, error)

	GetEvent(ctx context.Context, p *service.Principal, app, id string) (*hookd.Event, error)
	ListDeliveries(ctx context.Context, p *service.Principal, app, webhookID, status string, page store.Page) ([]*hookd.Delivery, string, error)
	GetDelivery(ctx context.Context, p *service.Principal, app, id string) (*hookd.Delivery, error)
	RetryDelivery(ctx context.Context, p *service.Principal, app, id string) (*hookd.Delivery, error)

	GetSource(ctx context.Context, p *service.Principal, app, id string) (*service.SourceView, error)
	ListSources(ctx context.Context, p *service.Principal, app string, page store.Page) ([]*service.SourceView, string, error)
	ListSourceEvents(ctx context.Context, p *service.Principal, app, sourceID string, page store.Page) ([]*hookd.Event, string, error)
	ListSourceDeliveries(ctx context.Context, p *service.Principal, app, sourceID, status string, page store.Page) ([]*hookd.Delivery, string, error)
}

// Branding is the portal's look, server-wide: a product name, an accent
// colour and a logo. Empty fields keep hookd's own.
type Branding struct {
	Name    string
	Color   string // #rgb or #rrggbb
	LogoURL string // https (or http) URL of an image
}

var hexColor = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// Validate refuses branding that cannot be shown safely.
func (b Branding) Validate() error {
	if len(b.Name) > 60 || strings.ContainsAny(b.Name, "\x00\r\n<>") {
		return errors.New("HOOKD_PORTAL_BRAND_NAME must be at most 60 characters of one line, without < or >")
	}
	if b.Color != "" && !hexColor.MatchString(b.Color) {
		return fmt.Errorf("HOOKD_PORTAL_BRAND_COLOR %q must be a colour such as #4f46e5", b.Color)
	}
	if b.LogoURL != "" {
		u, err := url.Parse(b.LogoURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(b.LogoURL) > 2048 {
			return fmt.Errorf("HOOKD_PORTAL_BRAND_LOGO_URL %q must be an absolute https URL", b.LogoURL)
		}
	}
	return nil
}

// ParseFrameAncestors reads a space-separated list of origins allowed to
// frame the portal (HOOKD_PORTAL_FRAME_ANCESTORS). Each must be a bare
// origin: scheme, host and optional port, with no path.
func ParseFrameAncestors(v string) ([]string, error) {
	var out []string
	for _, f := range strings.Fields(v) {
		u, err := url.Parse(f)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(f, ";,'\"") {
			return nil, fmt.Errorf("portal frame ancestor %q must be an origin such as https://app.example.com", f)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}

// Stats draws the charts; the service's statistics methods satisfy it.
// Without it the dashboard shows no charts.
type Stats = statsSource

// Config tunes the dashboard.
type Config struct {
	// PublicURL is the base of the links the dashboard hands out (portal
	// links); empty means the request's own origin.
	PublicURL string
	// FrameAncestors are the origins that may show the portal in an
	// iframe; none means no page can be framed.
	FrameAncestors []string
	// Brand is the portal's look.
	Brand Branding
	// Stats gives the charts; optional.
	Stats Stats
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Dashboard is the UI's http.Handler, to be mounted at /ui.
type Dashboard struct {
	svc   Service
	log   *slog.Logger
	cfg   Config
	mux   *http.ServeMux
	pages map[string]*template.Template
	// brandCSS is the stylesheet of the configured accent colour.
	brandCSS []byte
	csp      string
}

// New returns the dashboard over svc.
func New(svc Service, log *slog.Logger, cfg Config) (*Dashboard, error) {
	if svc == nil {
		return nil, errors.New("dashboard: service is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := cfg.Brand.Validate(); err != nil {
		return nil, err
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	d := &Dashboard{svc: svc, log: log, cfg: cfg, mux: http.NewServeMux()}
	if err := d.parseTemplates(); err != nil {
		return nil, err
	}
	color := "#4f46e5"
	if cfg.Brand.Color != "" {
		color = cfg.Brand.Color
	}
	d.brandCSS = fmt.Appendf(nil, ":root{--accent:%s}\n", color)
	img := "'self' data:"
	if cfg.Brand.LogoURL != "" {
		u, _ := url.Parse(cfg.Brand.LogoURL)
		img += " " + u.Scheme + "://" + u.Host
	}
	d.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + img +
		"; connect-src 'self'; form-action 'self'; base-uri 'none'"
	d.routes()
	return d, nil
}

func (d *Dashboard) parseTemplates() error {
	d.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("dashboard: parse %s: %w", n, err)
		}
		d.pages[base] = t
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	d.mux.ServeHTTP(w, r)
}

// frame sets who may show this answer in a frame: the configured origins
// for the portal, nobody otherwise.
func (d *Dashboard) frame(w http.ResponseWriter, portal bool) {
	anc := "'none'"
	if portal && len(d.cfg.FrameAncestors) > 0 {
		anc = strings.Join(d.cfg.FrameAncestors, " ")
	} else {
		w.Header().Set("X-Frame-Options", "DENY")
	}
	w.Header().Set("Content-Security-Policy", d.csp+"; frame-ancestors "+anc)
}

// maxForm bounds a form's body.
const maxForm = 256 << 10

// cookieName is the session cookie's name.
const cookieName = "hookd_session"

// viewer is who is looking: the session and what it may see.
type viewer struct {
	*service.Session
	CSRF string
}

func (v *viewer) p() *service.Principal { return v.Principal }

// csrfToken is the form token of the session whose secret is given: only
// the session's holder can compute it, and it needs no storage.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("hookd dashboard form"))
	return hex.EncodeToString(m.Sum(nil))
}

type viewerKey struct{}

func viewerOf(r *http.Request) *viewer {
	v, _ := r.Context().Value(viewerKey{}).(*viewer)
	return v
}

// authed requires a session; a state-changing request must also carry
// the form token and come from this origin.
func (d *Dashboard) authed(h func(w http.ResponseWriter, r *http.Request, v *viewer)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(cookieName)
		var se *service.Session
		if err == nil {
			se, err = d.svc.ResumeSession(r.Context(), c.Value)
		}
		if err != nil {
			if code := hookd.ErrorCode(err); c != nil && code != hookd.EUNAUTHORIZED {
				d.frame(w, false)
				d.fail(w, r, nil, fmt.Errorf("resume session: %w", err))
				return
			}
			d.frame(w, false)
			if c != nil {
				d.clearCookie(w, r)
			}
			if r.Method == http.MethodGet && r.URL.Query().Get("partial") == "" {
				http.Redirect(w, r, "/ui/login?ended="+boolParam(c != nil), http.StatusSeeOther)
				return
			}
			d.render(w, r, http.StatusUnauthorized, "message", nil, map[string]any{
				"Title": "Signed out", "Text": "Your session has ended. Sign in again, or open a new portal link."})
			return
		}
		v := &viewer{Session: se, CSRF: csrfToken(se.Secret)}
		d.frame(w, se.Portal)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := checkOrigin(r); err != nil {
				d.fail(w, r, v, err)
				return
			}
			if !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(v.CSRF)) {
				d.fail(w, r, v, hookd.Errorf(hookd.EUNAUTHORIZED, "this form has expired; reload the page and try again"))
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)), v)
	}
}

func boolParam(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// checkOrigin refuses a state-changing request sent by another site: its
// Sec-Fetch-Site (sent by every current browser) must be same-origin, and
// its Origin, when sent, must be this host. (Pages ask for the referrer
// policy same-origin, under which browsers send Origin on their forms.)
func checkOrigin(r *http.Request) error {
	refuse := hookd.Errorf(hookd.EUNAUTHORIZED, "this request came from another site and was refused")
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return refuse
	}
	// "null" is what a browser sends where it will not say; the fetch
	// metadata above and the form token still hold.
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return refuse
		}
	}
	return nil
}

// secureCookie reports whether the session cookie can be Secure: over
// https, behind an https public URL, or on a loopback host, which
// browsers treat as secure.
func (d *Dashboard) secureCookie(r *http.Request) bool {
	if r.TLS != nil || strings.HasPrefix(d.cfg.PublicURL, "https://") {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// setCookie gives the browser its session. A portal session may live in
// a cross-site iframe, where Chromium keeps only a cookie that is
// SameSite=None, Secure and Partitioned (kept apart per embedding site);
// a sign-in's is SameSite=Lax.
func (d *Dashboard) setCookie(w http.ResponseWriter, r *http.Request, se *service.Session) {
	secure := d.secureCookie(r)
	c := &http.Cookie{Name: cookieName, Value: se.Secret, Path: "/ui", Expires: se.ExpiresAt, HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode}
	if se.Portal && secure {
		c.SameSite, c.Partitioned = http.SameSiteNoneMode, true
	}
	http.SetCookie(w, c)
}

func (d *Dashboard) clearCookie(w http.ResponseWriter, r *http.Request) {
	secure := d.secureCookie(r)
	c := &http.Cookie{Name: cookieName, Value: "", Path: "/ui", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	http.SetCookie(w, c)
	if secure {
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/ui", MaxAge: -1, HttpOnly: true, Secure: true,
			SameSite: http.SameSiteNoneMode, Partitioned: true})
	}
}

// page is what every template gets.
type page struct {
	Title  string
	V      *viewer
	Brand  Branding
	Nav    string // "overview", "app", ...
	App    *hookd.App
	Notice string
	Error  string
	Data   any
}

// notices are the messages a redirect after an action may ask for by
// name, so that no text from a URL reaches the page.
var notices = map[string]string{
	"created":   "Webhook created.",
	"saved":     "Saved.",
	"paused":    "Webhook paused: deliveries are held until you enable it.",
	"active":    "Webhook enabled.",
	"disabled":  "Webhook disabled.",
	"deleted":   "Webhook deleted.",
	"test":      "Test event sent. It appears below within a moment.",
	"retried":   "Retry queued.",
	"recovered": "Failed deliveries re-queued.",
	"revoked":   "Key revoked.",
}

func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, v *viewer, data any) {
	t, ok := d.pages[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	pg, ok := data.(*page)
	if !ok {
		pg = &page{Data: data}
		if m, ok := data.(map[string]any); ok {
			if s, ok := m["Title"].(string); ok {
				pg.Title = s
			}
		}
	}
	pg.V, pg.Brand = v, d.cfg.Brand
	if pg.Notice == "" {
		pg.Notice = notices[r.URL.Query().Get("notice")]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if w.Header().Get("Content-Security-Policy") == "" {
		d.frame(w, false)
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		d.log.ErrorContext(r.Context(), "render dashboard page", "page", name, "err", err)
		http.Error(w, "could not render this page", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// fail shows err as a page: the API's message for the caller's mistakes,
// a generic one (and a log line) for the rest.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	code := hookd.ErrorCode(err)
	status, msg := http.StatusInternalServerError, "Something went wrong on our side. Try again in a moment."
	switch code {
	case hookd.EINVALID:
		status, msg = http.StatusBadRequest, hookd.ErrorMessage(err)
	case hookd.ENOTFOUND:
		status, msg = http.StatusNotFound, "There is nothing here, or it is not yours to see."
	case hookd.EUNAUTHORIZED:
		status, msg = http.StatusForbidden, hookd.ErrorMessage(err)
	case hookd.ECONFLICT, hookd.EGONE:
		status, msg = http.StatusConflict, hookd.ErrorMessage(err)
	case hookd.ERATELIMITED:
		status, msg = http.StatusTooManyRequests, hookd.ErrorMessage(err)
	default:
		d.log.ErrorContext(r.Context(), "dashboard request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	d.render(w, r, status, "message", v, &page{Title: http.StatusText(status), Data: map[string]any{
		"Title": http.StatusText(status), "Text": msg, "Back": true}})
}
