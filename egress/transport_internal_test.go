package egress

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// An idle connection is closed once it has been idle for idleTimeout, not
// up to twice that: the sweep comes back when the oldest one expires.
func TestIdleSweepClosesOnTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	tr := newTransport((&net.Dialer{}).DialContext, nil, time.Second, 0, 4, DefaultMaxResponseHeaderBytes)
	tr.idleTimeout = 400 * time.Millisecond
	t.Cleanup(tr.CloseIdleConnections)
	post := func() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	idle := func() int {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return tr.idle
	}
	post() // idle from here; the sweep is due in 400 ms
	time.Sleep(40 * time.Millisecond)
	post() // idle again from here, 40 ms later: it expires at about 440 ms
	// The first sweep (at 400 ms) finds it idle for 360 ms and keeps it;
	// coming back a whole idleTimeout later would close it at 800 ms.
	time.Sleep(600 * time.Millisecond)
	if n := idle(); n != 0 {
		t.Fatalf("%d connections still idle, 600 ms after their last use with a 400 ms timeout", n)
	}
}
