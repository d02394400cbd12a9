package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
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
		a.Error = err.Error()
		res.Outcome = hookd.OutcomeNetworkError
		e.schedule(res, j, nil)
		return res
	}
	a.RequestHeaders = flatten(req.Header)

	// Shutdown does not cut an attempt short (the request's context is
	// Background); the client's timeout does.
	resp, err := e.send(j, req)
	if err != nil {
		a.Duration = e.cfg.Now().Sub(start)
		a.Error = describe(err)
		res.Outcome = outcomeOf(err)
		e.schedule(res, j, nil)
		return res
	}
	body, readErr := egress.ReadCapped(resp.Body, ResponseBodyLimit)
	resp.Body.Close()
	a.Duration = e.cfg.Now().Sub(start)
	a.StatusCode = resp.StatusCode
	res.Outcome = hookd.OutcomeHTTPError
	if a.Succeeded() {
		res.Outcome = hookd.OutcomeSucceeded
	}
	a.ResponseBody = strings.ToValidUTF8(strings.ReplaceAll(body, "\x00", ""), "\uFFFD")
	if readErr != nil && a.Succeeded() {
		a.Error = "reading the response: " + describe(readErr)
	}
	switch {
	case a.Succeeded():
	case resp.StatusCode == http.StatusGone && j.Webhook != nil && !d.Test:
		res.DisableReason = "the endpoint answered 410 Gone"
	default:
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

// schedule fills in when to try again after a failed attempt, honouring
// Retry-After on 429 and 503, or leaves the delivery exhausted.
func (e *Engine) schedule(res *store.AttemptResult, j *store.Job, resp *http.Response) {
	a := res.Attempt
	wait, ok := j.Profile.Retry.RetryDelay(a.Attempt, e.cfg.Rand())
	if !ok {
		return
	}
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if after, ok := retryAfter(resp.Header.Get("Retry-After"), a.At); ok {
			wait = min(after, e.cfg.RetryAfterCap)
		}
	}
	res.NextAttemptAt = a.At.Add(wait)
}

// retryAfter parses a Retry-After value: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
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
func describe(err error) string {
	msg := err.Error()
	// url.Error repeats the method and URL, which the log already shows.
	if i := strings.Index(msg, "\": "); i >= 0 && strings.HasPrefix(msg, "Post \"") {
		msg = msg[i+3:]
	}
	return msg
}
