package service

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/egress"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/webhook"
)

const (
	maxHeaders      = 50
	maxMetadataKeys = 50
	maxRateLimit    = 100_000
	maxGrace        = 7 * 24 * time.Hour
)

// WebhookInput is the body of a webhook create or PATCH; nil fields are
// absent.
type WebhookInput struct {
	URL         *string            `json:"url"`
	Events      *[]string          `json:"events"`
	Name        *string            `json:"name"`
	Description *string            `json:"description"`
	Secret      *string            `json:"secret"`
	Headers     *map[string]string `json:"headers"`
	RateLimit   *int               `json:"rate_limit"`
	Ordered     *bool              `json:"ordered"`
	Metadata    *map[string]string `json:"metadata"`
	Status      *string            `json:"status"`
	Enabled     *bool              `json:"enabled"`
}

// WebhookView is a webhook with its health, as the API shows it.
type WebhookView struct {
	*hookd.Webhook
	Health *hookd.WebhookHealth
}

// CreateWebhook registers a webhook and returns it with its secret.
func (s *Service) CreateWebhook(ctx context.Context, p *Principal, appRef string, in *WebhookInput) (*WebhookView, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, err
	}
	if in.URL == nil {
		return nil, hookd.Errorf(hookd.EINVALID, "url is required")
	}
	now := s.now()
	w := &hookd.Webhook{ID: s.cfg.NewID("wh"), AppID: app.ID, Status: hookd.WebhookActive, CreatedAt: now, UpdatedAt: now}
	if in.Events == nil {
		active, err := s.activeTypes(ctx)
		if err != nil {
			return nil, err
		}
		w.Events = active
	}
	if err := s.applyWebhook(ctx, app, w, in); err != nil {
		return nil, err
	}
	if w.Secret == "" {
		if w.Secret, err = webhook.NewSecret(); err != nil {
			return nil, err
		}
	}
	if err := s.store.CreateWebhook(ctx, w, app.Profile.MaxWebhooks); err != nil {
		return nil, err
	}
	return &WebhookView{Webhook: w, Health: &hookd.WebhookHealth{}}, nil
}

func (s *Service) activeTypes(ctx context.Context) ([]string, error) {
	all, err := s.store.AllEventTypes(ctx)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, et := range all {
		if et.Status == hookd.EventTypeActive {
			names = append(names, et.Name)
		}
	}
	return names, nil
}

// applyWebhook validates in and copies it onto w.
func (s *Service) applyWebhook(ctx context.Context, app *hookd.App, w *hookd.Webhook, in *WebhookInput) error {
	if in.URL != nil {
		if err := egress.CheckURL(ctx, "url", *in.URL, s.cfg.AllowPrivate, s.cfg.Resolver); err != nil {
			return err
		}
		w.URL = *in.URL
	}
	if in.Events != nil {
		events, err := s.checkFilter(ctx, "events", *in.Events)
		if err != nil {
			return err
		}
		w.Events = events
	}
	if in.Name != nil {
		// SPEC: name is 1-120 characters when given; leave it out for none.
		if err := checkName("name", *in.Name); err != nil {
			return err
		}
		w.Name = *in.Name
	}
	if in.Description != nil {
		if err := checkDescription(*in.Description); err != nil {
			return err
		}
		w.Description = *in.Description
	}
	if in.Secret != nil {
		if err := checkSecret("secret", app.Profile.Signature.Scheme, *in.Secret); err != nil {
			return err
		}
		w.Secret = *in.Secret
	}
	if in.Headers != nil {
		if err := checkHeaders(*in.Headers); err != nil {
			return err
		}
		headers, err := keepRedacted(*in.Headers, w.Headers)
		if err != nil {
			return err
		}
		w.Headers = headers
	}
	if in.RateLimit != nil {
		if *in.RateLimit < 0 || *in.RateLimit > maxRateLimit {
			return hookd.Errorf(hookd.EINVALID, "rate_limit must be between 0 (unlimited) and %d deliveries per second", maxRateLimit)
		}
		w.RateLimit = *in.RateLimit
	}
	if in.Ordered != nil {
		w.Ordered = *in.Ordered
	}
	if in.Metadata != nil {
		if len(*in.Metadata) > maxMetadataKeys {
			return hookd.Errorf(hookd.EINVALID, "metadata must have at most %d keys", maxMetadataKeys)
		}
		for k, v := range *in.Metadata {
			if len(k) > 256 || len(v) > 4096 {
				return hookd.Errorf(hookd.EINVALID, "metadata keys must be at most 256 bytes and values at most 4096")
			}
			if err := checkText("metadata keys", k, false); err != nil {
				return err
			}
			if err := checkText("metadata values", v, true); err != nil {
				return err
			}
		}
		w.Metadata = *in.Metadata
	}
	status, err := syncStatus(w.Status, in.Status, in.Enabled)
	if err != nil {
		return err
	}
	if status != w.Status {
		w.Status = status
		if status == hookd.WebhookDisabled {
			w.DisabledReason = "disabled through the API"
		}
	}
	return nil
}

