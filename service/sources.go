package service

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/egress"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/webhook"
)

const defaultTolerance = 300

// providersIssuingSecrets are the providers that hand out the signing
// secret themselves: a source of theirs must be given it.
var providersIssuingSecrets = map[string]bool{
	hookd.ProviderStripe: true, hookd.ProviderShopify: true, hookd.ProviderSlack: true, hookd.ProviderLinear: true,
}

var providers = map[string]bool{
	hookd.ProviderStandard: true, hookd.ProviderStripe: true, hookd.ProviderGitHub: true, hookd.ProviderLinear: true,
	hookd.ProviderShopify: true, hookd.ProviderSlack: true, hookd.ProviderHMACHex: true, hookd.ProviderTimestampedHex: true,
}

// maxVerifyTolerance bounds a verification's tolerance_seconds: a year, far
// inside what a time.Duration holds.
const maxVerifyTolerance = 365 * 24 * 3600

// CheckVerify checks what a signature check by hand (POST /v1/verify)
// names beside the payload: a scheme hookd knows, where one is given, and
// a tolerance of at most a year (a negative one checks no timestamp, for
// payloads signed long ago).
func CheckVerify(scheme string, toleranceSeconds *int) error {
	if scheme != "" && !providers[scheme] {
		return hookd.Errorf(hookd.EINVALID, "scheme must be one of standard, stripe, github, linear, shopify, slack, hmac-hex, timestamped-hex")
	}
	if toleranceSeconds != nil && *toleranceSeconds > maxVerifyTolerance {
		return hookd.Errorf(hookd.EINVALID, "tolerance_seconds must be at most %d (a negative one checks no timestamp)", maxVerifyTolerance)
	}
	return nil
}

// SourceInput is the body of a source create or PATCH; nil fields are
// absent. ForwardURL may be set to "" (or null) to stop forwarding.
type SourceInput struct {
	Name       *string `json:"name"`
	Provider   *string `json:"provider"`
	Secret     *string `json:"secret"`
	ForwardURL *string `json:"forward_url"`
	// ForwardURLSet tells "forward_url": null (stop forwarding) from an
	// absent field.
	ForwardURLSet    bool      `json:"-"`
	Events           *[]string `json:"events"`
	Description      *string   `json:"description"`
	HeaderPrefix     *string   `json:"header_prefix"`
	ToleranceSeconds *int      `json:"tolerance_seconds"`
	Status           *string   `json:"status"`
	Enabled          *bool     `json:"enabled"`
}

// UnmarshalJSON decodes a SourceInput, noting whether forward_url was
// present.
func (in *SourceInput) UnmarshalJSON(b []byte) error {
	type plain SourceInput
	if err := json.Unmarshal(b, (*plain)(in)); err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	_, in.ForwardURLSet = fields["forward_url"]
	return nil
}

// SourceView is a source with its traffic, as the API shows it.
type SourceView struct {
	*hookd.Source
	Stats *hookd.SourceHealth
}

// CreateSource makes a source and returns it with its secret.
func (s *Service) CreateSource(ctx context.Context, p *Principal, appRef string, in *SourceInput) (*SourceView, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, hookd.Errorf(hookd.EINVALID, "name is required")
	}
	now := s.now()
	src := &hookd.Source{ID: s.cfg.NewID("src"), AppID: app.ID, Provider: hookd.ProviderStandard, Status: hookd.SourceActive,
		ToleranceSeconds: defaultTolerance, Events: []string{}, CreatedAt: now, UpdatedAt: now}
	if err := s.applySource(ctx, src, in); err != nil {
		return nil, err
	}
	if src.Secret == "" {
		if providersIssuingSecrets[src.Provider] {
			return nil, hookd.Errorf(hookd.EINVALID, "secret is required for the %s provider, which issues it", src.Provider)
		}
		if src.Secret, err = webhook.NewSecret(); err != nil {
			return nil, err
		}
	}
	if err := s.store.CreateSource(ctx, src); err != nil {
		return nil, err
	}
	return &SourceView{Source: src, Stats: &hookd.SourceHealth{}}, nil
}

