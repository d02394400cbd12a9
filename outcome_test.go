package hookd_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// TestRetryAndRecord follows failed and successful attempts through both
// steps of retry scheduling, Retry as the engine runs it and Target.Record
// as a store does, and checks the delivery's verdict and the target's state.
func TestRetryAndRecord(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	policy := hookd.RetryPolicy{ScheduleSeconds: []float64{5, 300}, MaxAttempts: 3, Jitter: 0.2}
	type want struct {
		status   string
		next     time.Duration // after at; 0 for none
		notices  []string
		failures int
		disabled string
	}
	for _, tc := range []struct {
		name string
		in   hookd.RetryInput // Policy, At, RetryAfterCap and Webhook filled in unless set
		test bool             // a test delivery
		// target is the webhook's state before the attempt; Webhook is
		// set unless oneOff.
		target hookd.Target
		oneOff bool
		ageCap time.Duration
		after  int
		want   want
	}{
		{name: "succeeded", in: hookd.RetryInput{Attempt: 1, StatusCode: 204},
			want: want{status: hookd.DeliverySucceeded}},
		{name: "succeeded after failures recovers", in: hookd.RetryInput{Attempt: 1, StatusCode: 200},
			target: hookd.Target{Failures: 2, FailingSince: at.Add(-time.Hour)},
			want:   want{status: hookd.DeliverySucceeded, notices: []string{hookd.NoticeWebhookRecovered}}},
		{name: "first failure waits the first entry", in: hookd.RetryInput{Attempt: 1, StatusCode: 500, Rand: 0.5},
			want: want{status: hookd.DeliveryPending, next: 5 * time.Second}},
		{name: "jitter at its low end", in: hookd.RetryInput{Attempt: 1, StatusCode: 500, Rand: 0},
			want: want{status: hookd.DeliveryPending, next: 4 * time.Second}},
		{name: "jitter at its high end", in: hookd.RetryInput{Attempt: 1, StatusCode: 500, Rand: 1},
			want: want{status: hookd.DeliveryPending, next: 6 * time.Second}},
		{name: "no answer is retried", in: hookd.RetryInput{Attempt: 2, Rand: 0.5},
			want: want{status: hookd.DeliveryPending, next: 300 * time.Second}},
		{name: "last attempt exhausts", in: hookd.RetryInput{Attempt: 3, StatusCode: 500, Rand: 0.5},
			want: want{status: hookd.DeliveryFailed, notices: []string{hookd.NoticeDeliveryExhausted}, failures: 1}},
		{name: "429 Retry-After seconds", in: hookd.RetryInput{Attempt: 1, StatusCode: 429, RetryAfter: "120", Rand: 0.5},
			want: want{status: hookd.DeliveryPending, next: 2 * time.Minute}},
		{name: "503 Retry-After date", in: hookd.RetryInput{Attempt: 1, StatusCode: 503, RetryAfter: "Sun, 01 Mar 2026 12:00:30 GMT", Rand: 0.5},
			want: want{status: hookd.DeliveryPending, next: 30 * time.Second}},
		{name: "Retry-After past its cap", in: hookd.RetryInput{Attempt: 1, StatusCode: 429, RetryAfter: "99999", Rand: 0.5},
			want: want{status: hookd.DeliveryPending, next: time.Hour}},
		{name: "Retry-After malformed keeps the schedule", in: hookd.RetryInput{Attempt: 1, StatusCode: 429, RetryAfter: "soon", Rand: 0.5},
			want: want{status: hookd.DeliveryPending, next: 5 * time.Second}},
		{name: "Retry-After ignored on 500", in: hookd.RetryInput{Attempt: 1, StatusCode: 500, RetryAfter: "120", Rand: 0.5},
			want: want{status: hookd.DeliveryPending, next: 5 * time.Second}},
		{name: "Retry-After does not outlive the last attempt", in: hookd.RetryInput{Attempt: 3, StatusCode: 429, RetryAfter: "1", Rand: 0.5},
			want: want{status: hookd.DeliveryFailed, notices: []string{hookd.NoticeDeliveryExhausted}, failures: 1}},
		{name: "410 disables a webhook", in: hookd.RetryInput{Attempt: 1, StatusCode: 410, Rand: 0.5},
			want: want{status: hookd.DeliveryFailed, notices: []string{hookd.NoticeDeliveryExhausted, hookd.NoticeWebhookDisabled},
				failures: 1, disabled: "the endpoint answered 410 Gone"}},
		{name: "410 to a one-off URL is retried", in: hookd.RetryInput{Attempt: 1, StatusCode: 410, Rand: 0.5}, oneOff: true,
			want: want{status: hookd.DeliveryPending, next: 5 * time.Second}},
		{name: "410 to a test delivery is retried", in: hookd.RetryInput{Attempt: 1, StatusCode: 410, Rand: 0.5}, test: true,
			want: want{status: hookd.DeliveryPending, next: 5 * time.Second}},
		{name: "a paused webhook's retry is held", in: hookd.RetryInput{Attempt: 1, StatusCode: 500, Rand: 0.5},
			target: hookd.Target{Status: hookd.WebhookPaused},
			want:   want{status: hookd.DeliveryHeld, next: 5 * time.Second}},
		{name: "a disabled webhook's delivery fails without notice", in: hookd.RetryInput{Attempt: 1, StatusCode: 500, Rand: 0.5},
			target: hookd.Target{Status: hookd.WebhookDisabled},
			want:   want{status: hookd.DeliveryFailed, failures: 1}},
		{name: "auto-disable after consecutive failed deliveries", in: hookd.RetryInput{Attempt: 3, StatusCode: 500, Rand: 0.5},
			target: hookd.Target{Failures: 4, FailingSince: at.Add(-time.Hour)}, after: 5,
			want: want{status: hookd.DeliveryFailed, notices: []string{hookd.NoticeDeliveryExhausted, hookd.NoticeWebhookDisabled},
				failures: 5, disabled: "5 consecutive failed deliveries"}},
		{name: "auto-disable by age", in: hookd.RetryInput{Attempt: 1, StatusCode: 500, Rand: 0.5},
			target: hookd.Target{Failures: 1, FailingSince: at.Add(-48 * time.Hour)}, ageCap: 24 * time.Hour,
			want: want{status: hookd.DeliveryFailed, notices: []string{hookd.NoticeWebhookDisabled},
				failures: 1, disabled: "nothing but failures since 2026-02-27T12:00:00Z"}},
		{name: "a test delivery moves no counters", in: hookd.RetryInput{Attempt: 3, StatusCode: 500, Rand: 0.5}, test: true,
			target: hookd.Target{Failures: 4}, after: 5,
			want: want{status: hookd.DeliveryFailed, notices: []string{hookd.NoticeDeliveryExhausted}, failures: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.in
			in.Policy, in.At, in.RetryAfterCap = policy, at, time.Hour
			in.Webhook = !tc.oneOff && !tc.test
			a := &hookd.Attempt{Attempt: in.Attempt, At: at, StatusCode: in.StatusCode}
			r := &hookd.AttemptReport{Attempt: a, AutoDisableAfter: tc.after, AutoDisableAge: tc.ageCap}
			if !a.Succeeded() {
				r.NextAttemptAt, r.DisableReason = hookd.Retry(in)
			}
			target := tc.target
			target.Webhook = !tc.oneOff
			if target.Status == "" && !tc.oneOff {
				target.Status = hookd.WebhookActive
			}
			v := target.Record(r, tc.test)
			var next time.Duration
			if !v.NextAttemptAt.IsZero() {
				next = v.NextAttemptAt.Sub(at)
			}
			if v.Status != tc.want.status || (next-tc.want.next).Abs() > time.Millisecond || !slices.Equal(v.Notices, tc.want.notices) {
				t.Errorf("verdict = %s in %v, notices %v; want %s in %v, notices %v",
					v.Status, next, v.Notices, tc.want.status, tc.want.next, tc.want.notices)
			}
			if target.Failures != tc.want.failures || target.DisabledReason != tc.want.disabled {
				t.Errorf("target = %d failures, disabled %q; want %d, %q",
					target.Failures, target.DisabledReason, tc.want.failures, tc.want.disabled)
			}
		})
	}
}
