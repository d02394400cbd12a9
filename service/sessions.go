package service

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// Portal link lifetimes, in seconds.
const (
	PortalMinSeconds     = 60
	PortalMaxSeconds     = 604800
	PortalDefaultSeconds = 3600
)

// SessionLifetime is how long a dashboard sign-in lasts. A session made
// from a portal link ends with the link instead.
const SessionLifetime = 12 * time.Hour

// Token prefixes of dashboard credentials.
const (
	portalLinkPrefix = "hkp_"
	sessionPrefix    = "hks_"
)

// Credentials a session was made from, as its Credential field keeps
// them: the admin token, an app key (by hash), a portal link (by hash).
const (
	credAdmin = "admin:"
	credKey   = "key:"
	credLink  = "link:"
)

// PortalInput is the body of a portal link request.
type PortalInput struct {
	ExpiresIn *int `json:"expires_in"`
}

// PortalLink is a created portal link: Token goes in the link's URL and
// is shown only this once.
type PortalLink struct {
	AppID     string
	Token     string
	ExpiresAt time.Time
}

// CreatePortalLink makes a link that opens the dashboard scoped to one
// app. The link may be opened any number of times until it expires (an
// operator renders it into their own page each time it is shown); each
// opening makes a session that ends when the link does.
func (s *Service) CreatePortalLink(ctx context.Context, p *Principal, appRef string, in *PortalInput) (*PortalLink, error) {
	app, err := s.app(ctx, p, appRef)
	if err != nil {
		return nil, err
	}
	secs := PortalDefaultSeconds
	if in != nil && in.ExpiresIn != nil {
		secs = *in.ExpiresIn
		if secs < PortalMinSeconds || secs > PortalMaxSeconds {
			return nil, hookd.Errorf(hookd.EINVALID, "expires_in must be between %d and %d seconds", PortalMinSeconds, PortalMaxSeconds)
		}
	}
	token, err := randomToken(portalLinkPrefix, 32)
	if err != nil {
		return nil, err
	}
	now := s.now()
	link := &hookd.Session{Hash: HashToken(token), Kind: hookd.SessionLink, AppID: app.ID, Credential: credLink,
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(secs) * time.Second)}
	s.sweepSessions(ctx, now)
	if err := s.store.CreateSession(ctx, link); err != nil {
		return nil, err
	}
	return &PortalLink{AppID: app.ID, Token: token, ExpiresAt: link.ExpiresAt}, nil
}

// sweepSessions deletes expired sessions and links. It is cheap (an
// index on the expiry), so each new one pays for it; a failure only
// leaves rows that no longer work for the next sweep.
func (s *Service) sweepSessions(ctx context.Context, now time.Time) {
	_, _ = s.store.DeleteExpiredSessions(ctx, now)
}

// Session is a signed-in dashboard browser: the secret for its cookie,
// who it is, and when it ends.
type Session struct {
	Secret    string
	Principal *Principal
	// Portal is true for a session made from a portal link.
	Portal    bool
	ExpiresAt time.Time
}

// SignIn makes a dashboard session from an admin token or an app key.
func (s *Service) SignIn(ctx context.Context, token string) (*Session, error) {
	p, err := s.Authenticate(ctx, strings.TrimSpace(token))
	if err != nil {
		return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "that is neither the admin token nor an app key")
	}
	cred := credKey + HashToken(strings.TrimSpace(token))
	if p.Admin {
		cred = credAdmin + HashToken(strings.TrimSpace(token))
	}
	now := s.now()
	return s.newSession(ctx, p, cred, now, now.Add(SessionLifetime))
}

// OpenPortalLink makes a session from a portal link's token.
func (s *Service) OpenPortalLink(ctx context.Context, token string) (*Session, error) {
	hash := HashToken(token)
	now := s.now()
	link, err := s.store.SessionByHash(ctx, hash)
	if hookd.IsNotFound(err) || (err == nil && (link.Kind != hookd.SessionLink || !now.Before(link.ExpiresAt))) {
		return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "this portal link has expired or does not exist; ask for a new one")
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.store.GetApp(ctx, link.AppID); err != nil {
		if hookd.IsNotFound(err) {
			return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "this portal link's app no longer exists")
		}
		return nil, err
	}
	return s.newSession(ctx, &Principal{AppID: link.AppID}, credLink+hash, now, link.ExpiresAt)
}

func (s *Service) newSession(ctx context.Context, p *Principal, cred string, now, expires time.Time) (*Session, error) {
	secret, err := randomToken(sessionPrefix, 32)
	if err != nil {
		return nil, err
	}
	s.sweepSessions(ctx, now)
	se := &hookd.Session{Hash: HashToken(secret), Kind: hookd.SessionBrowser, Admin: p.Admin, AppID: p.AppID, Credential: cred,
		CreatedAt: now, ExpiresAt: expires}
	if err := s.store.CreateSession(ctx, se); err != nil {
		return nil, err
	}
	return &Session{Secret: secret, Principal: p, Portal: strings.HasPrefix(cred, credLink), ExpiresAt: expires}, nil
}

// ResumeSession finds the session whose secret a browser presents. It
// answers UNAUTHORIZED when the session has expired or been ended, or
// when what made it no longer works: the admin token was changed, the
// app key revoked, the portal link expired, the app deleted.
func (s *Service) ResumeSession(ctx context.Context, secret string) (*Session, error) {
	gone := hookd.Errorf(hookd.EUNAUTHORIZED, "your session has ended; sign in again")
	if !strings.HasPrefix(secret, sessionPrefix) {
		return nil, gone
	}
	se, err := s.store.SessionByHash(ctx, HashToken(secret))
	if hookd.IsNotFound(err) {
		return nil, gone
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if se.Kind != hookd.SessionBrowser || !now.Before(se.ExpiresAt) {
		return nil, gone
	}
	p := &Principal{Admin: se.Admin, AppID: se.AppID}
	switch {
	case strings.HasPrefix(se.Credential, credAdmin):
		// The admin token it was made with must be the one accepted now.
		if !se.Admin || subtle.ConstantTimeCompare([]byte(strings.TrimPrefix(se.Credential, credAdmin)), []byte(s.cfg.AdminTokenHash)) != 1 {
			return nil, gone
		}
	case strings.HasPrefix(se.Credential, credKey):
		key, err := s.store.AppKeyByHash(ctx, strings.TrimPrefix(se.Credential, credKey))
		if hookd.IsNotFound(err) || (err == nil && key.AppID != se.AppID) {
			return nil, gone
		}
		if err != nil {
			return nil, err
		}
	case strings.HasPrefix(se.Credential, credLink):
		link, err := s.store.SessionByHash(ctx, strings.TrimPrefix(se.Credential, credLink))
		if hookd.IsNotFound(err) || (err == nil && (link.AppID != se.AppID || !now.Before(link.ExpiresAt))) {
			return nil, gone
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, gone
	}
	if !se.Admin {
		if _, err := s.store.GetApp(ctx, se.AppID); hookd.IsNotFound(err) {
			return nil, gone
		} else if err != nil {
			return nil, err
		}
	}
	return &Session{Secret: secret, Principal: p, Portal: strings.HasPrefix(se.Credential, credLink), ExpiresAt: se.ExpiresAt}, nil
}

// SignOut ends the session whose secret is given; ending one that has
// already ended is no error.
func (s *Service) SignOut(ctx context.Context, secret string) error {
	err := s.store.DeleteSession(ctx, HashToken(secret))
	if hookd.IsNotFound(err) {
		return nil
	}
	return err
}
