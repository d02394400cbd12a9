// Package httpapi serves hookd's REST API under /v1, with the health and
// readiness probes beside it. Handlers decode and check the request's
// shape, call the service, and encode the answer; the one map from error
// codes to HTTP statuses lives here.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/listen"
	"github.com/hookd/hookd/receive"
	"github.com/hookd/hookd/service"
	"github.com/hookd/hookd/store"
	"go.opentelemetry.io/otel/trace"
)

// Config tunes the API.
type Config struct {
	// MaxEventBytes limits an event's body; 0 means 256 KiB. A batch may
	// be MaxBatch times that.
	MaxEventBytes int64
	// Ready reports whether the store answers, for /readyz.
	Ready func(ctx context.Context) error
	// PublicURL is the base of receive URLs; empty means the request's
	// own origin.
	PublicURL string
	// HealthOnly serves only the probes and Extra (a worker process).
	HealthOnly bool
	// Extra is mounted at the root for paths the API does not serve
	// itself (metrics, the dashboard); optional.
	Extra map[string]http.Handler
	// Observer hears of every answered request; optional.
	Observer Observer
	// Tracer makes a server span of every request; nil makes none.
	Tracer trace.Tracer
	// Listen holds this process's `hookd listen` connections; nil (a
	// process without a delivery engine) refuses the listen routes.
	Listen *listen.Hub
	// ListenTimeout is how long a listen webhook outlives its last
	// connection; the stream keeps it alive a third of that apart. 0
	// means 5 minutes.
	ListenTimeout time.Duration
}

// Server is the API's http.Handler.
type Server struct {
	svc  *service.Service
	recv *receive.Receiver
	log  *slog.Logger
	cfg  Config
	mux  *http.ServeMux
	// patterns are the mux's patterns in the order they were registered.
	patterns []string
}

// New returns the API over svc, receiving inbound requests with recv.
func New(svc *service.Service, recv *receive.Receiver, log *slog.Logger, cfg Config) (*Server, error) {
	if svc == nil || recv == nil {
		return nil, errors.New("httpapi: service and receiver are required")
	}
	if cfg.MaxEventBytes <= 0 {
		cfg.MaxEventBytes = 256 << 10
	}
	if cfg.ListenTimeout <= 0 {
		cfg.ListenTimeout = 5 * time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	s := &Server{svc: svc, recv: recv, log: log, cfg: cfg, mux: http.NewServeMux()}
	s.routes()
	return s, nil
}

// handle registers one route.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, h)
	s.patterns = append(s.patterns, pattern)
}

// Routes returns the patterns ("POST /v1/apps/{app}/webhooks") of every
// route the server answers, in the order they were registered, so that a
// test can walk all of them.
func (s *Server) Routes() []string {
	return slices.Clone(s.patterns)
}

// ServeHTTP implements http.Handler: it gives the request its id, answers
// in the API's error format what no route serves, and tells the observer
// and the debug log what it answered.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r)
	w.Header().Set(RequestIDHeader, id)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	rec := &statusRecorder{ResponseWriter: w}
	_, route := s.mux.Handler(r)
	if route == "" {
		route = UnmatchedRoute
	}
	var span trace.Span
	if s.cfg.Tracer != nil {
		r, span = s.startSpan(r, route)
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			writeError(rec, hookd.Errorf(hookd.EINTERNAL, "internal error"))
		}
		took := time.Since(start)
		if span != nil {
			endSpan(span, rec.code())
		}
		if s.cfg.Observer != nil {
			s.cfg.Observer.Answered(route, rec.code(), took)
		}
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.DebugContext(r.Context(), "request", "method", r.Method, "route", route, "status", rec.code(), "took", took)
		}
	}()
	if route == UnmatchedRoute {
		// Unknown paths and wrong methods alike answer in the API's
		// error format.
		notFoundRoute(rec, r)
		return
	}
	if !plainPath(r.URL.Path) {
		writeError(rec, hookd.Errorf(hookd.ENOTFOUND, "not found: a path segment is longer than %d bytes or holds control characters, which no id, uid or name does", maxSegment))
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// statusOf is the one map from error codes to HTTP statuses.
var statusOf = map[string]int{
	hookd.EINVALID:      http.StatusBadRequest,
	hookd.EUNAUTHORIZED: http.StatusUnauthorized,
	hookd.ENOTFOUND:     http.StatusNotFound,
	hookd.ECONFLICT:     http.StatusConflict,
	hookd.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	hookd.ERATELIMITED:  http.StatusTooManyRequests,
	hookd.EINTERNAL:     http.StatusInternalServerError,
	hookd.EGONE:         http.StatusGone,
	hookd.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, err error) {
	code := hookd.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = hookd.EINTERNAL, http.StatusInternalServerError
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: hookd.ErrorMessage(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail writes err, logging those that are not the caller's fault.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if hookd.ErrorCode(err) == hookd.EINTERNAL {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, err)
}

const defaultLimit, maxLimit = 50, 250

// page reads ?limit= and ?after=.
func page(r *http.Request) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{Limit: defaultLimit, After: q.Get("after")}
	if err := checkCursor(p.After); err != nil {
		return p, err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return p, hookd.Errorf(hookd.EINVALID, "limit must be a whole number from 1 to %d", maxLimit)
		}
		p.Limit = n
	}
	return p, nil
}

