package main

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAPIAuthRequired checks that every API route wants a valid bearer
// token, and that the probes do not.
func TestAPIAuthRequired(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	apiMustCreateApp(t, srv, map[string]any{"name": "A", "uid": "a"})

	routes := []struct{ method, path string }{
		{"GET", "/v1/apps"}, {"POST", "/v1/apps"}, {"GET", "/v1/apps/a"}, {"PATCH", "/v1/apps/a"}, {"DELETE", "/v1/apps/a"},
		{"POST", "/v1/apps/a/rotate"}, {"GET", "/v1/apps/a/keys"}, {"POST", "/v1/apps/a/keys"},
		{"GET", "/v1/event-types"}, {"POST", "/v1/event-types"},
		{"GET", "/v1/apps/a/webhooks"}, {"POST", "/v1/apps/a/webhooks"}, {"GET", "/v1/apps/a/webhooks/wh_x"},
		{"DELETE", "/v1/apps/a/webhooks/wh_x"}, {"POST", "/v1/apps/a/webhooks/wh_x/delete"},
		{"POST", "/v1/apps/a/events"}, {"GET", "/v1/apps/a/events"}, {"GET", "/v1/apps/a/deliveries/dlv_x"},
	}
	type header struct{ name, value string }
	for _, auth := range []struct {
		what string
		h    *header
	}{
		{"no Authorization", nil},
		{"empty bearer", &header{"Authorization", "Bearer "}},
		{"wrong admin token", &header{"Authorization", "Bearer " + testAdminToken + "x"}},
		{"made-up app key", &header{"Authorization", "Bearer hk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
		{"basic auth", &header{"Authorization", "Basic dGVzdDp0ZXN0"}},
		{"token without Bearer", &header{"Authorization", testAdminToken}},
		{"token in another header", &header{"X-Api-Key", testAdminToken}},
	} {
		for _, rt := range routes {
			req, err := http.NewRequest(rt.method, srv.URL+rt.path, strings.NewReader(`{"name":"x","url":"http://127.0.0.1:1/"}`))
			if err != nil {
				t.Fatal(err)
			}
			if auth.h != nil {
				req.Header.Set(auth.h.name, auth.h.value)
			}
			resp, err := checkedHTTP(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r := &apiResp{Method: rt.method, Path: rt.path + " (" + auth.what + ")", Status: resp.StatusCode, Header: resp.Header}
			r.Raw = apiReadAll(t, resp)
			apiWantError(t, r, http.StatusUnauthorized, "UNAUTHORIZED", "")
		}
	}
	// Nothing was changed by the refused requests.
	apps, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps", nil), http.StatusOK), "apps")
	if len(apps) != 1 || apps[0]["name"] != "A" {
		t.Errorf("apps after unauthorized requests = %v", apps)
	}

	for path, status := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		body := apiWant(t, apiRequest(t, srv, "", "GET", path, nil), http.StatusOK)
		if body["status"] != status {
			t.Errorf("GET %s = %v", path, body)
		}
	}
}

// TestAPIAppKeyScope checks that an app key can do everything inside its
// app, that another app's objects answer 404 (never 403), and that admin
// routes answer 401.
func TestAPIAppKeyScope(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rcA, rcB := newReceiver(t, nil), newReceiver(t, nil)
	apiMustCreateEventType(t, srv, "order.created", "")
	appA := apiMustCreateApp(t, srv, map[string]any{"name": "A", "uid": "tenant-a"})
	appB := apiMustCreateApp(t, srv, map[string]any{"name": "B", "uid": "tenant-b"})
	idA, idB := apiStr(t, appA, "id"), apiStr(t, appB, "id")
	keyA := apiMustCreateKey(t, srv, idA)
	keysA, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+idA+"/keys", nil), http.StatusOK), "keys")
	keyAID := apiStr(t, keysA[0], "id")

	// B's objects, made by the admin.
	whB := apiMustCreateWebhook(t, srv, testAdminToken, idB, map[string]any{"url": rcB.URL + "/b", "name": "b-hook"})
	whBID := apiStr(t, whB, "id")
	pubB := apiWant(t, apiAdmin(t, srv, "POST", "/v1/apps/"+idB+"/events", map[string]any{"type": "order.created", "data": map[string]any{"n": 1}}), http.StatusAccepted)
	evBID := apiStr(t, pubB, "id")
	rcB.waitFor(t, 1, 10*time.Second)
	evB := apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+idB+"/events/"+evBID, nil), http.StatusOK)
	dlvBID := apiStr(t, evB["deliveries"].([]any)[0].(map[string]any), "id")
	whBBefore := apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+idB+"/webhooks/"+whBID, nil), http.StatusOK)

	// Everything inside A works with A's key, by id and by uid.
	asA := func(method, path string, body any) *apiResp { return apiRequest(t, srv, keyA, method, path, body) }
	got := apiWant(t, asA("GET", "/v1/apps/tenant-a", nil), http.StatusOK)
	if got["id"] != idA {
		t.Errorf("GET own app = %v", got)
	}
	apps, next := apiItems(t, apiWant(t, asA("GET", "/v1/apps", nil), http.StatusOK), "apps")
	if ids := apiIDs(t, apps); !slices.Equal(ids, []string{idA}) || next != "" {
		t.Errorf("an app key lists apps %v, want only its own", ids)
	}
	types, _ := apiItems(t, apiWant(t, asA("GET", "/v1/event-types", nil), http.StatusOK), "event_types")
	if len(types) != 1 {
		t.Errorf("an app key reads %d event types, want 1", len(types))
	}
	apiWant(t, asA("GET", "/v1/event-types/order.created", nil), http.StatusOK)
	whA := apiMustCreateWebhook(t, srv, keyA, "tenant-a", map[string]any{"url": rcA.URL + "/a"})
	whAID := apiStr(t, whA, "id")
	apiCheckSecret(t, "secret of a webhook made with an app key", apiStr(t, whA, "secret"))
	hooks, _ := apiItems(t, apiWant(t, asA("GET", "/v1/apps/"+idA+"/webhooks", nil), http.StatusOK), "webhooks")
	if ids := apiIDs(t, hooks); !slices.Equal(ids, []string{whAID}) {
		t.Errorf("A's webhooks = %v", ids)
	}
	if p := apiWant(t, asA("PATCH", "/v1/apps/tenant-a/webhooks/"+whAID, map[string]any{"name": "renamed"}), http.StatusOK); p["name"] != "renamed" {
		t.Errorf("PATCH with an app key = %v", p)
	}
	pubA := apiWant(t, asA("POST", "/v1/apps/tenant-a/events", map[string]any{"type": "order.created", "data": map[string]any{"n": 2}}), http.StatusAccepted)
	if pubA["deliveries"] != float64(1) {
		t.Errorf("publish with an app key = %v, want 1 delivery", pubA)
	}
	rcA.waitFor(t, 1, 10*time.Second)
	evA := apiWant(t, asA("GET", "/v1/apps/"+idA+"/events/"+apiStr(t, pubA, "id"), nil), http.StatusOK)
	dlvAID := apiStr(t, evA["deliveries"].([]any)[0].(map[string]any), "id")
	eventually(t, 5*time.Second, "A's delivery to succeed", func() bool {
		d := asA("GET", "/v1/apps/"+idA+"/deliveries/"+dlvAID, nil)
		return d.Status == 200 && d.Body["status"] == "succeeded"
	})
	apiWant(t, asA("POST", "/v1/apps/"+idA+"/deliveries/"+dlvAID+"/retry", nil), http.StatusAccepted)
	apiWant(t, asA("GET", "/v1/apps/"+idA+"/webhooks/"+whAID+"/deliveries", nil), http.StatusOK)
	apiWant(t, asA("GET", "/v1/apps/"+idA+"/events", nil), http.StatusOK)
	apiWant(t, asA("POST", "/v1/apps/"+idA+"/webhooks/"+whAID+"/test", map[string]any{}), http.StatusAccepted)
	if rot := apiWant(t, asA("POST", "/v1/apps/"+idA+"/webhooks/"+whAID+"/rotate", map[string]any{}), http.StatusOK); rot["secret"] == whA["secret"] {
		t.Error("rotate with an app key kept the secret")
	}

	// Another app's objects answer 404 NOT_FOUND, never 403, by either path.
	notFound := []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/apps/" + idB, nil},
		{"GET", "/v1/apps/tenant-b", nil},
		{"GET", "/v1/apps/" + idB + "/webhooks", nil},
		{"POST", "/v1/apps/" + idB + "/webhooks", map[string]any{"url": rcA.URL}},
		{"GET", "/v1/apps/" + idB + "/webhooks/" + whBID, nil},
		{"GET", "/v1/apps/" + idA + "/webhooks/" + whBID, nil},
		{"PATCH", "/v1/apps/" + idA + "/webhooks/" + whBID, map[string]any{"name": "stolen"}},
		{"PATCH", "/v1/apps/" + idB + "/webhooks/" + whBID, map[string]any{"name": "stolen"}},
		{"DELETE", "/v1/apps/" + idA + "/webhooks/" + whBID, nil},
		{"POST", "/v1/apps/" + idA + "/webhooks/" + whBID + "/delete", nil},
		{"DELETE", "/v1/apps/" + idB + "/webhooks/" + whBID, nil},
		{"POST", "/v1/apps/" + idA + "/webhooks/" + whBID + "/rotate", map[string]any{}},
		{"POST", "/v1/apps/" + idA + "/webhooks/" + whBID + "/test", map[string]any{}},
		{"POST", "/v1/apps/" + idA + "/webhooks/" + whBID + "/recover", map[string]any{"since": "2020-01-01T00:00:00Z"}},
		{"GET", "/v1/apps/" + idA + "/webhooks/" + whBID + "/deliveries", nil},
		{"GET", "/v1/apps/" + idA + "/webhooks/" + whBID + "/events", nil},
		{"GET", "/v1/apps/" + idA + "/deliveries?webhook_id=" + whBID, nil},
		{"GET", "/v1/apps/" + idA + "/events?webhook_id=" + whBID, nil},
		{"GET", "/v1/apps/" + idA + "/events/" + evBID, nil},
		{"GET", "/v1/apps/" + idB + "/events/" + evBID, nil},
		{"GET", "/v1/apps/" + idB + "/events", nil},
		{"POST", "/v1/apps/" + idB + "/events", map[string]any{"type": "order.created"}},
		{"POST", "/v1/apps/" + idB + "/events/batch", map[string]any{"events": []any{map[string]any{"type": "order.created"}}}},
		{"GET", "/v1/apps/" + idA + "/deliveries/" + dlvBID, nil},
		{"GET", "/v1/apps/" + idB + "/deliveries/" + dlvBID, nil},
		{"POST", "/v1/apps/" + idA + "/deliveries/" + dlvBID + "/retry", nil},
	}
	for _, rt := range notFound {
		r := asA(rt.method, rt.path, rt.body)
		msg := apiWantError(t, r, http.StatusNotFound, "NOT_FOUND", "not found")
		// The answer must not tell a foreign id from one that never
		// existed: ask again with the foreign ids swapped for made-up ones.
		madeUp := strings.NewReplacer(whBID, "wh_01aaaaaaaaaaaaaaaaaaaaaaaa", evBID, "evt_01aaaaaaaaaaaaaaaaaaaaaaaa",
			dlvBID, "dlv_01aaaaaaaaaaaaaaaaaaaaaaaa", idB, "app_01aaaaaaaaaaaaaaaaaaaaaaaa", "tenant-b", "tenant-z")
		r2 := asA(rt.method, madeUp.Replace(rt.path), rt.body)
		msg2 := apiWantError(t, r2, http.StatusNotFound, "NOT_FOUND", "not found")
		if madeUp.Replace(msg) != msg2 {
			t.Errorf("%s %s: a foreign id answers %q, a made-up one %q", rt.method, rt.path, msg, msg2)
		}
	}

	// Admin routes answer 401 to an app key, also for its own app.
	for _, rt := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/apps", map[string]any{"name": "mine"}},
		{"PATCH", "/v1/apps/" + idA, map[string]any{"profile": map[string]any{"max_webhooks": 100}}},
		{"DELETE", "/v1/apps/" + idA, nil},
		{"POST", "/v1/apps/" + idA + "/rotate", nil},
		{"POST", "/v1/apps/" + idA + "/keys", map[string]any{"name": "more"}},
		{"GET", "/v1/apps/" + idA + "/keys", nil},
		{"DELETE", "/v1/apps/" + idA + "/keys/" + keyAID, nil},
		{"PATCH", "/v1/apps/" + idB, map[string]any{"name": "x"}},
		{"POST", "/v1/event-types", map[string]any{"name": "mine.type"}},
		{"PATCH", "/v1/event-types/order.created", map[string]any{"status": "reserved"}},
	} {
		apiWantError(t, asA(rt.method, rt.path, rt.body), http.StatusUnauthorized, "UNAUTHORIZED", "admin")
	}

	// None of that touched anything.
	apiWant(t, asA("GET", "/v1/apps/"+idA, nil), http.StatusOK)
	whBAfter := apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+idB+"/webhooks/"+whBID, nil), http.StatusOK)
	for _, f := range []string{"name", "updated_at", "delivery_count", "status"} {
		if !reflect.DeepEqual(whBBefore[f], whBAfter[f]) {
			t.Errorf("B's webhook %s changed from %v to %v", f, whBBefore[f], whBAfter[f])
		}
	}
	evs, _ := apiItems(t, apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+idB+"/events", nil), http.StatusOK), "events")
	if ids := apiIDs(t, evs); !slices.Equal(ids, []string{evBID}) {
		t.Errorf("B's events = %v, want only %s", ids, evBID)
	}
	if et := apiWant(t, apiAdmin(t, srv, "GET", "/v1/event-types/order.created", nil), http.StatusOK); et["status"] != "active" {
		t.Errorf("event type = %v", et)
	}
	if n := len(rcB.Received()); n != 1 {
		t.Errorf("B's receiver got %d requests, want 1", n)
	}
}
