package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/dnstest"
)

// TestOperatorHearsOfDisabledWebhooks checks that exhausting a delivery and
// auto-disabling its webhook reach the operator's webhook, signed.
func TestOperatorHearsOfDisabledWebhooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	operator := newReceiver(t, nil)
	const opSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	srv := startServer(t, func(c *Config) {
		c.Notify.WebhookURL = operator.URL + "/ops"
		c.Notify.WebhookSecret = opSecret
	})
	failing := newReceiver(t, func(int, *http.Request) int { return http.StatusInternalServerError })
	c := srv.Client
	if _, err := c.CreateEventType(ctx, "order.created", ""); err != nil {
		t.Fatal(err)
	}
	profile := json.RawMessage(`{"retry":{"schedule_seconds":[0.01],"max_attempts":1,"jitter":0},"auto_disable_after":1}`)
	app, err := c.CreateApp(ctx, &client.AppInput{Name: client.Ptr("ops"), Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := c.CreateWebhook(ctx, app.ID, &client.WebhookInput{URL: client.Ptr(failing.URL)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Publish(ctx, app.ID, &client.PublishInput{Type: "order.created"}); err != nil {
		t.Fatal(err)
	}
	got := operator.waitFor(t, 2, 10*time.Second)
	kinds := map[string]map[string]any{}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(opSecret, "whsec_"))
	for _, r := range got {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(r.Body)))
		if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); r.Header.Get("webhook-signature") != want {
			t.Errorf("operational webhook signature %q, want %q", r.Header.Get("webhook-signature"), want)
		}
		var body struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("operational webhook body %s: %v", r.Body, err)
		}
		kinds[body.Type] = body.Data
	}
	for _, kind := range []string{"delivery.exhausted", "webhook.disabled"} {
		data, ok := kinds[kind]
		if !ok {
			t.Fatalf("operator did not hear %s; got %v", kind, kinds)
		}
		if data["app_id"] != app.ID || data["webhook_id"] != wh.ID {
			t.Errorf("%s data = %v, want app %s and webhook %s", kind, data, app.ID, wh.ID)
		}
	}
	if reason, _ := kinds["webhook.disabled"]["reason"].(string); !strings.Contains(reason, "consecutive") {
		t.Errorf("webhook.disabled reason = %q", reason)
	}
}

// The operator's notification URL is the operator's own service and may
// be on a private network: notices reach it on loopback from a server that
// does not allow private networks for customers' URLs.
func TestOperatorNoticesReachAPrivateNetwork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	operator := newReceiver(t, nil)
	srv := startServer(t, func(c *Config) {
		c.AllowPrivateNetworks = false
		// Customers' names do not resolve: their deliveries fail at once
		// and nothing leaves the machine.
		c.Resolver = dnstest.NewResolver(t, dnstest.Names(nil))
		c.Notify.WebhookURL = operator.URL + "/ops"
		c.Notify.WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	})
	c := srv.Client
	if _, err := c.CreateEventType(ctx, "order.created", ""); err != nil {
		t.Fatal(err)
	}
	profile := json.RawMessage(`{"retry":{"schedule_seconds":[0.01],"max_attempts":1,"jitter":0}}`)
	app, err := c.CreateApp(ctx, &client.AppInput{Name: client.Ptr("ops"), Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	// A loopback URL is still refused for a customer.
	if _, err := c.CreateWebhook(ctx, app.ID, &client.WebhookInput{URL: client.Ptr(operator.URL + "/hook")}); err == nil {
		t.Fatal("a customer's webhook on loopback was accepted by a server without --allow-private-networks")
	}
	if _, err := c.CreateWebhook(ctx, app.ID, &client.WebhookInput{URL: client.Ptr("https://nowhere.hookd.test/hook")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Publish(ctx, app.ID, &client.PublishInput{Type: "order.created"}); err != nil {
		t.Fatal(err)
	}
	got := operator.waitFor(t, 1, dlvWait)
	var body struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(got[0].Body, &body); err != nil || body.Type != "delivery.exhausted" {
		t.Fatalf("operator got %s (%v), want a delivery.exhausted notice", got[0].Body, err)
	}
}
