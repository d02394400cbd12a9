package sqlshared

import (
	"context"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store/internal/sqlflow"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// Moving is how a store moves the open deliveries of a webhook or source
// whose status changed (see sqlflow.Mover): Chunk moves up to one chunk
// in tx, and Rest moves, in the background, what the first chunk left.
type Moving struct {
	Chunk func(ctx context.Context, tx DB, column, id, status string, now time.Time) (int, error)
	Rest  func(moved int, column, id, status string, now time.Time)
}

// mover is the shared code as sqlflow.UpdateThenMove moves deliveries.
type mover struct{ c *Shared }

func (m mover) InTx(ctx context.Context, fn func(DB) error) error { return m.c.db.InTx(ctx, fn) }

func (m mover) MoveChunk(ctx context.Context, tx DB, column, id, status string, now time.Time) (int, error) {
	return m.c.moving.Chunk(ctx, tx, column, id, status, now)
}

func (m mover) MoveRest(moved int, column, id, status string, now time.Time) {
	m.c.moving.Rest(moved, column, id, status, now)
}

// UpdateWebhook implements store.Store.
func (c *Shared) UpdateWebhook(ctx context.Context, w *hookd.Webhook, now time.Time) error {
	r, err := sqlrow.EncodeWebhook(c.sealer, w)
	if err != nil {
		return err
	}
	return sqlflow.UpdateThenMove(ctx, mover{c}, sqlflow.Update[DB]{
		What: "webhook", Column: "webhook_id", ID: w.ID, Status: w.Status, Version: &w.Version,
		Check: func(tx DB) sqlrow.Scanner {
			return tx.QueryRow(ctx, `SELECT status, version FROM webhooks WHERE id = ? AND app_id = ?`+c.dialect.LockRow, w.ID, w.AppID)
		},
		Write: func(tx DB, old string) error {
			reactivated := sqlflow.Reactivated(w, old)
			_, err := tx.Exec(ctx, `UPDATE webhooks SET url = ?, events = ?, status = ?, name = ?, description = ?, headers = ?, rate_limit = ?,
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

// UpdateSource implements store.Store.
func (c *Shared) UpdateSource(ctx context.Context, src *hookd.Source, now time.Time) error {
	events, secret, prev, err := sqlrow.EncodeSource(c.sealer, src)
	if err != nil {
		return err
	}
	return sqlflow.UpdateThenMove(ctx, mover{c}, sqlflow.Update[DB]{
		What: "source", Column: "source_id", ID: src.ID, Status: src.Status, Version: &src.Version,
		Check: func(tx DB) sqlrow.Scanner {
			return tx.QueryRow(ctx, `SELECT status, version FROM sources WHERE id = ? AND app_id = ?`+c.dialect.LockRow, src.ID, src.AppID)
		},
		Write: func(tx DB, _ string) error {
			_, err := tx.Exec(ctx, `UPDATE sources SET name = ?, provider = ?, status = ?, forward_url = ?, events = ?, description = ?,
				header_prefix = ?, tolerance_seconds = ?, secret = ?, previous_secret = ?, previous_expires_at = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
				src.Name, src.Provider, src.Status, src.ForwardURL, events, src.Description, src.HeaderPrefix, src.ToleranceSeconds,
				secret, prev, nullMs(src.PreviousSecretExpiresAt), ms(src.UpdatedAt), src.ID)
			return err
		},
	}, now)
}

// nullMs is t in Unix ms, or NULL for the zero time.
func nullMs(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}
