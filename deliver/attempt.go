package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/egress"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/tracing"
	"github.com/hookd/hookd/wire"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// ResponseBodyLimit is how much of a response body an attempt keeps.
const ResponseBodyLimit = 4 << 10

// errorLimit is how much of an attempt's error text it keeps: enough for
// any error hookd's client returns, which may quote what the peer sent
// (names from its certificate, a malformed header line).
const errorLimit = 2 << 10

// An attempt keeps at most responseHeaderCount of its answer's headers,
// and at most responseHeaderBytes of their names and values together:
// enough for any ordinary answer, while the guarded transport lets a
// response head reach 64 KiB.
const (
	responseHeaderCount = 64
	responseHeaderBytes = 8 << 10
)

// attempt makes one HTTP request for a claimed delivery and decides what
// its outcome means. It never fails: a request that cannot even be built
// is a failed attempt with an error.
func (e *Engine) attempt(j *store.Job) (res *store.AttemptResult) {
	start := e.cfg.Now()
	d := j.Delivery
	a := &hookd.Attempt{DeliveryID: d.ID, Attempt: d.AttemptCount + 1, At: start.UTC()}
	defer func() { e.logFailure(j, res) }()
	if e.cfg.Tracer != nil {
		span := e.startSpan(j, start)
		defer func() { endSpan(span, res) }()
	}
	res = &store.AttemptResult{Owner: e.cfg.Owner, Published: j.Event.CreatedAt,
		AttemptReport: hookd.AttemptReport{Attempt: a, AutoDisableAfter: j.Profile.AutoDisableAfter, AutoDisableAge: e.cfg.AutoDisableAge}}

	url, secrets := d.URL, []string{j.DefaultSecret}
	var custom map[string]string
	if w := j.Webhook; w != nil {
		a.WebhookID = w.ID
		url, secrets, custom = w.URL, w.SigningSecrets(start), w.Headers
	}
	req, err := e.request(url, j, secrets, custom, start)
	if err != nil {
		a.Error = hookd.StorableText(err.Error(), errorLimit)
		res.Outcome = hookd.OutcomeNetworkError
		e.schedule(res, j, nil)
		return res
	}
	a.RequestHeaders = flatten(req.Header)
	redactCustom(a.RequestHeaders, custom)

	// Shutdown does not cut an attempt short (the request's context is
	// Background); the client's timeout does.
	resp, err := e.send(j, req)
	if err != nil {
		a.Duration = e.cfg.Now().Sub(start)
		a.Error = hookd.StorableText(describe(err), errorLimit)
		res.Outcome = outcomeOf(err)
		e.schedule(res, j, nil)
		return res
	}
	body, readErr := egress.ReadCapped(resp.Body, ResponseBodyLimit)
	resp.Body.Close()
	a.Duration = e.cfg.Now().Sub(start)
	a.StatusCode = resp.StatusCode
	a.ResponseHeaders = responseHeaders(resp.Header, custom)
	res.Outcome = hookd.OutcomeHTTPError
	if a.Succeeded() {
		res.Outcome = hookd.OutcomeSucceeded
	}
	// The body is text from outside, stored as text: bytes a store
	// cannot keep are replaced, within the same limit.
	a.ResponseBody = hookd.StorableText(body, ResponseBodyLimit)
	if readErr != nil && a.Succeeded() {
		a.Error = hookd.StorableText("reading the response: "+describe(readErr), errorLimit)
	}
	a.ResponseBody = redactEchoes(a.ResponseBody, custom)
	if !a.Succeeded() {
		e.schedule(res, j, resp)
	}
	return res
}

