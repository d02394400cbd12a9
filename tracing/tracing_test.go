package tracing_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/hookd/hookd/tracing"
)

func TestNoEndpointNoTracer(t *testing.T) {
	t.Parallel()
	tp, err := tracing.Start(context.Background(), func(string) string { return "" }, "test")
	if err != nil || tp != nil {
		t.Fatalf("Start without an endpoint = %v, %v; want no provider", tp, err)
	}
	if tracing.Tracer(nil) != nil {
		t.Error("a nil provider gave a tracer: callers would make spans")
	}
}

// TestSpansAreExportedOverOTLP sends a span to a real OTLP/HTTP endpoint
// on loopback, configured as an operator would, by the environment.
func TestSpansAreExportedOverOTLP(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-team=webhooks")

	tp, err := tracing.Start(context.Background(), func(k string) string {
		if k == "OTEL_EXPORTER_OTLP_ENDPOINT" {
			return collector.URL
		}
		return ""
	}, "9.9.9")
	if err != nil || tp == nil {
		t.Fatalf("Start = %v, %v", tp, err)
	}
	_, span := tracing.Tracer(tp).Start(context.Background(), "publish")
	span.SetAttributes(tracing.EventID.String("evt_01exampleexampleexample0"))
	span.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 {
		t.Fatal("the collector received nothing")
	}
	r, body := got[0], bodies[0]
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || r.Header.Get("X-Team") != "webhooks" {
		t.Errorf("export = %s %s %q %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("X-Team"))
	}
	for _, want := range []string{"hookd", "9.9.9", "publish", "hookd.event_id", "evt_01exampleexampleexample0", tracing.Scope} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("the exported spans lack %q", want)
		}
	}
}
