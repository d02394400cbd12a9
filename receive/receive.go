// Package receive is hookd's inbound half: it verifies what third parties
// POST to a source's receive URL by the provider's signature scheme, keeps
// the raw request, and hands forwarding to the delivery engine by storing a
// delivery in the same transaction. Nothing is forwarded before the sender
// has its answer.
package receive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/webhook"
	"github.com/hookd/hookd/wire"
)

// Store is what receiving needs of the storage seam.
type Store interface {
	GetSource(ctx context.Context, appID, id string) (*hookd.Source, error)
	Receive(ctx context.Context, p *store.ReceiveParams) (*hookd.Event, bool, error)
}

// Config tunes a Receiver.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes ids. Required.
	NewID func(prefix string) string
	// Wake tells the delivery engine that a forward is due; optional.
	Wake func()
	// Observer counts what arrived; optional.
	Observer Observer
	// Tally counts refused requests in the sources' statistics; optional.
	// (What is stored counts as the store stores it.)
	Tally *Tally
}

// Observer hears the outcome of every request to a receive URL whose
// source exists (tests made with Test are not requests and are not told).
type Observer interface {
	Inbound(provider, outcome string)
}

// Inbound outcomes, as Observer hears them.
const (
	InboundAccepted  = "accepted"  // verified and stored
	InboundRejected  = "rejected"  // refused: signature, timestamp, size, a disabled source
	InboundDuplicate = "duplicate" // a provider delivery id recorded before
)

type noObserver struct{}

func (noObserver) Inbound(string, string) {}

// Receiver verifies and records inbound requests.
type Receiver struct {
	store Store
	cfg   Config
}