// checkCursor refuses an ?after= that no list handed out. A list's cursor
// is the id of its last item; anything else would reach the store as a
// comparison with text it may not hold (PostgreSQL refuses NUL and invalid
// UTF-8 in a parameter) or quietly page from nowhere.
func checkCursor(after string) error {
	if after != "" && !ident.Valid(after) {
		return hookd.Errorf(hookd.EINVALID, "after must be the next cursor of a previous page")
	}
	return nil
}

// listed answers a list route: the page the query asks for, fetched by
// fetch and each item shown by view, written by list.
func listed[T, V any](w http.ResponseWriter, r *http.Request, name string, view func(T) V, fetch func(p store.Page) ([]T, string, error)) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := fetch(p)
	if err != nil {
		return err
	}
	views := make([]V, len(items))
	for i, item := range items {
		views[i] = view(item)
	}
	list(w, name, views, next)
	return nil
}

// list writes {"<name>": items, "next": cursor-or-null}.
func list[T any](w http.ResponseWriter, name string, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	body := map[string]any{name: items, "next": nil}
	if next != "" {
		body["next"] = next
	}
	writeJSON(w, http.StatusOK, body)
}

// principal is set on the request context by authenticate.
type principalKey struct{}

func principal(r *http.Request) *service.Principal {
	p, _ := r.Context().Value(principalKey{}).(*service.Principal)
	return p
}

// handler is an API route's handler: it writes the answer, or returns the
// error that the one adapter, api, answers.
type handler func(w http.ResponseWriter, r *http.Request) error

// api adapts h to net/http: h's error is answered in the API's format.
func (s *Server) api(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	}
}

// authenticate requires a valid bearer token.
func (s *Server) authenticate(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			return hookd.Errorf(hookd.EUNAUTHORIZED, "missing Authorization: Bearer <token> header")
		}
		p, err := s.svc.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			return err
		}
		return next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			reason := "the store does not answer"
			if hookd.ErrorCode(err) == hookd.EUNAVAILABLE {
				reason = hookd.ErrorMessage(err)
			}
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func notFoundRoute(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if len(path) > maxSegment {
		path = strings.ToValidUTF8(path[:maxSegment], "") + "..."
	}
	writeError(w, hookd.Errorf(hookd.ENOTFOUND, "no route for %s %q", r.Method, path))
}

// maxSegment bounds one segment of a path: the longest thing a path names
// is an event type, of at most 255 characters.
const maxSegment = 255

// plainPath reports whether every segment of a (decoded) path could name
// something: short, valid UTF-8, no control characters. Anything else
// can be found nowhere, and is answered before it reaches a store, which
// may refuse to even compare with it (PostgreSQL and NUL).
func plainPath(path string) bool {
	if !utf8.ValidString(path) {
		return false
	}
	seg := 0
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == '/':
			seg = 0
			continue
		case c < 0x20 || c == 0x7f:
			return false
		}
		if seg++; seg > maxSegment {
			return false
		}
	}
	return true
}
