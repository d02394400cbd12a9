package httpapi

import (
	"encoding/json"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/service"
)

// The JSON shapes of the API. Absent values are null, never left out.

const timeFormat = "2006-01-02T15:04:05.000Z07:00"

type jsonTime struct{ time.Time }

func (t jsonTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(timeFormat) + `"`), nil
}

func ts(t time.Time) *jsonTime {
	if t.IsZero() {
		return nil
	}
	return &jsonTime{t}
}

func tsp(t *time.Time) *jsonTime {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func num(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

type appJSON struct {
	ID            string        `json:"id"`
	UID           *string       `json:"uid"`
	Name          string        `json:"name"`
	ContactEmail  *string       `json:"contact_email"`
	Profile       hookd.Profile `json:"profile"`
	CreatedAt     *jsonTime     `json:"created_at"`
	UpdatedAt     *jsonTime     `json:"updated_at"`
	DefaultSecret *string       `json:"default_secret,omitempty"`
}

func appView(a *hookd.App, withSecret bool) *appJSON {
	v := &appJSON{ID: a.ID, UID: str(a.UID), Name: a.Name, ContactEmail: str(a.ContactEmail), Profile: a.Profile,
		CreatedAt: ts(a.CreatedAt), UpdatedAt: ts(a.UpdatedAt)}
	if withSecret {
		v.DefaultSecret = &a.DefaultSecret
	}
	return v
}

type keyJSON struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id"`
	Name      *string   `json:"name"`
	Key       *string   `json:"key,omitempty"`
	CreatedAt *jsonTime `json:"created_at"`
}

func keyView(k *hookd.AppKey, plain string) *keyJSON {
	return &keyJSON{ID: k.ID, AppID: k.AppID, Name: str(k.Name), Key: str(plain), CreatedAt: ts(k.CreatedAt)}
}

type eventTypeJSON struct {
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Status      string          `json:"status"`
	Schema      json.RawMessage `json:"schema"`
	CreatedAt   *jsonTime       `json:"created_at"`
	UpdatedAt   *jsonTime       `json:"updated_at"`
}

func eventTypeView(et *hookd.EventType) *eventTypeJSON {
	v := &eventTypeJSON{Name: et.Name, Description: str(et.Description), Status: et.Status, Schema: et.Schema,
		CreatedAt: ts(et.CreatedAt), UpdatedAt: ts(et.UpdatedAt)}
	if len(v.Schema) == 0 {
		v.Schema = json.RawMessage("null")
	}
	return v
}

type webhookJSON struct {
	ID                  string            `json:"id"`
	AppID               string            `json:"app_id"`
	URL                 string            `json:"url"`
	Events              []string          `json:"events"`
	Status              string            `json:"status"`
	Enabled             bool              `json:"enabled"`
	Name                *string           `json:"name"`
	Description         *string           `json:"description"`
	Headers             map[string]string `json:"headers"`
	RateLimit           *int              `json:"rate_limit"`
	Ordered             bool              `json:"ordered"`
	Metadata            map[string]string `json:"metadata"`
	CreatedAt           *jsonTime         `json:"created_at"`
	UpdatedAt           *jsonTime         `json:"updated_at"`
	DeliveryCount       int64             `json:"delivery_count"`
	LastDeliveryAt      *jsonTime         `json:"last_delivery_at"`
	ConsecutiveFailures int               `json:"consecutive_failures"`
	SuccessRate24h      *float64          `json:"success_rate_24h"`
	DisabledReason      *string           `json:"disabled_reason"`
	SecretRotatedUntil  *jsonTime         `json:"previous_secret_expires_at"`
	Listen              bool              `json:"listen"`
	Secret              *string           `json:"secret,omitempty"`
}

func webhookView(v *service.WebhookView, withSecret bool) *webhookJSON {
	w := v.Webhook
	out := &webhookJSON{
		ID: w.ID, AppID: w.AppID, URL: w.URL, Events: w.Events, Status: w.Status, Enabled: w.Status != hookd.WebhookDisabled,
		Name: str(w.Name), Description: str(w.Description), Headers: hookd.RedactHeaders(w.Headers), RateLimit: num(w.RateLimit), Ordered: w.Ordered,
		Metadata: w.Metadata, CreatedAt: ts(w.CreatedAt), UpdatedAt: ts(w.UpdatedAt), ConsecutiveFailures: w.ConsecutiveFailures,
		DisabledReason: str(w.DisabledReason), Listen: w.Listen(),
	}
	if w.PreviousSecret != "" && w.PreviousSecretExpiresAt.After(time.Now()) {
		out.SecretRotatedUntil = ts(w.PreviousSecretExpiresAt)
	}
	if out.Events == nil {
		out.Events = []string{}
	}
	if out.Headers == nil {
		out.Headers = map[string]string{}
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	if h := v.Health; h != nil {
		out.DeliveryCount, out.LastDeliveryAt, out.SuccessRate24h = h.DeliveryCount, tsp(h.LastDeliveryAt), h.SuccessRate24h
	}
	if withSecret {
		out.Secret = &w.Secret
	}
	return out
}

type deliverySummaryJSON struct {
	ID           string  `json:"id"`
	WebhookID    *string `json:"webhook_id"`
	WebhookName  *string `json:"webhook_name"`
	URL          string  `json:"url"`
	Status       string  `json:"status"`
	AttemptCount int     `json:"attempt_count"`
}

type eventJSON struct {
	ID             string                 `json:"id"`
	AppID          string                 `json:"app_id"`
	Type           string                 `json:"type"`
	Data           json.RawMessage        `json:"data"`
	IdempotencyKey *string                `json:"idempotency_key"`
	CreatedAt      *jsonTime              `json:"created_at"`
	Test           bool                   `json:"test"`
	Deliveries     []*deliverySummaryJSON `json:"deliveries"`
}

func eventView(e *hookd.Event) *eventJSON {
	return &eventJSON{ID: e.ID, AppID: e.AppID, Type: e.Type, Data: e.Data, IdempotencyKey: str(e.IdempotencyKey),
		CreatedAt: ts(e.CreatedAt), Test: e.Test, Deliveries: summaries(e.Deliveries)}
}

func summaries(ds []*hookd.DeliverySummary) []*deliverySummaryJSON {
	out := make([]*deliverySummaryJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, &deliverySummaryJSON{ID: d.ID, WebhookID: str(d.WebhookID), WebhookName: str(d.WebhookName),
			URL: d.URL, Status: d.Status, AttemptCount: d.AttemptCount})
	}
	return out
}

// publishedJSON answers a publish: the event and how many deliveries it got.
// publishedJSON answers a publish: the event with its data.
type publishedJSON struct {
	*batchItemJSON
	Data json.RawMessage `json:"data"`
}

// batchItemJSON is one event of a batch's answer: the event without its
// data, which the caller has just sent (echoing a thousand of them would
// cost more than storing them).
type batchItemJSON struct {
	ID             string    `json:"id"`
	AppID          string    `json:"app_id"`
	Type           string    `json:"type"`
	IdempotencyKey *string   `json:"idempotency_key"`
	CreatedAt      *jsonTime `json:"created_at"`
	Test           bool      `json:"test"`
	Deliveries     int       `json:"deliveries"`
}

func batchItemView(p *service.Published) *batchItemJSON {
	e := p.Event
	return &batchItemJSON{ID: e.ID, AppID: e.AppID, Type: e.Type, IdempotencyKey: str(e.IdempotencyKey),
		CreatedAt: ts(e.CreatedAt), Test: e.Test, Deliveries: p.Deliveries}
}

func publishedView(p *service.Published) *publishedJSON {
	return &publishedJSON{batchItemJSON: batchItemView(p), Data: p.Event.Data}
}

type attemptJSON struct {
	ID             string            `json:"id"`
	Attempt        int               `json:"attempt"`
	At             *jsonTime         `json:"at"`
	DurationMs     int64             `json:"duration_ms"`
	StatusCode     *int              `json:"status_code"`
	RequestHeaders map[string]string `json:"request_headers"`
	ResponseBody   *string           `json:"response_body"`
	Error          *string           `json:"error"`
}

type deliveryJSON struct {
	ID             string    `json:"id"`
	AppID          string    `json:"app_id"`
	EventID        string    `json:"event_id"`
	SourceID       *string   `json:"source_id"`
	WebhookID      *string   `json:"webhook_id"`
	URL            *string   `json:"url"`
	Status         string    `json:"status"`
	AttemptCount   int       `json:"attempt_count"`
	NextAttemptAt  *jsonTime `json:"next_attempt_at"`
	LastStatusCode *int      `json:"last_status_code"`
	Test           bool      `json:"test"`
	CreatedAt      *jsonTime `json:"created_at"`
	UpdatedAt      *jsonTime `json:"updated_at"`
	// Attempts is shown by single reads (empty as []) and left out of lists.
	Attempts *[]*attemptJSON `json:"attempts,omitempty"`
}

func deliveryView(d *hookd.Delivery) *deliveryJSON {
	v := &deliveryJSON{ID: d.ID, AppID: d.AppID, EventID: d.EventID, SourceID: str(d.SourceID), WebhookID: str(d.WebhookID), URL: str(d.URL), Status: d.Status,
		AttemptCount: d.AttemptCount, NextAttemptAt: tsp(d.NextAttemptAt), LastStatusCode: num(d.LastStatusCode), Test: d.Test,
		CreatedAt: ts(d.CreatedAt), UpdatedAt: ts(d.UpdatedAt)}
	if d.Attempts != nil {
		attempts := []*attemptJSON{}
		v.Attempts = &attempts
		for _, a := range d.Attempts {
			headers := a.RequestHeaders
			if headers == nil {
				headers = map[string]string{}
			}
			attempts = append(attempts, &attemptJSON{ID: a.ID, Attempt: a.Attempt, At: ts(a.At), DurationMs: a.Duration.Milliseconds(),
				StatusCode: num(a.StatusCode), RequestHeaders: headers, ResponseBody: str(a.ResponseBody), Error: str(a.Error)})
		}
	}
	return v
}
