package wire_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/wire"
)

// object1KiB is a typical event payload of about 1 KiB: nested objects,
// strings with escapes and non-ASCII text, integers and floats.
var object1KiB = func() []byte {
	var b strings.Builder
	b.WriteString(`{"id": "evt_2mKoYbWIx3bZVTWJFsLiFQc5k9d", "customer": {"id": "cus_123", "name": "Zoë \"Z\" Åberg", "email": "zoe@example.com"},`)
	b.WriteString(` "items": [`)
	for i := range 6 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"sku": "SKU-%04d", "qty": %d, "price": %d.99, "tags": ["a", "b<c>"]}`, i, i+1, 10*i+5)
	}
	b.WriteString(`], "note": "line one\nline two\ttabbed \u00e9\u4e2d", "paid": true, "refund": null,`)
	for len(b.String()) < 1000 {
		fmt.Fprintf(&b, ` "f%d": %g,`, len(b.String()), 1.5e-3*float64(len(b.String())))
	}
	b.WriteString(` "total": 1234.5}`)
	return []byte(b.String())
}()

func BenchmarkCanonicalObject(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(object1KiB)))
	for b.Loop() {
		if _, err := wire.CanonicalObject(object1KiB); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBody(b *testing.B) {
	data, err := wire.CanonicalObject(object1KiB)
	if err != nil {
		b.Fatal(err)
	}
	env := hookd.DefaultProfile().Envelope
	// A publish renders from data it has canonicalized (Canonical);
	// otherwise Body canonicalizes the data again.
	for _, canonical := range []bool{true, false} {
		b.Run(fmt.Sprintf("canonical=%t", canonical), func(b *testing.B) {
			ev := wire.Event{ID: "msg_2mKoYbWIx3bZVTWJFsLiFQc5k9d", AppID: "app_1", Type: "invoice.paid", CreatedAt: time.Now(), Data: data, Canonical: canonical}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := wire.Body(env, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSignatureHeaders(b *testing.B) {
	data, err := wire.CanonicalObject(object1KiB)
	if err != nil {
		b.Fatal(err)
	}
	body, err := wire.Body(hookd.DefaultProfile().Envelope, wire.Event{Type: "invoice.paid", CreatedAt: time.Now(), Data: data})
	if err != nil {
		b.Fatal(err)
	}
	sig := hookd.SignatureConfig{Scheme: hookd.SchemeStandard}
	secrets := []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	ts := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := wire.SignatureHeaders(sig, secrets, "msg_2mKoYbWIx3bZVTWJFsLiFQc5k9d", "invoice.paid", ts, body); err != nil {
			b.Fatal(err)
		}
	}
}
