package httpapi

import (
	"net/http"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/service"
	"github.com/hookd/hookd/store"
)

func (s *Server) routes() {
	s.handle("GET /healthz", s.health)
	s.handle("GET /readyz", s.ready)
	for pattern, h := range s.cfg.Extra {
		s.handle(pattern, h.ServeHTTP)
	}
	if s.cfg.HealthOnly {
		return
	}
	s.handle("GET /v1/openapi.json", s.openAPI)
	auth := func(h handler) http.HandlerFunc { return s.api(s.authenticate(h)) }
	s.handle("POST /v1/apps", auth(s.createApp))
	s.handle("GET /v1/apps", auth(s.listApps))
	s.handle("GET /v1/apps/{app}", auth(s.getApp))
	s.handle("PATCH /v1/apps/{app}", auth(s.updateApp))
	s.handle("DELETE /v1/apps/{app}", auth(s.deleteApp))
	s.handle("POST /v1/apps/{app}/rotate", auth(s.rotateApp))

	s.handle("POST /v1/apps/{app}/keys", auth(s.createKey))
	s.handle("GET /v1/apps/{app}/keys", auth(s.listKeys))
	s.handle("DELETE /v1/apps/{app}/keys/{id}", auth(s.deleteKey))

	s.handle("POST /v1/event-types", auth(s.createEventType))
	s.handle("GET /v1/event-types", auth(s.listEventTypes))
	s.handle("GET /v1/event-types/{name}", auth(s.getEventType))
	s.handle("PATCH /v1/event-types/{name}", auth(s.updateEventType))

	s.handle("POST /v1/apps/{app}/webhooks", auth(s.createWebhook))
	s.handle("GET /v1/apps/{app}/webhooks", auth(s.listWebhooks))
	s.handle("GET /v1/apps/{app}/webhooks/{id}", auth(s.getWebhook))
	s.handle("PATCH /v1/apps/{app}/webhooks/{id}", auth(s.updateWebhook))
	s.handle("DELETE /v1/apps/{app}/webhooks/{id}", auth(s.deleteWebhook))
	s.handle("POST /v1/apps/{app}/webhooks/{id}/delete", auth(s.deleteWebhook))
	s.handle("POST /v1/apps/{app}/webhooks/{id}/rotate", auth(s.rotateWebhook))
	s.handle("POST /v1/apps/{app}/webhooks/{id}/test", auth(s.testWebhook))
	s.handle("POST /v1/apps/{app}/webhooks/{id}/recover", auth(s.recoverWebhook))
	s.handle("GET /v1/apps/{app}/webhooks/{id}/deliveries", auth(s.listWebhookDeliveries))
	s.handle("GET /v1/apps/{app}/webhooks/{id}/events", auth(s.listWebhookEvents))

	s.handle("POST /v1/apps/{app}/events", auth(s.publish))
	s.handle("POST /v1/apps/{app}/events/batch", auth(s.publishBatch))
	s.handle("GET /v1/apps/{app}/events", auth(s.listEvents))
	s.handle("GET /v1/apps/{app}/events/{id}", auth(s.getEvent))
	s.handle("GET /v1/apps/{app}/deliveries", auth(s.listDeliveries))
	s.handle("GET /v1/apps/{app}/deliveries/{id}", auth(s.getDelivery))
	s.handle("POST /v1/apps/{app}/deliveries/{id}/retry", auth(s.retryDelivery))
	s.sourceRoutes(auth)
	s.listenRoutes(auth)
	s.statsRoutes(auth)
}