func (s *Service) applySource(ctx context.Context, src *hookd.Source, in *SourceInput) error {
	if in.Name != nil {
		if err := checkName("name", *in.Name); err != nil {
			return err
		}
		src.Name = *in.Name
	}
	if in.Provider != nil {
		if !providers[*in.Provider] {
			return hookd.Errorf(hookd.EINVALID, "provider must be one of standard, stripe, github, linear, shopify, slack, hmac-hex, timestamped-hex")
		}
		src.Provider = *in.Provider
	}
	if in.HeaderPrefix != nil {
		if *in.HeaderPrefix != "" && !validToken(*in.HeaderPrefix) || len(*in.HeaderPrefix) > 100 {
			return hookd.Errorf(hookd.EINVALID, "header_prefix must be a valid header name start")
		}
		src.HeaderPrefix = *in.HeaderPrefix
	}
	if (src.Provider == hookd.ProviderHMACHex || src.Provider == hookd.ProviderTimestampedHex) && src.HeaderPrefix == "" {
		return hookd.Errorf(hookd.EINVALID, "header_prefix is required for the %s provider", src.Provider)
	}
	if in.Secret != nil {
		if err := checkSourceSecret(src.Provider, *in.Secret); err != nil {
			return err
		}
		src.Secret = *in.Secret
	}
	if in.ForwardURLSet || in.ForwardURL != nil {
		url := ""
		if in.ForwardURL != nil {
			url = *in.ForwardURL
		}
		if url != "" {
			if err := egress.CheckURL(ctx, "forward_url", url, s.cfg.AllowPrivate, s.cfg.Resolver); err != nil {
				return err
			}
		}
		src.ForwardURL = url
	}
	if in.Events != nil {
		events, err := checkAllowList(*in.Events)
		if err != nil {
			return err
		}
		src.Events = events
	}
	if in.Description != nil {
		if err := checkDescription(*in.Description); err != nil {
			return err
		}
		src.Description = *in.Description
	}
	if in.ToleranceSeconds != nil {
		if *in.ToleranceSeconds < 1 || *in.ToleranceSeconds > 86400 {
			return hookd.Errorf(hookd.EINVALID, "tolerance_seconds must be between 1 and 86400")
		}
		src.ToleranceSeconds = *in.ToleranceSeconds
	}
	status, err := syncStatus(src.Status, in.Status, in.Enabled)
	if err != nil {
		return err
	}
	src.Status = status
	return nil
}

// syncStatus applies a status and/or enabled flag to current, keeping the
// two in agreement: enabled is false exactly when the status is disabled.
func syncStatus(current string, status *string, enabled *bool) (string, error) {
	next := current
	if status != nil {
		switch *status {
		case hookd.WebhookActive, hookd.WebhookPaused, hookd.WebhookDisabled:
			next = *status
		default:
			return "", hookd.Errorf(hookd.EINVALID, "status must be active, paused or disabled")
		}
	}
	if enabled != nil {
		want := hookd.WebhookDisabled
		if *enabled {
			want = hookd.WebhookActive
			if status != nil && next == hookd.WebhookPaused {
				want = hookd.WebhookPaused
			}
		}
		if status != nil && next != want {
			return "", hookd.Errorf(hookd.EINVALID, "status %q contradicts enabled %t", next, *enabled)
		}
		next = want
	}
	return next, nil
}

// checkSourceSecret validates a secret given for a provider.
func checkSourceSecret(provider, secret string) error {
	if provider == hookd.ProviderStandard {
		return checkSecret("secret", hookd.SchemeStandard, secret)
	}
	if len(secret) < 6 || len(secret) > 512 {
		return hookd.Errorf(hookd.EINVALID, "secret must be 6 to 512 characters")
	}
	for _, c := range secret {
		if c < 0x20 || c == 0x7f {
			return hookd.Errorf(hookd.EINVALID, "secret must not contain control characters")
		}
	}
	return nil
}

// checkAllowList validates a source's event allow-list. Third parties name
// their own types (GitHub's push, Shopify's orders/create), so entries are
// free-form words; "*" and "prefix.*" work as in webhook filters.
func checkAllowList(events []string) ([]string, error) {
	if len(events) > 500 {
		return nil, hookd.Errorf(hookd.EINVALID, "events must have at most 500 entries")
	}
	out := make([]string, 0, len(events))
	seen := map[string]bool{}
	for i, e := range events {
		if e == "" || len(e) > 255 || strings.IndexFunc(e, unicode.IsSpace) >= 0 || strings.IndexFunc(e, unicode.IsControl) >= 0 || !utf8.ValidString(e) {
			return nil, hookd.Errorf(hookd.EINVALID, "events[%d] must be 1-255 characters without spaces or control characters", i)
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *Service) source(ctx context.Context, p *Principal, appRef, id string) (*hookd.Source, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, err
	}
	return s.store.GetSource(ctx, app.ID, id)
}

func (s *Service) sourceView(ctx context.Context, src *hookd.Source) (*SourceView, error) {
	st, err := s.store.SourceHealth(ctx, src.ID)
	if err != nil {
		return nil, err
	}
	return &SourceView{Source: src, Stats: st}, nil
}

// GetSource returns one source with its traffic.
func (s *Service) GetSource(ctx context.Context, p *Principal, appRef, id string) (*SourceView, error) {
	src, err := s.source(ctx, p, appRef, id)
	if err != nil {
		return nil, err
	}
	return s.sourceView(ctx, src)
}

// FindSource returns a source of the caller's apps by id alone.
func (s *Service) FindSource(ctx context.Context, p *Principal, id string) (*hookd.Source, error) {
	if !ident.Valid(id) {
		// Not looked up: a store may refuse to compare with it.
		return nil, hookd.Errorf(hookd.ENOTFOUND, "source %.80q not found", id)
	}
	appID := p.AppID
	if p.Admin {
		appID = ""
	}
	return s.store.GetSource(ctx, appID, id)
}

// ListSources lists an app's sources.
func (s *Service) ListSources(ctx context.Context, p *Principal, appRef string, page store.Page) ([]*SourceView, string, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, "", err
	}
	srcs, next, err := s.store.ListSources(ctx, app.ID, page)
	if err != nil {
		return nil, "", err
	}
	views := make([]*SourceView, 0, len(srcs))
	for _, src := range srcs {
		v, err := s.sourceView(ctx, src)
		if err != nil {
			return nil, "", err
		}
		views = append(views, v)
	}
	return views, next, nil
}

