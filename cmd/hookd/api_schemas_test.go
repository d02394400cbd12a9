package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// orderSchema is the schema of order.created in these tests.
var orderSchema = map[string]any{
	"type":     "object",
	"required": []any{"order", "total"},
	"properties": map[string]any{
		"order": map[string]any{"type": "string", "pattern": "^ord_"},
		"total": map[string]any{"type": "integer", "minimum": 0},
		"items": map[string]any{"type": "array", "items": map[string]any{
			"type": "object", "required": []any{"sku"}, "properties": map[string]any{"qty": map[string]any{"type": "integer", "minimum": 1}},
		}},
	},
}

func TestEventTypeSchemasAreCheckedWhenWritten(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for _, tc := range []struct {
		schema any
		msg    string
	}{
		{map[string]any{"type": 5}, `schema is not a valid JSON Schema: at "/type"`},
		{map[string]any{"properties": map[string]any{"a": map[string]any{"minimum": "zero"}}}, `at "/properties/a/minimum"`},
		{map[string]any{"$ref": "file:///etc/passwd"}, "schema may not refer to anything outside itself"},
		{map[string]any{"$ref": "https://example.com/s.json"}, "schema may not refer to anything outside itself"},
	} {
		apiWantError(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{"name": "bad.schema", "schema": tc.schema}),
			http.StatusBadRequest, "BAD_REQUEST", tc.msg)
	}
	apiWantError(t, apiAdmin(t, srv, "GET", "/v1/event-types/bad.schema", nil), http.StatusNotFound, "NOT_FOUND", "")

	apiWant(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{"name": "order.created", "schema": orderSchema}), http.StatusCreated)
	apiWantError(t, apiAdmin(t, srv, "PATCH", "/v1/event-types/order.created", map[string]any{"schema": map[string]any{"required": "total"}}),
		http.StatusBadRequest, "BAD_REQUEST", `at "/required"`)
	got := apiWant(t, apiAdmin(t, srv, "GET", "/v1/event-types/order.created", nil), http.StatusOK)
	if b, _ := json.Marshal(got["schema"]); !strings.Contains(string(b), "ord_") {
		t.Errorf("a refused PATCH changed the schema: %s", b)
	}
}

