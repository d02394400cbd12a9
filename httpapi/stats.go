package httpapi

import (
	"net/http"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
)

// statsRoutes registers the statistics routes.
func (s *Server) statsRoutes(auth func(handler) http.HandlerFunc) {
	s.handle("GET /v1/apps/{app}/webhooks/{id}/stats", auth(s.webhookStats))
	s.handle("GET /v1/apps/{app}/stats", auth(s.appStats))
	s.handle("GET /v1/apps/{app}/sources/{id}/stats", auth(s.sourceStats))
	s.handle("GET /v1/stats", auth(s.serverStats))
}

// statsQuery reads ?since=&until=&interval=.
func statsQuery(r *http.Request) (hookd.StatsQuery, error) {
	q := r.URL.Query()
	var out hookd.StatsQuery
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &out.Since}, {"until", &out.Until}} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return out, hookd.Errorf(hookd.EINVALID, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z", f.name)
		}
		*f.dst = t
	}
	if v := q.Get("interval"); v != "" {
		out.Interval = hookd.StatsInterval(v)
		if out.Interval.Duration() == 0 {
			return out, hookd.Errorf(hookd.EINVALID, "interval must be minute, hour or day")
		}
	}
	return out, nil
}

func (s *Server) webhookStats(w http.ResponseWriter, r *http.Request) error {
	q, err := statsQuery(r)
	if err != nil {
		return err
	}
	st, err := s.svc.WebhookStats(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.NewDeliveryStats(st))
	return nil
}

func (s *Server) appStats(w http.ResponseWriter, r *http.Request) error {
	q, err := statsQuery(r)
	if err != nil {
		return err
	}
	st, err := s.svc.AppStats(r.Context(), principal(r), r.PathValue("app"), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.NewDeliveryStats(st))
	return nil
}

func (s *Server) sourceStats(w http.ResponseWriter, r *http.Request) error {
	q, err := statsQuery(r)
	if err != nil {
		return err
	}
	st, err := s.svc.SourceStats(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.NewSourceStats(st))
	return nil
}

func (s *Server) serverStats(w http.ResponseWriter, r *http.Request) error {
	q, err := statsQuery(r)
	if err != nil {
		return err
	}
	st, err := s.svc.ServerStats(r.Context(), principal(r), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.NewServerStats(st))
	return nil
}
