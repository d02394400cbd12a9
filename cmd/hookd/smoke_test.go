package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// TestPublishDeliversSignedEvent walks the README's path: event type, app,
// webhook, publish, and checks the delivery with a Standard Webhooks
// verification written here from the spec.
func TestPublishDeliversSignedEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startServer(t)
	rc := newReceiver(t, nil)
	c := srv.Client
	if _, err := c.CreateEventType(ctx, "invoice.paid", "an invoice was paid"); err != nil {
		t.Fatal(err)
	}
	app, err := c.CreateApp(ctx, &client.AppInput{Name: client.Ptr("Acme"), UID: client.Ptr("acme")})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := c.CreateWebhook(ctx, "acme", &client.WebhookInput{URL: client.Ptr(rc.URL + "/hook")})
	if err != nil {
		t.Fatal(err)
	}
	if len(wh.Events) != 1 || wh.Events[0] != "invoice.paid" {
		t.Fatalf("omitted events subscribed to %v, want the active types", wh.Events)
	}
	pub, status, err := c.Publish(ctx, app.ID, &client.PublishInput{Type: "invoice.paid", Data: json.RawMessage(`{"amount": 1.50, "note": "<b>&</b>"}`)})
	if err != nil || status != 202 || pub.Deliveries != 1 {
		t.Fatalf("publish = %+v, %d, %v", pub, status, err)
	}
	got := rc.waitFor(t, 1, 10*time.Second)[0]
	wantBody := `{"type":"invoice.paid","timestamp":"` + pub.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z") + `","data":{"amount":1.5,"note":"<b>&</b>"}}`
	if string(got.Body) != wantBody {
		t.Fatalf("body\n got %s\nwant %s", got.Body, wantBody)
	}
	id, ts := got.Header.Get("webhook-id"), got.Header.Get("webhook-timestamp")
	if id != pub.ID {
		t.Errorf("webhook-id = %q, want the event id %q", id, pub.ID)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(wh.Secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(got.Body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if sig := got.Header.Get("webhook-signature"); sig != want {
		t.Errorf("webhook-signature = %q, want %q", sig, want)
	}
	eventually(t, 5*time.Second, "the delivery to be recorded as succeeded", func() bool {
		ev, err := c.GetEvent(ctx, app.ID, pub.ID)
		return err == nil && len(ev.Deliveries) == 1 && ev.Deliveries[0].Status == "succeeded"
	})
}
