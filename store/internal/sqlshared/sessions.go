package sqlshared

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// CreateSession implements store.Store.
func (c *Shared) CreateSession(ctx context.Context, se *hookd.Session) error {
	_, err := c.db.Exec(ctx, `INSERT INTO sessions (hash, kind, admin, app_id, credential, created_at, expires_at) VALUES (?,?,?,?,?,?,?)`,
		se.Hash, se.Kind, se.Admin, se.AppID, se.Credential, ms(se.CreatedAt), ms(se.ExpiresAt))
	return sqlrow.Written(err, c.db.UniqueViolation(err), hookd.Errorf(hookd.ECONFLICT, "session exists"), "insert session")
}

// SessionByHash implements store.Store.
func (c *Shared) SessionByHash(ctx context.Context, hash string) (*hookd.Session, error) {
	var se hookd.Session
	var created, expires int64
	err := c.db.QueryRow(ctx, `SELECT hash, kind, admin, app_id, credential, created_at, expires_at FROM sessions WHERE hash = ?`, hash).
		Scan(&se.Hash, &se.Kind, &se.Admin, &se.AppID, &se.Credential, &created, &expires)
	if err := sqlrow.Found(err, "find session", "session", ""); err != nil {
		return nil, err
	}
	se.CreatedAt, se.ExpiresAt = sqlrow.FromMs(created), sqlrow.FromMs(expires)
	return &se, nil
}

// DeleteSession implements store.Store.
func (c *Shared) DeleteSession(ctx context.Context, hash string) error {
	n, err := c.db.Exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return changed(n, err, "delete session", "session", "")
}

// DeleteExpiredSessions implements store.Store.
func (c *Shared) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	n, err := c.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}
