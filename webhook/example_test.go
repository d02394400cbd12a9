package webhook_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hookd/hookd/webhook"
)

// A receiver verifies each request against the raw body, before parsing it.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // from the webhook's creation
	opts := webhook.Options{Scheme: webhook.Standard}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := webhook.Verify(opts, []string{secret}, r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Only now parse body, and deduplicate on the webhook-id header.
		fmt.Fprintf(w, "accepted %s", r.Header.Get("webhook-id"))
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
