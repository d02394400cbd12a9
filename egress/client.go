package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults that NewClient applies to a zero Config.
const (
	// DefaultTimeout bounds a whole request: dial, TLS, sending the body,
	// the response headers and reading the body.
	DefaultTimeout = 15 * time.Second
	// DefaultMaxConnsPerHost caps the connections, busy or idle, to one
	// host, so one busy customer cannot take every socket.
	DefaultMaxConnsPerHost = 64
	// MaxIdleConns caps the idle keep-alive connections across all hosts,
	// which bounds the memory held by a fan-out to thousands of endpoints.
	MaxIdleConns = 4096
	// IdleConnTimeout closes a pooled connection that has not been used
	// for this long.
	IdleConnTimeout = 90 * time.Second
	// DefaultMaxResponseHeaderBytes caps the bytes of an answer's status
	// line and headers (interim 1xx answers included), so that a receiver
	// sending an endless header line costs a bounded read, not the whole
	// timeout's worth of memory. Trailers are bounded tighter still: see
	// Config.MaxResponseHeaderBytes.
	DefaultMaxResponseHeaderBytes = 64 << 10
)

// Config configures NewClient. The zero value is a guarded client with the
// defaults above.
type Config struct {
	// AllowPrivate (--allow-private-networks) lifts the address guard, for
	// development and tests against servers on loopback. CheckURL's
	// allowPrivate, which also admits http:// URLs, should be given the
	// same value.
	AllowPrivate bool
	// Timeout bounds each whole request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Proxy, when set (HOOKD_EGRESS_PROXY), sends every request through
	// this http, https or socks5 proxy so deliveries leave from fixed IPs.
	// Credentials in its userinfo are sent to the proxy. See the package
	// documentation for how the guard works with a proxy.
	Proxy *url.URL
	// MaxConnsPerHost caps connections per host, and the idle ones kept
	// per host; 0 means DefaultMaxConnsPerHost.
	MaxConnsPerHost int
	// Resolver resolves destination (and proxy) names; nil means
	// net.DefaultResolver. Tests inject one that asks a DNS server of
	// their own.
	Resolver *net.Resolver
	// MaxResponseHeaderBytes caps the bytes read for an answer's status
	// line and headers; past it the request fails with an error wrapping
	// ErrResponseHeadTooLarge. 0 means DefaultMaxResponseHeaderBytes. The
	// trailers of a chunked answer are read by net/http's body reader,
	// which refuses any that do not fit its 4 KiB read buffer.
	MaxResponseHeaderBytes int
	// TLSConfig, when set, is cloned for the transport, e.g. to trust an
	// httptest TLS server's certificate in tests. nil means the system
	// roots with TLS 1.2 or later.
	TLSConfig *tls.Config
}

