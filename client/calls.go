package client

import (
	"context"
	"net/http"
	"time"
)

// Ptr returns a pointer to v, for the optional fields of inputs.
func Ptr[T any](v T) *T { return &v }

// CreateEventType adds a type to the catalog.
func (c *Client) CreateEventType(ctx context.Context, name, description string) (*EventType, error) {
	var out EventType
	_, err := c.Do(ctx, http.MethodPost, "/v1/event-types", map[string]string{"name": name, "description": description}, &out)
	return &out, err
}

// CreateApp creates an app.
func (c *Client) CreateApp(ctx context.Context, in *AppInput) (*App, error) {
	var out App
	_, err := c.Do(ctx, http.MethodPost, "/v1/apps", in, &out)
	return &out, err
}

// UpdateApp patches an app.
func (c *Client) UpdateApp(ctx context.Context, app string, in *AppInput) (*App, error) {
	var out App
	_, err := c.Do(ctx, http.MethodPatch, "/v1/apps/"+esc(app), in, &out)
	return &out, err
}

// CreateKey makes an app key; the answer's Key is shown only now.
func (c *Client) CreateKey(ctx context.Context, app, name string) (*Key, error) {
	var out Key
	_, err := c.Do(ctx, http.MethodPost, "/v1/apps/"+esc(app)+"/keys", map[string]string{"name": name}, &out)
	return &out, err
}

// CreateWebhook registers a webhook; the answer holds its secret.
func (c *Client) CreateWebhook(ctx context.Context, app string, in *WebhookInput) (*Webhook, error) {
	var out Webhook
	_, err := c.Do(ctx, http.MethodPost, "/v1/apps/"+esc(app)+"/webhooks", in, &out)
	return &out, err
}

// GetWebhook reads a webhook with its health.
func (c *Client) GetWebhook(ctx context.Context, app, id string) (*Webhook, error) {
	var out Webhook
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/webhooks/"+esc(id), nil, &out)
	return &out, err
}

// UpdateWebhook patches a webhook.
func (c *Client) UpdateWebhook(ctx context.Context, app, id string, in any) (*Webhook, error) {
	var out Webhook
	_, err := c.Do(ctx, http.MethodPatch, "/v1/apps/"+esc(app)+"/webhooks/"+esc(id), in, &out)
	return &out, err
}

// RotateWebhookSecret gives a webhook a new secret, returned once.
func (c *Client) RotateWebhookSecret(ctx context.Context, app, id string, grace time.Duration) (*Webhook, error) {
	var out Webhook
	_, err := c.Do(ctx, http.MethodPost, "/v1/apps/"+esc(app)+"/webhooks/"+esc(id)+"/rotate", map[string]float64{"grace_seconds": grace.Seconds()}, &out)
	return &out, err
}

// Publish publishes one event. The status is 202, or 200 for a repeated
// idempotency key.
func (c *Client) Publish(ctx context.Context, app string, in *PublishInput) (*Published, int, error) {
	var out Published
	status, err := c.Do(ctx, http.MethodPost, "/v1/apps/"+esc(app)+"/events", in, &out)
	return &out, status, err
}

// PublishBatch publishes up to 1,000 events in one commit.
func (c *Client) PublishBatch(ctx context.Context, app string, in []*PublishInput) ([]Published, error) {
	var out struct {
		Events []Published `json:"events"`
	}
	_, err := c.Do(ctx, http.MethodPost, "/v1/apps/"+esc(app)+"/events/batch", map[string]any{"events": in}, &out)
	return out.Events, err
}

// GetEvent reads one event with its deliveries.
func (c *Client) GetEvent(ctx context.Context, app, id string) (*Event, error) {
	var out Event
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/events/"+esc(id), nil, &out)
	return &out, err
}

// ListEvents lists an app's recent events.
func (c *Client) ListEvents(ctx context.Context, app string, o *ListOptions) ([]Event, string, error) {
	var out struct {
		Events []Event `json:"events"`
		Next   *string `json:"next"`
	}
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/events"+o.query(), nil, &out)
	return out.Events, deref(out.Next), err
}

// ListWebhookDeliveries lists one webhook's deliveries.
func (c *Client) ListWebhookDeliveries(ctx context.Context, app, webhookID string, o *ListOptions) ([]Delivery, string, error) {
	var out struct {
		Deliveries []Delivery `json:"deliveries"`
		Next       *string    `json:"next"`
	}
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/webhooks/"+esc(webhookID)+"/deliveries"+o.query(), nil, &out)
	return out.Deliveries, deref(out.Next), err
}

// GetDelivery reads one delivery with all its attempts.
func (c *Client) GetDelivery(ctx context.Context, app, id string) (*Delivery, error) {
	var out Delivery
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/deliveries/"+esc(id), nil, &out)
	return &out, err
}

// RetryDelivery makes a delivery due now.
func (c *Client) RetryDelivery(ctx context.Context, app, id string) (*Delivery, error) {
	var out Delivery
	_, err := c.Do(ctx, http.MethodPost, "/v1/apps/"+esc(app)+"/deliveries/"+esc(id)+"/retry", nil, &out)
	return &out, err
}

// SendTest sends a test event to one webhook.
func (c *Client) SendTest(ctx context.Context, app, webhookID, eventType string) (*Event, error) {
	var out Event
	body := map[string]string{}
	if eventType != "" {
		body["type"] = eventType
	}
	_, err := c.Do(ctx, http.MethodPost, "/v1/apps/"+esc(app)+"/webhooks/"+esc(webhookID)+"/test", body, &out)
	return &out, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
