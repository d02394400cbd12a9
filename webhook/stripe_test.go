package webhook_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	stripewebhook "github.com/stripe/stripe-go/v82/webhook"

	"github.com/hookd/hookd/webhook"
)

// The stripe scheme against Stripe's own Go library, both ways: what
// stripe-go signs, Verify accepts; what Sign makes, stripe-go accepts.
// stripe-go checks the timestamp against the real clock, so these sign now.
func TestStripeGoInterop(t *testing.T) {
	t.Parallel()
	const secret, old = "whsec_test_2f4a6c8e0b1d3f5a7c9e", "whsec_test_old"
	payload := []byte(`{"id":"evt_1","object":"event","api_version":"2020-08-27","type":"invoice.paid","data":{"object":{"id":"in_1"}}}`)
	opts := webhook.Options{Scheme: webhook.Stripe}

	t.Run("stripe-go signs, Verify accepts", func(t *testing.T) {
		t.Parallel()
		sp := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
			Payload: payload, Secret: secret, Timestamp: time.Now(),
		})
		h := http.Header{}
		h.Set("Stripe-Signature", sp.Header)
		if err := webhook.Verify(opts, []string{secret}, h, payload); err != nil {
			t.Fatalf("Verify(%q): %v", sp.Header, err)
		}
		if err := webhook.Verify(opts, []string{"whsec_new", secret}, h, payload); err != nil {
			t.Fatalf("Verify with two secrets: %v", err)
		}
		if err := webhook.Verify(opts, []string{old}, h, payload); !errors.Is(err, webhook.ErrInvalidSignature) {
			t.Fatalf("Verify with another secret = %v, want ErrInvalidSignature", err)
		}
		stale := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
			Payload: payload, Secret: secret, Timestamp: time.Now().Add(-time.Hour),
		})
		h.Set("Stripe-Signature", stale.Header)
		if err := webhook.Verify(opts, []string{secret}, h, payload); !errors.Is(err, webhook.ErrTimestampOutOfTolerance) {
			t.Fatalf("Verify of an hour-old payload = %v, want ErrTimestampOutOfTolerance", err)
		}
		// Signatures under another scheme name are ignored.
		v0 := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
			Payload: payload, Secret: secret, Timestamp: time.Now(), Scheme: "v0",
		})
		h.Set("Stripe-Signature", v0.Header)
		if err := webhook.Verify(opts, []string{secret}, h, payload); !errors.Is(err, webhook.ErrInvalidSignature) {
			t.Fatalf("Verify of a v0-only header = %v, want ErrInvalidSignature", err)
		}
	})

	t.Run("Sign signs, stripe-go accepts", func(t *testing.T) {
		t.Parallel()
		hs, err := webhook.Sign(opts, []string{secret, old}, "", time.Now(), payload)
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != 1 || hs[0].Name != "Stripe-Signature" {
			t.Fatalf("Sign = %q, want one Stripe-Signature header", hs)
		}
		sig := hs[0].Value
		// During a rotation stripe-go holding either secret accepts.
		for _, s := range []string{secret, old} {
			if err := stripewebhook.ValidatePayload(payload, sig, s); err != nil {
				t.Errorf("stripe-go ValidatePayload(%q) with %s: %v", sig, s, err)
			}
		}
		if err := stripewebhook.ValidatePayload(payload, sig, "whsec_other"); err == nil {
			t.Error("stripe-go accepted the header with another secret")
		}
		if err := stripewebhook.ValidatePayload([]byte(`{}`), sig, secret); err == nil {
			t.Error("stripe-go accepted the header for another body")
		}
		e, err := stripewebhook.ConstructEventWithOptions(payload, sig, secret, stripewebhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
		if err != nil {
			t.Fatalf("stripe-go ConstructEventWithOptions: %v", err)
		}
		if e.ID != "evt_1" || e.Type != "invoice.paid" {
			t.Fatalf("stripe-go event = %s %s, want evt_1 invoice.paid", e.ID, e.Type)
		}
		old, err := webhook.Sign(opts, []string{secret}, "", time.Now().Add(-time.Hour), payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := stripewebhook.ValidatePayload(payload, old[0].Value, secret); err == nil {
			t.Error("stripe-go accepted an hour-old header")
		}
	})
}
