package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/mail"
	"regexp"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/webhook"
)

const appKeyPrefix = "hk_"

var uidPattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-]{1,120}$`)

// AppInput is the body of an app create or PATCH; nil fields are absent.
type AppInput struct {
	UID          *string         `json:"uid"`
	Name         *string         `json:"name"`
	ContactEmail *string         `json:"contact_email"`
	Profile      json.RawMessage `json:"profile"`
}

// CreateApp creates an app and returns it with its default secret.
func (s *Service) CreateApp(ctx context.Context, p *Principal, in *AppInput) (*hookd.App, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, hookd.Errorf(hookd.EINVALID, "name is required")
	}
	now := s.now()
	app := &hookd.App{ID: s.cfg.NewID("app"), CreatedAt: now, UpdatedAt: now}
	if err := s.applyApp(app, in, hookd.DefaultProfile()); err != nil {
		return nil, err
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return nil, err
	}
	app.DefaultSecret = secret
	if err := s.store.CreateApp(ctx, app); err != nil {
		return nil, err
	}
	return app, nil
}

func (s *Service) applyApp(app *hookd.App, in *AppInput, base hookd.Profile) error {
	if in.Name != nil {
		if err := checkName("name", *in.Name); err != nil {
			return err
		}
		app.Name = *in.Name
	}
	if in.UID != nil {
		if *in.UID != "" && !uidPattern.MatchString(*in.UID) {
			return hookd.Errorf(hookd.EINVALID, "uid must be 1-120 letters, digits, '.', '_' or '-'")
		}
		if len(*in.UID) > 4 && (*in.UID)[:4] == "app_" {
			return hookd.Errorf(hookd.EINVALID, "uid must not start with app_, which ids use")
		}
		app.UID = *in.UID
	}
	if in.ContactEmail != nil {
		addr, err := contactEmail(*in.ContactEmail)
		if err != nil {
			return err
		}
		app.ContactEmail = addr
	}
	profile, err := hookd.MergeProfile(base, in.Profile)
	if err != nil {
		return err
	}
	app.Profile = profile
	return nil
}

// contactEmail returns the bare address of an app's contact_email ("Ann
// <ann@example.com>" is stored as ann@example.com), or "" for "". The
// address goes into SMTP's RCPT TO and a To header as it is, so it must
// stand on its own: one whose bare form does not parse again (a quoted
// local part with spaces) is refused.
func contactEmail(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(v)
	if err == nil {
		var again *mail.Address
		again, err = mail.ParseAddress(a.Address)
		if err == nil && (again.Address != a.Address || len(a.Address) > 254) {
			err = errors.New("not a bare address")
		}
	}
	if err != nil {
		return "", hookd.Errorf(hookd.EINVALID, "contact_email must be an email address such as ann@example.com")
	}
	return a.Address, nil
}

func checkName(field, v string) error {
	if n := utf8.RuneCountInString(v); n < 1 || n > 120 {
		return hookd.Errorf(hookd.EINVALID, "%s must be 1-120 characters", field)
	}
	return checkText(field, v, false)
}

// GetApp returns one app.
func (s *Service) GetApp(ctx context.Context, p *Principal, ref string) (*hookd.App, error) {
	return s.app(ctx, p, ref)
}

// ListApps lists apps; an app key sees only its own.
func (s *Service) ListApps(ctx context.Context, p *Principal, page store.Page) ([]*hookd.App, string, error) {
	if !p.Admin {
		app, err := s.store.GetApp(ctx, p.AppID)
		if err != nil {
			return nil, "", err
		}
		if page.After != "" {
			return []*hookd.App{}, "", nil
		}
		return []*hookd.App{app}, "", nil
	}
	return s.store.ListApps(ctx, page)
}

// UpdateApp applies a PATCH; a profile in it is merged over the current one.
func (s *Service) UpdateApp(ctx context.Context, p *Principal, ref string, in *AppInput) (*hookd.App, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	app, err := s.app(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := s.applyApp(app, in, app.Profile); err != nil {
		return nil, err
	}
	app.UpdatedAt = s.now()
	if err := s.store.UpdateApp(ctx, app); err != nil {
		return nil, err
	}
	s.apps.clear()
	return app, nil
}

// DeleteApp deletes an app and everything in it.
func (s *Service) DeleteApp(ctx context.Context, p *Principal, ref string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	app, err := s.app(ctx, p, ref)
	if err != nil {
		return err
	}
	if err := s.store.DeleteApp(ctx, app.ID); err != nil {
		return err
	}
	s.apps.clear()
	return nil
}

// RotateAppSecret gives the app a new default secret and returns the app
// with it.
func (s *Service) RotateAppSecret(ctx context.Context, p *Principal, ref string) (*hookd.App, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	app, err := s.app(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return nil, err
	}
	app.DefaultSecret, app.UpdatedAt = secret, s.now()
	if err := s.store.UpdateApp(ctx, app); err != nil {
		return nil, err
	}
	s.apps.clear()
	return app, nil
}

// KeyInput is the body of a key create.
type KeyInput struct {
	Name string `json:"name"`
}

// CreateAppKey makes a key for an app and returns it with the plaintext
// key, which is not kept.
func (s *Service) CreateAppKey(ctx context.Context, p *Principal, ref string, in *KeyInput) (*hookd.AppKey, string, error) {
	if err := requireAdmin(p); err != nil {
		return nil, "", err
	}
	app, err := s.app(ctx, p, ref)
	if err != nil {
		return nil, "", err
	}
	if utf8.RuneCountInString(in.Name) > 120 {
		return nil, "", hookd.Errorf(hookd.EINVALID, "name must be at most 120 characters")
	}
	if err := checkText("name", in.Name, false); err != nil {
		return nil, "", err
	}
	plain, err := randomToken(appKeyPrefix, 32)
	if err != nil {
		return nil, "", err
	}
	key := &hookd.AppKey{ID: s.cfg.NewID("key"), AppID: app.ID, Name: in.Name, Hash: HashToken(plain), CreatedAt: s.now()}
	if err := s.store.CreateAppKey(ctx, key); err != nil {
		return nil, "", err
	}
	return key, plain, nil
}

// ListAppKeys lists an app's keys (never the keys themselves).
func (s *Service) ListAppKeys(ctx context.Context, p *Principal, ref string, page store.Page) ([]*hookd.AppKey, string, error) {
	if err := requireAdmin(p); err != nil {
		return nil, "", err
	}
	app, err := s.app(ctx, p, ref)
	if err != nil {
		return nil, "", err
	}
	return s.store.ListAppKeys(ctx, app.ID, page)
}

// DeleteAppKey revokes a key.
func (s *Service) DeleteAppKey(ctx context.Context, p *Principal, ref, id string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	app, err := s.app(ctx, p, ref)
	if err != nil {
		return err
	}
	return s.store.DeleteAppKey(ctx, app.ID, id)
}
