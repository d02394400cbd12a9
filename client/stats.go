package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
)

// WebhookStats reads a webhook's delivery statistics.
func (c *Client) WebhookStats(ctx context.Context, app, webhookID string, q hookd.StatsQuery) (*hookd.DeliveryStats, error) {
	var out api.DeliveryStats
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/webhooks/"+esc(webhookID)+"/stats"+statsQuery(q), nil, &out)
	return out.Stats(), err
}

// AppStats reads the delivery statistics of an app's webhooks, summed.
func (c *Client) AppStats(ctx context.Context, app string, q hookd.StatsQuery) (*hookd.DeliveryStats, error) {
	var out api.DeliveryStats
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/stats"+statsQuery(q), nil, &out)
	return out.Stats(), err
}

// SourceStats reads what a source received and forwarded over time.
func (c *Client) SourceStats(ctx context.Context, app, sourceID string, q hookd.StatsQuery) (*hookd.SourceStats, error) {
	var out api.SourceStats
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/sources/"+esc(sourceID)+"/stats"+statsQuery(q), nil, &out)
	return out.Stats(), err
}

// ServerStats reads the delivery statistics of every app, with the
// backlog (admin token).
func (c *Client) ServerStats(ctx context.Context, q hookd.StatsQuery) (*hookd.ServerStats, error) {
	var out api.ServerStats
	_, err := c.Do(ctx, http.MethodGet, "/v1/stats"+statsQuery(q), nil, &out)
	return out.Stats(), err
}

// statsQuery encodes q as a query string.
func statsQuery(q hookd.StatsQuery) string {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Interval != "" {
		v.Set("interval", string(q.Interval))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}