// smallBody bounds management request bodies; envelopeSlack is what a
// publish body may carry beside its data.
const smallBody, envelopeSlack = 64 << 10, 16 << 10

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) error {
	var in service.AppInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	app, err := s.svc.CreateApp(r.Context(), principal(r), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, appView(app, true))
	return nil
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) error {
	return listed(w, r, "apps", func(a *hookd.App) *api.App { return appView(a, false) }, func(p store.Page) ([]*hookd.App, string, error) {
		return s.svc.ListApps(r.Context(), principal(r), p)
	})
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request) error {
	app, err := s.svc.GetApp(r.Context(), principal(r), r.PathValue("app"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appView(app, false))
	return nil
}

func (s *Server) updateApp(w http.ResponseWriter, r *http.Request) error {
	var in service.AppInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	app, err := s.svc.UpdateApp(r.Context(), principal(r), r.PathValue("app"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appView(app, false))
	return nil
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteApp(r.Context(), principal(r), r.PathValue("app")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

func (s *Server) rotateApp(w http.ResponseWriter, r *http.Request) error {
	app, err := s.svc.RotateAppSecret(r.Context(), principal(r), r.PathValue("app"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appView(app, true))
	return nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var in service.KeyInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	key, plain, err := s.svc.CreateAppKey(r.Context(), principal(r), r.PathValue("app"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, keyView(key, plain))
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	return listed(w, r, "keys", func(k *hookd.AppKey) *api.Key { return keyView(k, "") }, func(p store.Page) ([]*hookd.AppKey, string, error) {
		return s.svc.ListAppKeys(r.Context(), principal(r), r.PathValue("app"), p)
	})
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteAppKey(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

func (s *Server) createEventType(w http.ResponseWriter, r *http.Request) error {
	var in service.EventTypeInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	et, err := s.svc.CreateEventType(r.Context(), principal(r), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, eventTypeView(et))
	return nil
}

func (s *Server) listEventTypes(w http.ResponseWriter, r *http.Request) error {
	return listed(w, r, "event_types", eventTypeView, func(p store.Page) ([]*hookd.EventType, string, error) {
		return s.svc.ListEventTypes(r.Context(), principal(r), p)
	})
}

func (s *Server) getEventType(w http.ResponseWriter, r *http.Request) error {
	et, err := s.svc.GetEventType(r.Context(), principal(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, eventTypeView(et))
	return nil
}

func (s *Server) updateEventType(w http.ResponseWriter, r *http.Request) error {
	var in service.EventTypeInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	et, err := s.svc.UpdateEventType(r.Context(), principal(r), r.PathValue("name"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, eventTypeView(et))
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in service.WebhookInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	v, err := s.svc.CreateWebhook(r.Context(), principal(r), r.PathValue("app"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, webhookView(v, true))
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	return listed(w, r, "webhooks", func(h *service.WebhookView) *api.Webhook { return webhookView(h, false) }, func(p store.Page) ([]*service.WebhookView, string, error) {
		return s.svc.ListWebhooks(r.Context(), principal(r), r.PathValue("app"), p)
	})
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.GetWebhook(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookView(v, false))
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	var in service.WebhookInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	v, err := s.svc.UpdateWebhook(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookView(v, false))
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteWebhook(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request) error {
	var in service.RotateInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	v, err := s.svc.RotateWebhookSecret(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookView(v, true))
	return nil
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) error {
	var in service.TestInput
	if err := decode(w, r, s.cfg.MaxEventBytes, &in); err != nil {
		return err
	}
	ev, err := s.svc.SendTest(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, eventView(ev))
	return nil
}

func (s *Server) recoverWebhook(w http.ResponseWriter, r *http.Request) error {
	var in service.RecoverInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	n, done, err := s.svc.RecoverWebhook(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"recovered": n, "complete": done})
	return nil
}

func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	return s.deliveries(w, r, r.PathValue("id"))
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookFilter(r)
	if err != nil {
		return err
	}
	return s.deliveries(w, r, id)
}

// webhookFilter reads ?webhook_id=, which must be a webhook's id when
// given.
func webhookFilter(r *http.Request) (string, error) {
	id := r.URL.Query().Get("webhook_id")
	if id != "" && !ident.Valid(id) {
		return "", hookd.Errorf(hookd.EINVALID, "webhook_id must be a webhook's id")
	}
	return id, nil
}

func (s *Server) deliveries(w http.ResponseWriter, r *http.Request, webhookID string) error {
	return listed(w, r, "deliveries", deliveryView, func(p store.Page) ([]*hookd.Delivery, string, error) {
		return s.svc.ListDeliveries(r.Context(), principal(r), r.PathValue("app"), webhookID, r.URL.Query().Get("status"), p)
	})
}

func (s *Server) listWebhookEvents(w http.ResponseWriter, r *http.Request) error {
	return s.events(w, r, r.PathValue("id"))
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookFilter(r)
	if err != nil {
		return err
	}
	return s.events(w, r, id)
}

func (s *Server) events(w http.ResponseWriter, r *http.Request, webhookID string) error {
	return listed(w, r, "events", eventView, func(p store.Page) ([]*hookd.Event, string, error) {
		return s.svc.ListEvents(r.Context(), principal(r), r.PathValue("app"), webhookID, p)
	})
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	ev, err := s.svc.GetEvent(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, eventView(ev))
	return nil
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request) error {
	var in service.PublishInput
	if err := decode(w, r, s.cfg.MaxEventBytes+envelopeSlack, &in); err != nil {
		return err
	}
	p, err := s.svc.Publish(r.Context(), principal(r), r.PathValue("app"), &in)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if p.Duplicate {
		status = http.StatusOK
	}
	writeJSON(w, status, publishedView(p))
	return nil
}

func (s *Server) publishBatch(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Events []*service.PublishInput `json:"events"`
	}
	if err := decode(w, r, s.cfg.MaxEventBytes*service.MaxBatch/8, &in); err != nil {
		return err
	}
	if in.Events == nil {
		return hookd.Errorf(hookd.EINVALID, "events is required")
	}
	out, err := s.svc.PublishBatch(r.Context(), principal(r), r.PathValue("app"), in.Events)
	if err != nil {
		return err
	}
	views := make([]*api.BatchItem, len(out))
	for i, p := range out {
		views[i] = batchItemView(p)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"events": views})
	return nil
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.GetDelivery(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deliveryView(d))
	return nil
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.RetryDelivery(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, deliveryView(d))
	return nil
}
