package api

import (
	"encoding/json"
	"time"

	"github.com/hookd/hookd"
)

// timeFormat is how the API writes a moment: UTC, to the millisecond.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Time is a moment as the API writes it: UTC to the millisecond, null
// when zero. It reads any RFC 3339 time, and null as zero.
type Time struct{ time.Time }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(timeFormat) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	return t.Time.UnmarshalJSON(b)
}

// App is an app; DefaultSecret is shown only by create and rotate.
type App struct {
	ID            string        `json:"id"`
	UID           *string       `json:"uid"`
	Name          string        `json:"name"`
	ContactEmail  *string       `json:"contact_email"`
	Profile       hookd.Profile `json:"profile"`
	CreatedAt     Time          `json:"created_at"`
	UpdatedAt     Time          `json:"updated_at"`
	DefaultSecret string        `json:"default_secret,omitempty"`
}

// Key is an app key; Key is shown only by create.
type Key struct {
	ID        string  `json:"id"`
	AppID     string  `json:"app_id"`
	Name      *string `json:"name"`
	Key       string  `json:"key,omitempty"`
	CreatedAt Time    `json:"created_at"`
}

// EventType is an entry of the event type catalog.
type EventType struct {
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Status      string          `json:"status"`
	Schema      json.RawMessage `json:"schema"`
	CreatedAt   Time            `json:"created_at"`
	UpdatedAt   Time            `json:"updated_at"`
}

// Webhook is a webhook with its health; Secret is shown only by create
// and rotate.
type Webhook struct {
	ID                      string            `json:"id"`
	AppID                   string            `json:"app_id"`
	URL                     string            `json:"url"`
	Events                  []string          `json:"events"`
	Status                  string            `json:"status"`
	Enabled                 bool              `json:"enabled"`
	Name                    *string           `json:"name"`
	Description             *string           `json:"description"`
	Headers                 map[string]string `json:"headers"`
	RateLimit               *int              `json:"rate_limit"`
	Ordered                 bool              `json:"ordered"`
	Metadata                map[string]string `json:"metadata"`
	CreatedAt               Time              `json:"created_at"`
	UpdatedAt               Time              `json:"updated_at"`
	DeliveryCount           int64             `json:"delivery_count"`
	LastDeliveryAt          *Time             `json:"last_delivery_at"`
	ConsecutiveFailures     int               `json:"consecutive_failures"`
	SuccessRate24h          *float64          `json:"success_rate_24h"`
	DisabledReason          *string           `json:"disabled_reason"`
	PreviousSecretExpiresAt *Time             `json:"previous_secret_expires_at"`
	// Listen marks a `hookd listen` webhook, whose deliveries go over the
	// CLI's connection.
	Listen bool   `json:"listen"`
	Secret string `json:"secret,omitempty"`
}

// ListenWebhook is a `hookd listen` webhook as POST .../listen answers
// it, secret included.
type ListenWebhook struct {
	Webhook
	ListenTimeoutSeconds float64 `json:"listen_timeout_seconds"`
}

// DeliverySummary is a delivery listed with its event.
type DeliverySummary struct {
	ID           string  `json:"id"`
	WebhookID    *string `json:"webhook_id"`
	WebhookName  *string `json:"webhook_name"`
	URL          string  `json:"url"`
	Status       string  `json:"status"`
	AttemptCount int     `json:"attempt_count"`
}

// Event is a published event as reads show it.
type Event struct {
	ID             string            `json:"id"`
	AppID          string            `json:"app_id"`
	Type           string            `json:"type"`
	Data           json.RawMessage   `json:"data"`
	IdempotencyKey *string           `json:"idempotency_key"`
	CreatedAt      Time              `json:"created_at"`
	Test           bool              `json:"test"`
	Deliveries     []DeliverySummary `json:"deliveries"`
}

// BatchItem is one event of a batch publish's answer: the event without
// its data, which the caller has just sent (echoing a thousand of them
// would cost more than storing them), and how many deliveries it got.
type BatchItem struct {
	ID             string  `json:"id"`
	AppID          string  `json:"app_id"`
	Type           string  `json:"type"`
	IdempotencyKey *string `json:"idempotency_key"`
	CreatedAt      Time    `json:"created_at"`
	Test           bool    `json:"test"`
	Deliveries     int     `json:"deliveries"`
}

