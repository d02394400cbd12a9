package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/pgtest"
)

// startTracedServer starts hookd exporting its spans to an in-process
// exporter.
func startTracedServer(tb testing.TB) (*testServer, *tracetest.InMemoryExporter) {
	tb.Helper()
	exp := tracetest.NewInMemoryExporter()
	m := NewMain(io.Discard, io.Discard)
	m.Config = Config{Addr: "127.0.0.1:0", DataDir: tb.TempDir(), AllowPrivateNetworks: true, AdminToken: testAdminToken, Timeout: 5 * time.Second}
	if usePostgres() {
		m.Config.Database = pgtest.URL(tb)
		m.Config.EncryptionKey = testEncryptionKey
	}
	m.Logger = slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m.Tracing = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	if err := m.Run(context.Background()); err != nil {
		tb.Fatalf("start hookd: %v", err)
	}
	tb.Cleanup(func() { m.Close() })
	url := "http://" + m.Addr()
	return &testServer{Main: m, URL: url, Client: client.New(url, testAdminToken, nil)}, exp
}

func spanAttr(s tracetest.SpanStub, key string) attribute.Value {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// spansWith returns the spans named name whose attribute key is value.
func spansWith(spans tracetest.SpanStubs, name, key, value string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name && spanAttr(s, key).Emit() == value {
			out = append(out, s)
		}
	}
	return out
}

// TestTracesLinkPublishCommitAndAttemptsByEventID publishes one event
// (continuing the caller's trace) to a webhook that fails once and then
// succeeds, and reads the spans.
func TestTracesLinkPublishCommitAndAttemptsByEventID(t *testing.T) {
	t.Parallel()
	srv, exp := startTracedServer(t)
	env := dlvSetupOn(t, srv, dlvFast, "order.created")
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	hook := env.webhook(&client.WebhookInput{URL: client.Ptr(rc.URL + "/hooks?token=customer-secret"), Events: []string{"*"}})

	const parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/apps/"+env.app.ID+"/events", strings.NewReader(`{"type":"order.created","data":{"n":1}}`))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("traceparent", "00-"+parentTrace+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %v %v", resp, err)
	}
	resp.Body.Close()
	rc.waitFor(t, 2, dlvWait)
	events, _, err := env.c.ListEvents(env.ctx, env.app.ID, nil)
	if err != nil || len(events) != 1 {
		t.Fatalf("list events: %v %d", err, len(events))
	}
	id := events[0].ID

	var spans tracetest.SpanStubs
	eventually(t, 5*time.Second, "both attempts' spans", func() bool {
		spans = exp.GetSpans()
		return len(spansWith(spans, "POST", "hookd.event_id", id)) == 2
	})

	server := spansWith(spans, "POST /v1/apps/{app}/events", "http.route", "/v1/apps/{app}/events")
	if len(server) != 1 {
		t.Fatalf("server spans of the publish: %d", len(server))
	}
	s := server[0]
	if s.SpanKind != trace.SpanKindServer || spanAttr(s, "http.response.status_code").AsInt64() != 202 || spanAttr(s, "http.request.method").AsString() != "POST" {
		t.Errorf("server span: kind %v, attributes %v", s.SpanKind, s.Attributes)
	}
	if s.SpanContext.TraceID().String() != parentTrace {
		t.Errorf("server span trace %s, want the caller's %s", s.SpanContext.TraceID(), parentTrace)
	}
	publish := spansWith(spans, "publish", "hookd.event_id", id)
	commit := spansWith(spans, "commit", "hookd.event_id", id)
	if len(publish) != 1 || len(commit) != 1 {
		t.Fatalf("publish spans %d, commit spans %d, want 1 each carrying the event id", len(publish), len(commit))
	}
	if publish[0].Parent.SpanID() != s.SpanContext.SpanID() || commit[0].Parent.SpanID() != publish[0].SpanContext.SpanID() {
		t.Error("the spans do not nest server > publish > commit")
	}

	attempts := spansWith(spans, "POST", "hookd.event_id", id)
	for _, a := range attempts {
		if a.SpanKind != trace.SpanKindClient || spanAttr(a, "hookd.webhook_id").AsString() != hook.ID ||
			spanAttr(a, "server.address").AsString() != "127.0.0.1" || spanAttr(a, "hookd.delivery_id").AsString() == "" {
			t.Errorf("attempt span: kind %v, attributes %v", a.SpanKind, a.Attributes)
		}
		if full := spanAttr(a, "url.full").AsString(); strings.Contains(full, "customer-secret") || !strings.HasSuffix(full, "/hooks") {
			t.Errorf("url.full = %q: the query must be left out", full)
		}
	}
	var codesSeen []int64
	for _, a := range attempts {
		codesSeen = append(codesSeen, spanAttr(a, "http.response.status_code").AsInt64())
		failed := spanAttr(a, "http.response.status_code").AsInt64() == 503
		if failed != (a.Status.Code == codes.Error) || failed != (spanAttr(a, "error.type").AsString() == "503") {
			t.Errorf("attempt span with %v: status %v, error.type %q", codesSeen, a.Status, spanAttr(a, "error.type").AsString())
		}
	}
	if len(codesSeen) != 2 || codesSeen[0]+codesSeen[1] != 503+200 {
		t.Errorf("attempt spans answered %v, want a 503 and a 200", codesSeen)
	}
}
