package storepg

import (
	"context"
	"fmt"
)

// OfferAdminTokenHash implements store.AdminTokens. Processes that start
// at once each offer their own; the first insert wins, and every one of
// them reads back the same row.
func (s *Store) OfferAdminTokenHash(ctx context.Context, hash string) (string, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO admin_token (hash) VALUES ($1) ON CONFLICT (singleton) DO NOTHING`, hash); err != nil {
		return "", fmt.Errorf("offer admin token hash: %w", err)
	}
	var stored string
	if err := s.pool.QueryRow(ctx, `SELECT hash FROM admin_token`).Scan(&stored); err != nil {
		return "", fmt.Errorf("read admin token hash: %w", err)
	}
	return stored, nil
}

// SetAdminTokenHash implements store.AdminTokens.
func (s *Store) SetAdminTokenHash(ctx context.Context, hash string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO admin_token (hash) VALUES ($1) ON CONFLICT (singleton) DO UPDATE SET hash = excluded.hash`, hash)
	if err != nil {
		return fmt.Errorf("store admin token hash: %w", err)
	}
	return nil
}
