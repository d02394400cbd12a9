package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/hookd/hookd"
)

// WebhookStats reads a webhook's delivery statistics.
func (c *Client) WebhookStats(ctx context.Context, app, webhookID string, q hookd.StatsQuery) (*hookd.DeliveryStats, error) {
	var out deliveryStatsJSON
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/webhooks/"+esc(webhookID)+"/stats"+statsQuery(q), nil, &out)
	return out.stats(), err
}

// AppStats reads the delivery statistics of an app's webhooks, summed.
func (c *Client) AppStats(ctx context.Context, app string, q hookd.StatsQuery) (*hookd.DeliveryStats, error) {
	var out deliveryStatsJSON
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/stats"+statsQuery(q), nil, &out)
	return out.stats(), err
}

// SourceStats reads what a source received and forwarded over time.
func (c *Client) SourceStats(ctx context.Context, app, sourceID string, q hookd.StatsQuery) (*hookd.SourceStats, error) {
	var out struct {
		Interval hookd.StatsInterval `json:"interval"`
		Since    time.Time           `json:"since"`
		Until    time.Time           `json:"until"`
		Buckets  []sourceBucketJSON  `json:"buckets"`
		Totals   sourceBucketJSON    `json:"totals"`
	}
	_, err := c.Do(ctx, http.MethodGet, "/v1/apps/"+esc(app)+"/sources/"+esc(sourceID)+"/stats"+statsQuery(q), nil, &out)
	st := &hookd.SourceStats{Interval: out.Interval, Since: out.Since, Until: out.Until, Totals: out.Totals.bucket()}
	for _, b := range out.Buckets {
		st.Buckets = append(st.Buckets, b.bucket())
	}
	return st, err
}

// ServerStats reads the delivery statistics of every app, with the
// backlog (admin token).
func (c *Client) ServerStats(ctx context.Context, q hookd.StatsQuery) (*hookd.ServerStats, error) {
	var out struct {
		deliveryStatsJSON
		Pending              int64   `json:"pending"`
		OldestPendingSeconds float64 `json:"oldest_pending_seconds"`
	}
	_, err := c.Do(ctx, http.MethodGet, "/v1/stats"+statsQuery(q), nil, &out)
	return &hookd.ServerStats{DeliveryStats: *out.stats(), Pending: out.Pending, OldestPendingSeconds: out.OldestPendingSeconds}, err
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

type deliveryBucketJSON struct {
	Start         time.Time `json:"start"`
	Attempts      int64     `json:"attempts"`
	Succeeded     int64     `json:"succeeded"`
	Failed        int64     `json:"failed"`
	Exhausted     int64     `json:"exhausted"`
	DurationMsP50 *float64  `json:"duration_ms_p50"`
	DurationMsP99 *float64  `json:"duration_ms_p99"`
}

func (b *deliveryBucketJSON) bucket() hookd.DeliveryBucket {
	return hookd.DeliveryBucket{Start: b.Start, Attempts: b.Attempts, Succeeded: b.Succeeded, Failed: b.Failed, Exhausted: b.Exhausted,
		DurationP50: b.DurationMsP50, DurationP99: b.DurationMsP99}
}

type deliveryStatsJSON struct {
	Interval hookd.StatsInterval  `json:"interval"`
	Since    time.Time            `json:"since"`
	Until    time.Time            `json:"until"`
	Buckets  []deliveryBucketJSON `json:"buckets"`
	Totals   deliveryBucketJSON   `json:"totals"`
}

func (s *deliveryStatsJSON) stats() *hookd.DeliveryStats {
	st := &hookd.DeliveryStats{Interval: s.Interval, Since: s.Since, Until: s.Until, Totals: s.Totals.bucket()}
	for i := range s.Buckets {
		st.Buckets = append(st.Buckets, s.Buckets[i].bucket())
	}
	return st
}

type sourceBucketJSON struct {
	Start         time.Time `json:"start"`
	Received      int64     `json:"received"`
	Rejected      int64     `json:"rejected"`
	Duplicates    int64     `json:"duplicates"`
	Forwarded     int64     `json:"forwarded"`
	ForwardFailed int64     `json:"forward_failed"`
}

func (b *sourceBucketJSON) bucket() hookd.SourceBucket {
	return hookd.SourceBucket{Start: b.Start, Received: b.Received, Rejected: b.Rejected, Duplicates: b.Duplicates,
		Forwarded: b.Forwarded, ForwardFailed: b.ForwardFailed}
}
