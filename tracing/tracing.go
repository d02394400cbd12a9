// Package tracing sets up OpenTelemetry tracing for hookd: when
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set,
// spans of API requests, publishes, commits and delivery attempts are
// exported over OTLP/HTTP, configured by the standard OTEL_* variables
// (headers, timeouts, sampling). When neither is set there is no tracer:
// the packages that make spans are given nil and skip them, so tracing
// costs nothing.
//
// Spans are linked by the event id: every one of them carries
// hookd.event_id (a batch publish, hookd.event_ids), so a search for an
// event finds its publish, its commit and each attempt of each delivery.
package tracing

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// Scope names the instrumentation in every span hookd makes.
const Scope = "github.com/hookd/hookd"

// Attributes hookd adds to its spans.
const (
	EventID    = attribute.Key("hookd.event_id")
	EventIDs   = attribute.Key("hookd.event_ids")
	EventCount = attribute.Key("hookd.event_count")
	AppID      = attribute.Key("hookd.app_id")
	DeliveryID = attribute.Key("hookd.delivery_id")
	WebhookID  = attribute.Key("hookd.webhook_id")
	Attempt    = attribute.Key("hookd.attempt")
	Outcome    = attribute.Key("hookd.outcome")
)

// Enabled reports whether the environment asks for traces.
func Enabled(getenv func(string) string) bool {
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Start returns a provider that exports over OTLP/HTTP as the OTEL_*
// variables say, or nil when they ask for no traces. Shut the provider
// down to send what it still holds.
func Start(ctx context.Context, getenv func(string) string, version string) (*sdktrace.TracerProvider, error) {
	if !Enabled(getenv) {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName("hookd"), semconv.ServiceVersion(version)))
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// Tracer returns hookd's tracer of tp, or nil when tp is nil: callers
// check for nil and make no spans.
func Tracer(tp *sdktrace.TracerProvider) trace.Tracer {
	if tp == nil {
		return nil
	}
	return tp.Tracer(Scope)
}
