package main

import (
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAPIEventTypes(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	et := apiWant(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{
		"name": "invoice.paid", "description": "an invoice was paid",
		"schema": map[string]any{"type": "object", "required": []any{"amount"}},
	}), http.StatusCreated)
	wantKeys := []string{"created_at", "description", "name", "schema", "status", "updated_at"}
	if got := slices.Sorted(maps.Keys(et)); !slices.Equal(got, wantKeys) {
		t.Errorf("event type keys = %v, want %v", got, wantKeys)
	}
	if et["name"] != "invoice.paid" || et["description"] != "an invoice was paid" || et["status"] != "active" {
		t.Errorf("create answer = %v", et)
	}
	if !reflect.DeepEqual(et["schema"], map[string]any{"type": "object", "required": []any{"amount"}}) {
		t.Errorf("schema = %v", et["schema"])
	}
	apiTime(t, et, "created_at")

	bare := apiWant(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{"name": "invoice.voided"}), http.StatusCreated)
	for _, k := range []string{"description", "schema"} {
		if v, ok := bare[k]; !ok || v != nil {
			t.Errorf("%s of a type without one = %#v (present %t), want null", k, v, ok)
		}
	}
	apiMustCreateEventType(t, srv, "invoice.legacy", "deprecated")
	apiMustCreateEventType(t, srv, "invoice.internal", "reserved")

	// Duplicate names conflict, whatever the other fields.
	apiWantError(t, apiAdmin(t, srv, "POST", "/v1/event-types", map[string]any{"name": "invoice.paid", "status": "reserved"}), http.StatusConflict, "CONFLICT", "invoice.paid")
	for _, tc := range []struct {
		body any
		msg  string
	}{
		{map[string]any{"description": "no name"}, "name is required"},
		{map[string]any{"name": "has space"}, "name must be"},
		{map[string]any{"name": "trailing."}, "name must be"},
		{map[string]any{"name": "a.*"}, "name must be"},
		{map[string]any{"name": strings.Repeat("a", 256)}, "name must be"},
		{map[string]any{"name": "ok.name", "status": "retired"}, "status must be active, reserved or deprecated"},
		{map[string]any{"name": "ok.name", "description": strings.Repeat("d", 2001)}, "description must be at most 2000"},
		{map[string]any{"name": "ok.name", "schema": "string"}, "schema must be a JSON object"},
	} {
		apiWantError(t, apiAdmin(t, srv, "POST", "/v1/event-types", tc.body), http.StatusBadRequest, "BAD_REQUEST", tc.msg)
	}

	// Listed newest first with the list shape.
	items, next := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/event-types", nil), http.StatusOK), "event_types")
	var names []string
	for _, it := range items {
		names = append(names, apiStr(t, it, "name"))
	}
	if want := []string{"invoice.internal", "invoice.legacy", "invoice.voided", "invoice.paid"}; !slices.Equal(names, want) || next != "" {
		t.Errorf("event types = %v next %q, want %v and null", names, next, want)
	}
	items, next = apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/event-types?limit=3", nil), http.StatusOK), "event_types")
	if len(items) != 3 || next == "" {
		t.Fatalf("limit=3 gave %d items, next %q", len(items), next)
	}
	items, next = apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/event-types?limit=3&after="+next, nil), http.StatusOK), "event_types")
	if len(items) != 1 || items[0]["name"] != "invoice.paid" || next != "" {
		t.Errorf("second page = %v next %q", items, next)
	}

	got := apiWant(t, apiAdmin(t, srv, "GET", "/v1/event-types/invoice.paid", nil), http.StatusOK)
	if !reflect.DeepEqual(got, et) {
		t.Errorf("GET = %v, want the create answer %v", got, et)
	}
	apiWantError(t, apiAdmin(t, srv, "GET", "/v1/event-types/nope.nope", nil), http.StatusNotFound, "NOT_FOUND", "nope.nope")

	// PATCH any subset; the name is fixed.
	time.Sleep(2 * time.Millisecond) // updated_at has millisecond resolution
	p := apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/event-types/invoice.paid", map[string]any{"description": "paid in full"}), http.StatusOK)
	if p["description"] != "paid in full" || p["status"] != "active" || !reflect.DeepEqual(p["schema"], et["schema"]) || p["created_at"] != et["created_at"] {
		t.Errorf("PATCH description = %v", p)
	}
	if !apiTime(t, p, "updated_at").After(apiTime(t, et, "updated_at")) {
		t.Errorf("updated_at did not move: %v -> %v", et["updated_at"], p["updated_at"])
	}
	p = apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/event-types/invoice.paid", map[string]any{"schema": nil}), http.StatusOK)
	if p["schema"] != nil || p["description"] != "paid in full" {
		t.Errorf("PATCH schema null = %v", p)
	}
	apiWantError(t, apiAdmin(t, srv, "PATCH", "/v1/event-types/invoice.paid", map[string]any{"name": "invoice.renamed"}), http.StatusBadRequest, "BAD_REQUEST", "name")
	apiWantError(t, apiAdmin(t, srv, "PATCH", "/v1/event-types/invoice.paid", map[string]any{"status": "gone"}), http.StatusBadRequest, "BAD_REQUEST", "status")
	apiWantError(t, apiAdmin(t, srv, "PATCH", "/v1/event-types/nope.nope", map[string]any{"status": "active"}), http.StatusNotFound, "NOT_FOUND", "nope.nope")
	for _, st := range []string{"reserved", "deprecated", "active"} {
		p = apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/event-types/invoice.voided", map[string]any{"status": st}), http.StatusOK)
		if p["status"] != st {
			t.Errorf("PATCH status %s = %v", st, p)
		}
		if g := apiWant(t, apiAdmin(t, srv, "GET", "/v1/event-types/invoice.voided", nil), http.StatusOK); g["status"] != st {
			t.Errorf("GET after PATCH status %s = %v", st, g)
		}
	}
}

