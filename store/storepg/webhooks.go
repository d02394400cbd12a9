package storepg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	return s.tx(ctx, func(tx pgx.Tx) error {
		if maxWebhooks > 0 {
			// Lock the app row so that concurrent creates count in turn.
			if _, err := tx.Exec(ctx, `SELECT 1 FROM apps WHERE id = $1 FOR NO KEY UPDATE`, w.AppID); err != nil {
				return fmt.Errorf("lock app: %w", err)
			}
			if err := sqlflow.WebhookRoom(tx.QueryRow(ctx, `SELECT count(*) FROM webhooks WHERE app_id = $1`, w.AppID), maxWebhooks); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO webhooks (`+sqlrow.WebhookColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)`, values...)
		if err != nil {
			return fmt.Errorf("insert webhook: %w", err)
		}
		return nil
	})
}

// GetWebhook implements store.Store.
func (s *Store) GetWebhook(ctx context.Context, appID, id string) (*hookd.Webhook, error) {
	return s.getWebhook(ctx, s.pool, appID, id)
}

func (s *Store) getWebhook(ctx context.Context, q querier, appID, id string) (*hookd.Webhook, error) {
	w, err := sqlrow.ScanWebhook(s.sealer, q.QueryRow(ctx, `SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE id = $1 AND app_id = $2`, id, appID))
	return w, sqlrow.Found(err, "get webhook", "webhook", id)
}

// ListWebhooks implements store.Store.
func (s *Store) ListWebhooks(ctx context.Context, appID string, page store.Page) ([]*hookd.Webhook, string, error) {
	where, a := pageClause("id", page, 2)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE `+equalRange("app_id", "$1")+where+` ORDER BY app_id DESC, id DESC LIMIT $%d`, len(a)+2),
		append(append([]any{appID}, a...), sqlrow.LimitFor(page))...)
	return sqlrow.List(rows, err, "list webhooks", page, func(row sqlrow.Scanner) (*hookd.Webhook, error) { return sqlrow.ScanWebhook(s.sealer, row) }, func(w *hookd.Webhook) string { return w.ID })
}

// UpdateWebhook implements store.Store.
func (s *Store) UpdateWebhook(ctx context.Context, w *hookd.Webhook, now time.Time) error {
	r, err := sqlrow.EncodeWebhook(s.sealer, w)
	if err != nil {
		return err
	}
	return sqlflow.UpdateThenMove(ctx, mover{s}, sqlflow.Update[pgx.Tx]{
		What: "webhook", Column: "webhook_id", ID: w.ID, Status: w.Status, Version: &w.Version,
		Check: func(tx pgx.Tx) sqlrow.Scanner {
			return tx.QueryRow(ctx, `SELECT status, version FROM webhooks WHERE id = $1 AND app_id = $2 FOR NO KEY UPDATE`, w.ID, w.AppID)
		},
		Write: func(tx pgx.Tx, old string) error {
			reactivated := sqlflow.Reactivated(w, old)
			_, err := tx.Exec(ctx, `UPDATE webhooks SET url = $1, events = $2, status = $3, name = $4, description = $5, headers = $6, rate_limit = $7,
				ordered = $8, metadata = $9, secret = $10, previous_secret = $11, previous_expires_at = $12, disabled_reason = $13,
				consecutive_failures = CASE WHEN $14 THEN 0 ELSE consecutive_failures END,
				failing_since = CASE WHEN $14 THEN NULL ELSE failing_since END, updated_at = $15, version = version + 1
				WHERE id = $16`,
				w.URL, string(r.Events), w.Status, w.Name, w.Description, string(r.Headers), w.RateLimit, w.Ordered, string(r.Metadata), r.Secret, r.PrevSecret,
				nullMs(w.PreviousSecretExpiresAt), w.DisabledReason, reactivated, ms(w.UpdatedAt), w.ID)
			return err
		},
	}, now)
}

// mover is the store as sqlflow.UpdateThenMove moves the open deliveries
// of a webhook or source whose status changed.
type mover struct{ s *Store }

func (m mover) InTx(ctx context.Context, fn func(pgx.Tx) error) error { return m.s.tx(ctx, fn) }

func (m mover) MoveChunk(ctx context.Context, tx pgx.Tx, column, id, status string, now time.Time) (int, error) {
	return m.s.moveOpenDeliveries(ctx, tx, column, id, status, now)
}

func (m mover) MoveRest(moved int, column, id, status string, now time.Time) {
	m.s.moveRest(moved, column, id, status, now)
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

// DeleteWebhook implements store.Store.
func (s *Store) DeleteWebhook(ctx context.Context, appID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhooks WHERE id = $1 AND app_id = $2`, id, appID)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return sqlrow.NotFound("webhook", id)
	}
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := s.getWebhook(ctx, tx, appID, webhookID); err != nil {
			return err
		}
		var err error
		if n, err = s.recoverChunk(ctx, tx, rc, now); err != nil || n < moveChunk {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO recoveries (id, webhook_id, since, until, before) VALUES ($1, $2, $3, $4, $5)`,
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
func (s *Store) recoverChunk(ctx context.Context, tx pgx.Tx, rc recovery, now time.Time) (int, error) {
	const chunk = `SELECT id FROM deliveries WHERE webhook_id = $1 AND status = 'failed'
		AND created_at >= $2 AND created_at < $3 AND updated_at <= $4 ORDER BY id LIMIT $5`
	// Locking the events keeps retention (which skips locked events)
	// from deleting them under the recovery.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM events WHERE id IN (SELECT event_id FROM deliveries WHERE id IN (`+chunk+`))
		ORDER BY id FOR SHARE`, rc.webhookID, rc.since, rc.until, rc.before, moveChunk); err != nil {
		return 0, fmt.Errorf("recover deliveries: %w", err)
	}
	tag, err := tx.Exec(ctx, `UPDATE deliveries SET
			status = CASE (SELECT status FROM webhooks WHERE id = $1) WHEN 'paused' THEN 'held' ELSE 'pending' END,
			next_attempt_at = $6, updated_at = $6
		WHERE id IN (`+chunk+` FOR NO KEY UPDATE)`,
		rc.webhookID, rc.since, rc.until, rc.before, moveChunk, ms(now))
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

