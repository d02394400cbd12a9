package hookd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// What an attempt came to, in the words metrics count it by.
const (
	OutcomeSucceeded    = "succeeded"     // a 2xx answer
	OutcomeHTTPError    = "http_error"    // any other answer
	OutcomeTimeout      = "timeout"       // no whole answer within the timeout
	OutcomeNetworkError = "network_error" // the request could not be made or its connection broke
	OutcomeRefused      = "refused"       // the egress rules refused the destination
)

// AttemptReport is a finished attempt as the delivery engine hands it to
// the store: the attempt and what the engine decided about retrying.
type AttemptReport struct {
	Attempt *Attempt
	// NextAttemptAt is when to try again after a failure; zero when the
	// delivery succeeded or has no attempt left.
	NextAttemptAt time.Time
	// DisableReason, when set, disables the webhook at once (410 Gone).
	DisableReason string
	// AutoDisableAfter is the consecutive-failed-deliveries threshold
	// (0 = never); AutoDisableAge disables a webhook that has seen nothing
	// but failures for that long (0 = never).
	AutoDisableAfter int
	AutoDisableAge   time.Duration
}

// Retry scheduling is two pure steps, both here. Retry, in the delivery
// engine as an attempt ends, decides when a failed attempt is tried again
// (the profile's schedule and jitter, or the answer's Retry-After) or that
// a 410 Gone disables the webhook; Target.Record, in the store's
// transaction that records the attempt, turns that into the delivery's
// next status and the webhook's counters and auto-disable, which only the
// store sees.

// RetryInput is what decides the retry of a failed attempt.
type RetryInput struct {
	// Policy is the app's retry policy.
	Policy RetryPolicy
	// Attempt is the failed attempt's number (1-based), At when it began.
	Attempt int
	At      time.Time
	// StatusCode is the answer's status, 0 when there was none;
	// RetryAfter is its Retry-After header.
	StatusCode int
	RetryAfter string
	// RetryAfterCap bounds the wait a Retry-After may ask for.
	RetryAfterCap time.Duration
	// Rand, uniform in [0,1), places the jitter.
	Rand float64
	// Webhook is set when the delivery goes to a webhook and is not a
	// test: only then does a 410 Gone disable what it goes to.
	Webhook bool
}

// Retry decides what follows a failed attempt: when to try it again, or
// (zero) never, and a reason to disable the webhook at once, or "". The
// wait is the policy's (RetryPolicy.RetryDelay); on a 429 or 503 that
// says Retry-After, the answer's, within RetryAfterCap. A webhook that
// answers 410 Gone is disabled. Target.Record takes it from there.
func Retry(in RetryInput) (next time.Time, disableReason string) {
	if in.StatusCode == 410 && in.Webhook {
		return time.Time{}, "the endpoint answered 410 Gone"
	}
	wait, ok := in.Policy.RetryDelay(in.Attempt, in.Rand)
	if !ok {
		return time.Time{}, ""
	}
	if in.StatusCode == 429 || in.StatusCode == 503 {
		if after, ok := retryAfter(in.RetryAfter, in.At, in.RetryAfterCap); ok {
			wait = after
		}
	}
	return in.At.Add(wait), ""
}

// RetryDelay returns the wait after failed attempt number attempt (1-based),
// and false when no attempt is left. rnd is a uniform number in [0,1) that
// places the jitter.
func (r RetryPolicy) RetryDelay(attempt int, rnd float64) (time.Duration, bool) {
	if attempt >= r.MaxAttempts || len(r.ScheduleSeconds) == 0 {
		return 0, false
	}
	i := min(attempt-1, len(r.ScheduleSeconds)-1)
	wait := r.ScheduleSeconds[i] * (1 + r.Jitter*(2*rnd-1))
	return time.Duration(wait * float64(time.Second)), true
}

