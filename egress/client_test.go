package egress_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/egress"
)

// countingServer is an httptest server on 127.0.0.1 that answers 200 "ok"
// and counts the requests and connections it sees.
type countingServer struct {
	*httptest.Server
	port  string
	conns atomic.Int32
}

func newCountingServer(tb testing.TB) (*countingServer, *atomic.Int32) {
	tb.Helper()
	var hits atomic.Int32
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	tb.Cleanup(s.Close)
	u, _ := url.Parse(s.URL)
	s.port = u.Port()
	return s, &hits
}

func newClient(tb testing.TB, cfg egress.Config) *http.Client {
	tb.Helper()
	c, err := egress.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

// post sends a small JSON POST, reads the body and closes it.
func post(c *http.Client, rawURL string) (*http.Response, error) {
	resp, err := c.Post(rawURL, "application/json", strings.NewReader(`{"type":"ping"}`))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	_, err = egress.ReadCapped(resp.Body, 4096)
	return resp, err
}

func assertBlocked(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		tb.Fatal("request succeeded, want it refused")
	}
	if !errors.Is(err, egress.ErrBlockedAddress) {
		tb.Fatalf("error = %v, want it to wrap ErrBlockedAddress", err)
	}
}

func TestClientRefusesLoopback(t *testing.T) {
	t.Parallel()
	srv, hits := newCountingServer(t)
	c := newClient(t, egress.Config{})
	_, err := post(c, srv.URL)
	assertBlocked(t, err)
	if n := srv.conns.Load(); n != 0 {
		t.Fatalf("server saw %d connections, want 0", n)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("server saw %d requests, want 0", n)
	}
}

func TestClientAllowPrivate(t *testing.T) {
	t.Parallel()
	srv, hits := newCountingServer(t)
	c := newClient(t, egress.Config{AllowPrivate: true})
	resp, err := post(c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || hits.Load() != 1 {
		t.Fatalf("status %d, %d requests; want 200 and 1", resp.StatusCode, hits.Load())
	}
}

// A hostname is checked after resolution, at dial time: whatever name is
// used, an address on loopback is refused.
func TestClientRefusesNameResolvingToLoopback(t *testing.T) {
	t.Parallel()
	srv, hits := newCountingServer(t)
	r := newResolver(t, names(map[string][]string{"hook.test": {"127.0.0.1", "::1"}}))

	t.Run("custom resolver", func(t *testing.T) {
		c := newClient(t, egress.Config{Resolver: r})
		_, err := post(c, "http://hook.test:"+srv.port+"/hook")
		assertBlocked(t, err)
	})
	t.Run("localhost", func(t *testing.T) {
		c := newClient(t, egress.Config{})
		_, err := post(c, "http://localhost:"+srv.port+"/hook")
		assertBlocked(t, err)
	})
	if n := srv.conns.Load(); n != 0 {
		t.Fatalf("server saw %d connections, want 0", n)
	}

	// The same name, resolved by the same resolver, is reached when private
	// networks are allowed: the refusal above is the guard's doing.
	c := newClient(t, egress.Config{AllowPrivate: true, Resolver: r})
	resp, err := post(c, "http://hook.test:"+srv.port+"/hook")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || hits.Load() != 1 {
		t.Fatalf("status %d, %d requests; want 200 and 1", resp.StatusCode, hits.Load())
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	target, hits := newCountingServer(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/landed", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)

	c := newClient(t, egress.Config{AllowPrivate: true})
	resp, err := post(c, redirector.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status = %d, want 302", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != target.URL+"/landed" {
		t.Fatalf("Location = %q, want %q", loc, target.URL+"/landed")
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("redirect target saw %d requests, want 0", n)
	}
}

// hangingServer starts a server on loopback that answers no request
// until the test ends or the client goes away, and returns its URL.
func hangingServer(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv.URL
}

// answeringServer starts a server on loopback that answers every request
// with body, and returns its URL and a count of the connections it took.
func answeringServer(t *testing.T, body string) (string, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, &conns
}

// The client's Timeout ends a request that waits for its answer, for a
// connection to a host at its cap, or for the rest of a body that stalls:
// the first two with an error that says so (and wraps
// context.DeadlineExceeded), the last with a timeout from the read.
func TestClientTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	hanging := hangingServer(t)
	answering, _ := answeringServer(t, "ok")
	c := newClient(t, egress.Config{AllowPrivate: true, Timeout: timeout, MaxConnsPerHost: 1})
	for _, what := range []string{"waiting for the answer", "waiting for a connection"} {
		target := hanging
		if what == "waiting for a connection" {
			// The only connection is taken by an answer whose body is
			// left unread.
			resp, err := c.Post(answering, "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			target = answering
		}
		start := time.Now()
		_, err := post(c, target)
		took := time.Since(start)
		var ue *url.Error
		if !errors.As(err, &ue) || !ue.Timeout() || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), what) {
			t.Fatalf("%s: error = %v, want a timeout %s", what, err, what)
		}
		if took < timeout || took > 2*time.Second {
			t.Fatalf("%s: returned after %v, want about %v", what, took, timeout)
		}
	}

	// A body that stops half way: its head came in time, its end never
	// does.
	stalling, _ := rawServer(t, func(conn net.Conn, br *bufio.Reader) {
		if _, err := readRequest(br); err != nil {
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of it")
		br.ReadByte() // until the client gives up
	})
	start := time.Now()
	_, err := post(c, stalling)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("stalled body: error = %v, want a timeout", err)
	}
	if took := time.Since(start); took < timeout || took > 2*time.Second {
		t.Fatalf("stalled body: returned after %v, want about %v", took, timeout)
	}
}

// Keep-alive: a response read with ReadCapped leaves its connection in the
// pool, so the next request to the host does not dial again.
func TestClientReusesConnections(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("x", 4096+1000)
	srvURL, conns := answeringServer(t, body)
	c := newClient(t, egress.Config{AllowPrivate: true})
	for range 3 {
		resp, err := c.Post(srvURL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := egress.ReadCapped(resp.Body, 4096)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != body[:4096] {
			t.Fatalf("ReadCapped kept %d bytes, want the first 4096", len(got))
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("server saw %d connections for 3 requests, want 1", n)
	}
}

// newProxy starts a forward HTTP proxy stand-in on loopback. It forwards
// nothing: it answers every request itself and records the absolute-form
// target it was asked for, so no test traffic leaves loopback.
func newProxy(tb testing.TB) (*url.URL, *atomic.Pointer[string]) {
	tb.Helper()
	var last atomic.Pointer[string]
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.RequestURI
		last.Store(&target)
		io.WriteString(w, "via proxy")
	}))
	tb.Cleanup(p.Close)
	u, err := url.Parse(p.URL)
	if err != nil {
		tb.Fatal(err)
	}
	return u, &last
}