// TestAPIEventTypeStatuses checks what active, reserved and deprecated
// mean for publishing and subscribing.
func TestAPIEventTypeStatuses(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := newReceiver(t, nil)
	app := apiStr(t, apiMustCreateApp(t, srv, map[string]any{"name": "A"}), "id")
	apiMustCreateEventType(t, srv, "job.done", "")
	apiMustCreateEventType(t, srv, "job.internal", "reserved")
	apiMustCreateEventType(t, srv, "job.old", "deprecated")

	// An omitted events filter takes the active types only.
	omitted := apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": rc.URL + "/omitted"})
	if !reflect.DeepEqual(omitted["events"], []any{"job.done"}) {
		t.Errorf("omitted events = %v, want [job.done]", omitted["events"])
	}
	// A reserved type may be subscribed to, and so may a deprecated one.
	reserved := apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": rc.URL + "/reserved", "events": []string{"job.internal", "job.old"}})
	if !reflect.DeepEqual(reserved["events"], []any{"job.internal", "job.old"}) {
		t.Errorf("explicit events = %v", reserved["events"])
	}

	// A reserved type cannot be published, alone or in a batch.
	apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events", map[string]any{"type": "job.internal", "data": map[string]any{}}),
		http.StatusBadRequest, "BAD_REQUEST", `type "job.internal" is reserved`)
	apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events/batch", map[string]any{"events": []any{
		map[string]any{"type": "job.done"}, map[string]any{"type": "job.internal"},
	}}), http.StatusBadRequest, "BAD_REQUEST", "events[1].type")
	evs, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+app+"/events", nil), http.StatusOK), "events")
	if len(evs) != 0 {
		t.Errorf("refused publishes stored %d events", len(evs))
	}

	// A deprecated type still publishes, to those subscribed to it.
	pub := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events", map[string]any{"type": "job.old"}), http.StatusAccepted)
	if pub["deliveries"] != float64(1) {
		t.Errorf("publish of a deprecated type = %v, want 1 delivery (the explicit subscriber)", pub)
	}
	got := rc.waitFor(t, 1, 10*time.Second)
	if got[0].Header.Get("webhook-id") != pub["id"] {
		t.Errorf("delivery carries webhook-id %q, want %v", got[0].Header.Get("webhook-id"), pub["id"])
	}

	// Reserving a type later stops its publishing at once.
	apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/event-types/job.done", map[string]any{"status": "reserved"}), http.StatusOK)
	apiWantError(t, apiAdmin(t, srv, "POST", "/v1/apps/"+app+"/events", map[string]any{"type": "job.done"}), http.StatusBadRequest, "BAD_REQUEST", "reserved")
	// ... and takes it out of the omitted filter of new webhooks.
	none := apiMustCreateWebhook(t, srv, testAdminToken, app, map[string]any{"url": rc.URL + "/none"})
	if !reflect.DeepEqual(none["events"], []any{}) {
		t.Errorf("omitted events with no active type = %#v, want []", none["events"])
	}
}
