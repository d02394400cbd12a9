package egress

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// transport is an HTTP/1.1 round tripper over keep-alive connections,
// each carrying one request at a time on the caller's goroutine: it writes
// the request and reads the response itself, with net/http's own
// Request.Write and ReadResponse. http.Transport runs two goroutines per
// connection and hands every request and response between them; on a
// delivery's small POST that costs 38 µs of CPU against 24 (measured with
// 128 concurrent requests on loopback), and CPU is what bounds delivery.
//
// It keeps per host (scheme, host and port) at most perHost connections,
// busy or idle, and at most maxIdle idle ones in all; an idle connection is
// closed after idleTimeout. A request that fails on a reused connection
// before any byte of the answer arrives (the server closed it while it was
// idle) is sent again once on a new one: a delivery is at least once, and
// its webhook-id lets the receiver drop a repeat.
//
// A request ends at its context's deadline or after timeout, whichever
// comes first: the transport waits for a connection until then, and sets
// it as the connection's deadline, which also bounds the reading of the
// body. (http.Client's Timeout does the same with a context, a timer and a
// goroutine per request: 6% of hookd's CPU while delivering.)
type transport struct {
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	tlsConfig   *tls.Config
	tlsTimeout  time.Duration
	timeout     time.Duration // 0: none but the context's
	maxHead     int64         // bytes an answer's status line and headers may take
	perHost     int
	maxIdle     int
	idleTimeout time.Duration

	mu    sync.Mutex
	hosts map[string]*hostConns
	idle  int // idle connections over all hosts
}

// hostConns is one host's connections.
type hostConns struct {
	key   string
	addr  string
	slots chan struct{} // one per request in flight, up to perHost
	refs  int           // requests that found this host and have not ended; under transport.mu
	idle  []*conn       // most recently used last
	sweep *time.Timer   // closes idle connections that have timed out
}

// conn is one connection and its buffers.
type conn struct {
	net.Conn
	host *hostConns
	br   *bufio.Reader
	bw   *bufio.Writer
	read int64 // bytes read from the connection since the request was sent
	// readLimit caps read while the answer's head is read (net/http's
	// transport does the same), so a receiver that never ends its headers
	// fails the request at the cap, not at the timeout; it is lifted for
	// the body, which the caller bounds. One comparison per read of 4 KiB
	// or more: the cap costs no goroutine and no copy.
	readLimit int64
	idleSince time.Time
}

// noReadLimit is readLimit while a body is read.
const noReadLimit = math.MaxInt64

func (c *conn) Read(p []byte) (int, error) {
	left := c.readLimit - c.read
	if left <= 0 {
		return 0, errReadLimit
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.Conn.Read(p)
	c.read += int64(n)
	return n, err
}

// errReadLimit is what a read past readLimit returns, inside
// http.ReadResponse; exchange reports a headLimitError instead.
var errReadLimit = errors.New("egress: read limit reached")

// ErrResponseHeadTooLarge is wrapped by the error of a request whose
// answer's status line and headers exceed Config.MaxResponseHeaderBytes.
var ErrResponseHeadTooLarge = errors.New("egress: the response headers are too large")

// headLimitError ends a request whose answer's head passed the cap.
type headLimitError struct{ limit int64 }

func (e *headLimitError) Error() string {
	return "egress: the response headers exceed " + byteSize(e.limit)
}

func (e *headLimitError) Is(target error) bool { return target == ErrResponseHeadTooLarge }

// byteSize writes n in KiB when it is a whole number of them.
func byteSize(n int64) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error), tlsConfig *tls.Config, tlsTimeout, timeout time.Duration, perHost int, maxHead int64) *transport {
	return &transport{
		dial: dial, tlsConfig: tlsConfig, tlsTimeout: tlsTimeout, timeout: timeout, perHost: perHost, maxHead: maxHead,
		maxIdle: MaxIdleConns, idleTimeout: IdleConnTimeout,
		hosts: map[string]*hostConns{},
	}
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.roundTrip(req)
	if err != nil && req.Body != nil {
		req.Body.Close()
	}
	return resp, err
}

func (t *transport) roundTrip(req *http.Request) (*http.Response, error) {
	host, err := t.host(req)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()
	end := t.end(ctx)
	if err := t.waitSlot(ctx, host, end); err != nil {
		t.release(host, false)
		return nil, err
	}
	for try := 0; ; try++ {
		c, reused, err := t.conn(ctx, host, req, try > 0, end)
		if err != nil {
			if try > 0 && req.Body != nil {
				req.Body.Close() // the resend's, from GetBody
			}
			t.release(host, true)
			return nil, err
		}
		resp, err := t.exchange(ctx, c, req, reused, end)
		if err == nil {
			return resp, nil
		}
		c.Close()
		// A connection that went stale in the pool: the request goes
		// again, once, on a new one (conn dials when try > 0).
		stale := reused && (err == errStaleAnswer || closedByPeer(err) && c.read == 0)
		if !stale || (req.Body != nil && req.GetBody == nil) {
			t.release(host, true)
			return nil, err
		}
		if req.GetBody != nil {
			body, gerr := req.GetBody()
			if gerr != nil {
				t.release(host, true)
				return nil, fmt.Errorf("%w (and could not resend: %v)", err, gerr)
			}
			req = req.Clone(ctx)
			req.Body = body
		}
	}
}

