package hookd

import (
	"fmt"
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
