// Package service is hookd's application layer: it validates what the API
// is asked to do, fills in what the user left out, generates ids and
// secrets, and calls the store. The HTTP API and the tests drive it; it
// knows nothing of HTTP.
package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/eventschema"
	"go.opentelemetry.io/otel/trace"
)

// Config tunes a Service.
type Config struct {
	// AdminTokenHash is the SHA-256 (hex) of the admin token.
	AdminTokenHash string
	// AllowPrivate allows webhook URLs on private networks and plain http.
	AllowPrivate bool
	// Resolver resolves URL hosts for validation; nil means the default.
	Resolver *net.Resolver
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes ids. Required.
	NewID func(prefix string) string
	// MaxDataBytes limits an event's data; 0 means 256 KiB.
	MaxDataBytes int
	// Wake is called after something became due, so delivery starts at
	// once instead of at the next poll. Optional.
	Wake func()
	// Observer counts published events; optional.
	Observer Observer
	// Tracer makes spans of publishes and their commits; nil makes none.
	Tracer trace.Tracer
}

// Observer hears how many events each publish committed (test events
// included; a repeated idempotency key commits nothing).
type Observer interface {
	Published(events int)
}

type noObserver struct{}

func (noObserver) Published(int) {}

// Service carries out the API's operations.
type Service struct {
	store Store
	cfg   Config
	// apps and eventTypes serve publishing (see shortCache); every
	// change to apps or event types made here clears them.
	apps       *shortCache[*hookd.App]
	eventTypes *shortCache[*hookd.EventType]
	// schemas holds the compiled schemas of event types, each compiled
	// once per version of its text.
	schemas eventschema.Cache
}

// New returns a Service over st.
func New(st Store, cfg Config) (*Service, error) {
	if st == nil || cfg.NewID == nil {
		return nil, errors.New("service: store and NewID are required")
	}
	if cfg.AdminTokenHash == "" {
		return nil, errors.New("service: admin token hash is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxDataBytes <= 0 {
		cfg.MaxDataBytes = 256 << 10
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	return &Service{store: st, cfg: cfg,
		apps: newShortCache[*hookd.App](publishCacheTTL), eventTypes: newShortCache[*hookd.EventType](publishCacheTTL)}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// Principal is who is calling: the admin, or the holder of one app's key.
type Principal struct {
	Admin bool
	AppID string
}

// HashToken returns the stored form of a token: hex SHA-256. Tokens are
// random and long, so a fast hash is enough.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate maps a bearer token to its principal.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "missing bearer token")
	}
	hash := HashToken(token)
	if subtle.ConstantTimeCompare([]byte(hash), []byte(s.cfg.AdminTokenHash)) == 1 {
		return &Principal{Admin: true}, nil
	}
	if strings.HasPrefix(token, appKeyPrefix) {
		key, err := s.store.AppKeyByHash(ctx, hash)
		if err == nil {
			return &Principal{AppID: key.AppID}, nil
		}
		if !hookd.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "invalid bearer token")
}

// app resolves an app reference for p: the admin sees every app, a key
// holder only its own, and anything else is NOT_FOUND.
func (s *Service) app(ctx context.Context, p *Principal, ref string) (*hookd.App, error) {
	app, err := s.store.GetApp(ctx, ref)
	return visibleApp(p, ref, app, err)
}

// visibleApp returns what reading app ref gave, as p may see it: another
// app's key finds no app.
func visibleApp(p *Principal, ref string, app *hookd.App, err error) (*hookd.App, error) {
	if err != nil {
		return nil, err
	}
	if !p.Admin && app.ID != p.AppID {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "app %.80q not found", ref)
	}
	return app, nil
}

// publishApp is app for publishing: it may answer from the short cache.
// The cached app is shared: it must not be changed.
func (s *Service) publishApp(ctx context.Context, p *Principal, ref string) (*hookd.App, error) {
	app, err := s.apps.get(ref, s.cfg.Now(), func() (*hookd.App, error) { return s.store.GetApp(ctx, ref) })
	return visibleApp(p, ref, app, err)
}

func requireAdmin(p *Principal) error {
	if !p.Admin {
		return hookd.Errorf(hookd.EUNAUTHORIZED, "this operation needs the admin token")
	}
	return nil
}

func randomToken(prefix string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}