// New returns a Receiver over st.
func New(st Store, cfg Config) (*Receiver, error) {
	if st == nil || cfg.NewID == nil {
		return nil, errors.New("receive: store and NewID are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	return &Receiver{store: st, cfg: cfg}, nil
}

// inboundTextLimit bounds, in bytes, the event type, provider id and
// content type kept of a received request.
const inboundTextLimit = 255

// Result is the outcome of one received request.
type Result struct {
	Event *hookd.Event
	// Duplicate is set when the provider's event id had been recorded
	// before; Event is then the first one and nothing was stored.
	Duplicate bool
	// Challenge is Slack's url_verification challenge, to echo back.
	Challenge string
}

// Options returns how a source's requests are verified.
func Options(src *hookd.Source, now func() time.Time) webhook.Options {
	return webhook.Options{
		Scheme:       webhook.Scheme(src.Provider),
		HeaderPrefix: src.HeaderPrefix,
		Tolerance:    time.Duration(src.ToleranceSeconds) * time.Second,
		Now:          now,
	}
}

// Receive verifies one request to source sourceID and records it. A bad,
// missing or stale signature is UNAUTHORIZED, a delivery id header given
// more than once INVALID, and neither stores anything; a disabled source
// is GONE.
func (r *Receiver) Receive(ctx context.Context, sourceID string, h http.Header, body []byte) (*Result, error) {
	src, err := r.store.GetSource(ctx, "", sourceID)
	if err != nil {
		return nil, err
	}
	res, err := r.receive(ctx, src, h, body, false)
	if outcome := inboundOutcome(res, err); outcome != "" {
		r.cfg.Observer.Inbound(src.Provider, outcome)
		if outcome == InboundRejected && r.cfg.Tally != nil {
			r.cfg.Tally.Reject(src.ID)
		}
	}
	return res, err
}

// TooLarge accounts for a request to source sourceID that was refused for
// its size before it was read whole.
func (r *Receiver) TooLarge(ctx context.Context, sourceID string) {
	if src, err := r.store.GetSource(ctx, "", sourceID); err == nil {
		r.cfg.Observer.Inbound(src.Provider, InboundRejected)
		if r.cfg.Tally != nil {
			r.cfg.Tally.Reject(src.ID)
		}
	}
}

// inboundOutcome words what Receive did; a store that failed is not a
// refusal of the request (the sender retries it), and counts as nothing.
func inboundOutcome(res *Result, err error) string {
	switch {
	case err == nil && res.Duplicate:
		return InboundDuplicate
	case err == nil:
		return InboundAccepted
	case hookd.ErrorCode(err) == hookd.EINTERNAL:
		return ""
	default:
		return InboundRejected
	}
}

func (r *Receiver) receive(ctx context.Context, src *hookd.Source, h http.Header, body []byte, test bool) (*Result, error) {
	if src.Status == hookd.SourceDisabled {
		return nil, hookd.Errorf(hookd.EGONE, "source %s is disabled", src.ID)
	}
	if err := checkIDHeaders(src.Provider, src.HeaderPrefix, h); err != nil {
		return nil, err
	}
	now := r.cfg.Now()
	verified, err := webhook.VerifyMessage(Options(src, r.cfg.Now), src.VerifyingSecrets(now), h, body)
	if err != nil {
		return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "%s", reason(err))
	}
	// What the provider names and sends is text from outside: it is made
	// storable, and only the raw body is kept byte for byte.
	typ, providerID := identify(src.Provider, src.HeaderPrefix, h, body, verified.ID)
	typ, providerID = hookd.StorableText(typ, inboundTextLimit), hookd.StorableText(providerID, inboundTextLimit)
	ev := &hookd.Event{
		ID: r.cfg.NewID(hookd.EventIDPrefix), AppID: src.AppID, Type: typ, Payload: body, Test: test, CreatedAt: now.UTC().Truncate(time.Millisecond),
		Inbound: &hookd.Inbound{
			SourceID: src.ID, SourceName: src.Name, ProviderEventID: providerID, Headers: keptHeaders(h),
			ContentType: hookd.StorableText(h.Get("Content-Type"), inboundTextLimit), Filtered: !src.Accepts(typ),
		},
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' && utf8.Valid(trimmed) {
		// Shown as the event's data only when every JSON reader can take
		// it back: valid UTF-8, not 1e400, duplicate keys or nesting past
		// wire.MaxDepth. The raw body is kept and forwarded either way.
		if _, err := wire.CanonicalObject(trimmed); err == nil {
			ev.Data = json.RawMessage(trimmed)
		}
	}
	got, dup, err := r.store.Receive(ctx, &store.ReceiveParams{Event: ev, ForwardURL: src.ForwardURL, Hold: src.Status == hookd.SourcePaused && !test})
	if err != nil {
		return nil, err
	}
	if !dup && len(got.Deliveries) > 0 {
		r.cfg.Wake()
	}
	return &Result{Event: got, Duplicate: dup, Challenge: slackChallenge(src.Provider, body)}, nil
}

// reason words a verification failure for the sender.
func reason(err error) string {
	switch {
	case errors.Is(err, webhook.ErrMissingHeader):
		return "missing signature: " + err.Error()
	case errors.Is(err, webhook.ErrTimestampOutOfTolerance):
		return "timestamp outside the tolerance"
	case errors.Is(err, webhook.ErrInvalidSignature):
		return "invalid signature"
	default:
		return "signature cannot be checked: " + err.Error()
	}
}

// VerifyParams is a signed payload to check.
type VerifyParams struct {
	Scheme       string
	HeaderPrefix string
	Secret       string
	// Source, when set, gives the scheme, prefix, tolerance and secrets.
	Source    *hookd.Source
	Tolerance time.Duration
	Headers   map[string]string
	Body      []byte
}

// Verify checks a signed payload as the receive path would and returns
// nil or the reason it is not valid.
func (r *Receiver) Verify(p *VerifyParams) error {
	opts := webhook.Options{Scheme: webhook.Scheme(p.Scheme), HeaderPrefix: p.HeaderPrefix, Tolerance: p.Tolerance, Now: r.cfg.Now}
	secrets := []string{p.Secret}
	if p.Source != nil {
		opts, secrets = Options(p.Source, r.cfg.Now), p.Source.VerifyingSecrets(r.cfg.Now())
	}
	h := http.Header{}
	for k, v := range p.Headers {
		h.Set(k, v)
	}
	if err := webhook.Verify(opts, secrets, h, p.Body); err != nil {
		return errors.New(reason(err))
	}
	return nil
}

// Test sends a synthetic event through the real receive path of src,
// signed with its secret as its provider would sign it.
func (r *Receiver) Test(ctx context.Context, src *hookd.Source) (*Result, error) {
	now := r.cfg.Now()
	id := r.cfg.NewID("test")
	h, body := sample(src, id, now)
	sig, err := webhook.Sign(Options(src, r.cfg.Now), []string{src.Secret}, id, now, body)
	if err != nil {
		return nil, fmt.Errorf("sign test event: %w", err)
	}
	for _, s := range sig {
		h.Set(s.Name, s.Value)
	}
	return r.receive(ctx, src, h, body, true)
}

// sample builds a provider-shaped test request.
func sample(src *hookd.Source, id string, now time.Time) (http.Header, []byte) {
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"hookd-test"}}
	var doc any
	switch src.Provider {
	case hookd.ProviderGitHub:
		h.Set("X-GitHub-Event", "ping")
		h.Set("X-GitHub-Delivery", id)
		doc = map[string]any{"zen": "Keep it logically awesome.", "hook_id": id}
	case hookd.ProviderShopify:
		h.Set("X-Shopify-Topic", "hookd/test")
		h.Set("X-Shopify-Webhook-Id", id)
		doc = map[string]any{"id": id, "test": true}
	case hookd.ProviderSlack:
		doc = map[string]any{"type": "event_callback", "event_id": id, "event": map[string]any{"type": "hookd_test", "text": "test"}}
	case hookd.ProviderLinear:
		h.Set("Linear-Delivery", id)
		doc = map[string]any{"type": "HookdTest", "action": "create", "webhookTimestamp": now.UnixMilli(), "data": map[string]any{"id": id}}
	case hookd.ProviderStripe:
		doc = map[string]any{"id": id, "object": "event", "type": "hookd.test", "created": now.Unix(), "data": map[string]any{"object": map[string]any{}}}
	default:
		if src.Provider == hookd.ProviderHMACHex || src.Provider == hookd.ProviderTimestampedHex {
			h.Set(src.HeaderPrefix+"-Id", id)
		}
		doc = map[string]any{"type": "hookd.test", "id": id, "data": map[string]any{"message": "This is a test event from hookd."}}
	}
	body, _ := json.Marshal(doc)
	return h, body
}