// errStaleAnswer is a 408 found waiting on a reused connection.
var errStaleAnswer = errors.New("egress: the connection was timed out by the server while idle (408)")

// maxInterim bounds the interim (1xx) answers read before the final one,
// as net/http does.
const maxInterim = 5

// closedByPeer reports whether err is how a connection the other side
// closed fails: at its end, or reset.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// host returns the connections of req's scheme, host and port.
func (t *transport) host(req *http.Request) (*hostConns, error) {
	u := req.URL
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("egress: unsupported protocol scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("egress: request has no host")
	}
	port := u.Port()
	switch {
	case port != "":
	case u.Scheme == "https":
		port = "443"
	default:
		port = "80"
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	key := u.Scheme + "://" + addr
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.hosts[key]
	if h == nil {
		h = &hostConns{key: key, addr: addr, slots: make(chan struct{}, t.perHost)}
		t.hosts[key] = h
	}
	h.refs++
	return h, nil
}

// release ends a request to h: it frees its slot, if it held one, and lets
// a host with nothing left be forgotten.
func (t *transport) release(h *hostConns, slot bool) {
	if slot {
		<-h.slots
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.releaseLocked(h)
}

func (t *transport) releaseLocked(h *hostConns) {
	if h.refs--; h.refs == 0 && len(h.idle) == 0 && t.hosts[h.key] == h {
		delete(t.hosts, h.key)
	}
}

// requestEnd is when a request ends: at its context's deadline or after
// the transport's timeout, whichever comes first.
type requestEnd struct {
	at time.Time // zero: never
	// timeout is the transport's when at is its own, not the context's,
	// which the context's own timer and error cover.
	timeout time.Duration
}

// end returns when a request with ctx ends.
func (t *transport) end(ctx context.Context) requestEnd {
	d, ok := ctx.Deadline()
	if t.timeout > 0 {
		if own := time.Now().Add(t.timeout); !ok || own.Before(d) {
			return requestEnd{at: own, timeout: t.timeout}
		}
	}
	return requestEnd{at: d}
}

// own reports whether the request ends at the transport's timeout.
func (e requestEnd) own() bool { return e.timeout > 0 }

// passed returns the error of a request that ran out of time while it was
// doing what while says.
func (e requestEnd) passed(while string) error {
	if e.own() {
		return &timeoutError{e.timeout, while}
	}
	return context.DeadlineExceeded
}

// waitSlot takes one of host's slots, waiting until ctx or the request
// ends.
func (t *transport) waitSlot(ctx context.Context, host *hostConns, end requestEnd) error {
	select {
	case host.slots <- struct{}{}:
		return nil
	default:
	}
	var expired <-chan time.Time
	if end.own() { // the context's end is ctx.Done
		timer := time.NewTimer(time.Until(end.at))
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case host.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-expired:
		return end.passed("waiting for a connection")
	}
}

// timeoutError ends a request at the transport's timeout.
type timeoutError struct {
	timeout time.Duration
	while   string
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("egress: timed out after %v %s", e.timeout, e.while)
}

func (e *timeoutError) Timeout() bool { return true }
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// conn returns an idle connection to host or dials one before the request
// ends; the caller holds one of host's slots.
func (t *transport) conn(ctx context.Context, host *hostConns, req *http.Request, fresh bool, end requestEnd) (*conn, bool, error) {
	t.mu.Lock()
	for n := len(host.idle); n > 0 && !fresh; n = len(host.idle) {
		c := host.idle[n-1]
		host.idle = host.idle[:n-1]
		t.idle--
		if time.Since(c.idleSince) < t.idleTimeout {
			t.mu.Unlock()
			return c, true, nil
		}
		c.Close()
	}
	t.mu.Unlock()

	if end.own() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, end.at)
		defer cancel()
	}
	nc, err := t.dial(ctx, "tcp", host.addr)
	if err != nil {
		if end.own() && errors.Is(err, context.DeadlineExceeded) {
			return nil, false, end.passed("connecting")
		}
		if errors.Is(err, ErrBlockedAddress) {
			// The dial error names the address the host resolved to.
			return nil, false, &blockedHostError{req.URL.Hostname()}
		}
		return nil, false, err
	}
	if req.URL.Scheme == "https" {
		cfg := t.tlsConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = req.URL.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(nc, cfg)
		hctx, cancel := context.WithTimeout(ctx, t.tlsTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			nc.Close()
			return nil, false, fmt.Errorf("egress: TLS handshake with %s: %w", host.addr, err)
		}
		nc = tc
	}
	c := &conn{Conn: nc, host: host, readLimit: noReadLimit}
	c.br = bufio.NewReaderSize(c, 4<<10)
	c.bw = bufio.NewWriterSize(nc, 4<<10)
	return c, false, nil
}

