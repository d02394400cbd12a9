package httpapi

import (
	"net/http"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/service"
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
	auth := s.authenticate
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
}

// smallBody bounds management request bodies; envelopeSlack is what a
// publish body may carry beside its data.
const smallBody, envelopeSlack = 64 << 10, 16 << 10

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) {
	var in service.AppInput
	if err := decode(w, r, smallBody, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	app, err := s.svc.CreateApp(r.Context(), principal(r), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, appView(app, true))
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	apps, next, err := s.svc.ListApps(r.Context(), principal(r), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views := make([]*appJSON, len(apps))
	for i, a := range apps {
		views[i] = appView(a, false)
	}
	list(w, "apps", views, next)
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request) {
	app, err := s.svc.GetApp(r.Context(), principal(r), r.PathValue("app"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, appView(app, false))
}

func (s *Server) updateApp(w http.ResponseWriter, r *http.Request) {
	var in service.AppInput
	if err := decode(w, r, smallBody, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	app, err := s.svc.UpdateApp(r.Context(), principal(r), r.PathValue("app"), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, appView(app, false))
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.DeleteApp(r.Context(), principal(r), r.PathValue("app")); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) rotateApp(w http.ResponseWriter, r *http.Request) {
	app, err := s.svc.RotateAppSecret(r.Context(), principal(r), r.PathValue("app"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, appView(app, true))
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	var in service.KeyInput
	if err := decode(w, r, smallBody, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	key, plain, err := s.svc.CreateAppKey(r.Context(), principal(r), r.PathValue("app"), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, keyView(key, plain))
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	keys, next, err := s.svc.ListAppKeys(r.Context(), principal(r), r.PathValue("app"), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views := make([]*keyJSON, len(keys))
	for i, k := range keys {
		views[i] = keyView(k, "")
	}
	list(w, "keys", views, next)
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.DeleteAppKey(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) createEventType(w http.ResponseWriter, r *http.Request) {
	var in service.EventTypeInput
	if err := decode(w, r, smallBody, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	et, err := s.svc.CreateEventType(r.Context(), principal(r), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, eventTypeView(et))
}

func (s *Server) listEventTypes(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ets, next, err := s.svc.ListEventTypes(r.Context(), principal(r), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views := make([]*eventTypeJSON, len(ets))
	for i, et := range ets {
		views[i] = eventTypeView(et)
	}
	list(w, "event_types", views, next)
}

func (s *Server) getEventType(w http.ResponseWriter, r *http.Request) {
	et, err := s.svc.GetEventType(r.Context(), principal(r), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventTypeView(et))
}

func (s *Server) updateEventType(w http.ResponseWriter, r *http.Request) {
	var in service.EventTypeInput
	if err := decode(w, r, smallBody, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	et, err := s.svc.UpdateEventType(r.Context(), principal(r), r.PathValue("name"), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventTypeView(et))
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in service.WebhookInput
	if err := decode(w, r, smallBody, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.svc.CreateWebhook(r.Context(), principal(r), r.PathValue("app"), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, webhookView(v, true))
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hooks, next, err := s.svc.ListWebhooks(r.Context(), principal(r), r.PathValue("app"), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views := make([]*webhookJSON, len(hooks))
	for i, h := range hooks {
		views[i] = webhookView(h, false)
	}
	list(w, "webhooks", views, next)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	v, err := s.svc.GetWebhook(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, webhookView(v, false))
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	var in service.WebhookInput
	if err := decode(w, r, smallBody, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.svc.UpdateWebhook(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, webhookView(v, false))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.DeleteWebhook(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request) {
	var in service.RotateInput
	if err := decode(w, r, smallBody, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.svc.RotateWebhookSecret(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, webhookView(v, true))
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) {
	var in service.TestInput
	if err := decode(w, r, s.cfg.MaxEventBytes, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	ev, err := s.svc.SendTest(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, eventView(ev))
}

func (s *Server) recoverWebhook(w http.ResponseWriter, r *http.Request) {
	var in service.RecoverInput
	if err := decode(w, r, smallBody, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	n, done, err := s.svc.RecoverWebhook(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"recovered": n, "complete": done})
}

func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	s.deliveries(w, r, r.PathValue("id"))
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := webhookFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.deliveries(w, r, id)
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

func (s *Server) deliveries(w http.ResponseWriter, r *http.Request, webhookID string) {
	p, err := page(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ds, next, err := s.svc.ListDeliveries(r.Context(), principal(r), r.PathValue("app"), webhookID, r.URL.Query().Get("status"), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views := make([]*deliveryJSON, len(ds))
	for i, d := range ds {
		views[i] = deliveryView(d)
	}
	list(w, "deliveries", views, next)
}

func (s *Server) listWebhookEvents(w http.ResponseWriter, r *http.Request) {
	s.events(w, r, r.PathValue("id"))
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	id, err := webhookFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.events(w, r, id)
}

func (s *Server) events(w http.ResponseWriter, r *http.Request, webhookID string) {
	p, err := page(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, next, err := s.svc.ListEvents(r.Context(), principal(r), r.PathValue("app"), webhookID, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views := make([]*eventJSON, len(evs))
	for i, e := range evs {
		views[i] = eventView(e)
	}
	list(w, "events", views, next)
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := s.svc.GetEvent(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventView(ev))
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	var in service.PublishInput
	if err := decode(w, r, s.cfg.MaxEventBytes+envelopeSlack, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.svc.Publish(r.Context(), principal(r), r.PathValue("app"), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusAccepted
	if p.Duplicate {
		status = http.StatusOK
	}
	writeJSON(w, status, publishedView(p))
}

func (s *Server) publishBatch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Events []*service.PublishInput `json:"events"`
	}
	if err := decode(w, r, s.cfg.MaxEventBytes*service.MaxBatch/8, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Events == nil {
		s.fail(w, r, hookd.Errorf(hookd.EINVALID, "events is required"))
		return
	}
	out, err := s.svc.PublishBatch(r.Context(), principal(r), r.PathValue("app"), in.Events)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views := make([]*batchItemJSON, len(out))
	for i, p := range out {
		views[i] = batchItemView(p)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"events": views})
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.GetDelivery(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deliveryView(d))
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.RetryDelivery(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, deliveryView(d))
}
