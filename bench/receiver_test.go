package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// startReceiver serves a Receiver whose clock stands still at now.
func newTestReceiver(tb testing.TB, cfg ReceiverConfig) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(NewReceiver(cfg))
	tb.Cleanup(srv.Close)
	return srv
}

func post(tb testing.TB, url string, body []byte) {
	tb.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("POST %s: %s", url, resp.Status)
	}
}

func getStats(tb testing.TB, base, path string) PathStats {
	tb.Helper()
	resp, err := http.Get(base + "/stats?path=" + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /stats?path=%s: %s", path, resp.Status)
	}
	var st PathStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		tb.Fatal(err)
	}
	return st
}

// delivery is a body as hookd delivers it, with data from EventData.
func delivery(seq, sentNs int64) []byte {
	return envelope("bench.event", time.Unix(0, sentNs), EventData(nil, seq, sentNs, 1024))
}

func TestReceiverStats(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	srv := newTestReceiver(t, ReceiverConfig{SlowDelay: 10 * time.Millisecond, Now: func() time.Time { return now }})

	// 100 events to /fast, sent 1..100 ms before they arrive, and a
	// repeat of event 5.
	for i := int64(1); i <= 100; i++ {
		post(t, srv.URL+"/fast/a", delivery(i, now.Add(-time.Duration(i)*time.Millisecond).UnixNano()))
	}
	post(t, srv.URL+"/fast/b", delivery(5, now.Add(-5*time.Millisecond).UnixNano()))
	// Fan-out receipts are told apart by path, not body.
	for _, p := range []string{"/fan/7", "/fan/7", "/fan/8"} {
		post(t, srv.URL+p, delivery(0, 0))
	}
	post(t, srv.URL+"/slow", delivery(1, 0))
	post(t, srv.URL+"/ceiling", []byte(`{"no":"markers"}`))
	post(t, srv.URL+"/elsewhere", nil)

	fast := getStats(t, srv.URL, PathFast)
	want := PathStats{
		Path: PathFast, Receipts: 101, Unique: 100, FirstNs: now.UnixNano(), LastNs: now.UnixNano(),
		Latency: Latency{Count: 101, P50: 50e6, P99: 99e6, P999: 100e6, Max: 100e6},
	}
	if fast != want {
		t.Errorf("/fast stats = %+v\nwant %+v", fast, want)
	}
	noLatency := getStats(t, srv.URL, PathFast+"&latency=0")
	want.Latency = Latency{}
	if noLatency != want {
		t.Errorf("/fast stats with latency=0 = %+v\nwant %+v", noLatency, want)
	}
	for _, tt := range []struct {
		path             string
		receipts, unique int64
		latencySamples   int
	}{
		{PathFan, 3, 2, 0},
		{PathSlow, 1, 1, 0},
		{PathCeiling, 1, 0, 0},
		{PathOther, 1, 0, 0},
	} {
		st := getStats(t, srv.URL, tt.path)
		if st.Receipts != tt.receipts || st.Unique != tt.unique || st.Latency.Count != tt.latencySamples {
			t.Errorf("%s: %d receipts, %d unique, %d latencies; want %d, %d, %d",
				tt.path, st.Receipts, st.Unique, st.Latency.Count, tt.receipts, tt.unique, tt.latencySamples)
		}
	}

	resp, err := http.Get(srv.URL + "/stats?path=/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("stats of an unknown path: %s, want 400", resp.Status)
	}

	resp, err = http.Post(srv.URL+"/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, p := range prefixes {
		if st := getStats(t, srv.URL, p); st != (PathStats{Path: p}) {
			t.Errorf("%s after reset: %+v, want zeros", p, st)
		}
	}
	// Events seen before the reset count as new after it.
	post(t, srv.URL+"/fast/a", delivery(5, 0))
	if st := getStats(t, srv.URL, PathFast); st.Unique != 1 {
		t.Errorf("unique after reset and one receipt = %d, want 1", st.Unique)
	}
}

