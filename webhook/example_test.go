package webhook_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hookd/hookd/webhook"
)

// A receiver verifies each request against the raw body, before parsing
// it, and deduplicates on the message id the signature covers.
func ExampleVerifyMessage() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // from the webhook's creation
	opts := webhook.Options{Scheme: webhook.Standard}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		msg, err := webhook.VerifyMessage(opts, []string{secret}, r.Header, body)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Only now parse body, and deduplicate on the id the signature
		// covers (not on r.Header.Get("webhook-id"), which may be another).
		fmt.Fprintf(w, "accepted %s", msg.ID)
	})

	// What hookd sends, simulated here with Sign.
	body := []byte(`{"type":"invoice.paid","timestamp":"2025-01-08T10:16:12.456Z","data":{"id":"in_1"}}`)
	hs, err := webhook.Sign(opts, []string{secret}, "msg_1", time.Now(), body)
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest("POST", "/webhooks", bytes.NewReader(body))
	for _, h := range hs {
		req.Header.Set(h.Name, h.Value)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())

	// A tampered body is refused.
	req = httptest.NewRequest("POST", "/webhooks", bytes.NewReader(bytes.Replace(body, []byte("in_1"), []byte("in_2"), 1)))
	for _, h := range hs {
		req.Header.Set(h.Name, h.Value)
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// 200 accepted msg_1
	// 401
}

// Alakazam-style signatures: the stripe scheme under the Alakazam prefix.
func ExampleSign() {
	hs, err := webhook.Sign(
		webhook.Options{Scheme: webhook.Stripe, HeaderPrefix: "Alakazam"},
		[]string{"whsec_Xa9kQ2mR7v0bN4pL6sD8fG1hJ3wY5z"},
		"", time.Unix(1719576000, 0), []byte(`{"type":"world.generation.succeeded"}`),
	)
	if err != nil {
		panic(err)
	}
	for _, h := range hs {
		fmt.Printf("%s: %.20s...\n", h.Name, h.Value)
	}
	// Output:
	// Alakazam-Signature: t=1719576000,v1=b990...
}

// A receiver for GitHub: the scheme fixes the header, X-Hub-Signature-256,
// and the secret is the one set on the GitHub webhook. The request is the
// test delivery from GitHub's documentation.
func ExampleVerify_gitHub() {
	opts := webhook.Options{Scheme: webhook.GitHub}
	secrets := []string{"It's a Secret to Everybody"}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := webhook.Verify(opts, secrets, r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// GitHub signs no timestamp: deduplicate on X-GitHub-Delivery.
		fmt.Fprintf(w, "accepted %s", r.Header.Get("X-GitHub-Delivery"))
	})

	req := httptest.NewRequest("POST", "/receive/github", bytes.NewReader([]byte("Hello, World!")))
	req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	req.Header.Set("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 200 accepted 72d3162e-cc78-11e3-81ab-4c9367dc0958
}

// Slack signs a timestamp, so Verify refuses a replay. The request is the
// one in Slack's documentation, sent in July 2018: it verifies on a clock
// set to that day, and is refused as stale on today's.
func ExampleVerify_slack() {
	secrets := []string{"8f742231b10e8888abcd99yyyzzz85a5"} // the app's signing secret
	body := []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", "1531420618")
	h.Set("X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")

	then := func() time.Time { return time.Unix(1531420618, 0) }
	fmt.Println(webhook.Verify(webhook.Options{Scheme: webhook.Slack, Now: then}, secrets, h, body))
	err := webhook.Verify(webhook.Options{Scheme: webhook.Slack}, secrets, h, body)
	fmt.Println(errors.Is(err, webhook.ErrTimestampOutOfTolerance))
	// Output:
	// <nil>
	// true
}
