package egress_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/egress"
)

// writeEndlessly writes head, then fill over and over until the client
// goes away.
func writeEndlessly(c net.Conn, head, fill string) {
	if _, err := c.Write([]byte(head)); err != nil {
		return
	}
	chunk := []byte(strings.Repeat(fill, max(1, 4096/len(fill))))
	for {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// assertNotTimeout fails if err is the client's timeout: a capped read
// ends long before it.
func assertNotTimeout(tb testing.TB, err error) {
	tb.Helper()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		tb.Fatalf("error = %v: the read ran until the timeout instead of stopping at the cap", err)
	}
}

// An answer whose status line or headers never end fails the request at
// the cap, with an error that says so, instead of being read into memory
// until the timeout.
func TestClientCapsTheResponseHead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, head, fill string }{
		{"endless header line", "HTTP/1.1 200 OK\r\nX-Endless: ", "a"},
		{"endless status line", "HTTP/1.1 200 ", "O"},
		{"endless header lines", "HTTP/1.1 200 OK\r\n", "X-Many: aaaaaaa\r\n"},
		{"interim answers past the cap together", "", "HTTP/1.1 103 Early Hints\r\nLink: " + strings.Repeat("l", 20<<10) + "\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srvURL, _ := rawServer(t, func(c net.Conn, br *bufio.Reader) {
				if _, err := readRequest(br); err == nil {
					writeEndlessly(c, tc.head, tc.fill)
				}
			})
			c := newClient(t, egress.Config{AllowPrivate: true, Timeout: 20 * time.Second})
			resp, err := post(c, srvURL)
			if err == nil {
				t.Fatalf("status %d, want the request to fail", resp.StatusCode)
			}
			assertNotTimeout(t, err)
			if !errors.Is(err, egress.ErrResponseHeadTooLarge) || !strings.Contains(err.Error(), "the response headers exceed 64 KiB") {
				t.Fatalf("error = %v, want it to say the response headers exceed 64 KiB", err)
			}
		})
	}
}

// The cap is the configured one, counts the head only (a body read ahead
// with it does not count), and holds on every request of a kept-alive
// connection.
func TestClientResponseHeadCapIsConfigurable(t *testing.T) {
	t.Parallel()
	answer := func(headerBytes int) string {
		return "HTTP/1.1 200 OK\r\nX-Pad: " + strings.Repeat("p", headerBytes) + "\r\nContent-Length: 6000\r\n\r\n" + strings.Repeat("b", 6000)
	}
	srvURL, accepted := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			body, err := readRequest(br)
			if err != nil {
				return
			}
			switch body {
			case "small":
				c.Write([]byte(answer(1000)))
			case "large":
				c.Write([]byte(answer(2100)))
				return
			}
		}
	})
	c := newClient(t, egress.Config{AllowPrivate: true, MaxResponseHeaderBytes: 2 << 10})
	send := func(body string) (*http.Response, error) {
		resp, err := c.Post(srvURL, "text/plain", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		kept, err := egress.ReadCapped(resp.Body, 8192)
		if err == nil && len(kept) != 6000 {
			t.Fatalf("kept %d bytes of the body, want 6000", len(kept))
		}
		return resp, err
	}
	for range 3 {
		if _, err := send("small"); err != nil {
			t.Fatalf("an answer with 1 KiB of headers under a 2 KiB cap: %v", err)
		}
	}
	if n := accepted.Load(); n != 1 {
		t.Fatalf("%d connections, want 1: answers under the cap keep theirs", n)
	}
	_, err := send("large")
	if !errors.Is(err, egress.ErrResponseHeadTooLarge) || !strings.Contains(err.Error(), "exceed 2 KiB") {
		t.Fatalf("an answer with 2.1 KiB of headers under a 2 KiB cap: error = %v, want the headers to exceed 2 KiB", err)
	}
}

// Trailers of a chunked answer are read with its body, by net/http's
// body reader, which refuses trailers larger than the connection's read
// buffer: endless trailers end the read with an error, not at the timeout.
func TestClientBoundsTrailers(t *testing.T) {
	t.Parallel()
	srvURL, _ := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRequest(br); err == nil {
			writeEndlessly(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Huge\r\n\r\n2\r\nok\r\n0\r\nX-Huge: ", "a")
		}
	})
	c := newClient(t, egress.Config{AllowPrivate: true, Timeout: 20 * time.Second})
	resp, err := c.Post(srvURL, "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, err = egress.ReadCapped(resp.Body, 4096)
	if err == nil {
		t.Fatal("reading a body with endless trailers succeeded, want an error")
	}
	assertNotTimeout(t, err)
	if !strings.Contains(err.Error(), "trailer") {
		t.Fatalf("error = %v, want it to name the trailer", err)
	}
}

// A server that hangs up before its answer's head ends fails the request
// with an error that says so, not a bare "unexpected EOF".
func TestClientSaysWhenTheServerHangsUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, answer, want string }{
		{"before answering", "", "the server closed the connection without answering"},
		{"inside the headers", "HTTP/1.1 200 OK\r\nContent-Type: te", "the server closed the connection in the middle of its answer's headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srvURL, _ := rawServer(t, func(c net.Conn, br *bufio.Reader) {
				if _, err := readRequest(br); err == nil {
					c.Write([]byte(tc.answer))
				}
			})
			c := newClient(t, egress.Config{AllowPrivate: true})
			_, err := post(c, srvURL)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// Through a proxy net/http's transport reads the answer, under the same
// cap.
func TestClientCapsTheResponseHeadThroughAProxy(t *testing.T) {
	t.Parallel()
	proxyURL, _ := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRequest(br); err == nil {
			writeEndlessly(c, "HTTP/1.1 200 OK\r\nX-Endless: ", "a")
		}
	})
	proxy, err := url.Parse(strings.TrimSuffix(proxyURL, "/hook"))
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, egress.Config{AllowPrivate: true, Proxy: proxy, Timeout: 20 * time.Second, MaxResponseHeaderBytes: 4 << 10})
	_, err = post(c, "http://hook.example.test/hook")
	if err == nil {
		t.Fatal("the request succeeded, want it to fail at the cap")
	}
	assertNotTimeout(t, err)
	if !strings.Contains(err.Error(), "exceeded 4096 bytes") {
		t.Fatalf("error = %v, want net/http's transport to say the headers exceeded 4096 bytes", err)
	}
}
