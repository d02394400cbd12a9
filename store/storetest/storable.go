package storetest

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// testStorable checks that text from outside cannot fail a record: an
// answer's body, an error that quotes the peer, headers, each holding
// NUL and bytes that are not UTF-8, which PostgreSQL's text refuses.
func testStorable(t *testing.T, open opener) {
	run(t, open, "AttemptTextFromOutside", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		f.publishType(app, "user.created", t0)
		jobs := f.claim("worker", t0, 2)
		if len(jobs) != 2 {
			f.Fatalf("claimed %d deliveries, want 2", len(jobs))
		}
		hostile := retryAt(result(jobs[0], "worker", at(time.Second), 0), at(time.Minute))
		a := hostile.Attempt
		a.Error = "tls: failed to verify certificate: x509: certificate is valid for evil.example\x00.bank.example, not \xff\xfe"
		a.ResponseBody = "body \x00 with \xc3 broken \xe2\x98 bytes"
		a.RequestHeaders["X-Provider\x00\xff"] = "value \x00 \xff"
		a.ResponseHeaders = map[string]string{"X-Echo\x00\xfe": "echo \x00 \xfe", "Server": "evil"}
		fine := result(jobs[1], "worker", at(time.Second), 204)

		f.record(hostile, fine)

		d := f.wantStatus(app.ID, jobs[0].Delivery.ID, hookd.DeliveryPending)
		sameTimePtr(f, "next attempt of the hostile attempt's delivery", d.NextAttemptAt, at(time.Minute))
		if len(d.Attempts) != 1 {
			f.Fatalf("hostile delivery has %d attempts, want 1", len(d.Attempts))
		}
		got := d.Attempts[0]
		wantStored(f, "error", got.Error, "tls: failed to verify certificate: x509: certificate is valid for evil.example\uFFFD.bank.example, not \uFFFD\uFFFD")
		wantStored(f, "response body", got.ResponseBody, "body \uFFFD with \uFFFD broken \uFFFD\uFFFD bytes")
		for k, v := range got.RequestHeaders {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				f.Errorf("request header %q: %q is not valid UTF-8", k, v)
			}
		}
		equal(f, "request headers kept", len(got.RequestHeaders), 3)
		for k, v := range got.ResponseHeaders {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				f.Errorf("response header %q: %q is not valid UTF-8", k, v)
			}
		}
		equal(f, "response headers kept", len(got.ResponseHeaders), 2)
		equal(f, "plain response header kept", got.ResponseHeaders["Server"], "evil")
		f.wantStatus(app.ID, jobs[1].Delivery.ID, hookd.DeliverySucceeded)
	})

	run(t, open, "AttemptTextCut", func(f *fixture) {
		app := f.newApp()
		f.newWebhook(app)
		f.publishType(app, "user.created", t0)
		r := result(f.claimOne("worker", t0), "worker", at(time.Second), 500)
		r.Attempt.ResponseBody = strings.Repeat("☃", sqlrow.AttemptTextLimit) // three times the limit
		f.record(r)
		d := f.delivery(app.ID, r.Attempt.DeliveryID)
		body := d.Attempts[0].ResponseBody
		if len(body) > sqlrow.AttemptTextLimit || !utf8.ValidString(body) || !strings.HasPrefix(r.Attempt.ResponseBody, body) {
			f.Errorf("a body of %d bytes is stored as %d bytes (valid UTF-8: %t), want a prefix of at most %d", len(r.Attempt.ResponseBody), len(body), utf8.ValidString(body), sqlrow.AttemptTextLimit)
		}
	})
}

// wantStored checks text read back from a store: storable, and as want.
func wantStored(tb testing.TB, what, got, want string) {
	tb.Helper()
	if !utf8.ValidString(got) || strings.Contains(got, "\x00") {
		tb.Errorf("%s %q: not storable text", what, got)
	}
	if got != want {
		tb.Errorf("%s: got %q, want %q", what, got, want)
	}
}
