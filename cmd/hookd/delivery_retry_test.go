package main

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// TestDeliveryRetriesUntilSuccess fails the first two tries and checks
// that each attempt is logged: numbered from 1, with its status, the
// headers that went out (signature included), the answer and a duration.
func TestDeliveryRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	rc := newReceiver(t, func(n int, r *http.Request) int {
		switch n {
		case 1:
			time.Sleep(60 * time.Millisecond) // so the first duration is measurable
			return http.StatusInternalServerError
		case 2:
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}})
	pub := e.publishType("order.paid", 1)
	id := e.onlyDelivery(pub.ID)

	got := rc.waitFor(t, 3, dlvWait)
	d := e.waitStatus(id, "succeeded")
	if d.AttemptCount != 3 || d.NextAttemptAt != nil || d.LastStatusCode == nil || *d.LastStatusCode != 200 {
		t.Errorf("delivery: attempt_count %d, next_attempt_at %v, last_status_code %v; want 3, null, 200",
			d.AttemptCount, d.NextAttemptAt, d.LastStatusCode)
	}
	if len(d.Attempts) != 3 {
		t.Fatalf("delivery has %d attempts logged, want 3", len(d.Attempts))
	}
	wantStatus := []int{500, 502, 200}
	wantBody := []string{"answer Internal Server Error", "answer Bad Gateway", "answer OK"}
	for i, a := range d.Attempts {
		if a.Attempt != i+1 {
			t.Errorf("attempt %d is numbered %d", i+1, a.Attempt)
		}
		if a.StatusCode == nil || *a.StatusCode != wantStatus[i] {
			t.Errorf("attempt %d status_code = %v, want %d", i+1, a.StatusCode, wantStatus[i])
		}
		if a.ResponseBody == nil || *a.ResponseBody != wantBody[i] {
			t.Errorf("attempt %d response_body = %v, want %q", i+1, a.ResponseBody, wantBody[i])
		}
		if a.Error != nil {
			t.Errorf("attempt %d error = %q, want null for an HTTP answer", i+1, *a.Error)
		}
		if a.DurationMs < 0 || a.At.IsZero() {
			t.Errorf("attempt %d: duration_ms %d, at %v", i+1, a.DurationMs, a.At)
		}
		if i > 0 && a.At.Before(d.Attempts[i-1].At.Time) {
			t.Errorf("attempt %d at %v is before attempt %d at %v", i+1, a.At, i, d.Attempts[i-1].At)
		}
		for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature", "Content-Type", "User-Agent"} {
			logged, ok := dlvHeader(a.RequestHeaders, name)
			if !ok {
				t.Errorf("attempt %d request_headers lack %s: %v", i+1, name, a.RequestHeaders)
				continue
			}
			// The log shows what went on the wire for that very attempt.
			if sent := got[i].Header.Get(name); logged != sent {
				t.Errorf("attempt %d logs %s = %q, the receiver got %q", i+1, name, logged, sent)
			}
		}
		if v, _ := dlvHeader(a.RequestHeaders, "webhook-id"); v != pub.ID {
			t.Errorf("attempt %d webhook-id = %q, want the event id %s", i+1, v, pub.ID)
		}
	}
	if d.Attempts[0].DurationMs < 50 {
		t.Errorf("attempt 1 duration_ms = %d, want at least the 60 ms the receiver took", d.Attempts[0].DurationMs)
	}
}

// TestDeliveryResponseBodyKeepsFirst4KiB answers 10 KiB and checks that the
// attempt keeps exactly the first 4,096 bytes of it.
func TestDeliveryResponseBodyKeepsFirst4KiB(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	long := strings.Repeat("0123456789abcdef", 640) // 10,240 bytes
	srv := dlvNewServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, long)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e.webhook(&client.WebhookInput{URL: client.Ptr(srv.URL + "/hook"), Events: []string{"order.paid"}})
	id := e.onlyDelivery(e.publishType("order.paid", 1).ID)
	d := e.waitStatus(id, "succeeded")
	if len(d.Attempts) != 2 {
		t.Fatalf("delivery has %d attempts, want 2", len(d.Attempts))
	}
	body := d.Attempts[0].ResponseBody
	if body == nil {
		t.Fatalf("attempt 1 response_body is null")
	}
	if len(*body) != 4096 || *body != long[:4096] {
		t.Errorf("attempt 1 response_body has %d bytes, want exactly the first 4096 of the answer", len(*body))
	}
}

