package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/background"
	"github.com/hookd/hookd/store/internal/sqlflow"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// CreateWebhook implements store.Store.
func (s *Store) CreateWebhook(ctx context.Context, w *hookd.Webhook, maxWebhooks int) error {
	values, err := sqlrow.WebhookValues(s.sealer, w)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if maxWebhooks > 0 {
			if err := sqlflow.WebhookRoom(tx.QueryRowContext(ctx, `SELECT count(*) FROM webhooks WHERE app_id = ?`, w.AppID), maxWebhooks); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO webhooks (`+sqlrow.WebhookColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, values...)
		if err != nil {
			return fmt.Errorf("insert webhook: %w", err)
		}
		return nil
	})
}

// GetWebhook implements store.Store.
func (s *Store) GetWebhook(ctx context.Context, appID, id string) (*hookd.Webhook, error) {
	return s.getWebhook(ctx, s.r, appID, id)
}

func (s *Store) getWebhook(ctx context.Context, q queryer, appID, id string) (*hookd.Webhook, error) {
	w, err := sqlrow.ScanWebhook(s.sealer, q.QueryRowContext(ctx, `SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE id = ? AND app_id = ?`, id, appID))
	return w, sqlrow.Found(err, "get webhook", "webhook", id)
}

// ListWebhooks implements store.Store.
func (s *Store) ListWebhooks(ctx context.Context, appID string, page store.Page) ([]*hookd.Webhook, string, error) {
	where, args := pageClause("id", page)
	hooks, err := s.queryWebhooks(ctx, s.r, `SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE app_id = ?`+where+` ORDER BY id DESC LIMIT ?`,
		append(append([]any{appID}, args...), sqlrow.LimitFor(page))...)
	if err != nil {
		return nil, "", err
	}
	hooks, next := sqlrow.TrimPage(hooks, page, func(w *hookd.Webhook) string { return w.ID })
	return hooks, next, nil
}

func (s *Store) queryWebhooks(ctx context.Context, q queryer, query string, args ...any) ([]*hookd.Webhook, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	var hooks []*hookd.Webhook
	for rows.Next() {
		w, err := sqlrow.ScanWebhook(s.sealer, rows)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		hooks = append(hooks, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return hooks, nil
}

// UpdateWebhook implements store.Store.
func (s *Store) UpdateWebhook(ctx context.Context, w *hookd.Webhook, now time.Time) error {
	r, err := sqlrow.EncodeWebhook(s.sealer, w)
	if err != nil {
		return err
	}
	return sqlflow.UpdateThenMove(ctx, mover{s}, sqlflow.Update[*sql.Tx]{
		What: "webhook", Column: "webhook_id", ID: w.ID, Status: w.Status, Version: &w.Version,
		Check: func(tx *sql.Tx) sqlrow.Scanner {
			return tx.QueryRowContext(ctx, `SELECT status, version FROM webhooks WHERE id = ? AND app_id = ?`, w.ID, w.AppID)
		},
		Write: func(tx *sql.Tx, old string) error {
			reactivated := sqlflow.Reactivated(w, old)
			_, err := tx.ExecContext(ctx, `UPDATE webhooks SET url = ?, events = ?, status = ?, name = ?, description = ?, headers = ?, rate_limit = ?,
				ordered = ?, metadata = ?, secret = ?, previous_secret = ?, previous_expires_at = ?, disabled_reason = ?,
				consecutive_failures = CASE WHEN ? THEN 0 ELSE consecutive_failures END,
				failing_since = CASE WHEN ? THEN NULL ELSE failing_since END, updated_at = ?, version = version + 1
				WHERE id = ?`,
				w.URL, r.Events, w.Status, w.Name, w.Description, r.Headers, w.RateLimit, w.Ordered, r.Metadata, r.Secret, r.PrevSecret,
				nullMs(w.PreviousSecretExpiresAt), w.DisabledReason, reactivated, reactivated, ms(w.UpdatedAt), w.ID)
			return err
		},
	}, now)
}

// mover is the store as sqlflow.UpdateThenMove moves the open deliveries
// of a webhook or source whose status changed.
type mover struct{ s *Store }

func (m mover) InTx(ctx context.Context, fn func(*sql.Tx) error) error { return m.s.tx(ctx, fn) }

func (m mover) MoveChunk(ctx context.Context, tx *sql.Tx, column, id, status string, now time.Time) (int, error) {
	return moveOpenDeliveries(ctx, tx, column, id, status, now, moveChunk)
}

func (m mover) MoveRest(moved int, column, id, status string, now time.Time) {
	m.s.moveRest(moved, column, id, status, now)
}

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

// DeleteWebhook implements store.Store.
func (s *Store) DeleteWebhook(ctx context.Context, appID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ? AND app_id = ?`, id, appID)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlrow.NotFound("webhook", id)
	}
	s.deletedDeliveries()
	return nil
}

