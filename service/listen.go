package service

import (
	"context"
	"regexp"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/webhook"
)

// ListenInput is the body of a listen registration.
type ListenInput struct {
	Key    *string   `json:"key"`
	Events *[]string `json:"events"`
}

var listenKey = regexp.MustCompile(`^[A-Za-z0-9_-]{8,128}$`)

// Listen creates the app's listen webhook for in.Key, or resumes the one
// that key made before (created is false then), subscribed to in.Events
// (default every type, "*"). Either way the answer holds the secret: the
// webhook is the caller's own temporary one.
func (s *Service) Listen(ctx context.Context, p *Principal, appRef string, in *ListenInput) (w *hookd.Webhook, created bool, err error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, false, err
	}
	if in.Key == nil || !listenKey.MatchString(*in.Key) {
		return nil, false, hookd.Errorf(hookd.EINVALID, "key is required: 8 to 128 letters, digits, - or _")
	}
	events := []string{"*"}
	if in.Events != nil {
		if events, err = s.checkFilter(ctx, "events", *in.Events); err != nil {
			return nil, false, err
		}
	}
	url := hookd.ListenURLPrefix + *in.Key
	err = retryStale(func() error {
		current, err := s.store.WebhookByURL(ctx, app.ID, url)
		if hookd.IsNotFound(err) {
			w, created = nil, true
			return nil
		}
		if err != nil {
			return err
		}
		// Resuming re-activates a webhook that failures disabled while
		// the CLI was away.
		current.Events, current.Status, current.DisabledReason = events, hookd.WebhookActive, ""
		current.UpdatedAt = s.now()
		w, created = current, false
		return s.store.UpdateWebhook(ctx, current, current.UpdatedAt)
	})
	if err != nil || !created {
		return w, false, err
	}
	now := s.now()
	w = &hookd.Webhook{ID: s.cfg.NewID("wh"), AppID: app.ID, URL: url, Events: events, Status: hookd.WebhookActive,
		Name: "hookd listen", CreatedAt: now, UpdatedAt: now}
	if w.Secret, err = webhook.NewSecret(); err != nil {
		return nil, false, err
	}
	if err := s.store.CreateWebhook(ctx, w, app.Profile.MaxWebhooks); err != nil {
		return nil, false, err
	}
	return w, true, nil
}

// ListenWebhook returns the app's listen webhook id, for its stream and
// results; any other webhook is NOT_FOUND.
func (s *Service) ListenWebhook(ctx context.Context, p *Principal, appRef, id string) (*hookd.Webhook, error) {
	_, w, err := s.webhook(ctx, p, appRef, id)
	if err != nil {
		return nil, err
	}
	if !w.Listen() {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "webhook %q is not a listen webhook", id)
	}
	return w, nil
}

// KeepListening marks a connected listen webhook as alive, so that the
// sweeper leaves it.
func (s *Service) KeepListening(ctx context.Context, webhookID string) error {
	return s.store.TouchWebhook(ctx, webhookID, s.now())
}

// SweepListen deletes the listen webhooks that no connection has kept
// alive for idle.
func (s *Service) SweepListen(ctx context.Context, idle time.Duration) (int, error) {
	return s.store.DeleteIdleListenWebhooks(ctx, s.now().Add(-idle))
}