// checkFilter validates an events filter: catalog names, "*" or prefix
// wildcards "job.*".
func (s *Service) checkFilter(ctx context.Context, field string, filter []string) ([]string, error) {
	if len(filter) == 0 {
		return nil, hookd.Errorf(hookd.EINVALID, "%s must not be empty; omit it to subscribe to every active type", field)
	}
	if len(filter) > 500 {
		return nil, hookd.Errorf(hookd.EINVALID, "%s must have at most 500 entries", field)
	}
	all, err := s.store.AllEventTypes(ctx)
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(all))
	for _, et := range all {
		known[et.Name] = true
	}
	out := make([]string, 0, len(filter))
	seen := map[string]bool{}
	for i, f := range filter {
		name := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case f == "*":
		case strings.HasSuffix(f, ".*"):
			if err := checkEventTypeName(name, strings.TrimSuffix(f, ".*")); err != nil {
				return nil, err
			}
		case !known[f]:
			if err := checkEventTypeName(name, f); err != nil {
				return nil, err
			}
			return nil, hookd.Errorf(hookd.EINVALID, "%s: %q is not in the event type catalog", name, f)
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// checkSecret validates an operator-supplied secret for the app's scheme.
func checkSecret(field, scheme, secret string) error {
	if scheme == hookd.SchemeStandard {
		raw, ok := strings.CutPrefix(secret, "whsec_")
		key, err := base64.StdEncoding.DecodeString(raw)
		if !ok || err != nil || len(key) < 16 || len(key) > 64 {
			return hookd.Errorf(hookd.EINVALID, "%s must be whsec_ followed by standard base64 of 16 to 64 bytes for the standard scheme", field)
		}
		return nil
	}
	if len(secret) < 8 || len(secret) > 512 {
		return hookd.Errorf(hookd.EINVALID, "%s must be 8 to 512 characters", field)
	}
	for _, c := range secret {
		if c < 0x20 || c == 0x7f {
			return hookd.Errorf(hookd.EINVALID, "%s must not contain control characters", field)
		}
	}
	return nil
}

// reservedHeaders are set by hookd or by HTTP itself and cannot be custom.
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Content-Type": true, "Transfer-Encoding": true, "Connection": true,
	"Keep-Alive": true, "Te": true, "Trailer": true, "Upgrade": true, "Proxy-Authorization": true, "User-Agent": true,
}

func checkHeaders(h map[string]string) error {
	if len(h) > maxHeaders {
		return hookd.Errorf(hookd.EINVALID, "headers must have at most %d entries", maxHeaders)
	}
	for name, v := range h {
		if name == "" || !validToken(name) {
			return hookd.Errorf(hookd.EINVALID, "headers: %q is not a valid header name", name)
		}
		if reservedHeaders[http.CanonicalHeaderKey(name)] {
			return hookd.Errorf(hookd.EINVALID, "headers: %s is set by hookd and cannot be overridden", name)
		}
		if len(v) > 4096 || strings.ContainsAny(v, "\r\n\x00") {
			return hookd.Errorf(hookd.EINVALID, "headers: the value of %s must be at most 4096 bytes on one line", name)
		}
	}
	return nil
}

// keepRedacted returns the headers given, in which a credential header
// whose value is hookd.Redacted (a webhook read sent back as it came)
// keeps the value it has: reads never show it, so a client cannot send it
// back, and storing the placeholder would break the receiver's auth.
func keepRedacted(given, current map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(given))
	for name, v := range given {
		if v == hookd.Redacted && hookd.CredentialHeader(name) {
			old, ok := current[name]
			if !ok {
				return nil, hookd.Errorf(hookd.EINVALID, "headers: %s is %q, the placeholder reads show for its value; give the value itself", name, hookd.Redacted)
			}
			v = old
		}
		out[name] = v
	}
	return out, nil
}

func validToken(s string) bool {
	for _, c := range s {
		if c > 0x7e || c <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c) {
			return false
		}
	}
	return true
}

func (s *Service) webhook(ctx context.Context, p *Principal, appRef, id string) (*hookd.App, *hookd.Webhook, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, nil, err
	}
	w, err := s.store.GetWebhook(ctx, app.ID, id)
	if err != nil {
		return nil, nil, err
	}
	return app, w, nil
}

func (s *Service) view(ctx context.Context, w *hookd.Webhook) (*WebhookView, error) {
	views, err := s.views(ctx, []*hookd.Webhook{w})
	if err != nil {
		return nil, err
	}
	return views[0], nil
}

