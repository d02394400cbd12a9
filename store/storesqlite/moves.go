package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store/internal/background"
	"github.com/hookd/hookd/store/internal/sqlshared"
)

// moveDeliveries makes a webhook's open deliveries follow its new status.
func moveDeliveries(ctx context.Context, tx *sql.Tx, webhookID, status string, now time.Time) error {
	_, err := moveOpenDeliveries(ctx, tx, "webhook_id", webhookID, status, now, -1)
	return err
}

// moveChunk is how many deliveries one transaction moves when a status
// change touches a large backlog, so that the single writer is never held
// for long.
const moveChunk = 5000

// moveOpenDeliveries makes up to limit (-1: all) open deliveries of a
// webhook or a source (column names which) follow its new status: pausing
// holds pending ones, re-activating releases held ones, disabling fails
// both. Test deliveries stay as they are. It returns how many it moved.
func moveOpenDeliveries(ctx context.Context, tx *sql.Tx, column, id, status string, now time.Time, limit int) (int, error) {
	var set, where string
	switch status {
	case hookd.WebhookPaused:
		set, where = `status = 'held', updated_at = ?1`, `status = 'pending' AND test = 0`
	case hookd.WebhookActive:
		set, where = `status = 'pending', next_attempt_at = min(coalesce(next_attempt_at, ?1), ?1), updated_at = ?1`, `status = 'held'`
	case hookd.WebhookDisabled:
		set, where = `status = 'failed', next_attempt_at = NULL, updated_at = ?1`, `status IN ('pending', 'held') AND test = 0`
	default:
		return 0, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET `+set+` WHERE id IN (
		SELECT id FROM deliveries WHERE `+column+` = ?2 AND `+where+` LIMIT ?3)`, ms(now), id, limit)
	if err != nil {
		return 0, fmt.Errorf("move deliveries to %s: %w", status, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// moveRest finishes in the background, one chunk per transaction, what a
// status change started by moving `moved` deliveries (nothing is left when
// that was less than a chunk), so that the request returns once the status
// has changed: claims read the webhook's or source's status, not the
// deliveries', so the rows still to move are never delivered while paused
// or disabled. A failed chunk is logged and tried again after a pause;
// should the store close or the process die first, ReleaseLeases
// completes the move at the next start.
func (s *Store) moveRest(moved int, column, id, status string, now time.Time) {
	if moved < moveChunk {
		return
	}
	s.moves.Go(func(ctx context.Context) {
		background.Retry(ctx, s.log, "move deliveries", func(ctx context.Context) (bool, error) {
			n, err := s.moveChunkIfStill(ctx, column, id, status, now)
			return n == moveChunk, err
		}, column, id, "status", status)
	})
}

// moveChunkIfStill moves one chunk, in one transaction, if the webhook or
// source still has status; it returns how many it moved.
func (s *Store) moveChunkIfStill(ctx context.Context, column, id, status string, now time.Time) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var current string
		table := "webhooks"
		if column == "source_id" {
			table = "sources"
		}
		if err := tx.QueryRowContext(ctx, `SELECT status FROM `+table+` WHERE id = ?`, id).Scan(&current); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil // deleted meanwhile
			}
			return fmt.Errorf("move deliveries: %w", err)
		}
		if current != status {
			return nil // changed again meanwhile; that change moves them
		}
		var err error
		n, err = moveOpenDeliveries(ctx, tx, column, id, status, now, moveChunk)
		return err
	})
	return n, err
}

// recoverChunk re-queues, in tx, up to moveChunk of the deliveries rc
// asks for, in id order (walking deliveries_webhook_failed), and returns
// how many.
func recoverChunk(ctx context.Context, tx sqlshared.DB, rc sqlshared.Recovery, now time.Time) (int, error) {
	n, err := tx.Exec(ctx, `UPDATE deliveries SET
			status = CASE (SELECT status FROM webhooks WHERE id = ?1) WHEN 'paused' THEN 'held' ELSE 'pending' END,
			next_attempt_at = ?6, updated_at = ?6
		WHERE id IN (SELECT id FROM deliveries WHERE webhook_id = ?1 AND status = 'failed'
			AND created_at >= ?2 AND created_at < ?3 AND updated_at <= ?4 ORDER BY id LIMIT ?5)`,
		rc.WebhookID, rc.Since, rc.Until, rc.Before, moveChunk, ms(now))
	if err != nil {
		return 0, fmt.Errorf("recover deliveries: %w", err)
	}
	return int(n), nil
}