// retryAfter parses a Retry-After value, seconds or an HTTP date, into a
// wait between 0 and limit. The receiver writes the value, so it is
// clamped before it becomes a Duration: 9300000000 seconds would
// overflow time.Duration into a negative wait, an immediate retry.
func retryAfter(v string, now time.Time, limit time.Duration) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	secs, err := strconv.ParseUint(v, 10, 64)
	if err == nil || errors.Is(err, strconv.ErrRange) { // ErrRange: digits, too many of them
		if err != nil || secs > uint64(limit/time.Second) {
			return limit, true
		}
		return min(time.Duration(secs)*time.Second, limit), true
	}
	if t, ok := parseHTTPTime(v); ok {
		// Time.Sub saturates rather than overflows, however far the date.
		return min(max(t.Sub(now), 0), limit), true
	}
	return 0, false
}

// parseHTTPTime parses an HTTP date in the three forms HTTP allows, as
// net/http's ParseTime does; the domain does without net/http.
func parseHTTPTime(v string) (time.Time, bool) {
	for _, layout := range [...]string{"Mon, 02 Jan 2006 15:04:05 GMT", time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Target is the state of what a delivery goes to — a webhook, a source's
// forward URL, or a one-off URL — as attempts are recorded one after
// another. Stores load it, feed it each attempt in turn with Record, and
// write back what changed.
type Target struct {
	// Status is the webhook's or the source's status; empty for a
	// one-off URL.
	Status string
	// Webhook is set when the target is a webhook: failure counters and
	// auto-disable apply only then.
	Webhook      bool
	Failures     int
	FailingSince time.Time

	// CountersChanged is set when Failures or FailingSince changed.
	CountersChanged bool
	// DisabledReason is set when a recorded attempt disabled the webhook.
	DisabledReason string
}

// Verdict is what one attempt does to its delivery.
type Verdict struct {
	Status        string    // the delivery's new status
	NextAttemptAt time.Time // when it is due again; zero unless pending or held
	Notices       []string  // notice kinds it raises
}

// Record applies one attempt of a delivery (test tells a test delivery,
// which never moves counters) to the target and returns its verdict.
func (t *Target) Record(r *AttemptReport, test bool) Verdict {
	a := r.Attempt
	v := Verdict{Status: DeliverySucceeded}
	switch {
	case a.Succeeded():
	case !r.NextAttemptAt.IsZero() && r.DisableReason == "":
		v.Status, v.NextAttemptAt = DeliveryPending, r.NextAttemptAt
		if !test && t.Status == WebhookPaused {
			v.Status = DeliveryHeld
		} else if !test && t.Status == WebhookDisabled {
			v.Status, v.NextAttemptAt = DeliveryFailed, time.Time{}
		}
	default:
		v.Status = DeliveryFailed
	}
	if v.Status == DeliveryFailed && t.Status != WebhookDisabled {
		v.Notices = append(v.Notices, NoticeDeliveryExhausted)
	}
	if !t.Webhook || test {
		return v
	}
	if a.Succeeded() {
		if t.Failures > 0 {
			v.Notices = append(v.Notices, NoticeWebhookRecovered)
		}
		if t.Failures > 0 || !t.FailingSince.IsZero() {
			t.Failures, t.FailingSince, t.CountersChanged = 0, time.Time{}, true
		}
		return v
	}
	if v.Status == DeliveryFailed {
		t.Failures++
	}
	if t.FailingSince.IsZero() {
		t.FailingSince = a.At
	}
	t.CountersChanged = true
	if t.Status == WebhookDisabled {
		return v
	}
	reason := r.DisableReason
	switch {
	case reason != "":
	case r.AutoDisableAfter > 0 && t.Failures >= r.AutoDisableAfter:
		reason = fmt.Sprintf("%d consecutive failed deliveries", t.Failures)
	case r.AutoDisableAge > 0 && a.At.Sub(t.FailingSince) >= r.AutoDisableAge:
		reason = fmt.Sprintf("nothing but failures since %s", t.FailingSince.UTC().Format(time.RFC3339))
	}
	if reason == "" {
		return v
	}
	t.Status, t.DisabledReason = WebhookDisabled, reason
	v.Status, v.NextAttemptAt = DeliveryFailed, time.Time{}
	v.Notices = append(v.Notices, NoticeWebhookDisabled)
	return v
}
