package deliver

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/egress"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/wire"
)

// ResponseBodyLimit is how much of a response body an attempt keeps.
const ResponseBodyLimit = 4 << 10

// errorLimit is how much of an attempt's error text it keeps: enough for
// any error hookd's client returns, which may quote what the peer sent
// (names from its certificate, a malformed header line).
const errorLimit = 2 << 10

// attempt makes one HTTP request for a claimed delivery and decides what
// its outcome means. It never fails: a request that cannot even be built
// is a failed attempt with an error.
func (e *Engine) attempt(j *store.Job) *store.AttemptResult {
	start := e.cfg.Now()
	d := j.Delivery
	a := &hookd.Attempt{DeliveryID: d.ID, Attempt: d.AttemptCount + 1, At: start.UTC()}
	res := &store.AttemptResult{Owner: e.cfg.Owner, AttemptReport: hookd.AttemptReport{Attempt: a, AutoDisableAfter: j.Profile.AutoDisableAfter, AutoDisableAge: e.cfg.AutoDisableAge}}

	url, secrets := d.URL, []string{j.DefaultSecret}
	var custom map[string]string
	if w := j.Webhook; w != nil {
		a.WebhookID = w.ID
		url, secrets, custom = w.URL, w.SigningSecrets(start), w.Headers
	}
	req, err := e.request(url, j, secrets, custom, start)
	if err != nil {
		a.Error = hookd.StorableText(err.Error(), errorLimit)
		e.schedule(res, j, nil)
		return res
	}
	a.RequestHeaders = flatten(req.Header)

	// Shutdown does not cut an attempt short (the request's context is
	// Background); the client's timeout does.
	resp, err := e.client.Do(req)
	if err != nil {
		a.Duration = e.cfg.Now().Sub(start)
		a.Error = hookd.StorableText(describe(err), errorLimit)
		e.schedule(res, j, nil)
		return res
	}
	body, readErr := egress.ReadCapped(resp.Body, ResponseBodyLimit)
	resp.Body.Close()
	a.Duration = e.cfg.Now().Sub(start)
	a.StatusCode = resp.StatusCode
	// The body is text from outside, stored as text: bytes a store
	// cannot keep are replaced, within the same limit.
	a.ResponseBody = hookd.StorableText(body, ResponseBodyLimit)
	if readErr != nil && a.Succeeded() {
		a.Error = hookd.StorableText("reading the response: "+describe(readErr), errorLimit)
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

// describe turns a client error into a line fit for the delivery log.
func describe(err error) string {
	msg := err.Error()
	// url.Error repeats the method and URL, which the log already shows.
	if i := strings.Index(msg, "\": "); i >= 0 && strings.HasPrefix(msg, "Post \"") {
		msg = msg[i+3:]
	}
	return msg
}
