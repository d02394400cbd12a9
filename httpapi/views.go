package httpapi

import (
	"encoding/json"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/service"
)

// The views: the domain shown as the API's JSON bodies, package api.

func ts(t time.Time) api.Time { return api.Time{Time: t} }

func tsp(t *time.Time) *api.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	return &api.Time{Time: *t}
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

func appView(a *hookd.App, withSecret bool) *api.App {
	v := &api.App{ID: a.ID, UID: str(a.UID), Name: a.Name, ContactEmail: str(a.ContactEmail), Profile: a.Profile,
		CreatedAt: ts(a.CreatedAt), UpdatedAt: ts(a.UpdatedAt)}
	if withSecret {
		v.DefaultSecret = a.DefaultSecret
	}
	return v
}

func keyView(k *hookd.AppKey, plain string) *api.Key {
	return &api.Key{ID: k.ID, AppID: k.AppID, Name: str(k.Name), Key: plain, CreatedAt: ts(k.CreatedAt)}
}

func eventTypeView(et *hookd.EventType) *api.EventType {
	v := &api.EventType{Name: et.Name, Description: str(et.Description), Status: et.Status, Schema: et.Schema,
		CreatedAt: ts(et.CreatedAt), UpdatedAt: ts(et.UpdatedAt)}
	if len(v.Schema) == 0 {
		v.Schema = json.RawMessage("null")
	}
	return v
}

func webhookView(v *service.WebhookView, withSecret bool) *api.Webhook {
	w := v.Webhook
	out := &api.Webhook{
		ID: w.ID, AppID: w.AppID, URL: w.URL, Events: w.Events, Status: w.Status, Enabled: w.Status != hookd.WebhookDisabled,
		Name: str(w.Name), Description: str(w.Description), Headers: hookd.RedactHeaders(w.Headers), RateLimit: num(w.RateLimit), Ordered: w.Ordered,
		Metadata: w.Metadata, CreatedAt: ts(w.CreatedAt), UpdatedAt: ts(w.UpdatedAt), ConsecutiveFailures: w.ConsecutiveFailures,
		DisabledReason: str(w.DisabledReason), Listen: w.Listen(),
	}
	if w.PreviousSecret != "" && w.PreviousSecretExpiresAt.After(time.Now()) {
		out.PreviousSecretExpiresAt = tsp(&w.PreviousSecretExpiresAt)
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
		out.Secret = w.Secret
	}
	return out
}

func eventView(e *hookd.Event) *api.Event {
	return &api.Event{ID: e.ID, AppID: e.AppID, Type: e.Type, Data: e.Data, IdempotencyKey: str(e.IdempotencyKey),
		CreatedAt: ts(e.CreatedAt), Test: e.Test, Deliveries: summaries(e.Deliveries)}
}

func summaries(ds []*hookd.DeliverySummary) []api.DeliverySummary {
	out := make([]api.DeliverySummary, 0, len(ds))
	for _, d := range ds {
		out = append(out, api.DeliverySummary{ID: d.ID, WebhookID: str(d.WebhookID), WebhookName: str(d.WebhookName),
			URL: d.URL, Status: d.Status, AttemptCount: d.AttemptCount})
	}
	return out
}

func batchItemView(p *service.Published) *api.BatchItem {
	e := p.Event
	return &api.BatchItem{ID: e.ID, AppID: e.AppID, Type: e.Type, IdempotencyKey: str(e.IdempotencyKey),
		CreatedAt: ts(e.CreatedAt), Test: e.Test, Deliveries: p.Deliveries}
}

func publishedView(p *service.Published) *api.Published {
	return &api.Published{BatchItem: *batchItemView(p), Data: p.Event.Data}
}

func deliveryView(d *hookd.Delivery) *api.Delivery {
	v := &api.Delivery{ID: d.ID, AppID: d.AppID, EventID: d.EventID, SourceID: str(d.SourceID), WebhookID: str(d.WebhookID), URL: str(d.URL), Status: d.Status,
		AttemptCount: d.AttemptCount, NextAttemptAt: tsp(d.NextAttemptAt), LastStatusCode: num(d.LastStatusCode), Test: d.Test,
		CreatedAt: ts(d.CreatedAt), UpdatedAt: ts(d.UpdatedAt)}
	if d.Attempts != nil {
		v.Attempts = make([]api.Attempt, 0, len(d.Attempts))
		for _, a := range d.Attempts {
			headers := a.RequestHeaders
			if headers == nil {
				headers = map[string]string{}
			}
			respHeaders := a.ResponseHeaders
			if respHeaders == nil {
				respHeaders = map[string]string{}
			}
			v.Attempts = append(v.Attempts, api.Attempt{ID: a.ID, Attempt: a.Attempt, At: ts(a.At), DurationMs: a.Duration.Milliseconds(),
				StatusCode: num(a.StatusCode), RequestHeaders: headers, ResponseHeaders: respHeaders, ResponseBody: str(a.ResponseBody), Error: str(a.Error)})
		}
	}
	return v
}