// request builds the signed POST.
func (e *Engine) request(url string, j *store.Job, secrets []string, custom map[string]string, now time.Time) (*http.Request, error) {
	sig, err := wire.SignatureHeaders(j.Profile.Signature, secrets, j.Event.ID, j.Event.Type, now, j.Event.Payload)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(j.Event.Payload))
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	// Names are set as they are, not canonicalised, so that they go on
	// the wire spelled as the profile and the customer wrote them.
	h := make(http.Header, len(custom)+len(sig)+2)
	contentType := "application/json"
	if in := j.Event.Inbound; in != nil {
		// A forward carries the provider's request as it came: its
		// headers and content type, beside hookd's own signature.
		custom, contentType = in.Headers, in.ContentType
		if contentType == "" {
			contentType = "application/octet-stream"
		}
	}
	for k, v := range custom {
		h[k] = []string{v}
	}
	h["Content-Type"] = []string{contentType}
	if h.Get("User-Agent") == "" {
		h["User-Agent"] = []string{e.cfg.UserAgent}
	}
	for _, s := range sig {
		for k := range h {
			if strings.EqualFold(k, s.Name) {
				delete(h, k) // hookd's signature replaces a header of that name
			}
		}
		h[s.Name] = []string{s.Value}
	}
	req.Header = h
	return req, nil
}

// schedule fills in, after a failed attempt, when to try again or that
// the webhook is disabled (see hookd.Retry). resp is the answer, nil when
// there was none.
func (e *Engine) schedule(res *store.AttemptResult, j *store.Job, resp *http.Response) {
	in := hookd.RetryInput{Policy: j.Profile.Retry, Attempt: res.Attempt.Attempt, At: res.Attempt.At,
		RetryAfterCap: e.cfg.RetryAfterCap, Webhook: j.Webhook != nil && !j.Delivery.Test}
	if resp != nil {
		in.StatusCode = resp.StatusCode
		if in.StatusCode == http.StatusTooManyRequests || in.StatusCode == http.StatusServiceUnavailable {
			in.RetryAfter = resp.Header.Get("Retry-After")
		}
	}
	if in.StatusCode != http.StatusGone || !in.Webhook {
		in.Rand = e.cfg.Rand() // drawn only for a wait, as it always was
	}
	res.NextAttemptAt, res.DisableReason = hookd.Retry(in)
}

// redactCustom hides, in an attempt's logged request headers, the values
// of the webhook's credential headers (hookd.CredentialHeader): the
// receiver got them, the log does not keep them. hookd's own headers
// (its signature among them) are shown as sent, and so is a custom
// header that one of them replaced.
func redactCustom(logged, custom map[string]string) {
	for name, v := range custom {
		if got, ok := logged[name]; ok && got == v && hookd.CredentialHeader(name) {
			logged[name] = hookd.Redacted
		}
	}
}

// minEchoed is the shortest credential value redactEchoes looks for: a
// shorter one would redact unrelated text and protects little.
const minEchoed = 4

// redactEchoes hides, in an answer's body, the values of the webhook's
// credential headers: endpoints that echo the request (debugging
// endpoints, some error pages) would otherwise put them in the attempt
// log. A value "Scheme credentials" (Authorization's form) is hidden whole
// and as its credentials alone.
func redactEchoes(body string, custom map[string]string) string {
	for name, v := range custom {
		if !hookd.CredentialHeader(name) {
			continue
		}
		body = replaceLong(body, v)
		if _, cred, ok := strings.Cut(v, " "); ok {
			body = replaceLong(body, strings.TrimSpace(cred))
		}
	}
	return body
}

// replaceLong replaces every v in s with hookd.Redacted, unless v is
// shorter than minEchoed.
func replaceLong(s, v string) string {
	if len(v) < minEchoed || !strings.Contains(s, v) {
		return s
	}
	return strings.ReplaceAll(s, v, hookd.Redacted)
}

// flatten returns the request's headers as an attempt logs them. Their
// names and values may come from outside (a forward carries a provider's
// headers), so they are made storable.
func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[hookd.StorableText(k, 0)] = hookd.StorableText(strings.Join(v, ", "), 0)
	}
	return out
}

