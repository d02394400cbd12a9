package deliver

import (
	"context"
	"net/http"
	"time"

	"github.com/hookd/hookd/store"
)

// Relay carries the attempts of listen webhooks (hookd.Webhook.Listen)
// over a connection that a `hookd listen` CLI opened, instead of dialling
// out. Package listen implements it.
type Relay interface {
	// Holds reports whether this process holds the connection of the
	// listen webhook webhookID.
	Holds(webhookID string) bool
	// Exchange hands the signed request to that connection and waits for
	// the answer the CLI got from its local URL, until ctx ends. An error
	// is an attempt without an answer.
	Exchange(ctx context.Context, r *Relayed) (*http.Response, error)
}

// Relayed is one attempt handed to a Relay.
type Relayed struct {
	WebhookID  string
	DeliveryID string
	EventID    string
	EventType  string
	Attempt    int
	// Request is the request hookd would send to a real webhook, signed.
	Request *http.Request
}

// relayRetry is how soon a listen webhook's delivery is due again when
// this process does not hold its connection: the process that does claims
// it meanwhile.
const relayRetry = time.Second

// elsewhere returns the deferral of a job to a listen webhook whose
// connection this process does not hold. e.mu may be held.
func (e *Engine) elsewhere(j *store.Job, now time.Time) (store.Deferral, bool) {
	w := j.Webhook
	if w == nil || !w.Listen() || (e.cfg.Relay != nil && e.cfg.Relay.Holds(w.ID)) {
		return store.Deferral{}, false
	}
	return store.Deferral{DeliveryID: j.Delivery.ID, At: now.Add(relayRetry)}, true
}

// send makes the attempt's request: over the relay for a listen webhook,
// through the HTTP client for any other.
func (e *Engine) send(j *store.Job, req *http.Request) (*http.Response, error) {
	if j.Webhook == nil || !j.Webhook.Listen() || e.cfg.Relay == nil {
		return e.client.Do(req)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.Timeout)
	defer cancel()
	return e.cfg.Relay.Exchange(ctx, &Relayed{WebhookID: j.Webhook.ID, DeliveryID: j.Delivery.ID, EventID: j.Event.ID,
		EventType: j.Event.Type, Attempt: j.Delivery.AttemptCount + 1, Request: req})
}