func TestPublishesAreValidatedAgainstTheirTypesSchema(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := newReceiver(t, nil)
	apiWant(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{"name": "order.created", "schema": orderSchema}), http.StatusCreated)
	apiMustCreateEventType(t, srv, "order.note", "") // no schema: anything goes
	apiMustCreateApp(t, srv, map[string]any{"name": "Shop", "uid": "shop"})
	hook := apiMustCreateWebhook(t, srv, testAdminToken, "shop", map[string]any{"url": rc.URL, "events": []any{"*"}})
	publish := func(body any) *apiResp { return apiAdmin(t, srv, "POST", "/v1/apps/shop/events", body) }

	for _, tc := range []struct {
		data any
		msg  string
	}{
		{map[string]any{"order": "ord_1", "total": -5}, `data does not match the schema of event type "order.created": at "/total"`},
		{map[string]any{"order": "x", "total": 5}, `at "/order"`},
		{map[string]any{"total": 5}, `at "": missing property 'order'`},
		{map[string]any{"order": "ord_1", "total": 1, "items": []any{map[string]any{"sku": "a"}, map[string]any{"sku": "b", "qty": 0}}}, `at "/items/1/qty"`},
		{nil, `missing properties 'order', 'total'`}, // no data is {}
	} {
		body := map[string]any{"type": "order.created"}
		if tc.data != nil {
			body["data"] = tc.data
		}
		apiWantError(t, publish(body), http.StatusBadRequest, "BAD_REQUEST", tc.msg)
	}
	// The first failing place in the data's own order, not the schema's.
	apiWantError(t, publish(map[string]any{"type": "order.created", "data": json.RawMessage(`{"total":-1,"order":7}`)}), http.StatusBadRequest, "BAD_REQUEST", `at "/total"`)
	apiWantError(t, publish(map[string]any{"type": "order.created", "data": json.RawMessage(`{"order":7,"total":-1}`)}), http.StatusBadRequest, "BAD_REQUEST", `at "/order"`)

	apiWant(t, publish(map[string]any{"type": "order.created", "data": map[string]any{"order": "ord_1", "total": 5}}), http.StatusAccepted)
	apiWant(t, publish(map[string]any{"type": "order.note", "data": map[string]any{"anything": []any{1, "two"}}}), http.StatusAccepted)

	// A batch names the failing item's index and stores none of it.
	items := []any{
		map[string]any{"type": "order.created", "data": map[string]any{"order": "ord_2", "total": 1}},
		map[string]any{"type": "order.note", "data": map[string]any{}},
		map[string]any{"type": "order.created", "data": map[string]any{"order": "ord_3", "total": "ten"}},
	}
	apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/shop/events/batch", map[string]any{"events": items}),
		http.StatusBadRequest, "BAD_REQUEST", `events[2].data does not match the schema of event type "order.created": at "/total"`)
	items[2] = map[string]any{"type": "order.created", "data": map[string]any{"order": "ord_3", "total": 10}}
	apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/shop/events/batch", map[string]any{"events": items}), http.StatusAccepted)

	// Test events too, with the type chosen.
	test := func(body any) *apiResp {
		return apiAdmin(t, srv, "POST", "/v1/apps/shop/webhooks/"+apiStr(t, hook, "id")+"/test", body)
	}
	apiWantError(t, test(map[string]any{"type": "order.created", "data": map[string]any{"order": "ord_9"}}), http.StatusBadRequest, "BAD_REQUEST", `missing property 'total'`)
	apiWantError(t, test(map[string]any{"type": "order.created"}), http.StatusBadRequest, "BAD_REQUEST", "does not match the schema")
	if r := test(map[string]any{"type": "order.created", "data": map[string]any{"order": "ord_9", "total": 0}}); r.Status >= 300 {
		t.Fatalf("valid test event = %d %s", r.Status, r.Raw)
	}

	// Exactly the valid events arrived: 2 singles, 3 from the batch, 1 test.
	got := rc.waitFor(t, 6, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	if got = rc.Received(); len(got) != 6 {
		t.Fatalf("receiver got %d deliveries, want 6", len(got))
	}
	for _, r := range got {
		var env struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &env); err != nil {
			t.Fatal(err)
		}
		if env.Type == "order.created" {
			if total, ok := env.Data["total"].(float64); !ok || total < 0 || !strings.HasPrefix(fmt.Sprint(env.Data["order"]), "ord_") {
				t.Errorf("an invalid order.created was delivered: %s", r.Body)
			}
		}
	}
	events, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/shop/events", nil), http.StatusOK), "events")
	if len(events) != 6 {
		t.Errorf("the app holds %d events, want 6: a refused publish stored something", len(events))
	}
}

func TestASchemaChangeAppliesToTheNextPublish(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	apiWant(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{"name": "order.created", "schema": orderSchema}), http.StatusCreated)
	apiMustCreateApp(t, srv, map[string]any{"name": "Shop", "uid": "shop"})
	valid := map[string]any{"type": "order.created", "data": map[string]any{"order": "ord_1", "total": 5}}
	apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/shop/events", valid), http.StatusAccepted)

	stricter := map[string]any{"type": "object", "required": []any{"currency"}}
	apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/event-types/order.created", map[string]any{"schema": stricter}), http.StatusOK)
	apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/shop/events", valid), http.StatusBadRequest, "BAD_REQUEST", "missing property 'currency'")

	apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/event-types/order.created", map[string]any{"schema": nil}), http.StatusOK)
	apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/shop/events", map[string]any{"type": "order.created", "data": map[string]any{"free": true}}), http.StatusAccepted)
}
