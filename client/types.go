package client

// The API's answers are the types of package api, which the server writes:
// the aliases keep the client's names.

import (
	"encoding/json"

	"github.com/hookd/hookd/api"
)

// App is an app as the API shows it; DefaultSecret is set only in create and rotate answers.
type App = api.App

// AppInput creates or patches an app; nil fields are left out.
type AppInput struct {
	UID          *string         `json:"uid,omitempty"`
	Name         *string         `json:"name,omitempty"`
	ContactEmail *string         `json:"contact_email,omitempty"`
	Profile      json.RawMessage `json:"profile,omitempty"`
}

// Key is an app key; Key is set only in the create answer.
type Key = api.Key

// EventType is a catalog entry.
type EventType = api.EventType

// Webhook is a webhook; Secret is set only in create and rotate answers.
type Webhook = api.Webhook

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
type Event = api.Event

// DeliverySummary is a delivery listed with its event.
type DeliverySummary = api.DeliverySummary

// PublishInput is one event to publish.
type PublishInput struct {
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	WebhookURL     string          `json:"webhook_url,omitempty"`
	WebhookEvents  []string        `json:"webhook_events,omitempty"`
}

// Published answers a publish; in a batch's answer, without Data.
type Published = api.Published

// Delivery is one event to one webhook; Attempts is set in single reads.
type Delivery = api.Delivery

// Attempt is one HTTP request of a delivery.
type Attempt = api.Attempt

// Source is an inbound source; Secret is set only in create and rotate
// answers.
type Source = api.Source

// InboundEvent is what a source received.
type InboundEvent = api.InboundEvent

// Time is a moment as the API writes it; its Time field is the time.Time.
type Time = api.Time

// BatchItem is one event of a batch publish's answer, as the server
// writes it; PublishBatch reads each into a Published, without Data.
type BatchItem = api.BatchItem