// responseHeaders returns an answer's headers as an attempt logs them:
// flattened and made storable like the request's, with credential values
// the receiver echoed hidden (see redactEchoes), and capped at
// responseHeaderCount headers and responseHeaderBytes. Past the cap,
// headers are kept in name order, so the same answer logs the same
// headers; the one that crosses the byte cap is cut short.
func responseHeaders(h http.Header, custom map[string]string) map[string]string {
	if len(h) == 0 {
		return nil
	}
	size := 0
	for k, v := range h {
		size += len(k)
		for i, s := range v {
			size += len(s)
			if i > 0 {
				size += 2
			}
		}
	}
	if len(h) <= responseHeaderCount && size <= responseHeaderBytes {
		out := flatten(h)
		for k, v := range out {
			out[k] = redactEchoes(v, custom)
		}
		return out
	}
	out := make(map[string]string, min(len(h), responseHeaderCount))
	left := responseHeaderBytes
	for _, k := range slices.Sorted(maps.Keys(h)) {
		if len(out) == responseHeaderCount || left <= len(k) {
			break
		}
		left -= len(k)
		v := hookd.StorableText(strings.Join(h[k], ", "), left)
		left -= len(v)
		out[hookd.StorableText(k, 0)] = redactEchoes(v, custom)
	}
	return out
}

// startSpan starts the client span of an attempt, named and described as
// OpenTelemetry's HTTP client conventions say, with hookd's ids.
func (e *Engine) startSpan(j *store.Job, start time.Time) trace.Span {
	target := j.Delivery.URL
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodPost,
		tracing.EventID.String(j.Event.ID),
		tracing.DeliveryID.String(j.Delivery.ID),
		tracing.AppID.String(j.Delivery.AppID),
		tracing.Attempt.Int(j.Delivery.AttemptCount + 1),
	}
	if w := j.Webhook; w != nil {
		target = w.URL
		attrs = append(attrs, tracing.WebhookID.String(w.ID))
	}
	if u, err := url.Parse(target); err == nil {
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		n, _ := strconv.Atoi(port)
		// The query and any user info are left out: they may hold a
		// customer's credentials.
		attrs = append(attrs, semconv.ServerAddress(u.Hostname()), semconv.ServerPort(n),
			semconv.URLFull((&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()))
	}
	_, span := e.cfg.Tracer.Start(context.Background(), http.MethodPost, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	return span
}

// endSpan records an attempt's answer or failure on its span.
func endSpan(span trace.Span, res *store.AttemptResult) {
	a := res.Attempt
	span.SetAttributes(tracing.Outcome.String(res.Outcome))
	if a.StatusCode > 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(a.StatusCode))
	}
	if !a.Succeeded() {
		errType := res.Outcome
		if a.StatusCode > 0 {
			errType = strconv.Itoa(a.StatusCode)
		}
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		span.SetStatus(codes.Error, a.Error)
	}
	span.End(trace.WithTimestamp(a.At.Add(a.Duration)))
}

// logFailure logs a failed attempt at debug level.
func (e *Engine) logFailure(j *store.Job, res *store.AttemptResult) {
	a := res.Attempt
	if a.Succeeded() || !e.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	e.log.Debug("attempt failed", "delivery_id", a.DeliveryID, "webhook_id", a.WebhookID, "event_id", j.Event.ID,
		"attempt", a.Attempt, "outcome", res.Outcome, "status_code", a.StatusCode, "error", a.Error,
		"duration", a.Duration, "next_attempt_at", res.NextAttemptAt)
}

// outcomeOf classifies a request that got no answer.
func outcomeOf(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, egress.ErrBlockedAddress):
		return hookd.OutcomeRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return hookd.OutcomeTimeout
	default:
		return hookd.OutcomeNetworkError
	}
}

// describe turns a client error into a line fit for the delivery log.
// The receiver may write part of it (a certificate's names, say), so it
// is made storable: valid UTF-8 without NUL, which PostgreSQL's text
// refuses.
func describe(err error) string {
	msg := err.Error()
	// url.Error repeats the method and URL, which the log already shows.
	if i := strings.Index(msg, "\": "); i >= 0 && strings.HasPrefix(msg, "Post \"") {
		msg = msg[i+3:]
	}
	return msg
}