func TestReceiverRealClock(t *testing.T) {
	t.Parallel()
	srv := newTestReceiver(t, ReceiverConfig{})
	start := time.Now()
	for i := range 20 {
		post(t, srv.URL+"/fast", delivery(int64(i), time.Now().UnixNano()))
	}
	st := getStats(t, srv.URL, PathFast)
	if st.Receipts != 20 || st.Unique != 20 {
		t.Fatalf("%d receipts, %d unique; want 20, 20", st.Receipts, st.Unique)
	}
	if st.FirstNs < start.UnixNano() || st.LastNs < st.FirstNs || st.LastNs > time.Now().UnixNano() {
		t.Errorf("first %d, last %d: not within the test's run from %d", st.FirstNs, st.LastNs, start.UnixNano())
	}
	if l := st.Latency; l.Count != 20 || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
		t.Errorf("latency %+v: want 20 positive, ordered samples", l)
	}
}

func TestReceiverDropsSamplesBeyondCapacity(t *testing.T) {
	t.Parallel()
	srv := newTestReceiver(t, ReceiverConfig{MaxSamples: 10, MaxKeys: 64})
	for i := range 12 {
		post(t, srv.URL+"/fast", delivery(int64(i)*10, time.Now().UnixNano()))
	}
	st := getStats(t, srv.URL, PathFast)
	if st.Receipts != 12 || st.Latency.Count != 10 || st.SamplesDropped != 2 {
		t.Errorf("%d receipts, %d samples, %d dropped; want 12, 10, 2", st.Receipts, st.Latency.Count, st.SamplesDropped)
	}
	// Events 70..110 are beyond MaxKeys: received, but not told apart.
	if st.Unique != 7 {
		t.Errorf("unique = %d, want 7", st.Unique)
	}
}

func TestReceiverSlowWaits(t *testing.T) {
	t.Parallel()
	srv := newTestReceiver(t, ReceiverConfig{SlowDelay: 50 * time.Millisecond})
	start := time.Now()
	post(t, srv.URL+"/slow", delivery(1, 0))
	// Only that it waited at all: the delay is a lower bound, never a
	// threshold on how fast anything runs.
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("/slow answered after %v, before its 50ms delay", took)
	}
}

// TestReceiverAllocations checks that a receipt allocates nothing in the
// handler itself (net/http's own allocations are not part of this).
func TestReceiverAllocations(t *testing.T) {
	rec := NewReceiver(ReceiverConfig{})
	body := delivery(1, time.Now().UnixNano())
	rd := bytes.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, "/fast/x", rd)
	w := &nopWriter{h: http.Header{}}
	allocs := testing.AllocsPerRun(1000, func() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		rec.ServeHTTP(w, req)
	})
	// io.NopCloser's wrapper is the test's, not the handler's.
	if allocs > 1 {
		t.Errorf("a receipt allocates %v times, want none in the handler", allocs)
	}
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func TestParseInt(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"123,": 123, "0}": 0, "": -1, "x1": -1, "42": 42,
		"1700000000123456789": 1700000000123456789, "17000000001234567890": 1700000000123456789} {
		if got := parseInt(in); got != want {
			t.Errorf("parseInt(%q) = %d, want %d", in, got, want)
		}
	}
}

// BenchmarkReceiver is the handler's own cost per receipt, without the
// network and net/http: go test -bench Receiver ./bench.
func BenchmarkReceiver(b *testing.B) {
	rec := NewReceiver(ReceiverConfig{})
	payload := delivery(1, time.Now().UnixNano())
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rd := bytes.NewReader(payload)
		body := io.NopCloser(rd)
		req := httptest.NewRequest(http.MethodPost, "/fast/x", nil)
		w := &nopWriter{h: http.Header{}}
		for pb.Next() {
			rd.Reset(payload)
			req.Body = body
			rec.ServeHTTP(w, req)
		}
	})
}