func TestClientProxy(t *testing.T) {
	t.Parallel()
	r := newResolver(t, names(map[string][]string{
		"public.test":   {"93.184.216.34"},
		"internal.test": {"10.0.0.7"},
		"mixed.test":    {"93.184.216.34", "10.0.0.7"},
	}))

	// The proxy is on 127.0.0.1, which the dial guard would refuse for a
	// destination; the operator configured it, so it is dialled.
	tests := []struct {
		name    string
		url     string
		blocked bool // refused with ErrBlockedAddress before the proxy
		failed  bool // refused for another reason before the proxy
	}{
		{"public literal", "http://93.184.216.34/hook", false, false},
		{"public name", "http://public.test/hook", false, false},
		{"loopback literal", "http://127.0.0.1:9/hook", true, false},
		{"metadata literal", "http://169.254.169.254/latest/meta-data/", true, false},
		{"localhost", "http://localhost/hook", true, false},
		{"name resolving to private", "http://internal.test/hook", true, false},
		{"name resolving partly to private", "http://mixed.test/hook", true, false},
		{"name that does not resolve", "http://missing.test/hook", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			proxy, last := newProxy(t)
			c := newClient(t, egress.Config{Proxy: proxy, Resolver: r})
			resp, err := post(c, tt.url)
			switch {
			case tt.blocked:
				assertBlocked(t, err)
			case tt.failed:
				if err == nil || errors.Is(err, egress.ErrBlockedAddress) {
					t.Fatalf("error = %v, want a resolution failure", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status = %d, want 200", resp.StatusCode)
				}
				if got := last.Load(); got == nil || *got != tt.url {
					t.Fatalf("proxy was asked for %v, want %q", got, tt.url)
				}
				return
			}
			if got := last.Load(); got != nil {
				t.Fatalf("proxy was asked for %q, want no request", *got)
			}
		})
	}
}

func TestNewClientConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  egress.Config
	}{
		{"negative timeout", egress.Config{Timeout: -time.Second}},
		{"negative conns", egress.Config{MaxConnsPerHost: -1}},
		{"proxy scheme", egress.Config{Proxy: &url.URL{Scheme: "ftp", Host: "proxy:21"}}},
		{"proxy host", egress.Config{Proxy: &url.URL{Scheme: "http"}}},
	}
	for _, tt := range tests {
		if _, err := egress.NewClient(tt.cfg); err == nil {
			t.Errorf("%s: NewClient succeeded, want an error", tt.name)
		}
	}
}

// TLSConfig lets a test trust an httptest TLS server; the transport speaks
// HTTP/1.1 even to a server that offers HTTP/2.
func TestClientTLSConfigHTTP1(t *testing.T) {
	t.Parallel()
	var proto atomic.Pointer[string]
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.Proto
		proto.Store(&p)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c := newClient(t, egress.Config{AllowPrivate: true, TLSConfig: &tls.Config{RootCAs: roots}})
	resp, err := post(c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := proto.Load(); got == nil || *got != "HTTP/1.1" {
		t.Fatalf("server saw protocol %v, want HTTP/1.1", got)
	}

	// Without the test root the certificate is refused: TLS is verified.
	c = newClient(t, egress.Config{AllowPrivate: true})
	if _, err := post(c, srv.URL); err == nil {
		t.Fatal("request to an untrusted certificate succeeded")
	}
}
