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
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// hostileTimeout is the delivery timeout of the hostile receivers' test:
// short, so that the receivers that hang cost a test seconds, not minutes.
const hostileTimeout = 2 * time.Second

// hostileProfile gives each hostile delivery two tries in quick
// succession and never disables its webhook.
const hostileProfile = `{"retry":{"schedule_seconds":[0.05],"max_attempts":2,"jitter":0},"auto_disable_after":0}`

// hostileListener serves every connection on loopback with serve, which
// writes by hand whatever a hostile receiver writes. done is closed when
// the test ends, for servers that would otherwise never stop.
func hostileListener(tb testing.TB, serve func(c net.Conn, done <-chan struct{})) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	tb.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serve(c, done)
			})
		}
	})
	return "http://" + ln.Addr().String() + "/hook"
}

// readHead reads a request's head off c, so that an answer comes after
// the request as a real server's would; the small body stays unread.
func readHead(c net.Conn) bool {
	buf := make([]byte, 0, 4096)
	one := make([]byte, 1024)
	for !strings.Contains(string(buf), "\r\n\r\n") {
		n, err := c.Read(one)
		if err != nil {
			return false
		}
		buf = append(buf, one[:n]...)
	}
	return true
}

// hangForever reads the request and never answers.
func hangForever(c net.Conn, done <-chan struct{}) {
	if readHead(c) {
		go func() { <-done; c.Close() }()
		io.Copy(io.Discard, c) // until hookd gives up and closes
	}
}

// dripByteASecond writes a fine answer, one byte a second.
func dripByteASecond(c net.Conn, done <-chan struct{}) {
	if !readHead(c) {
		return
	}
	for _, b := range []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") {
		if _, err := c.Write([]byte{b}); err != nil {
			return
		}
		select {
		case <-done:
			return
		case <-time.After(time.Second):
		}
	}
}

// closeMidAnswer starts an answer and closes the connection inside its
// headers.
func closeMidAnswer(c net.Conn, _ <-chan struct{}) {
	if readHead(c) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: te")
	}
}

// endlessHeaderLine writes a header line that never ends.
func endlessHeaderLine(c net.Conn, _ <-chan struct{}) {
	if !readHead(c) {
		return
	}
	io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Endless: ")
	fill := []byte(strings.Repeat("a", 32<<10))
	for {
		if _, err := c.Write(fill); err != nil {
			return
		}
	}
}

// hugeAnswer is a receiver answering 500 with a 50 MB body, which counts
// the bytes each connection managed to hand to the kernel.
type hugeAnswer struct {
	mu      sync.Mutex
	written []int64
}

const hugeAnswerBytes = 50 << 20

func (h *hugeAnswer) serve(c net.Conn, _ <-chan struct{}) {
	if !readHead(c) {
		return
	}
	var n int64
	defer func() {
		h.mu.Lock()
		h.written = append(h.written, n)
		h.mu.Unlock()
	}()
	if _, err := io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 52428800\r\n\r\n"); err != nil {
		return
	}
	chunk := []byte(strings.Repeat("x", 64<<10))
	for n < hugeAnswerBytes {
		w, err := c.Write(chunk)
		n += int64(w)
		if err != nil {
			return
		}
	}
}

// Written returns the bytes of body each connection wrote.
func (h *hugeAnswer) Written() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int64(nil), h.written...)
}

// tlsReceiver starts an https server on loopback with cert (httptest's
// own, which nobody trusts, when nil) and returns its URL with host, so
// that the certificate's names are checked against the host chosen.
func tlsReceiver(tb testing.TB, host string, cert *tls.Certificate) string {
	tb.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes fail by design
	if cert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "https://" + net.JoinHostPort(host, port) + "/hook"
}

