package storepg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store/internal/sqlrow"
	"github.com/jackc/pgx/v5"
)

// CreateSession implements store.Store.
func (s *Store) CreateSession(ctx context.Context, se *hookd.Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (hash, kind, admin, app_id, credential, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		se.Hash, se.Kind, se.Admin, se.AppID, se.Credential, ms(se.CreatedAt), ms(se.ExpiresAt))
	if isUniqueViolation(err) {
		return hookd.Errorf(hookd.ECONFLICT, "session exists")
	}
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByHash implements store.Store.
func (s *Store) SessionByHash(ctx context.Context, hash string) (*hookd.Session, error) {
	var se hookd.Session
	var created, expires int64
	err := s.pool.QueryRow(ctx, `SELECT hash, kind, admin, app_id, credential, created_at, expires_at FROM sessions WHERE hash = $1`, hash).
		Scan(&se.Hash, &se.Kind, &se.Admin, &se.AppID, &se.Credential, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, sqlrow.NotFound("session", "")
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	se.CreatedAt, se.ExpiresAt = fromMs(created), fromMs(expires)
	return &se, nil
}

// DeleteSession implements store.Store.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return sqlrow.NotFound("session", "")
	}
	return nil
}

// DeleteExpiredSessions implements store.Store.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