// UpdateSource applies a PATCH.
func (s *Service) UpdateSource(ctx context.Context, p *Principal, appRef, id string, in *SourceInput) (*SourceView, error) {
	var src *hookd.Source
	err := retryStale(func() error {
		current, err := s.source(ctx, p, appRef, id)
		if err != nil {
			return err
		}
		if in.Provider != nil && *in.Provider != current.Provider && in.Secret == nil {
			if providersIssuingSecrets[*in.Provider] {
				return hookd.Errorf(hookd.EINVALID, "secret is required when switching to the %s provider", *in.Provider)
			}
			if err := checkSourceSecret(*in.Provider, current.Secret); err != nil {
				return hookd.Errorf(hookd.EINVALID, "the source's secret does not suit the %s provider; give a new secret", *in.Provider)
			}
		}
		if err := s.applySource(ctx, current, in); err != nil {
			return err
		}
		now := s.now()
		current.UpdatedAt = now
		src = current
		return s.store.UpdateSource(ctx, current, now)
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Wake()
	return s.sourceView(ctx, src)
}

// DeleteSource deletes a source with its events.
func (s *Service) DeleteSource(ctx context.Context, p *Principal, appRef, id string) error {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return err
	}
	return s.store.DeleteSource(ctx, app.ID, id)
}

// RotateSourceSecret gives a source a new secret (generated, or the one
// given, which providers that issue secrets require). During the grace
// period both verify.
func (s *Service) RotateSourceSecret(ctx context.Context, p *Principal, appRef, id string, in *RotateInput) (*SourceView, error) {
	grace, err := graceOf(in)
	if err != nil {
		return nil, err
	}
	var src *hookd.Source
	err = retryStale(func() error {
		current, err := s.source(ctx, p, appRef, id)
		if err != nil {
			return err
		}
		next := ""
		switch {
		case in.Secret != nil:
			if err := checkSourceSecret(current.Provider, *in.Secret); err != nil {
				return err
			}
			next = *in.Secret
		case providersIssuingSecrets[current.Provider]:
			return hookd.Errorf(hookd.EINVALID, "secret is required: the %s provider issues it", current.Provider)
		default:
			if next, err = webhook.NewSecret(); err != nil {
				return err
			}
		}
		now := s.now()
		current.Secret, current.PreviousSecret, current.PreviousSecretExpiresAt = hookd.RotateSecret(current.Secret, next, grace, now)
		current.UpdatedAt = now
		src = current
		return s.store.UpdateSource(ctx, current, now)
	})
	if err != nil {
		return nil, err
	}
	return s.sourceView(ctx, src)
}

// graceOf reads and checks a rotation's grace period.
func graceOf(in *RotateInput) (time.Duration, error) {
	if in.GraceSeconds == nil {
		return 0, nil
	}
	// Compared as seconds: a huge value would overflow a Duration.
	if g := *in.GraceSeconds; !(g >= 0 && g <= maxGrace.Seconds()) {
		return 0, hookd.Errorf(hookd.EINVALID, "grace_seconds must be between 0 and %d", int(maxGrace.Seconds()))
	}
	return time.Duration(*in.GraceSeconds * float64(time.Second)), nil
}

// ListSourceEvents lists what one source, or every source of the app
// (sourceID ""), received, newest first.
func (s *Service) ListSourceEvents(ctx context.Context, p *Principal, appRef, sourceID string, page store.Page) ([]*hookd.Event, string, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, "", err
	}
	f := store.EventFilter{AppID: app.ID, Inbound: true}
	if sourceID != "" {
		if _, err := s.store.GetSource(ctx, app.ID, sourceID); err != nil {
			return nil, "", err
		}
		f = store.EventFilter{AppID: app.ID, SourceID: sourceID}
	}
	return s.store.ListEvents(ctx, f, page)
}

// ListSourceDeliveries lists a source's forwarding deliveries.
func (s *Service) ListSourceDeliveries(ctx context.Context, p *Principal, appRef, sourceID, status string, page store.Page) ([]*hookd.Delivery, string, error) {
	src, err := s.source(ctx, p, appRef, sourceID)
	if err != nil {
		return nil, "", err
	}
	if err := checkDeliveryStatus(status); err != nil {
		return nil, "", err
	}
	return s.store.ListDeliveries(ctx, store.DeliveryFilter{AppID: src.AppID, SourceID: src.ID, Status: status}, page)
}

func checkDeliveryStatus(status string) error {
	switch status {
	case "", hookd.DeliveryPending, hookd.DeliverySucceeded, hookd.DeliveryFailed, hookd.DeliveryHeld:
		return nil
	}
	return hookd.Errorf(hookd.EINVALID, "status must be pending, succeeded, failed or held")
}
