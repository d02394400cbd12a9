package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/receive"
	"github.com/hookd/hookd/service"
	"github.com/hookd/hookd/store"
)

func (s *Server) sourceRoutes(auth func(handler) http.HandlerFunc) {
	s.handle("POST /v1/apps/{app}/sources", auth(s.createSource))
	s.handle("GET /v1/apps/{app}/sources", auth(s.listSources))
	s.handle("GET /v1/apps/{app}/sources/events", auth(s.listInboundEvents))
	s.handle("GET /v1/apps/{app}/sources/{id}", auth(s.getSource))
	s.handle("PATCH /v1/apps/{app}/sources/{id}", auth(s.updateSource))
	s.handle("DELETE /v1/apps/{app}/sources/{id}", auth(s.deleteSource))
	s.handle("POST /v1/apps/{app}/sources/{id}/delete", auth(s.deleteSource))
	s.handle("POST /v1/apps/{app}/sources/{id}/rotate", auth(s.rotateSource))
	s.handle("POST /v1/apps/{app}/sources/{id}/test", auth(s.testSource))
	s.handle("GET /v1/apps/{app}/sources/{id}/events", auth(s.listSourceEvents))
	s.handle("GET /v1/apps/{app}/sources/{id}/deliveries", auth(s.listSourceDeliveries))
	s.handle("POST /v1/verify", auth(s.verify))
	s.handle("POST /v1/receive/{id}", s.api(s.receive))
}

// receiveURL is where third parties send a source's events: under the
// configured public URL, or the origin the request came to.
func (s *Server) receiveURL(r *http.Request, id string) string {
	base := s.cfg.PublicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/v1/receive/" + id
}

func (s *Server) sourceView(r *http.Request, v *service.SourceView, withSecret bool) *api.Source {
	src := v.Source
	out := &api.Source{ID: src.ID, AppID: src.AppID, Name: src.Name, Provider: src.Provider, Status: src.Status,
		Enabled: src.Status != hookd.SourceDisabled, ForwardURL: str(src.ForwardURL), Events: src.Events, Description: str(src.Description),
		HeaderPrefix: str(src.HeaderPrefix), ToleranceSeconds: src.ToleranceSeconds, ReceiveURL: s.receiveURL(r, src.ID),
		CreatedAt: ts(src.CreatedAt), UpdatedAt: ts(src.UpdatedAt)}
	if out.Events == nil {
		out.Events = []string{}
	}
	if v.Stats != nil {
		out.EventCount, out.LastEventAt = v.Stats.EventCount, tsp(v.Stats.LastEventAt)
	}
	if withSecret {
		out.Secret = src.Secret
	}
	return out
}