// TestDeliveryConnectionRefusedIsExhausted points a webhook at a closed
// port: each attempt logs the network error and no status, and when the
// attempts run out the delivery is failed with no next attempt.
func TestDeliveryConnectionRefusedIsExhausted(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, `{"retry":{"schedule_seconds":[0.05],"max_attempts":2,"jitter":0},"auto_disable_after":0}`, "order.paid")
	e.webhook(&client.WebhookInput{URL: client.Ptr(dlvClosedURL(t)), Events: []string{"order.paid"}})
	id := e.onlyDelivery(e.publishType("order.paid", 1).ID)
	d := e.waitStatus(id, "failed")
	if d.NextAttemptAt != nil {
		t.Errorf("failed delivery has next_attempt_at %v, want null", d.NextAttemptAt)
	}
	if d.AttemptCount != 2 || len(d.Attempts) != 2 {
		t.Fatalf("attempt_count %d with %d attempts logged, want 2 and 2", d.AttemptCount, len(d.Attempts))
	}
	for _, a := range d.Attempts {
		if a.StatusCode != nil {
			t.Errorf("attempt %d status_code = %d, want null for a refused connection", a.Attempt, *a.StatusCode)
		}
		if a.Error == nil || !strings.Contains(*a.Error, "connection refused") {
			t.Errorf("attempt %d error = %v, want it to say connection refused", a.Attempt, a.Error)
		}
		if _, ok := dlvHeader(a.RequestHeaders, "webhook-signature"); !ok {
			t.Errorf("attempt %d logs no webhook-signature though the request was built: %v", a.Attempt, a.RequestHeaders)
		}
	}
}

// TestDeliveryExhaustedThenManualRetry runs out a delivery's attempts, then
// retries the failed delivery by hand once the receiver is well again.
func TestDeliveryExhaustedThenManualRetry(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	var healthy atomic.Bool
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusInternalServerError
	})
	e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}})
	id := e.onlyDelivery(e.publishType("order.paid", 1).ID)
	d := e.waitStatus(id, "failed")
	if d.AttemptCount != 4 || len(d.Attempts) != 4 || d.NextAttemptAt != nil {
		t.Fatalf("exhausted delivery: attempt_count %d, %d attempts, next_attempt_at %v; want 4, 4, null",
			d.AttemptCount, len(d.Attempts), d.NextAttemptAt)
	}
	if d.LastStatusCode == nil || *d.LastStatusCode != 500 {
		t.Errorf("last_status_code = %v, want 500", d.LastStatusCode)
	}
	if n := len(rc.Received()); n != 4 {
		t.Errorf("receiver got %d requests, want the 4 attempts", n)
	}
	dlvQuiet(t, 500*time.Millisecond, "after exhaustion", func() int { return len(rc.Received()) })

	healthy.Store(true)
	var retried client.Delivery
	status, err := e.c.Do(e.ctx, http.MethodPost, "/v1/apps/"+e.app.ID+"/deliveries/"+id+"/retry", nil, &retried)
	if err != nil || (status != 200 && status != 202) {
		t.Fatalf("retry: status %d, %v", status, err)
	}
	if retried.ID != id || retried.Status != "pending" {
		t.Errorf("retry answered id %s status %s, want %s pending", retried.ID, retried.Status, id)
	}
	got := rc.waitFor(t, 5, dlvWait)
	if got[4].Header.Get("webhook-id") != got[0].Header.Get("webhook-id") || !bytes.Equal(got[4].Body, got[0].Body) {
		t.Errorf("the manual retry sent another message than the first attempt")
	}
	d = e.waitStatus(id, "succeeded")
	last := d.Attempts[len(d.Attempts)-1]
	if len(d.Attempts) != 5 || last.Attempt != 5 || last.StatusCode == nil || *last.StatusCode != 200 {
		t.Errorf("after the retry: %d attempts, last numbered %d with status %v; want 5, 5, 200", len(d.Attempts), last.Attempt, last.StatusCode)
	}
}