// RecoverWebhook implements store.Store.
func (s *Store) RecoverWebhook(ctx context.Context, p *store.RecoverParams) (int, bool, error) {
	appID, webhookID, since, until, now := p.AppID, p.WebhookID, p.Since, p.Until, p.Now
	rc := recovery{id: s.newID("rcv"), webhookID: webhookID, since: ms(since), until: int64(1 << 62), before: ms(now)}
	if !until.IsZero() {
		rc.until = ms(until)
	}
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getWebhook(ctx, tx, appID, webhookID); err != nil {
			return err
		}
		var err error
		if n, err = recoverChunk(ctx, tx, rc, now); err != nil || n < moveChunk {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO recoveries (id, webhook_id, since, until, before) VALUES (?, ?, ?, ?, ?)`,
			rc.id, rc.webhookID, rc.since, rc.until, rc.before); err != nil {
			return fmt.Errorf("record recovery: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	if n < moveChunk {
		return n, true, nil
	}
	s.moves.Go(func(ctx context.Context) { s.recoverRest(ctx, rc) })
	return n, false, nil
}

// recovery is a row of the recoveries table: what RecoverWebhook asked
// for, with its bounds in Unix ms.
type recovery struct {
	id, webhookID        string
	since, until, before int64
}

// recoverChunk re-queues, in tx, up to moveChunk of the deliveries rc
// asks for, in id order (walking deliveries_webhook_failed), and returns
// how many.
func recoverChunk(ctx context.Context, tx *sql.Tx, rc recovery, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET
			status = CASE (SELECT status FROM webhooks WHERE id = ?1) WHEN 'paused' THEN 'held' ELSE 'pending' END,
			next_attempt_at = ?6, updated_at = ?6
		WHERE id IN (SELECT id FROM deliveries WHERE webhook_id = ?1 AND status = 'failed'
			AND created_at >= ?2 AND created_at < ?3 AND updated_at <= ?4 ORDER BY id LIMIT ?5)`,
		rc.webhookID, rc.since, rc.until, rc.before, moveChunk, ms(now))
	if err != nil {
		return 0, fmt.Errorf("recover deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// recoverRest re-queues what the recovery rc left after its first chunk,
// a chunk per transaction, until a chunk finds less than a full one; the
// transaction that re-queues the last chunk deletes rc's row. A failed
// chunk is tried again after a pause; if the store closes first,
// ReleaseLeases resumes it at the next start.
func (s *Store) recoverRest(ctx context.Context, rc recovery) {
	background.Retry(ctx, s.log, "recover deliveries", func(ctx context.Context) (bool, error) {
		more := false
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT true FROM recoveries WHERE id = ?`, rc.id).Scan(&exists); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return nil
				}
				return fmt.Errorf("recover deliveries: %w", err)
			}
			n, err := recoverChunk(ctx, tx, rc, s.now())
			if err != nil {
				return err
			}
			if more = n == moveChunk; !more {
				if _, err := tx.ExecContext(ctx, `DELETE FROM recoveries WHERE id = ?`, rc.id); err != nil {
					return fmt.Errorf("recover deliveries: %w", err)
				}
			}
			return nil
		})
		return more, err
	}, "webhook_id", rc.webhookID, "recovery", rc.id)
}

// finishRecoveries resumes, in the background, the recoveries that a
// process which stopped or died left unfinished.
func (s *Store) finishRecoveries(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, `SELECT id, webhook_id, since, until, before FROM recoveries ORDER BY id`)
	if err != nil {
		return fmt.Errorf("find unfinished recoveries: %w", err)
	}
	defer rows.Close()
	var rcs []recovery
	for rows.Next() {
		var rc recovery
		if err := rows.Scan(&rc.id, &rc.webhookID, &rc.since, &rc.until, &rc.before); err != nil {
			return fmt.Errorf("find unfinished recoveries: %w", err)
		}
		rcs = append(rcs, rc)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find unfinished recoveries: %w", err)
	}
	for _, rc := range rcs {
		s.moves.Go(func(ctx context.Context) { s.recoverRest(ctx, rc) })
	}
	return nil
}

// WebhookByURL implements store.Store.
func (s *Store) WebhookByURL(ctx context.Context, appID, url string) (*hookd.Webhook, error) {
	hooks, err := s.queryWebhooks(ctx, s.r, `SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE app_id = ? AND url = ? ORDER BY id LIMIT 1`, appID, url)
	if err != nil {
		return nil, err
	}
	if len(hooks) == 0 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "no webhook at that url")
	}
	return hooks[0], nil
}

// TouchWebhook implements store.Store.
func (s *Store) TouchWebhook(ctx context.Context, id string, now time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE webhooks SET updated_at = ? WHERE id = ?`, ms(now), id)
	if err != nil {
		return fmt.Errorf("touch webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlrow.NotFound("webhook", id)
	}
	return nil
}

// DeleteIdleListenWebhooks implements store.Store.
func (s *Store) DeleteIdleListenWebhooks(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM webhooks WHERE url LIKE ? AND updated_at < ?`, hookd.ListenURLPrefix+"%", ms(before))
	if err != nil {
		return 0, fmt.Errorf("delete idle listen webhooks: %w", err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		s.deletedDeliveries()
	}
	return int(n), nil
}
