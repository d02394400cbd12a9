package egress_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/egress"
)

// rawServer serves each connection on loopback with serve, which reads
// requests off br and writes answers by hand. It returns the server's URL
// and a count of the connections it accepted.
func rawServer(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			wg.Go(func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			})
		}
	})
	return "http://" + ln.Addr().String() + "/hook", &accepted
}

// readRequest reads one request and its body off br.
func readRequest(br *bufio.Reader) (string, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(req.Body)
	return string(b), err
}

// A keep-alive connection the server closed while it sat in the pool
// fails the next request on it before any answer: the request is sent
// again, body and all, on a new connection.
func TestClientResendsOnAStaleConnection(t *testing.T) {
	t.Parallel()
	var bodies sync.Map
	srvURL, accepted := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		body, err := readRequest(br)
		if err != nil {
			return
		}
		bodies.Store(body, true)
		// Keep-alive by the headers, then gone: as a server whose idle
		// timeout ran out right after answering.
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	c := newClient(t, egress.Config{AllowPrivate: true})
	for i := range 3 {
		body := fmt.Sprintf(`{"n":%d}`, i)
		resp, err := c.Post(srvURL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != "ok" {
			t.Fatalf("request %d: body %q", i, got)
		}
		if _, ok := bodies.Load(body); !ok {
			t.Fatalf("request %d: the server never got body %s", i, body)
		}
		// Let the server's close reach the client before the next request.
		time.Sleep(20 * time.Millisecond)
	}
	if n := accepted.Load(); n != 3 {
		t.Errorf("server accepted %d connections, want 3", n)
	}
}

// A request that reached the server and got no answer is not sent again:
// only a failure before any byte of the answer on a reused connection is
// taken for a stale one, and a new connection that fails is an error.
func TestClientDoesNotResendOnANewConnection(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srvURL, _ := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRequest(br); err == nil {
			requests.Add(1)
		}
	})
	c := newClient(t, egress.Config{AllowPrivate: true})
	if _, err := post(c, srvURL); err == nil {
		t.Fatal("request answered by a closed connection succeeded")
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

// An interim answer (103 Early Hints) is skipped for the final one, and
// a chunked body read to its end leaves the connection for the next
// request; a Connection: close answer does not.
func TestClientReadsInterimChunkedAndClosingAnswers(t *testing.T) {
	t.Parallel()
	srvURL, accepted := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			body, err := readRequest(br)
			if err != nil {
				return
			}
			switch body {
			case "interim":
				io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nfinal")
			case "chunked":
				io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
			case "close":
				io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye")
				return
			}
		}
	})
	c := newClient(t, egress.Config{AllowPrivate: true})
	send := func(body string, wantStatus int, want string) {
		t.Helper()
		resp, err := c.Post(srvURL, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		got, err := egress.ReadCapped(resp.Body, 4096)
		resp.Body.Close()
		if err != nil || resp.StatusCode != wantStatus || got != want {
			t.Fatalf("%s: %d %q, %v; want %d %q", body, resp.StatusCode, got, err, wantStatus, want)
		}
	}
	send("interim", http.StatusCreated, "final")
	send("chunked", http.StatusOK, "abcde")
	send("interim", http.StatusCreated, "final")
	if n := accepted.Load(); n != 1 {
		t.Fatalf("%d connections for three keep-alive answers, want 1", n)
	}
	send("close", http.StatusOK, "bye")
	send("chunked", http.StatusOK, "abcde")
	if n := accepted.Load(); n != 2 {
		t.Fatalf("%d connections after a Connection: close answer, want 2", n)
	}
}

// A body closed before its end takes its connection with it: what is
// left of it would be read as the next answer.
func TestClientClosesAConnectionWithAnUnreadBody(t *testing.T) {
	t.Parallel()
	srvURL, conns := answeringServer(t, strings.Repeat("x", 64<<10))
	c := newClient(t, egress.Config{AllowPrivate: true})
	for range 2 {
		resp, err := c.Post(srvURL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "xxxxxxxxxx" {
			t.Fatalf("read %q, %v", buf, err)
		}
		resp.Body.Close()
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("server saw %d connections, want 2", n)
	}
}

// MaxConnsPerHost caps the connections to one host, busy or idle: the
// requests beyond it wait for one, and all are answered.
func TestClientCapsConnectionsPerHost(t *testing.T) {
	t.Parallel()
	var open, most atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			n := open.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(t, egress.Config{AllowPrivate: true, MaxConnsPerHost: 2})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			resp, err := post(c, srv.URL)
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			errs <- err
		})
	}
	time.Sleep(100 * time.Millisecond) // let all eight ask for a connection
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := most.Load(); n != 2 {
		t.Fatalf("at most %d connections were open at once, want 2", n)
	}
}

