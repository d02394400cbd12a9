package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hookd/hookd/client"
)

// TestAPIDeliveryWithoutAttemptsShowsEmptyList checks that a delivery that
// has not been tried yet reads with "attempts": [], not without the field.
func TestAPIDeliveryWithoutAttemptsShowsEmptyList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startServer(t)
	c := srv.Client
	rc := newReceiver(t, nil)
	if _, err := c.CreateEventType(ctx, "shape.checked", ""); err != nil {
		t.Fatal(err)
	}
	app, err := c.CreateApp(ctx, &client.AppInput{Name: client.Ptr("shape")})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := c.CreateWebhook(ctx, app.ID, &client.WebhookInput{URL: client.Ptr(rc.URL)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateWebhook(ctx, app.ID, wh.ID, map[string]string{"status": "paused"}); err != nil {
		t.Fatal(err)
	}
	pub, _, err := c.Publish(ctx, app.ID, &client.PublishInput{Type: "shape.checked"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := c.GetEvent(ctx, app.ID, pub.ID)
	if err != nil || len(ev.Deliveries) != 1 {
		t.Fatalf("event = %+v, %v", ev, err)
	}
	var raw map[string]json.RawMessage
	if _, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+app.ID+"/deliveries/"+ev.Deliveries[0].ID, nil, &raw); err != nil {
		t.Fatal(err)
	}
	if got := string(raw["attempts"]); got != "[]" {
		t.Errorf(`attempts = %s, want []`, got)
	}
	if got := string(raw["status"]); got != `"held"` {
		t.Errorf("status = %s, want \"held\"", got)
	}
}
