package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/listen"
	"github.com/hookd/hookd/service"
)

// keepAliveEvery is how often a quiet stream sends a comment, so that
// proxies and the CLI see it alive.
const keepAliveEvery = 15 * time.Second

func (s *Server) listenRoutes(auth func(handler) http.HandlerFunc) {
	s.handle("POST /v1/apps/{app}/listen", auth(s.startListening))
	s.handle("GET /v1/apps/{app}/listen/{id}/stream", auth(s.listenStream))
	s.handle("POST /v1/apps/{app}/listen/{id}/results", auth(s.listenResult))
}

func (s *Server) startListening(w http.ResponseWriter, r *http.Request) error {
	if err := s.canListen(); err != nil {
		return err
	}
	var in service.ListenInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	hook, created, err := s.svc.Listen(r.Context(), principal(r), r.PathValue("app"), &in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, s.listenView(webhookView(&service.WebhookView{Webhook: hook}, true)))
	return nil
}

// listenView shows a listen webhook as its CLI gets it.
func (s *Server) listenView(v *api.Webhook) *api.ListenWebhook {
	return &api.ListenWebhook{Webhook: *v, ListenTimeoutSeconds: s.cfg.ListenTimeout.Seconds()}
}

// canListen refuses listen routes on a process that runs no delivery
// engine: nothing there would hand the stream any request.
func (s *Server) canListen() error {
	if s.cfg.Listen == nil {
		return hookd.Errorf(hookd.EINVALID, "this server runs no delivery engine (role api); point hookd listen at one that does")
	}
	return nil
}

// listenStream sends the listen webhook's requests as server-sent events
// until the CLI goes away, a newer connection of the same webhook takes
// its place, or the server stops; meanwhile it keeps the webhook alive.
func (s *Server) listenStream(w http.ResponseWriter, r *http.Request) error {
	if err := s.canListen(); err != nil {
		return err
	}
	ctx := r.Context()
	hook, err := s.svc.ListenWebhook(ctx, principal(r), r.PathValue("app"), r.PathValue("id"))
	if err == nil {
		err = s.svc.KeepListening(ctx, hook.ID)
	}
	if err != nil {
		return err
	}
	sess, err := s.cfg.Listen.Attach(hook.ID)
	if err != nil {
		return err
	}
	defer s.cfg.Listen.Detach(sess)
	rc := http.NewResponseController(w)
	// The server's write timeout would cut the stream after a minute.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		s.log.WarnContext(ctx, "the listen stream keeps the server's write timeout", "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx and alike: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	send := func(format string, args ...any) bool {
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(": listening for webhook %s\n\n", hook.ID) {
		return nil
	}
	keepAlive := time.NewTicker(keepAliveEvery)
	defer keepAlive.Stop()
	touch := time.NewTicker(max(s.cfg.ListenTimeout/3, 10*time.Millisecond))
	defer touch.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sess.Done():
			return nil
		case req := <-sess.Requests():
			data, err := json.Marshal(req)
			if err != nil || !send("event: request\ndata: %s\n\n", data) {
				return nil
			}
		case <-keepAlive.C:
			if !send(": keep-alive\n\n") {
				return nil
			}
		case <-touch.C:
			if err := s.svc.KeepListening(ctx, hook.ID); hookd.IsNotFound(err) {
				// Deleted meanwhile: the CLI registers again.
				send("event: gone\ndata: {}\n\n")
				return nil
			} else if err != nil {
				s.log.WarnContext(ctx, "keep a listen webhook alive", "webhook_id", hook.ID, "err", err)
			}
		}
	}
}

func (s *Server) listenResult(w http.ResponseWriter, r *http.Request) error {
	if err := s.canListen(); err != nil {
		return err
	}
	var res listen.Result
	if err := decode(w, r, smallBody, &res); err != nil {
		return err
	}
	hook, err := s.svc.ListenWebhook(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		return err
	}
	if res.ID == "" {
		return hookd.Errorf(hookd.EINVALID, "id is required: the id of the request this result answers")
	}
	if err := s.cfg.Listen.Complete(hook.ID, res); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}
