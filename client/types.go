package client

import (
	"encoding/json"
	"time"
)

// App is an app as the API shows it.
type App struct {
	ID            string          `json:"id"`
	UID           *string         `json:"uid"`
	Name          string          `json:"name"`
	ContactEmail  *string         `json:"contact_email"`
	Profile       json.RawMessage `json:"profile"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	DefaultSecret string          `json:"default_secret,omitempty"`
}

// AppInput creates or patches an app; nil fields are left out.
type AppInput struct {
	UID          *string         `json:"uid,omitempty"`
	Name         *string         `json:"name,omitempty"`
	ContactEmail *string         `json:"contact_email,omitempty"`
	Profile      json.RawMessage `json:"profile,omitempty"`
}

// Key is an app key; Key is set only in the create answer.
type Key struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id"`
	Name      *string   `json:"name"`
	Key       string    `json:"key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// EventType is a catalog entry.
type EventType struct {
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Status      string          `json:"status"`
	Schema      json.RawMessage `json:"schema"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// Webhook is a webhook; Secret is set only in create and rotate answers.
type Webhook struct {
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
	CreatedAt           time.Time         `json:"created_at"`
	UpdatedAt           time.Time         `json:"updated_at"`
	DeliveryCount       int64             `json:"delivery_count"`
	LastDeliveryAt      *time.Time        `json:"last_delivery_at"`
	ConsecutiveFailures int               `json:"consecutive_failures"`
	SuccessRate24h      *float64          `json:"success_rate_24h"`
	DisabledReason      *string           `json:"disabled_reason"`
	// Listen marks a `hookd listen` webhook, whose deliveries go over the
	// CLI's connection.
	Listen bool   `json:"listen"`
	Secret string `json:"secret,omitempty"`
}

// WebhookInput creates or patches a webhook; nil fields are left out.
type WebhookInput struct {
	URL         *string           `json:"url,omitempty"`
	Events      []string          `json:"events,omitempty"`
	Name        *string           `json:"name,omitempty"`
	Description *string           `json:"description,omitempty"`
	Secret      *string           `json:"secret,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	RateLimit   *int              `json:"rate_limit,omitempty"`
	Ordered     *bool             `json:"ordered,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Status      *string           `json:"status,omitempty"`
	Enabled     *bool             `json:"enabled,omitempty"`
}

// Event is a published event as reads show it.
type Event struct {
	ID             string            `json:"id"`
	AppID          string            `json:"app_id"`
	Type           string            `json:"type"`
	Data           json.RawMessage   `json:"data"`
	IdempotencyKey *string           `json:"idempotency_key"`
	CreatedAt      time.Time         `json:"created_at"`
	Test           bool              `json:"test"`
	Deliveries     []DeliverySummary `json:"deliveries"`
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

// PublishInput is one event to publish.
type PublishInput struct {
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	WebhookURL     string          `json:"webhook_url,omitempty"`
	WebhookEvents  []string        `json:"webhook_events,omitempty"`
}

// Published answers a publish.
type Published struct {
	ID             string          `json:"id"`
	AppID          string          `json:"app_id"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey *string         `json:"idempotency_key"`
	CreatedAt      time.Time       `json:"created_at"`
	Deliveries     int             `json:"deliveries"`
}

// Delivery is one event to one webhook; Attempts is set in single reads.
type Delivery struct {
	ID             string     `json:"id"`
	AppID          string     `json:"app_id"`
	EventID        string     `json:"event_id"`
	WebhookID      *string    `json:"webhook_id"`
	URL            *string    `json:"url"`
	Status         string     `json:"status"`
	AttemptCount   int        `json:"attempt_count"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	LastStatusCode *int       `json:"last_status_code"`
	Test           bool       `json:"test"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Attempts       []Attempt  `json:"attempts"`
}

// Attempt is one HTTP request of a delivery.
type Attempt struct {
	ID             string            `json:"id"`
	Attempt        int               `json:"attempt"`
	At             time.Time         `json:"at"`
	DurationMs     int64             `json:"duration_ms"`
	StatusCode     *int              `json:"status_code"`
	RequestHeaders map[string]string `json:"request_headers"`
	ResponseBody   *string           `json:"response_body"`
	Error          *string           `json:"error"`
}
