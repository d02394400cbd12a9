package egress_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hookd/hookd/egress"
)

// cannedServer answers every request on loopback with the same small
// answer, written by hand so that the server's own cost stays small beside
// the client's.
func cannedServer(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	const answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if _, err := io.WriteString(c, answer); err != nil {
						return
					}
				}
			})
		}
	})
	return "http://" + ln.Addr().String() + "/hook"
}

// BenchmarkClientPost is one delivery-sized POST and its answer over a
// kept-alive loopback connection: the transport's hot path.
func BenchmarkClientPost(b *testing.B) {
	url := cannedServer(b)
	c := newClient(b, egress.Config{AllowPrivate: true})
	payload := strings.Repeat("x", 1024)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Post(url, "application/json", strings.NewReader(payload))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := egress.ReadCapped(resp.Body, 4096); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}
