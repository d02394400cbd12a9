package hookd

import (
	"encoding/json"
	"strings"
	"time"
)

// App is one of the operator's customers. Everything else belongs to one.
type App struct {
	ID           string
	UID          string // optional, operator-chosen, unique; usable in paths
	Name         string
	ContactEmail string
	Profile      Profile
	// DefaultSecret signs one-off destinations given per publish request.
	DefaultSecret string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AppKey grants everything inside one app. Only its hash is kept.
type AppKey struct {
	ID        string
	AppID     string
	Name      string
	Hash      string
	CreatedAt time.Time
}

// Event type statuses.
const (
	EventTypeActive     = "active"
	EventTypeReserved   = "reserved"
	EventTypeDeprecated = "deprecated"
)

// EventType is an entry of the catalog of things that can be published.
type EventType struct {
	ID          string // sort key for paging
	Name        string
	Description string
	Status      string
	Schema      json.RawMessage // optional JSON Schema for data; nil when none
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Webhook statuses.
const (
	WebhookActive   = "active"
	WebhookPaused   = "paused"
	WebhookDisabled = "disabled"
)

// Webhook is an endpoint of one app that receives events.
type Webhook struct {
	ID          string
	AppID       string
	URL         string
	Events      []string // catalog names, "*", or prefix wildcards like "job.*"
	Status      string
	Name        string
	Description string
	Headers     map[string]string
	RateLimit   int // deliveries per second; 0 = unlimited
	Ordered     bool
	Metadata    map[string]string
	Secret      string
	// PreviousSecret still signs until PreviousSecretExpiresAt after a
	// rotation with a grace period.
	PreviousSecret          string
	PreviousSecretExpiresAt time.Time
	DisabledReason          string
	ConsecutiveFailures     int
	// Version counts the stored row's updates; an update made from an
	// older read is refused (store.ErrStale).
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ListenURLPrefix starts the URL of a listen webhook: a temporary webhook
// whose deliveries hookd hands to a `hookd listen` connection instead of
// dialling out. Only the listen route makes such a URL; the rest is a key
// the CLI chooses.
const ListenURLPrefix = "listen:"

// Listen reports whether w is a listen webhook (see ListenURLPrefix).
func (w *Webhook) Listen() bool { return strings.HasPrefix(w.URL, ListenURLPrefix) }

// Subscribes reports whether w's filter selects events of type typ.
func (w *Webhook) Subscribes(typ string) bool { return MatchesFilter(w.Events, typ) }

// MatchesFilter reports whether an events filter selects typ: an exact
// name, "*", or a prefix wildcard "job.*" that matches job.done and
// job.step.done but not job itself.
func MatchesFilter(filter []string, typ string) bool {
	for _, f := range filter {
		switch {
		case f == "*" || f == typ:
			return true
		case strings.HasSuffix(f, ".*") && strings.HasPrefix(typ, f[:len(f)-1]):
			return true
		}
	}
	return false
}

// Signing secrets returns the secrets that sign a delivery at now: the
// current one first, then the previous one while its grace period lasts.
func (w *Webhook) SigningSecrets(now time.Time) []string {
	if w.PreviousSecret != "" && now.Before(w.PreviousSecretExpiresAt) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// WebhookHealth is what the API reports about a webhook's recent deliveries.
type WebhookHealth struct {
	DeliveryCount  int64
	LastDeliveryAt *time.Time
	// SuccessRate24h is the share of attempts in the last 24 hours that
	// succeeded, nil when there were none.
	SuccessRate24h *float64
}

// EventIDPrefix starts every event's id (ident's prefix): the stores'
// retention finds old events by id with it (see ident.Floor).
const EventIDPrefix = "evt"

// Event is something the operator published.
type Event struct {
	ID             string
	AppID          string
	Type           string
	Data           json.RawMessage // canonical JSON object
	Payload        []byte          // the body that goes on the wire
	IdempotencyKey string
	Test           bool
	CreatedAt      time.Time
	// Inbound is set for events a source received.
	Inbound *Inbound
	// Deliveries is filled in by reads that ask for it.
	Deliveries []*DeliverySummary
}

// DeliverySummary is a delivery as listed beside its event.
type DeliverySummary struct {
	ID           string
	SourceID     string
	WebhookID    string
	WebhookName  string
	URL          string
	Status       string
	AttemptCount int
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
	DeliveryHeld      = "held"
)

// Delivery is one event on its way to one webhook, or to a one-off URL
// given with the publish request (then WebhookID is empty and URL is set).
type Delivery struct {
	ID             string
	AppID          string
	EventID        string
	SourceID       string // set when the delivery forwards a source's event
	WebhookID      string
	URL            string
	Status         string
	AttemptCount   int
	NextAttemptAt  *time.Time
	LastStatusCode int
	Test           bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Attempts is filled in by reads that ask for it.
	Attempts []*Attempt
}

// Attempt is one HTTP request of a delivery.
type Attempt struct {
	ID             string
	DeliveryID     string
	WebhookID      string
	Attempt        int // 1-based
	At             time.Time
	Duration       time.Duration
	StatusCode     int // 0 when no response came
	RequestHeaders map[string]string
	// ResponseHeaders are the answer's headers, capped; nil when no
	// answer came.
	ResponseHeaders map[string]string
	ResponseBody    string // first 4 KiB
	Error           string
}

// Succeeded reports whether the attempt got a 2xx answer.
func (a *Attempt) Succeeded() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// Notice kinds, sent to the operator as operational webhooks and by email.
const (
	NoticeWebhookDisabled   = "webhook.disabled"
	NoticeDeliveryExhausted = "delivery.exhausted"
	NoticeWebhookRecovered  = "webhook.recovered"
)

// Notice is something the operator should hear about.
type Notice struct {
	Kind       string
	AppID      string
	WebhookID  string
	DeliveryID string
	EventID    string
	Reason     string
	At         time.Time
}

// Version is hookd's release, sent in every delivery's User-Agent.
const Version = "0.1.0"

// Dashboard session kinds: a portal link, which a customer opens to get a
// session, and the session a sign-in or an opened link made.
const (
	SessionLink    = "link"
	SessionBrowser = "session"
)

// Session is a dashboard credential kept by the server: a portal link's
// token or a signed-in browser's cookie, stored only as Hash (hex SHA-256
// of the secret the holder has).
type Session struct {
	Hash string
	// Kind is SessionLink or SessionBrowser.
	Kind string
	// Admin is true for the operator's session; AppID names the one app
	// an app-key or portal session sees.
	Admin bool
	AppID string
	// Credential is the hash of what the session was made from (the
	// admin token, an app key, a portal link), checked on every use so
	// that revoking the key or changing the token ends its sessions.
	Credential string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}