// recoverRest re-queues what the recovery rc left after its first chunk,
// a chunk per transaction, until a chunk finds less than a full one; the
// transaction that re-queues the last chunk deletes rc's row. Each holds
// rc's row, so that processes finishing the same recovery take turns; a
// failed chunk is tried again after a pause; if the store closes first,
// finishMoves resumes it at the next start.
func (s *Store) recoverRest(ctx context.Context, rc recovery) {
	background.Retry(ctx, s.log, "recover deliveries", func(ctx context.Context) (bool, error) {
		more := false
		err := s.tx(ctx, func(tx pgx.Tx) error {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT true FROM recoveries WHERE id = $1 FOR UPDATE`, rc.id).Scan(&exists); err != nil {
				if errors.Is(err, pgx.ErrNoRows) {
					return nil // finished by another process
				}
				return fmt.Errorf("recover deliveries: %w", err)
			}
			n, err := s.recoverChunk(ctx, tx, rc, s.now())
			if err != nil {
				return err
			}
			if more = n == moveChunk; !more {
				if _, err := tx.Exec(ctx, `DELETE FROM recoveries WHERE id = $1`, rc.id); err != nil {
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
	rows, err := s.pool.Query(ctx, `SELECT id, webhook_id, since, until, before FROM recoveries ORDER BY id`)
	if err != nil {
		return fmt.Errorf("find unfinished recoveries: %w", err)
	}
	var rcs []recovery
	var rc recovery
	if _, err := pgx.ForEachRow(rows, []any{&rc.id, &rc.webhookID, &rc.since, &rc.until, &rc.before}, func() error {
		rcs = append(rcs, rc)
		return nil
	}); err != nil {
		return fmt.Errorf("find unfinished recoveries: %w", err)
	}
	for _, rc := range rcs {
		s.moves.Go(func(ctx context.Context) { s.recoverRest(ctx, rc) })
	}
	return nil
}

// WebhookByURL implements store.Store.
func (s *Store) WebhookByURL(ctx context.Context, appID, url string) (*hookd.Webhook, error) {
	w, err := sqlrow.ScanWebhook(s.sealer, s.pool.QueryRow(ctx, `SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE app_id = $1 AND url = $2 ORDER BY id LIMIT 1`, appID, url))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "no webhook at that url")
	}
	if err != nil {
		return nil, fmt.Errorf("find webhook by url: %w", err)
	}
	return w, nil
}

// TouchWebhook implements store.Store.
func (s *Store) TouchWebhook(ctx context.Context, id string, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE webhooks SET updated_at = $1 WHERE id = $2`, ms(now), id)
	if err != nil {
		return fmt.Errorf("touch webhook: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return sqlrow.NotFound("webhook", id)
	}
	return nil
}

// DeleteIdleListenWebhooks implements store.Store.
func (s *Store) DeleteIdleListenWebhooks(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhooks WHERE url LIKE $1 AND updated_at < $2`, hookd.ListenURLPrefix+"%", ms(before))
	if err != nil {
		return 0, fmt.Errorf("delete idle listen webhooks: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
