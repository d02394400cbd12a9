package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/service"
)

// fill sets every exported field of the value v points to, recursively,
// to something other than its zero value, so that a view of it shows
// every field of its answer.
func fill(v reflect.Value, depth int) {
	switch {
	case v.Type() == reflect.TypeFor[json.RawMessage]():
		v.SetBytes([]byte(`{"k":1}`))
		return
	case v.Type() == reflect.TypeFor[time.Time]():
		// In the future, as a rotated secret's expiry must be to show.
		v.Set(reflect.ValueOf(time.Date(2100, 1, 2, 3, 4, 5, 6_000_000, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(0.5)
	case reflect.Pointer:
		if depth > 4 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte("body"))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(key, depth+1)
		fill(val, depth+1)
		v.SetMapIndex(key, val)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}

func filled[T any]() *T {
	var v T
	fill(reflect.ValueOf(&v).Elem(), 0)
	return &v
}

// TestAPITypesRoundTrip holds the client to the server: every answer the
// server's views write, with every field set, reads into the client's type
// without an unknown field and writes back the same JSON, and leaves no
// field null.
func TestAPITypesRoundTrip(t *testing.T) {
	t.Parallel()
	s := &Server{}
	r := httptest.NewRequest("GET", "http://hookd.test/", nil)
	delivery := filled[hookd.Delivery]()
	listed := *delivery
	listed.Attempts = nil
	for _, tc := range []struct {
		name   string
		server any
		client func() any
	}{
		{"app", appView(filled[hookd.App](), true), func() any { return new(client.App) }},
		{"key", keyView(filled[hookd.AppKey](), "plain"), func() any { return new(client.Key) }},
		{"event type", eventTypeView(filled[hookd.EventType]()), func() any { return new(client.EventType) }},
		{"webhook", webhookView(filled[service.WebhookView](), true), func() any { return new(client.Webhook) }},
		{"listen webhook", s.listenView(webhookView(filled[service.WebhookView](), true)), func() any { return new(client.ListenWebhook) }},
		{"event", eventView(filled[hookd.Event]()), func() any { return new(client.Event) }},
		{"published", publishedView(filled[service.Published]()), func() any { return new(client.Published) }},
		{"batch item", batchItemView(filled[service.Published]()), func() any { return new(client.BatchItem) }},
		{"delivery", deliveryView(delivery), func() any { return new(client.Delivery) }},
		{"listed delivery", deliveryView(&listed), func() any { return new(client.Delivery) }},
		{"source", s.sourceView(r, filled[service.SourceView](), true), func() any { return new(client.Source) }},
		{"inbound event", inboundView(filled[hookd.Event]()), func() any { return new(client.InboundEvent) }},
		{"listen request", filled[client.ListenRequest](), func() any { return new(client.ListenRequest) }},
		{"listen result", filled[client.ListenResult](), func() any { return new(client.ListenResult) }},
		{"delivery stats", api.NewDeliveryStats(filled[hookd.DeliveryStats]()), func() any { return new(api.DeliveryStats) }},
		{"server stats", api.NewServerStats(filled[hookd.ServerStats]()), func() any { return new(api.ServerStats) }},
		{"source stats", api.NewSourceStats(filled[hookd.SourceStats]()), func() any { return new(api.SourceStats) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeJSON(rec, 200, tc.server)
			wrote := rec.Body.Bytes()
			var fields map[string]any
			if err := json.Unmarshal(wrote, &fields); err != nil {
				t.Fatalf("the server wrote %s: %v", wrote, err)
			}
			for k, v := range fields {
				if v == nil {
					t.Errorf("the server wrote %s as null though it was set; the round trip does not cover it", k)
				}
			}
			read := tc.client()
			dec := json.NewDecoder(bytes.NewReader(wrote))
			dec.DisallowUnknownFields()
			if err := dec.Decode(read); err != nil {
				t.Fatalf("the client's %T does not read the server's answer: %v\n%s", read, err, wrote)
			}
			rec = httptest.NewRecorder()
			writeJSON(rec, 200, read)
			if again := rec.Body.Bytes(); !bytes.Equal(again, wrote) {
				t.Errorf("the client's %T writes back\n%s\nwhere the server wrote\n%s", read, again, wrote)
			}
		})
	}
}

// jsonFields returns the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// TestClientInputsAreServiceInputs holds the client's request bodies to
// the fields the server decodes: a field the server does not know would
// be refused.
func TestClientInputsAreServiceInputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ client, server reflect.Type }{
		{reflect.TypeFor[client.AppInput](), reflect.TypeFor[service.AppInput]()},
		{reflect.TypeFor[client.WebhookInput](), reflect.TypeFor[service.WebhookInput]()},
		{reflect.TypeFor[client.PublishInput](), reflect.TypeFor[service.PublishInput]()},
	} {
		server := jsonFields(tc.server)
		for _, name := range jsonFields(tc.client) {
			if !slices.Contains(server, name) {
				t.Errorf("client.%s sends %s, which service.%s does not take", tc.client.Name(), name, tc.server.Name())
			}
		}
	}
}