// NewClient returns the *http.Client for outbound requests. Unless
// cfg.AllowPrivate, its transport refuses at dial time, after DNS
// resolution, every address Blocked reports (the error wraps
// ErrBlockedAddress), so DNS rebinding fails too; with cfg.Proxy it dials
// only the proxy and checks the destination's addresses before each request
// instead. The client follows no redirects: it returns the 3xx response
// itself, with its body, for the caller to record as a failure. The
// transport speaks HTTP/1.1 only, with keep-alive pools per host, and asks
// for no compressed responses. Every request is bounded by cfg.Timeout.
//
// Each call builds its own connection pool: make one client and share it.
func NewClient(cfg Config) (*http.Client, error) {
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("egress: negative timeout %v", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConnsPerHost < 0 {
		return nil, fmt.Errorf("egress: negative MaxConnsPerHost %d", cfg.MaxConnsPerHost)
	}
	if cfg.MaxConnsPerHost == 0 {
		cfg.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if cfg.MaxResponseHeaderBytes < 0 {
		return nil, fmt.Errorf("egress: negative MaxResponseHeaderBytes %d", cfg.MaxResponseHeaderBytes)
	}
	if cfg.MaxResponseHeaderBytes == 0 {
		cfg.MaxResponseHeaderBytes = DefaultMaxResponseHeaderBytes
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if p := cfg.Proxy; p != nil {
		switch p.Scheme {
		case "http", "https", "socks5", "socks5h":
		default:
			return nil, fmt.Errorf("egress: proxy %s: scheme must be http, https, socks5 or socks5h", p.Redacted())
		}
		if p.Hostname() == "" {
			return nil, fmt.Errorf("egress: proxy %s has no host", p.Redacted())
		}
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}

	dialer := &net.Dialer{
		Timeout:   cfg.Timeout,
		KeepAlive: 30 * time.Second,
		Resolver:  cfg.Resolver,
	}
	if !cfg.AllowPrivate && cfg.Proxy == nil {
		dialer.ControlContext = guardDial
	}

	// HTTP/1.1 only: deliveries are small POSTs spread over many hosts, where
	// HTTP/2 multiplexing gains little and one slow stream could hold up the
	// others sharing its connection; a per-host pool of plain connections is
	// predictable and is what MaxConnsPerHost caps.
	tlsTimeout := min(10*time.Second, cfg.Timeout)
	client := &http.Client{
		// hookd's own transport bounds each request by cfg.Timeout itself.
		Transport: newTransport(dialer.DialContext, tlsConfig, tlsTimeout, cfg.Timeout, cfg.MaxConnsPerHost, int64(cfg.MaxResponseHeaderBytes)),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	if cfg.Proxy != nil {
		client.Transport, client.Timeout = proxyTransport(cfg, dialer, tlsConfig, tlsTimeout), cfg.Timeout
	}
	return client, nil
}

// proxyTransport is the round tripper through cfg.Proxy: net/http's, which
// speaks CONNECT and SOCKS, guarded by proxyGuard unless cfg.AllowPrivate.
func proxyTransport(cfg Config, dialer *net.Dialer, tlsConfig *tls.Config, tlsTimeout time.Duration) http.RoundTripper {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	t := &http.Transport{
		Proxy:               http.ProxyURL(cfg.Proxy),
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: tlsTimeout,
		// The response body is only kept, capped, for the log: decoding
		// gzip would cost CPU and let a small answer expand.
		DisableCompression:  true,
		MaxIdleConns:        MaxIdleConns,
		MaxIdleConnsPerHost: cfg.MaxConnsPerHost,
		MaxConnsPerHost:     cfg.MaxConnsPerHost,
		IdleConnTimeout:     IdleConnTimeout,
		// The transport's own error for an answer past the cap is
		// "server response headers exceeded N bytes; aborted".
		MaxResponseHeaderBytes: int64(cfg.MaxResponseHeaderBytes),
		Protocols:              &protocols,
	}
	if cfg.AllowPrivate {
		return t
	}
	proxyAddr := canonicalAddr(cfg.Proxy)
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		// With a fixed proxy the transport dials nothing else; a direct
		// dial would bypass the destination check.
		if !strings.EqualFold(addr, proxyAddr) {
			return nil, fmt.Errorf("egress: refused direct dial to %s while a proxy is configured: %w", addr, ErrBlockedAddress)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return &proxyGuard{next: t, resolver: cfg.Resolver}
}

// guardDial is the net.Dialer control hook: it runs for every address the
// dialer tries, after resolution and before connect.
func guardDial(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("egress: refused unparsable address %q: %w", address, ErrBlockedAddress)
	}
	if Blocked(ap.Addr()) {
		return fmt.Errorf("egress: refused %s: %w", ap.Addr(), ErrBlockedAddress)
	}
	return nil
}

// canonicalAddr is the host:port net/http dials for a proxy URL.
func canonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default: // socks5, socks5h
			port = "1080"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// proxyGuard checks a request's destination before handing it to a
// transport that dials only the proxy, where the dial-time guard would see
// the proxy's address rather than the destination's.
type proxyGuard struct {
	next     *http.Transport
	resolver *net.Resolver
}

// RoundTrip implements http.RoundTripper.
func (g *proxyGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkDestination(req.Context(), g.resolver, req.URL.Hostname()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return g.next.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport's pool.
func (g *proxyGuard) CloseIdleConnections() { g.next.CloseIdleConnections() }

// checkDestination refuses host if it is, or resolves to, any blocked
// address, or if it cannot be resolved: unlike CheckURL it fails closed,
// because nothing stands behind it.
func checkDestination(ctx context.Context, r *net.Resolver, host string) error {
	if host == "" {
		return errors.New("egress: request has no host")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if Blocked(ip) {
			return &blockedHostError{host}
		}
		return nil
	}
	if isLocalhost(host) || numericHost(host) {
		return &blockedHostError{host}
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("egress: resolve %s: %w", host, err)
	}
	for _, a := range addrs {
		if Blocked(a) {
			return &blockedHostError{host}
		}
	}
	return nil
}
