package bench

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNoisyFigures checks the noisy scenario's report: the healthy app's
// p99 alone and beside the noise, their ratio, and what the hanging
// endpoints saw, in the table and in the JSON.
func TestNoisyFigures(t *testing.T) {
	t.Parallel()
	alone := PathStats{Unique: 5000, Latency: Latency{P50: 2e6, P99: 8e6}}
	shared := PathStats{Unique: 5000, Latency: Latency{P50: 3e6, P99: 12e6}}
	hang := PathStats{Receipts: 900, MaxInFlight: 96}
	r := &Report{}
	for _, f := range noisyFigures(alone, shared, hang, 10000, 200, 1000) {
		r.add("noisy", f.Name, f.Value, f.Unit)
	}
	for name, want := range map[string]float64{
		"published": 10000, "received": 10000, "alone_p50": 2, "alone_p99": 8, "noisy_p50": 3, "noisy_p99": 12,
		"p99_ratio": 1.5, "noise_published": 200, "one_offs": 1000, "hanging_requests": 900, "hanging_max_in_flight": 96,
	} {
		if got, ok := r.Figure("noisy", name); !ok || got != want {
			t.Errorf("noisy %s = %v (reported %v), want %v", name, got, ok, want)
		}
	}
	var table, js bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alone_p99", "noisy_p99", "p99_ratio"} {
		if !strings.Contains(table.String(), want) || !strings.Contains(js.String(), `"`+want+`"`) {
			t.Errorf("%s missing from the table or the JSON:\n%s\n%s", want, table.String(), js.String())
		}
	}
	if f := noisyFigures(PathStats{}, shared, hang, 1, 0, 0); f[6].Name != "p99_ratio" || f[6].Value != 0 {
		t.Errorf("with no p99 alone the ratio is %+v, want 0 rather than a division by zero", f[6])
	}
}

// TestReceiverHangs checks that /hang answers nothing until the sender
// gives up, and counts the most requests it held at once.
func TestReceiverHangs(t *testing.T) {
	t.Parallel()
	srv := newTestReceiver(t, ReceiverConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 3)
	for range 3 {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+PathHang+"/x", strings.NewReader(`{"seq":1}`))
			resp, err := srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
	}
	for range 3 {
		if err := <-done; err == nil {
			t.Error("a request to /hang was answered")
		}
	}
	st := getStats(t, srv.URL, PathHang)
	if st.Receipts != 3 || st.MaxInFlight != 3 {
		t.Errorf("/hang stats: %d receipts, at most %d in flight; want 3 and 3", st.Receipts, st.MaxInFlight)
	}
}