// views returns hooks with their health, read in one call.
func (s *Service) views(ctx context.Context, hooks []*hookd.Webhook) ([]*WebhookView, error) {
	ids := make([]string, len(hooks))
	for i, w := range hooks {
		ids[i] = w.ID
	}
	health, err := s.store.WebhookHealth(ctx, ids, s.now())
	if err != nil {
		return nil, err
	}
	views := make([]*WebhookView, len(hooks))
	for i, w := range hooks {
		views[i] = &WebhookView{Webhook: w, Health: health[w.ID]}
	}
	return views, nil
}

// GetWebhook returns one webhook with its health.
func (s *Service) GetWebhook(ctx context.Context, p *Principal, appRef, id string) (*WebhookView, error) {
	_, w, err := s.webhook(ctx, p, appRef, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, w)
}

// ListWebhooks lists an app's webhooks with their health.
func (s *Service) ListWebhooks(ctx context.Context, p *Principal, appRef string, page store.Page) ([]*WebhookView, string, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, "", err
	}
	hooks, next, err := s.store.ListWebhooks(ctx, app.ID, page)
	if err != nil {
		return nil, "", err
	}
	views, err := s.views(ctx, hooks)
	if err != nil {
		return nil, "", err
	}
	return views, next, nil
}

// UpdateWebhook applies a PATCH.
func (s *Service) UpdateWebhook(ctx context.Context, p *Principal, appRef, id string, in *WebhookInput) (*WebhookView, error) {
	var w *hookd.Webhook
	err := retryStale(func() error {
		app, current, err := s.webhook(ctx, p, appRef, id)
		if err != nil {
			return err
		}
		if err := s.applyWebhook(ctx, app, current, in); err != nil {
			return err
		}
		now := s.now()
		current.UpdatedAt = now
		w = current
		return s.store.UpdateWebhook(ctx, current, now)
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Wake()
	return s.view(ctx, w)
}

// retryStale runs fn — a read, a change and a write of one row — again when
// another request changed the row between fn's read and its write.
func retryStale(fn func() error) error {
	for try := 1; ; try++ {
		err := fn()
		if !errors.Is(err, store.ErrStale) {
			return err
		}
		if try == 5 {
			return hookd.Errorf(hookd.ECONFLICT, "another request kept changing it meanwhile; try again")
		}
	}
}

// DeleteWebhook deletes a webhook and its deliveries.
func (s *Service) DeleteWebhook(ctx context.Context, p *Principal, appRef, id string) error {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return err
	}
	return s.store.DeleteWebhook(ctx, app.ID, id)
}

// RotateInput is the body of a secret rotation.
type RotateInput struct {
	GraceSeconds *float64 `json:"grace_seconds"`
	Secret       *string  `json:"secret"`
}

// RotateWebhookSecret gives a webhook a new secret and returns it. During
// the grace period the old secret signs beside the new one.
func (s *Service) RotateWebhookSecret(ctx context.Context, p *Principal, appRef, id string, in *RotateInput) (*WebhookView, error) {
	grace, err := graceOf(in)
	if err != nil {
		return nil, err
	}
	var w *hookd.Webhook
	err = retryStale(func() error {
		app, current, err := s.webhook(ctx, p, appRef, id)
		if err != nil {
			return err
		}
		next := ""
		if in.Secret != nil {
			if err := checkSecret("secret", app.Profile.Signature.Scheme, *in.Secret); err != nil {
				return err
			}
			next = *in.Secret
		} else if next, err = webhook.NewSecret(); err != nil {
			return err
		}
		now := s.now()
		current.Secret, current.PreviousSecret, current.PreviousSecretExpiresAt = hookd.RotateSecret(current.Secret, next, grace, now)
		current.UpdatedAt = now
		w = current
		return s.store.UpdateWebhook(ctx, current, now)
	})
	if err != nil {
		return nil, err
	}
	return s.view(ctx, w)
}

// RecoverInput is the body of a recover request.
type RecoverInput struct {
	Since *time.Time `json:"since"`
	Until *time.Time `json:"until"`
}

// RecoverWebhook re-queues the webhook's failed deliveries in a time range
// and returns how many it re-queued, and whether that was all (the rest
// are re-queued in the background; see store.Store.RecoverWebhook).
func (s *Service) RecoverWebhook(ctx context.Context, p *Principal, appRef, id string, in *RecoverInput) (int, bool, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return 0, false, err
	}
	if in.Since == nil {
		return 0, false, hookd.Errorf(hookd.EINVALID, "since is required (RFC 3339)")
	}
	var until time.Time
	if in.Until != nil {
		until = *in.Until
		if !until.After(*in.Since) {
			return 0, false, hookd.Errorf(hookd.EINVALID, "until must be after since")
		}
	}
	n, done, err := s.store.RecoverWebhook(ctx, &store.RecoverParams{AppID: app.ID, WebhookID: id, Since: *in.Since, Until: until, Now: s.now()})
	if err != nil {
		return 0, false, err
	}
	s.cfg.Wake()
	return n, done, nil
}