func inboundView(e *hookd.Event) *api.InboundEvent {
	in := e.Inbound
	if in == nil {
		in = &hookd.Inbound{}
	}
	status := "received"
	if in.Filtered {
		status = "filtered"
	}
	v := &api.InboundEvent{ID: e.ID, AppID: e.AppID, SourceID: in.SourceID, SourceName: in.SourceName, Type: str(e.Type),
		ProviderEventID: str(in.ProviderEventID), Status: status, ContentType: str(in.ContentType), Headers: in.Headers,
		Body: string(e.Payload), Data: e.Data, Test: e.Test, CreatedAt: ts(e.CreatedAt), Deliveries: summaries(e.Deliveries)}
	if v.Headers == nil {
		v.Headers = map[string]string{}
	}
	if len(v.Data) == 0 {
		v.Data = json.RawMessage("null")
	}
	return v
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) error {
	var in service.SourceInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	v, err := s.svc.CreateSource(r.Context(), principal(r), r.PathValue("app"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.sourceView(r, v, true))
	return nil
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) error {
	return listed(w, r, "sources", func(v *service.SourceView) *api.Source { return s.sourceView(r, v, false) }, func(p store.Page) ([]*service.SourceView, string, error) {
		return s.svc.ListSources(r.Context(), principal(r), r.PathValue("app"), p)
	})
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.GetSource(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sourceView(r, v, false))
	return nil
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request) error {
	var in service.SourceInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	v, err := s.svc.UpdateSource(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sourceView(r, v, false))
	return nil
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteSource(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

func (s *Server) rotateSource(w http.ResponseWriter, r *http.Request) error {
	var in service.RotateInput
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	v, err := s.svc.RotateSourceSecret(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sourceView(r, v, true))
	return nil
}

func (s *Server) testSource(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.GetSource(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		return err
	}
	res, err := s.recv.Test(r.Context(), v.Source)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, inboundView(res.Event))
	return nil
}

func (s *Server) listSourceEvents(w http.ResponseWriter, r *http.Request) error {
	return s.inboundEvents(w, r, r.PathValue("id"))
}

func (s *Server) listInboundEvents(w http.ResponseWriter, r *http.Request) error {
	return s.inboundEvents(w, r, "")
}

func (s *Server) inboundEvents(w http.ResponseWriter, r *http.Request, sourceID string) error {
	return listed(w, r, "events", inboundView, func(p store.Page) ([]*hookd.Event, string, error) {
		if sourceID == "" && p.Limit > 100 {
			p.Limit = 100 // recent events across all sources: up to 100
		}
		return s.svc.ListSourceEvents(r.Context(), principal(r), r.PathValue("app"), sourceID, p)
	})
}

func (s *Server) listSourceDeliveries(w http.ResponseWriter, r *http.Request) error {
	return listed(w, r, "deliveries", deliveryView, func(p store.Page) ([]*hookd.Delivery, string, error) {
		return s.svc.ListSourceDeliveries(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), r.URL.Query().Get("status"), p)
	})
}

// receive is the public endpoint third parties POST to. It answers as
// soon as the request is verified and stored.
func (s *Server) receive(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxEventBytes)
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.recv.TooLarge(r.Context(), r.PathValue("id"))
		return hookd.Errorf(hookd.ETOOLARGE, "the request body must be at most %d bytes", s.cfg.MaxEventBytes)
	}
	if err != nil {
		return hookd.Errorf(hookd.EINVALID, "reading the request body failed")
	}
	res, err := s.recv.Receive(r.Context(), r.PathValue("id"), r.Header, body)
	if err != nil {
		return err
	}
	answer := map[string]any{"received": true, "id": res.Event.ID}
	if res.Duplicate {
		answer["duplicate"] = true
	}
	if res.Challenge != "" {
		answer["challenge"] = res.Challenge
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// verifyInput is the body of POST /v1/verify.
type verifyInput struct {
	Scheme           string            `json:"scheme"`
	HeaderPrefix     string            `json:"header_prefix"`
	Secret           string            `json:"secret"`
	SourceID         string            `json:"source_id"`
	Headers          map[string]string `json:"headers"`
	Body             *string           `json:"body"`
	ToleranceSeconds *int              `json:"tolerance_seconds"`
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	var in verifyInput
	if err := decode(w, r, s.cfg.MaxEventBytes+envelopeSlack, &in); err != nil {
		return err
	}
	if in.Body == nil {
		return hookd.Errorf(hookd.EINVALID, "body is required: the raw request body as a string")
	}
	if err := service.CheckVerify(in.Scheme, in.ToleranceSeconds); err != nil {
		return err
	}
	p := &receive.VerifyParams{Scheme: in.Scheme, HeaderPrefix: in.HeaderPrefix, Secret: in.Secret, Headers: in.Headers, Body: []byte(*in.Body)}
	if in.ToleranceSeconds != nil {
		p.Tolerance = time.Duration(*in.ToleranceSeconds) * time.Second
	}
	switch {
	case in.SourceID != "":
		src, err := s.svc.FindSource(r.Context(), principal(r), in.SourceID)
		if err != nil {
			return err
		}
		p.Source = src
	case in.Secret == "" || in.Scheme == "":
		return hookd.Errorf(hookd.EINVALID, "scheme and secret are required unless source_id is given")
	}
	if err := s.recv.Verify(p); err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"valid": false, "reason": err.Error()})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "reason": nil})
	return nil
}