// nulNameCertificate is a self-signed certificate whose subject and DNS
// name hold a NUL byte ("hookd.test\x00.evil.example"), the old trick for
// names that read as one host to C and as another to whoever checks them.
func nulNameCertificate(tb testing.TB) *tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	const name = "hookd.test\x00.evil.example"
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Evil\x00Corp"}},
		DNSNames:              []string{name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("create a certificate with a NUL in its names: %v", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// hostileReceiver is one hostile receiver and what its attempts must say.
type hostileReceiver struct {
	name  string
	url   string
	check func(tb testing.TB, a client.Attempt)
}

// wantError returns a check that an attempt failed with no answer and an
// error containing want.
func wantError(want string) func(testing.TB, client.Attempt) {
	return func(tb testing.TB, a client.Attempt) {
		tb.Helper()
		if a.StatusCode != nil {
			tb.Errorf("status_code = %d, want none", *a.StatusCode)
		}
		if a.Error == nil || !strings.Contains(*a.Error, want) {
			tb.Errorf("error = %v, want it to contain %q", strPtr(a.Error), want)
		}
	}
}

func strPtr(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// One app's webhooks point at receivers that hang, drip, flood, hang up,
// or answer over TLS with a certificate no one should accept; each try of
// theirs ends as one failed attempt within the delivery timeout, with an
// error that says what happened, while another app's healthy webhook keeps
// receiving its deliveries without waiting for any of those timeouts.
func TestHostileReceiversBesideAHealthyOne(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.Timeout = hostileTimeout })
	hostile := dlvSetupOn(t, srv, hostileProfile, "hostile.ping")
	healthy := dlvSetupOn(t, srv, dlvFast, "healthy.ping")

	huge := &hugeAnswer{}
	cases := []hostileReceiver{
		{"hangs forever", hostileListener(t, hangForever), wantError("timed out")},
		{"drips a byte a second", hostileListener(t, dripByteASecond), wantError("timed out")},
		{"closes mid-answer", hostileListener(t, closeMidAnswer), wantError("closed the connection in the middle of its answer")},
		{"untrusted certificate", tlsReceiver(t, "127.0.0.1", nil), wantError("certificate signed by unknown authority")},
		{"NUL in certificate names", tlsReceiver(t, "localhost", nulNameCertificate(t)), wantError("x509: certificate is valid for hookd.test")},
		{"endless header line", hostileListener(t, endlessHeaderLine), wantError("the response headers exceed 64 KiB")},
		{"50 MB answer", hostileListener(t, huge.serve), func(tb testing.TB, a client.Attempt) {
			tb.Helper()
			if a.StatusCode == nil || *a.StatusCode != http.StatusInternalServerError {
				tb.Errorf("status_code = %v, want 500", a.StatusCode)
			}
			if a.ResponseBody == nil || len(*a.ResponseBody) == 0 || len(*a.ResponseBody) > 4<<10 {
				tb.Errorf("kept %d bytes of the 50 MB answer, want at most 4 KiB", len(strPtr(a.ResponseBody)))
			}
		}},
	}
	byWebhook := map[string]hostileReceiver{}
	for _, tc := range cases {
		w := hostile.webhook(&client.WebhookInput{URL: client.Ptr(tc.url), Events: []string{"hostile.ping"}, Name: client.Ptr(tc.name)})
		byWebhook[w.ID] = tc
	}
	rc := newReceiver(t, nil)
	healthy.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hook"), Events: []string{"healthy.ping"}})

	hostileEvent := hostile.publishType("hostile.ping", 1)

	// The healthy app publishes throughout the hostile tries (two
	// timeouts and then some), and every one of its deliveries must
	// arrive well inside one timeout of its publish.
	const healthyEvents = 12
	published := map[string]time.Time{}
	for i := range healthyEvents {
		at := time.Now()
		pub := healthy.publishType("healthy.ping", i)
		published[pub.ID] = at
		time.Sleep(2 * hostileTimeout / (healthyEvents / 2))
	}
	got := rc.waitFor(t, healthyEvents, dlvWait)
	bound := hostileTimeout / 2
	var slowest time.Duration
	defer func() { t.Logf("the slowest healthy delivery arrived %v after its publish", slowest) }()
	for _, g := range got {
		id := g.Header.Get("webhook-id")
		at, ok := published[id]
		if !ok {
			t.Fatalf("the healthy receiver got event %q, which was not published", id)
		}
		waited := g.At.Sub(at)
		slowest = max(slowest, waited)
		if waited >= bound {
			t.Errorf("a healthy delivery arrived %v after its publish, want under half the delivery timeout (%v): it waited on the hostile receivers", waited, bound)
		}
	}
	for id := range published {
		healthy.waitStatus(healthy.onlyDelivery(id), "succeeded")
	}

	ev := hostile.event(hostileEvent.ID)
	if len(ev.Deliveries) != len(cases) {
		t.Fatalf("the hostile event has %d deliveries, want %d", len(ev.Deliveries), len(cases))
	}
	slack := time.Second
	for _, dl := range ev.Deliveries {
		tc := byWebhook[strPtr(dl.WebhookID)]
		t.Run(tc.name, func(t *testing.T) {
			d := hostile.waitStatus(dl.ID, "failed")
			if len(d.Attempts) != 2 || d.AttemptCount != 2 {
				t.Fatalf("%d attempts (attempt_count %d), want 2: one per try", len(d.Attempts), d.AttemptCount)
			}
			for _, a := range d.Attempts {
				if took := time.Duration(a.DurationMs) * time.Millisecond; took > hostileTimeout+slack {
					t.Errorf("attempt %d took %v, want at most the timeout %v and %v of slack", a.Attempt, took, hostileTimeout, slack)
				}
				if a.Error != nil && strings.ContainsRune(*a.Error, 0) {
					t.Errorf("attempt %d's error holds a NUL: %q", a.Attempt, *a.Error)
				}
				tc.check(t, a)
			}
		})
	}

	// Its writes end when hookd hangs up.
	eventually(t, dlvWait, "the 50 MB receiver's two connections to end", func() bool { return len(huge.Written()) == 2 })
	for _, n := range huge.Written() {
		t.Logf("the 50 MB receiver wrote %d KiB on one connection before hookd hung up", n>>10)
		if n >= hugeAnswerBytes/5 {
			t.Errorf("the 50 MB receiver wrote %d MB on one connection before hookd hung up, want far fewer than 50", n>>20)
		}
	}
}