// Published answers a publish: the batch item with the event's data.
type Published struct {
	BatchItem
	Data json.RawMessage `json:"data"`
}

// Attempt is one HTTP request of a delivery.
type Attempt struct {
	ID             string            `json:"id"`
	Attempt        int               `json:"attempt"`
	At             Time              `json:"at"`
	DurationMs     int64             `json:"duration_ms"`
	StatusCode     *int              `json:"status_code"`
	RequestHeaders map[string]string `json:"request_headers"`
	// ResponseHeaders are the answer's headers, at most 64 and 8 KiB;
	// empty when no answer came.
	ResponseHeaders map[string]string `json:"response_headers"`
	ResponseBody    *string           `json:"response_body"`
	Error           *string           `json:"error"`
}

// Delivery is one event to one webhook (or a source's forward URL).
type Delivery struct {
	ID             string  `json:"id"`
	AppID          string  `json:"app_id"`
	EventID        string  `json:"event_id"`
	SourceID       *string `json:"source_id"`
	WebhookID      *string `json:"webhook_id"`
	URL            *string `json:"url"`
	Status         string  `json:"status"`
	AttemptCount   int     `json:"attempt_count"`
	NextAttemptAt  *Time   `json:"next_attempt_at"`
	LastStatusCode *int    `json:"last_status_code"`
	Test           bool    `json:"test"`
	CreatedAt      Time    `json:"created_at"`
	UpdatedAt      Time    `json:"updated_at"`
	// Attempts is shown by single reads (empty as []) and left out of
	// lists (nil).
	Attempts []Attempt `json:"attempts,omitzero"`
}

// Source is an inbound source; Secret is shown only by create and rotate.
type Source struct {
	ID               string   `json:"id"`
	AppID            string   `json:"app_id"`
	Name             string   `json:"name"`
	Provider         string   `json:"provider"`
	Status           string   `json:"status"`
	Enabled          bool     `json:"enabled"`
	ForwardURL       *string  `json:"forward_url"`
	Events           []string `json:"events"`
	Description      *string  `json:"description"`
	HeaderPrefix     *string  `json:"header_prefix"`
	ToleranceSeconds int      `json:"tolerance_seconds"`
	ReceiveURL       string   `json:"receive_url"`
	EventCount       int64    `json:"event_count"`
	LastEventAt      *Time    `json:"last_event_at"`
	CreatedAt        Time     `json:"created_at"`
	UpdatedAt        Time     `json:"updated_at"`
	Secret           string   `json:"secret,omitempty"`
}

// InboundEvent is what a source received.
type InboundEvent struct {
	ID              string            `json:"id"`
	AppID           string            `json:"app_id"`
	SourceID        string            `json:"source_id"`
	SourceName      string            `json:"source_name"`
	Type            *string           `json:"type"`
	ProviderEventID *string           `json:"provider_event_id"`
	Status          string            `json:"status"`
	ContentType     *string           `json:"content_type"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	Data            json.RawMessage   `json:"data"`
	Test            bool              `json:"test"`
	CreatedAt       Time              `json:"created_at"`
	Deliveries      []DeliverySummary `json:"deliveries"`
}

// ListenRequest is one attempt a listen stream hands over: the exact
// headers and body hookd would send to a real webhook, to be replayed
// against the local URL.
type ListenRequest struct {
	ID         string            `json:"id"`
	DeliveryID string            `json:"delivery_id"`
	EventID    string            `json:"event_id"`
	EventType  string            `json:"event_type"`
	Attempt    int               `json:"attempt"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// ListenResult reports what the local URL answered to a ListenRequest,
// or the error that kept it from answering.
type ListenResult struct {
	ID         string `json:"id"`
	StatusCode int    `json:"status_code"`
	DurationMs int64  `json:"duration_ms"`
	Body       string `json:"body"`
	// Headers are the local answer's headers, each name's values joined
	// by ", ". Older CLIs leave them out.
	Headers map[string]string `json:"headers,omitempty"`
	Error   string            `json:"error"`
}
