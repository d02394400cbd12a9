package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/egress"
	"github.com/hookd/hookd/eventschema"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/tracing"
	"github.com/hookd/hookd/wire"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// MaxBatch is the most events one batch publish may carry.
const MaxBatch = 1000

// TestEventType is the type of a test event when none is chosen.
const TestEventType = "webhook.test"

// PublishInput is the body of a publish request.
type PublishInput struct {
	Type           *string         `json:"type"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey *string         `json:"idempotency_key"`
	WebhookURL     *string         `json:"webhook_url"`
	WebhookEvents  []string        `json:"webhook_events"`
}

// Published is the outcome of publishing one event.
type Published struct {
	Event      *hookd.Event
	Deliveries int
	// Duplicate is set when the idempotency key had been used in the
	// last 24 hours; Event is then the first event.
	Duplicate bool
}

// Publish commits one event and its deliveries.
func (s *Service) Publish(ctx context.Context, p *Principal, appRef string, in *PublishInput) (*Published, error) {
	out, err := s.publish(ctx, p, appRef, []*PublishInput{in}, "")
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// PublishBatch commits up to MaxBatch events in one transaction. One
// invalid item rejects the whole batch with an error naming its index.
func (s *Service) PublishBatch(ctx context.Context, p *Principal, appRef string, in []*PublishInput) ([]*Published, error) {
	if len(in) == 0 {
		return nil, hookd.Errorf(hookd.EINVALID, "events must hold at least one event")
	}
	if len(in) > MaxBatch {
		return nil, hookd.Errorf(hookd.EINVALID, "events must hold at most %d events", MaxBatch)
	}
	return s.publish(ctx, p, appRef, in, "events")
}

func (s *Service) publish(ctx context.Context, p *Principal, appRef string, in []*PublishInput, field string) (out []*Published, err error) {
	if s.cfg.Tracer != nil {
		var span trace.Span
		ctx, span = s.cfg.Tracer.Start(ctx, "publish", trace.WithAttributes(tracing.EventCount.Int(len(in))))
		defer func() { endPublishSpan(span, out, err) }()
	}
	app, err := s.publishApp(ctx, p, appRef)
	if err != nil {
		return nil, err
	}
	catalog := typeLookup{s: s, seen: map[string]*hookd.EventType{}}
	now := s.now()
	params := &store.PublishParams{AppID: app.ID, Now: now, Events: make([]*store.PublishEvent, len(in))}
	var oneOff []egress.URLField
	for i, item := range in {
		prefix := ""
		if field != "" {
			prefix = fmt.Sprintf("%s[%d].", field, i)
		}
		if item == nil {
			return nil, hookd.Errorf(hookd.EINVALID, "%s must be an object", strings.TrimSuffix(prefix, "."))
		}
		pe, err := s.prepareEvent(ctx, app, &catalog, item, prefix, now)
		if err != nil {
			return nil, err
		}
		params.Events[i] = pe
		if pe.OneOffURL != "" {
			oneOff = append(oneOff, egress.URLField{Field: prefix + "webhook_url", URL: pe.OneOffURL})
		}
	}
	// A batch's one-off destinations are checked together: each distinct
	// host resolved once, all within one deadline.
	if err := egress.CheckURLs(ctx, oneOff, s.cfg.AllowPrivate, s.cfg.Resolver); err != nil {
		return nil, err
	}
	results, err := s.commit(ctx, params)
	if err != nil {
		return nil, err
	}
	s.wakeIfDue(results)
	out = make([]*Published, len(results))
	committed := 0
	for i, r := range results {
		out[i] = &Published{Event: r.Event, Deliveries: r.Deliveries, Duplicate: r.Duplicate}
		if !r.Duplicate {
			committed++
		}
	}
	s.cfg.Observer.Published(committed)
	return out, nil
}

// commit stores a publish, in a span of its own when tracing.
func (s *Service) commit(ctx context.Context, params *store.PublishParams) ([]store.PublishResult, error) {
	if s.cfg.Tracer == nil {
		return s.store.Publish(ctx, params)
	}
	ctx, span := s.cfg.Tracer.Start(ctx, "commit", trace.WithAttributes(tracing.AppID.String(params.AppID), eventIDs(params)))
	defer span.End()
	results, err := s.store.Publish(ctx, params)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "commit failed")
	}
	return results, err
}

// eventIDs is the attribute that links a publish's spans to its events:
// hookd.event_id for one event, hookd.event_ids for a batch.
func eventIDs(params *store.PublishParams) attribute.KeyValue {
	if len(params.Events) == 1 {
		return tracing.EventID.String(params.Events[0].Event.ID)
	}
	ids := make([]string, len(params.Events))
	for i, pe := range params.Events {
		ids[i] = pe.Event.ID
	}
	return tracing.EventIDs.StringSlice(ids)
}

// endPublishSpan ends a publish's span with the events it made, or why it
// made none.
func endPublishSpan(span trace.Span, out []*Published, err error) {
	defer span.End()
	if err != nil {
		if hookd.ErrorCode(err) == hookd.EINTERNAL {
			span.RecordError(err)
			span.SetStatus(codes.Error, "publish failed")
		} else {
			span.SetAttributes(attribute.String("hookd.refused", hookd.ErrorCode(err)))
		}
		return
	}
	if len(out) == 1 {
		span.SetAttributes(tracing.EventID.String(out[0].Event.ID))
		return
	}
	ids := make([]string, len(out))
	for i, p := range out {
		ids[i] = p.Event.ID
	}
	span.SetAttributes(tracing.EventIDs.StringSlice(ids))
}

// wakeIfDue wakes the engine for the deliveries that publishes made and
// did not hand to it: what was handed straight over needs no claim.
func (s *Service) wakeIfDue(results []store.PublishResult) {
	for _, r := range results {
		if r.Due() {
			s.cfg.Wake()
			return
		}
	}
}

// typeLookup finds the catalog entries of the types one request publishes,
// each once: a publish reads only the types it names, not the catalog,
// and those through the short cache.
type typeLookup struct {
	s    *Service
	seen map[string]*hookd.EventType // nil value: not in the catalog
}

func (l *typeLookup) get(ctx context.Context, name string) (*hookd.EventType, error) {
	if et, ok := l.seen[name]; ok {
		return et, nil
	}
	et, err := l.s.eventTypes.get(name, l.s.cfg.Now(), func() (*hookd.EventType, error) {
		et, err := l.s.store.GetEventType(ctx, name)
		if hookd.IsNotFound(err) {
			return nil, nil
		}
		return et, err
	})
	if err != nil {
		return nil, err
	}
	l.seen[name] = et
	return et, nil
}

// prepareEvent validates one publish body and renders its payload.
func (s *Service) prepareEvent(ctx context.Context, app *hookd.App, catalog *typeLookup, in *PublishInput, prefix string, now time.Time) (*store.PublishEvent, error) {
	if in.Type == nil || *in.Type == "" {
		return nil, hookd.Errorf(hookd.EINVALID, "%stype is required", prefix)
	}
	if err := checkEventTypeName(prefix+"type", *in.Type); err != nil {
		return nil, err
	}
	et, err := catalog.get(ctx, *in.Type)
	if err != nil {
		return nil, err
	}
	if et != nil && et.Status == hookd.EventTypeReserved {
		return nil, hookd.Errorf(hookd.EINVALID, "%stype %q is reserved and cannot be published", prefix, *in.Type)
	}
	ev := &hookd.Event{ID: s.cfg.NewID(hookd.EventIDPrefix), AppID: app.ID, Type: *in.Type, CreatedAt: now}
	if in.IdempotencyKey != nil {
		if len(*in.IdempotencyKey) == 0 || len(*in.IdempotencyKey) > 255 {
			return nil, hookd.Errorf(hookd.EINVALID, "%sidempotency_key must be 1-255 characters", prefix)
		}
		if err := checkText(prefix+"idempotency_key", *in.IdempotencyKey, false); err != nil {
			return nil, err
		}
		ev.IdempotencyKey = *in.IdempotencyKey
	}
	if len(in.Data) > s.cfg.MaxDataBytes {
		return nil, hookd.Errorf(hookd.ETOOLARGE, "%sdata must be at most %d bytes", prefix, s.cfg.MaxDataBytes)
	}
	if err := s.render(app, ev, in.Data, prefix); err != nil {
		return nil, err
	}
	if err := s.checkSchema(et, ev.Data, prefix); err != nil {
		return nil, err
	}
	pe := &store.PublishEvent{Event: ev}
	if in.WebhookURL != nil {
		if *in.WebhookURL == "" {
			return nil, hookd.Errorf(hookd.EINVALID, "%swebhook_url is required", prefix) // as CheckURL says it
		}
		pe.OneOffURL = *in.WebhookURL // checked with the batch's others, in publish
		for j, f := range in.WebhookEvents {
			name := fmt.Sprintf("%swebhook_events[%d]", prefix, j)
			if f != "*" {
				if err := checkEventTypeName(name, strings.TrimSuffix(f, ".*")); err != nil {
					return nil, err
				}
			}
		}
		pe.OneOffEvents = in.WebhookEvents
	} else if len(in.WebhookEvents) > 0 {
		return nil, hookd.Errorf(hookd.EINVALID, "%swebhook_events needs webhook_url", prefix)
	}
	return pe, nil
}

// render canonicalises data and builds the wire payload under the app's
// envelope.
func (s *Service) render(app *hookd.App, ev *hookd.Event, data json.RawMessage, prefix string) error {
	if len(data) == 0 {
		data = json.RawMessage(`{}`)
	}
	canon, err := wire.CanonicalObject(data)
	if err != nil {
		return hookd.Errorf(hookd.EINVALID, "%s%s", prefix, hookd.ErrorMessage(err))
	}
	ev.Data = canon
	appRef := app.ID
	if app.UID != "" {
		appRef = app.UID
	}
	payload, err := wire.Body(app.Profile.Envelope, wire.Event{ID: ev.ID, AppID: appRef, Type: ev.Type, CreatedAt: ev.CreatedAt, Data: canon, Canonical: true})
	if err != nil {
		return hookd.Errorf(hookd.EINVALID, "%s%s", prefix, hookd.ErrorMessage(err))
	}
	ev.Payload = payload
	return nil
}

// checkSchema validates an event's canonical data against its type's
// schema, if the type has one.
func (s *Service) checkSchema(et *hookd.EventType, data []byte, prefix string) error {
	if et == nil || len(et.Schema) == 0 {
		return nil
	}
	schema, err := s.schemas.Get(et.Name, et.Schema)
	if err != nil {
		// The catalog only keeps schemas that compiled; one that no
		// longer does is the server's fault, not the publisher's.
		return fmt.Errorf("compile the schema of event type %q: %w", et.Name, err)
	}
	err = schema.Validate(data)
	var v *eventschema.Violation
	if errors.As(err, &v) {
		return hookd.Errorf(hookd.EINVALID, "%sdata does not match the schema of event type %q: at %q: %s", prefix, et.Name, v.Pointer, v.Message)
	}
	if err != nil {
		return hookd.Errorf(hookd.EINVALID, "%sdata: %s", prefix, err)
	}
	return nil
}

// TestInput is the body of a test event request.
type TestInput struct {
	Type *string         `json:"type"`
	Data json.RawMessage `json:"data"`
}

// SendTest publishes a synthetic event, marked as a test, to one webhook.
func (s *Service) SendTest(ctx context.Context, p *Principal, appRef, id string, in *TestInput) (*hookd.Event, error) {
	app, w, err := s.webhook(ctx, p, appRef, id)
	if err != nil {
		return nil, err
	}
	typ := TestEventType
	if in.Type != nil {
		if err := checkEventTypeName("type", *in.Type); err != nil {
			return nil, err
		}
		typ = *in.Type
	}
	et, err := s.store.GetEventType(ctx, typ)
	switch {
	case hookd.IsNotFound(err) && typ == TestEventType:
		et = nil // the default test type need not be in the catalog
	case hookd.IsNotFound(err):
		return nil, hookd.Errorf(hookd.EINVALID, "type %q is not in the event type catalog", typ)
	case err != nil:
		return nil, err
	}
	data := in.Data
	if len(data) == 0 {
		data, _ = json.Marshal(map[string]string{"webhook_id": w.ID, "message": "This is a test event from hookd."})
	}
	now := s.now()
	ev := &hookd.Event{ID: s.cfg.NewID(hookd.EventIDPrefix), AppID: app.ID, Type: typ, Test: true, CreatedAt: now}
	if err := s.render(app, ev, data, ""); err != nil {
		return nil, err
	}
	if err := s.checkSchema(et, ev.Data, ""); err != nil {
		return nil, err
	}
	results, err := s.commit(ctx, &store.PublishParams{AppID: app.ID, Now: now, Events: []*store.PublishEvent{{Event: ev, OnlyWebhookID: w.ID}}})
	if err != nil {
		return nil, err
	}
	s.cfg.Observer.Published(1)
	s.wakeIfDue(results)
	return s.store.GetEvent(ctx, app.ID, ev.ID)
}

// GetEvent returns one event with its deliveries.
func (s *Service) GetEvent(ctx context.Context, p *Principal, appRef, id string) (*hookd.Event, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, err
	}
	return s.store.GetEvent(ctx, app.ID, id)
}

// ListEvents lists an app's recent events, or one webhook's.
func (s *Service) ListEvents(ctx context.Context, p *Principal, appRef, webhookID string, page store.Page) ([]*hookd.Event, string, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, "", err
	}
	if webhookID != "" {
		if _, err := s.store.GetWebhook(ctx, app.ID, webhookID); err != nil {
			return nil, "", err
		}
	}
	return s.store.ListEvents(ctx, store.EventFilter{AppID: app.ID, WebhookID: webhookID}, page)
}

// ListDeliveries lists a webhook's deliveries, optionally of one status.
func (s *Service) ListDeliveries(ctx context.Context, p *Principal, appRef, webhookID, status string, page store.Page) ([]*hookd.Delivery, string, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, "", err
	}
	if err := checkDeliveryStatus(status); err != nil {
		return nil, "", err
	}
	if webhookID != "" {
		if _, err := s.store.GetWebhook(ctx, app.ID, webhookID); err != nil {
			return nil, "", err
		}
	}
	return s.store.ListDeliveries(ctx, store.DeliveryFilter{AppID: app.ID, WebhookID: webhookID, Status: status}, page)
}

// GetDelivery returns one delivery with all its attempts.
func (s *Service) GetDelivery(ctx context.Context, p *Principal, appRef, id string) (*hookd.Delivery, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, err
	}
	return s.store.GetDelivery(ctx, app.ID, id)
}

// RetryDelivery makes a delivery due now, also a failed one.
func (s *Service) RetryDelivery(ctx context.Context, p *Principal, appRef, id string) (*hookd.Delivery, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, err
	}
	d, err := s.store.RetryDelivery(ctx, app.ID, id, s.now())
	if err != nil {
		return nil, err
	}
	s.cfg.Wake()
	return d, nil
}