// TestDeliveryRetryResendsSameMessageFreshlySigned spaces retries more than
// a second apart so that the Unix-second timestamps differ, and checks that
// every try carries the same body and webhook-id under a new timestamp and
// a signature valid for it.
func TestDeliveryRetryResendsSameMessageFreshlySigned(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, `{"retry":{"schedule_seconds":[1.1],"max_attempts":3,"jitter":0},"auto_disable_after":0}`, "order.paid")
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if n < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	w := e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}})
	pub := e.publishType("order.paid", 7)
	got := rc.waitFor(t, 3, dlvWait)
	var prevTS int64
	seen := map[string]bool{}
	for i, g := range got {
		if !bytes.Equal(g.Body, got[0].Body) {
			t.Errorf("try %d body %s differs from the first %s", i+1, g.Body, got[0].Body)
		}
		if id := g.Header.Get("webhook-id"); id != pub.ID {
			t.Errorf("try %d webhook-id = %q, want the event id %s", i+1, id, pub.ID)
		}
		ts, err := strconv.ParseInt(g.Header.Get("webhook-timestamp"), 10, 64)
		if err != nil {
			t.Fatalf("try %d webhook-timestamp %q: %v", i+1, g.Header.Get("webhook-timestamp"), err)
		}
		if i > 0 && ts <= prevTS {
			t.Errorf("try %d webhook-timestamp %d is not after the previous %d", i+1, ts, prevTS)
		}
		prevTS = ts
		sig := g.Header.Get("webhook-signature")
		if seen[sig] {
			t.Errorf("try %d repeats an earlier signature", i+1)
		}
		seen[sig] = true
		if !dlvVerifies(t, g, w.Secret) {
			t.Errorf("try %d signature %q does not verify for its own timestamp", i+1, sig)
		}
	}
	e.waitStatus(e.onlyDelivery(pub.ID), "succeeded")
}

// TestDeliveryRetryAfterDelaysNextAttempt answers 429 with Retry-After: 1
// under a 50 ms schedule: the next try must wait about a second.
func TestDeliveryRetryAfterDelaysNextAttempt(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	srv := dlvNewServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e.webhook(&client.WebhookInput{URL: client.Ptr(srv.URL + "/hook"), Events: []string{"order.paid"}})
	id := e.onlyDelivery(e.publishType("order.paid", 1).ID)
	got := srv.waitFor(t, 2, dlvWait)
	if gap := got[1].At.Sub(got[0].At); gap < 900*time.Millisecond {
		t.Errorf("second try came %v after the 429 with Retry-After: 1, want at least 900ms", gap)
	}
	d := e.waitStatus(id, "succeeded")
	if len(d.Attempts) != 2 || d.Attempts[0].StatusCode == nil || *d.Attempts[0].StatusCode != 429 {
		t.Errorf("attempts = %+v, want a 429 then a 200", d.Attempts)
	}
}

// TestDeliveryTimeoutAndRedirectAreFailures checks that only a 2xx within
// the timeout succeeds: an answer slower than the (configured) timeout and
// a redirect, which is not followed, are failed attempts that are retried.
func TestDeliveryTimeoutAndRedirectAreFailures(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	e := dlvSetupOn(t, srv, dlvFast, "order.paid")
	target := newReceiver(t, nil)
	rc := dlvNewServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			time.Sleep(time.Second) // past the 300 ms timeout
			w.WriteHeader(http.StatusOK)
		case 2:
			http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
	e.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"order.paid"}})
	id := e.onlyDelivery(e.publishType("order.paid", 1).ID)
	d := e.waitStatus(id, "succeeded")
	if len(d.Attempts) != 3 {
		t.Fatalf("delivery has %d attempts, want 3 (timeout, redirect, success)", len(d.Attempts))
	}
	if a := d.Attempts[0]; a.StatusCode != nil || a.Error == nil || *a.Error == "" {
		t.Errorf("timed-out attempt: status_code %v, error %v; want null and an error", a.StatusCode, a.Error)
	}
	if a := d.Attempts[1]; a.StatusCode == nil || *a.StatusCode != http.StatusFound {
		t.Errorf("redirected attempt status_code = %v, want 302 recorded as a failure", a.StatusCode)
	}
	if n := len(target.Received()); n != 0 {
		t.Errorf("the redirect was followed: its target got %d requests", n)
	}
}
