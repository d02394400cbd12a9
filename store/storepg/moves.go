package storepg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store/internal/background"
	"github.com/hookd/hookd/store/internal/sqlshared"
)

// moveChunk is how many open deliveries one transaction moves when a
// webhook or source changes status. A status change moves the first chunk
// itself; the rest move in the background, one chunk per transaction:
// re-activating a million held deliveries in the request's transaction
// rewrote every row with its index entries, took over a minute and was
// cut off by the server's write timeout. Claims look at the webhook's or
// source's status, not the deliveries', so the rows still to move are
// never delivered while paused or disabled; re-activated ones become due
// chunk by chunk.
const moveChunk = 5000

// moveRest moves, in the background, what a status change left after its
// first chunk of `moved` deliveries (nothing is left when that was less
// than a chunk).
func (s *Store) moveRest(moved int, column, id, status string, now time.Time) {
	if moved < moveChunk {
		return
	}
	s.moves.Go(func(ctx context.Context) { s.moveAll(ctx, column, id, status, now) })
}

// moveAll moves, one chunk per transaction, a webhook's or source's open
// deliveries to follow status, while it keeps that status. A failed chunk
// is tried again after a pause; if the store closes first, finishMoves
// completes the move at the next start.
func (s *Store) moveAll(ctx context.Context, column, id, status string, now time.Time) {
	background.Retry(ctx, s.log, "move deliveries", func(ctx context.Context) (bool, error) {
		n, err := s.moveChunkIfStill(ctx, column, id, status, now)
		return n == moveChunk, err
	}, column, id, "status", status)
}

