package deliver

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/egress"
	"github.com/hookd/hookd/store"
)

// observed collects what the engine tells its Observer.
type observed struct {
	mu      sync.Mutex
	results map[string]*store.AttemptResult // by delivery id
}

func (o *observed) Recorded(batch []*store.AttemptResult) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range batch {
		o.results[r.Attempt.DeliveryID] = r
	}
}

func (o *observed) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.results)
}

// TestAttemptsAreClassifiedByOutcome sends attempts to real servers that
// answer 2xx, answer 500, never answer, refuse the connection, and to an
// address the egress rules refuse, and checks what the observer hears.
func TestAttemptsAreClassifiedByOutcome(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer ok.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer broken.Close()
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String()
	ln.Close()

	const timeout = 300 * time.Millisecond
	open, err := egress.NewClient(egress.Config{AllowPrivate: true, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	guarded, err := egress.NewClient(egress.Config{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	published := time.Now().Add(-time.Second)
	want := map[string]string{}
	run := func(client *http.Client, jobs map[string]string) {
		t.Helper()
		st := &fakeStore{}
		now := time.Now()
		for id, url := range jobs {
			j := job(id, url, now.Add(time.Minute))
			j.Event.CreatedAt = published
			st.jobs = append(st.jobs, j)
		}
		obs := &observed{results: map[string]*store.AttemptResult{}}
		e, err := New(st, client, nil, nil, Config{Owner: "test", Workers: 8, PerHost: 8, Timeout: timeout, PollInterval: 10 * time.Millisecond, Observer: obs})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.Run(ctx); close(done) }()
		for deadline := time.Now().Add(10 * time.Second); obs.count() < len(jobs) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		for id := range jobs {
			r := obs.results[id]
			if r == nil {
				t.Errorf("%s: the observer heard nothing", id)
				continue
			}
			if r.Outcome != want[id] {
				t.Errorf("%s: outcome %q, want %q (status %d, error %q)", id, r.Outcome, want[id], r.Attempt.StatusCode, r.Attempt.Error)
			}
			if !r.Published.Equal(published) {
				t.Errorf("%s: published %v, want the event's creation %v", id, r.Published, published)
			}
		}
	}
	want["dlv_ok"], want["dlv_500"], want["dlv_hang"], want["dlv_closed"] = hookd.OutcomeSucceeded, hookd.OutcomeHTTPError, hookd.OutcomeTimeout, hookd.OutcomeNetworkError
	run(open, map[string]string{"dlv_ok": ok.URL, "dlv_500": broken.URL, "dlv_hang": hang.URL, "dlv_closed": closedURL})
	want["dlv_blocked"] = hookd.OutcomeRefused
	run(guarded, map[string]string{"dlv_blocked": ok.URL}) // loopback, refused at dial time
}