// A request whose context ends while it waits for its answer returns at
// once with the context's error, and so does one waiting for a
// connection to a host at its cap.
func TestClientCancelledRequest(t *testing.T) {
	t.Parallel()
	srvURL := hangingServer(t)
	c := newClient(t, egress.Config{AllowPrivate: true, MaxConnsPerHost: 1})
	for _, what := range []string{"waiting for its answer", "waiting for a connection"} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srvURL, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		if what == "waiting for a connection" {
			// The only connection is taken by a request left hanging.
			go post(c, srvURL)
			time.Sleep(20 * time.Millisecond)
		}
		start := time.Now()
		_, err = c.Do(req)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: error = %v, want the context's deadline", what, err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("%s: returned after %v", what, took)
		}
	}
}

// A body closed before its end closes its connection at once, without
// reading what is left of it: an endpoint's answer can be long or slow.
func TestClientClosesAnEarlyBodyAtOnce(t *testing.T) {
	t.Parallel()
	for _, framing := range []string{"Content-Length: 100000000", "Transfer-Encoding: chunked"} {
		stalled := make(chan struct{})
		srvURL, _ := rawServer(t, func(c net.Conn, br *bufio.Reader) {
			if _, err := readRequest(br); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\n"+framing+"\r\n\r\n")
			chunk := strings.Repeat("x", 32<<10)
			if strings.HasPrefix(framing, "Transfer") {
				chunk = "8000\r\n" + chunk + "\r\n"
			}
			for range 4 {
				if _, err := io.WriteString(c, chunk); err != nil {
					return
				}
			}
			<-stalled
		})
		c := newClient(t, egress.Config{AllowPrivate: true, Timeout: time.Minute})
		resp, err := c.Post(srvURL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		egress.ReadCapped(resp.Body, 4096)
		closed := make(chan struct{})
		go func() { resp.Body.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: closing the body waited for the rest of it", framing)
		}
		close(stalled)
	}
}

// When every pooled connection went stale at once, the resend goes on a
// newly dialled connection, not on the next stale one.
func TestClientResendsOnANewConnectionWhenAllAreStale(t *testing.T) {
	t.Parallel()
	var first sync.WaitGroup
	first.Add(2)
	var served atomic.Int32
	srvURL, accepted := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRequest(br); err != nil {
			return
		}
		if served.Add(1) <= 2 {
			// Hold the first two, so that they use two connections.
			first.Done()
			first.Wait()
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	c := newClient(t, egress.Config{AllowPrivate: true})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := post(c, srvURL); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	time.Sleep(20 * time.Millisecond) // both closed by the server, both pooled
	resp, err := post(c, srvURL)
	if err != nil {
		t.Fatalf("request after two stale connections: %v", err)
	}
	if resp.StatusCode != http.StatusOK || accepted.Load() != 3 {
		t.Fatalf("status %d over %d connections, want 200 over 3", resp.StatusCode, accepted.Load())
	}
}

// A connection is back in its pool before its slot is free, so that the
// request waiting for the slot finds it rather than dialling another.
func TestClientOneConnectionCarriesEverythingAtACapOfOne(t *testing.T) {
	t.Parallel()
	srvURL, conns := answeringServer(t, "ok")
	c := newClient(t, egress.Config{AllowPrivate: true, MaxConnsPerHost: 1})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 300 {
				if _, err := post(c, srvURL); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n != 1 {
		t.Errorf("server accepted %d connections, want 1", n)
	}
}

// A 408 that a server sent on an idle connection before closing it is not
// the answer to the next request, whether it came with the last answer or
// after it: that request goes again on a new connection. Past five interim
// answers, an endpoint is refused.
func TestClientStaleTimeoutAnswerAndEndlessInterimAnswers(t *testing.T) {
	t.Parallel()
	for _, after := range []time.Duration{0, 5 * time.Millisecond} {
		srvURL, accepted := rawServer(t, func(c net.Conn, br *bufio.Reader) {
			body, err := readRequest(br)
			if err != nil {
				return
			}
			if body == "interim" {
				io.WriteString(c, strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 6)+"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			time.Sleep(after)
			io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
		})
		c := newClient(t, egress.Config{AllowPrivate: true})
		for i := range 2 {
			resp, err := post(c, srvURL)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("408 %v after the answer, request %d: %v, %v", after, i, resp, err)
			}
			time.Sleep(30 * time.Millisecond)
		}
		if n := accepted.Load(); n != 2 {
			t.Errorf("408 %v after the answer: server accepted %d connections, want 2", after, n)
		}
		resp, err := c.Post(srvURL, "text/plain", strings.NewReader("interim"))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("six interim answers: got %d, want an error", resp.StatusCode)
		}
	}
}