// moveChunkIfStill moves one chunk, in a transaction that holds the
// webhook's or source's row, if it still has status; it returns how many
// it moved.
func (s *Store) moveChunkIfStill(ctx context.Context, column, id, status string, now time.Time) (int, error) {
	table := "webhooks"
	if column == "source_id" {
		table = "sources"
	}
	var moved int
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var current string
		err := tx.QueryRow(ctx, `SELECT status FROM `+table+` WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&current)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted meanwhile, with its deliveries
		}
		if err != nil {
			return fmt.Errorf("move deliveries: %w", err)
		}
		if current != status {
			return nil // changed again meanwhile; that change moves them
		}
		moved, err = s.moveOpenDeliveries(ctx, tx, column, id, status, now)
		return err
	})
	return moved, err
}

// finishMoves starts, in the background, the moves that a process which
// stopped or died left unfinished: the open deliveries of active webhooks
// and sources that are still held, and of paused ones that are still
// pending. (Pending deliveries of a disabled webhook are left alone: they
// were recovered, and go once it is enabled.)
func (s *Store) finishMoves(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `
		SELECT 'webhook_id', w.id, w.status FROM webhooks w
		WHERE (w.status = 'active' AND EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id AND d.status = 'held'))
		   OR (w.status = 'paused' AND EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending' AND NOT d.test))
		UNION ALL
		SELECT 'source_id', sr.id, sr.status FROM sources sr
		WHERE (sr.status = 'active' AND EXISTS (SELECT 1 FROM deliveries d WHERE d.source_id = sr.id AND d.status = 'held'))
		   OR (sr.status = 'paused' AND EXISTS (SELECT 1 FROM deliveries d WHERE d.source_id = sr.id AND d.status = 'pending' AND NOT d.test))`)
	if err != nil {
		return fmt.Errorf("find unfinished moves: %w", err)
	}
	type move struct{ column, id, status string }
	var moves []move
	var m move
	if _, err := pgx.ForEachRow(rows, []any{&m.column, &m.id, &m.status}, func() error {
		moves = append(moves, m)
		return nil
	}); err != nil {
		return fmt.Errorf("find unfinished moves: %w", err)
	}
	now := s.now()
	for _, m := range moves {
		s.moves.Go(func(ctx context.Context) { s.moveAll(ctx, m.column, m.id, m.status, now) })
	}
	return nil
}

// moveStatement is the statement that moves open deliveries (of the
// webhook or source whose id is $2, by column) to follow status, at most
// $3 of them, locking them in id order, as every multi-row writer does,
// so that two of them never wait on each other.
func moveStatement(column, status string) (string, bool) {
	var set, from string
	switch status {
	case hookd.WebhookPaused:
		set, from = `status = 'held', updated_at = $1`, `status = 'pending' AND NOT test`
	case hookd.WebhookActive:
		set, from = `status = 'pending', next_attempt_at = LEAST(coalesce(next_attempt_at, $1), $1), updated_at = $1`, `status = 'held'`
	case hookd.WebhookDisabled:
		set, from = `status = 'failed', next_attempt_at = NULL, updated_at = $1`, `status IN ('pending', 'held') AND NOT test`
	default:
		return "", false
	}
	return `UPDATE deliveries SET ` + set + ` WHERE id IN (
		SELECT id FROM deliveries WHERE ` + column + ` = $2 AND ` + from + ` ORDER BY id LIMIT $3 FOR NO KEY UPDATE)`, true
}

// moveOpenDeliveries makes up to moveChunk open deliveries of a webhook or
// a source (column names which) follow its new status: pausing holds
// pending ones, re-activating releases held ones, disabling fails both.
// Test deliveries stay as they are. It returns how many it moved; moveRest
// moves the rest.
func (s *Store) moveOpenDeliveries(ctx context.Context, tx querier, column, id, status string, now time.Time) (int, error) {
	q, ok := moveStatement(column, status)
	if !ok {
		return 0, nil
	}
	for _, set := range moveSettings {
		if _, err := tx.Exec(ctx, set); err != nil {
			return 0, fmt.Errorf("move deliveries to %s: %w", status, err)
		}
	}
	tag, err := tx.Exec(ctx, q, ms(now), id, moveChunk)
	if err != nil {
		return 0, fmt.Errorf("move deliveries to %s: %w", status, err)
	}
	for _, reset := range endDueWalk {
		if _, err := tx.Exec(ctx, reset); err != nil {
			return 0, fmt.Errorf("move deliveries to %s: %w", status, err)
		}
	}
	if status == hookd.WebhookActive && tag.RowsAffected() > 0 {
		if err := s.notifyDue(ctx, tx); err != nil {
			return 0, err
		}
	}
	return int(tag.RowsAffected()), nil
}

// moveSettings make a move's chunk the first rows of the open-deliveries
// index in id order, walked. Planned from statistics that lag (see
// walkDueIndex), each chunk read every open delivery of the webhook and
// sorted them on disk: 200–640 ms a chunk behind a re-activated backlog of
// 300,000. endDueWalk undoes walkDueIndex after the chunk.
var moveSettings = []string{useIndexes, walkDueIndex}

// recoverChunk re-queues, in tx, up to moveChunk of the deliveries rc
// asks for, in id order (walking deliveries_webhook_failed), and returns
// how many.
func (s *Store) recoverChunk(ctx context.Context, db sqlshared.DB, rc sqlshared.Recovery, now time.Time) (int, error) {
	tx := txOf(db)
	const chunk = `SELECT id FROM deliveries WHERE webhook_id = $1 AND status = 'failed'
		AND created_at >= $2 AND created_at < $3 AND updated_at <= $4 ORDER BY id LIMIT $5`
	// Locking the events keeps retention (which skips locked events)
	// from deleting them under the recovery.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM events WHERE id IN (SELECT event_id FROM deliveries WHERE id IN (`+chunk+`))
		ORDER BY id FOR SHARE`, rc.WebhookID, rc.Since, rc.Until, rc.Before, moveChunk); err != nil {
		return 0, fmt.Errorf("recover deliveries: %w", err)
	}
	tag, err := tx.Exec(ctx, `UPDATE deliveries SET
			status = CASE (SELECT status FROM webhooks WHERE id = $1) WHEN 'paused' THEN 'held' ELSE 'pending' END,
			next_attempt_at = $6, updated_at = $6
		WHERE id IN (`+chunk+` FOR NO KEY UPDATE)`,
		rc.WebhookID, rc.Since, rc.Until, rc.Before, moveChunk, ms(now))
	if err != nil {
		return 0, fmt.Errorf("recover deliveries: %w", err)
	}
	if tag.RowsAffected() > 0 {
		if err := s.notifyDue(ctx, tx); err != nil {
			return 0, err
		}
	}
	return int(tag.RowsAffected()), nil
}
