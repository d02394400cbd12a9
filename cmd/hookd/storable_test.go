package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd/client"
)

// hostileTLSServer starts an HTTPS receiver whose certificate names a host
// with a NUL in it, so that a client's verification error quotes a NUL
// byte, as it would for a hostile endpoint's certificate.
func hostileTLSServer(tb testing.TB, dnsName string) *httptest.Server {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Organization: []string{"hostile"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{dnsName},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("certificate naming %q: %v", dnsName, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes it fails are the point
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv
}

// An endpoint whose TLS certificate names a host holding a NUL, and one
// that answers with NUL and bytes that are not UTF-8, are both logged:
// their attempts are recorded with the text made storable (on PostgreSQL
// the raw text failed the whole record batch).
func TestDeliveryRecordsHostileText(t *testing.T) {
	t.Parallel()
	e := dlvSetup(t, dlvFast, "order.paid")
	tlsSrv := hostileTLSServer(t, "evil.example\x00.bank.example")
	hostileURL := "https://localhost:" + tlsSrv.URL[strings.LastIndex(tlsSrv.URL, ":")+1:] + "/hook"
	e.webhook(&client.WebhookInput{URL: client.Ptr(hostileURL), Events: []string{"order.paid"}})
	garbled := dlvNewServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "ok\x00 caf\xe9 \xe2\x98")
	})
	e.webhook(&client.WebhookInput{URL: client.Ptr(garbled.URL + "/hook"), Events: []string{"order.paid"}})

	ev := e.event(e.publishType("order.paid", 1).ID)
	if len(ev.Deliveries) != 2 {
		t.Fatalf("event has %d deliveries, want 2", len(ev.Deliveries))
	}
	for _, s := range ev.Deliveries {
		d := e.waitDelivery(s.ID, "to have an attempt logged", func(d *client.Delivery) bool { return len(d.Attempts) > 0 })
		a := d.Attempts[0]
		switch {
		case a.Error != nil && strings.Contains(*a.Error, "certificate"):
			if want := "evil.example\uFFFD.bank.example"; !strings.Contains(*a.Error, want) {
				t.Errorf("TLS error %q does not name %q", *a.Error, want)
			}
		case a.ResponseBody != nil:
			if want := "ok\uFFFD caf\uFFFD \uFFFD\uFFFD"; *a.ResponseBody != want {
				t.Errorf("response body %q, want %q", *a.ResponseBody, want)
			}
			e.waitStatus(s.ID, "succeeded")
		default:
			t.Errorf("attempt %+v is neither the TLS failure nor the garbled answer", a)
		}
	}
}

// What a provider names (event type, delivery id) and sends in headers is
// stored made storable, and the raw body byte for byte.
func TestSourceStoresHostileText(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	src := env.create(map[string]any{"name": "Hostile"})
	body := []byte(`{"type":"order\u0000paid","note":"caf` + "\xe9" + `"}`)
	h := srcE2EStandardRequest(t, *src.Secret, "msg_\xff", body)
	h.Set("X-Note", "caf\xe9")
	id := srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, body))
	evs := env.events(src.ID)
	if len(evs) != 1 || evs[0].ID != id {
		t.Fatalf("source events %v, want the one received", evs)
	}
	got := evs[0]
	if want := "order\uFFFDpaid"; got.Type == nil || *got.Type != want {
		t.Errorf("type %s, want %q", srcE2EStr(got.Type), want)
	}
	if want := "msg_\uFFFD"; got.ProviderEventID == nil || *got.ProviderEventID != want {
		t.Errorf("provider_event_id %s, want %q", srcE2EStr(got.ProviderEventID), want)
	}
	if want := "caf\uFFFD"; got.Headers["X-Note"] != want {
		t.Errorf("header X-Note %q, want %q (headers %v)", got.Headers["X-Note"], want, got.Headers)
	}
	for k, v := range got.Headers {
		if !utf8.ValidString(k + v) {
			t.Errorf("header %q: %q is not valid UTF-8", k, v)
		}
	}
}