// exchange writes req on c and reads the answer's head; the body is read
// by the caller, and closing it gives the connection back. On a reused
// connection, a 408 is errStaleAnswer: a server that times an idle
// connection out may say so before it closes it, and the answer was
// waiting there before req was sent.
func (t *transport) exchange(ctx context.Context, c *conn, req *http.Request, reused bool, end requestEnd) (*http.Response, error) {
	c.SetDeadline(end.at) // zero when there is none
	// A request cancelled while it is under way ends its reads and
	// writes at once.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	c.read, c.readLimit = 0, t.maxHead
	err := req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	var resp *http.Response
	for interim := 0; err == nil; interim++ {
		resp, err = http.ReadResponse(c.br, req)
		// An interim answer (100 Continue, 103 Early Hints) comes before
		// the real one.
		if err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			if interim == maxInterim {
				err = fmt.Errorf("egress: more than %d interim (1xx) answers", maxInterim)
			}
			continue
		}
		break
	}
	if err == nil && reused && resp.StatusCode == http.StatusRequestTimeout {
		err = errStaleAnswer
	}
	if err != nil && c.read >= c.readLimit {
		// At the cap ReadResponse fails, whatever error it makes of it.
		err = &headLimitError{t.maxHead}
	}
	c.readLimit = noReadLimit
	if err != nil {
		stop()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !end.at.IsZero() && !time.Now().Before(end.at) {
			// The connection's deadline passed (if it was the context's,
			// before the context's own timer fired).
			return nil, end.passed("waiting for the answer")
		}
		return nil, describeClosed(err, c.read)
	}
	resp.Body = &body{ReadCloser: resp.Body, t: t, c: c, stop: stop,
		done:  resp.ContentLength == 0 || resp.Body == http.NoBody,
		reuse: !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols}
	return resp, nil
}

// describeClosed says what happened when the other side closed the
// connection before the answer's head ended; read is how many bytes of it
// had arrived. The error still wraps err, which tells a stale connection.
func describeClosed(err error, read int64) error {
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	if read == 0 {
		return fmt.Errorf("egress: the server closed the connection without answering: %w", err)
	}
	return fmt.Errorf("egress: the server closed the connection in the middle of its answer's headers: %w", err)
}

// body is a response body: closed after it was read to its end, it gives
// its connection back for the next request; closed early, it closes it.
type body struct {
	io.ReadCloser
	t      *transport
	c      *conn
	stop   func() bool
	done   bool // read to its end
	reuse  bool // the connection may carry another request
	closed bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("egress: read on a closed response body")
	}
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.done = true
	}
	return n, err
}

func (b *body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if !b.done || !b.reuse {
		b.c.Close() // net/http's body.Close would otherwise read the rest
	}
	err := b.ReadCloser.Close()
	// stop is false when the request was cancelled: the connection's
	// deadline is then in the past.
	if stopped := b.stop(); stopped && b.done && b.reuse && err == nil {
		b.t.put(b.c)
		return nil
	}
	b.c.Close()
	b.t.release(b.c.host, true)
	return err
}

// put keeps c for the next request to its host, or closes it when too
// many are idle, and frees its slot.
func (t *transport) put(c *conn) {
	c.SetDeadline(time.Time{})
	c.idleSince = time.Now()
	h := c.host
	t.mu.Lock()
	defer t.mu.Unlock()
	defer func() { <-h.slots }()
	if t.idle >= t.maxIdle || len(h.idle) >= t.perHost || c.br.Buffered() > 0 {
		// Bytes past the answer's end would be read as the next one.
		c.Close()
	} else {
		h.idle = append(h.idle, c)
		t.idle++
		if h.sweep == nil {
			h.sweep = time.AfterFunc(t.idleTimeout, func() { t.sweepIdle(h) })
		}
	}
	t.releaseLocked(h)
}

// sweepIdle closes host's connections that have been idle too long, and
// forgets a host with none left.
func (t *transport) sweepIdle(h *hostConns) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keep := h.idle[:0]
	for _, c := range h.idle {
		if time.Since(c.idleSince) >= t.idleTimeout {
			c.Close()
			t.idle--
			continue
		}
		keep = append(keep, c)
	}
	clear(h.idle[len(keep):])
	h.idle = keep
	if len(h.idle) > 0 {
		h.sweep.Reset(t.idleTimeout - time.Since(h.idle[0].idleSince))
		return
	}
	h.sweep = nil
	if h.refs == 0 && t.hosts[h.key] == h {
		delete(t.hosts, h.key)
	}
}

// CloseIdleConnections closes every idle connection; http.Client's method
// of the same name calls it.
func (t *transport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for key, h := range t.hosts {
		for _, c := range h.idle {
			c.Close()
		}
		t.idle -= len(h.idle)
		h.idle = nil
		if h.sweep != nil {
			h.sweep.Stop()
			h.sweep = nil
		}
		if h.refs == 0 {
			delete(t.hosts, key)
		}
	}
}
