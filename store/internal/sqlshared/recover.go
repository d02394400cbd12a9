package sqlshared

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/background"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// Recovery is a row of the recoveries table: what RecoverWebhook was
// asked for, its bounds in Unix ms.
type Recovery struct {
	ID, WebhookID        string
	Since, Until, Before int64
}

// Recovering is how a store re-queues the failed deliveries that
// RecoverWebhook asks for: a chunk at a time, the first in the request's
// transaction and the rest in the background.
type Recovering struct {
	// Chunk re-queues, in tx, up to Size of the deliveries rc asks for,
	// in id order, and returns how many.
	Chunk func(ctx context.Context, tx DB, rc Recovery, now time.Time) (int, error)
	Size  int
	NewID func(prefix string) string
	Work  *background.Work // runs the rest
	Log   *slog.Logger
	Now   func() time.Time
}

// RecoverWebhook implements store.Store: a recovery that holds more than
// one chunk is recorded, then finished in the background.
func (c *Shared) RecoverWebhook(ctx context.Context, p *store.RecoverParams) (int, bool, error) {
	r := c.recovering
	rc := Recovery{ID: r.NewID("rcv"), WebhookID: p.WebhookID, Since: ms(p.Since), Until: int64(1 << 62), Before: ms(p.Now)}
	if !p.Until.IsZero() {
		rc.Until = ms(p.Until)
	}
	var n int
	err := c.db.InTx(ctx, func(tx DB) error {
		if _, err := c.Webhook(ctx, tx, p.AppID, p.WebhookID); err != nil {
			return err
		}
		var err error
		if n, err = r.Chunk(ctx, tx, rc, p.Now); err != nil || n < r.Size {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO recoveries (id, webhook_id, since, until, before) VALUES (?, ?, ?, ?, ?)`,
			rc.ID, rc.WebhookID, rc.Since, rc.Until, rc.Before)
		return sqlrow.Written(err, false, nil, "record recovery")
	})
	if err != nil {
		return 0, false, err
	}
	if n < r.Size {
		return n, true, nil
	}
	r.Work.Go(func(ctx context.Context) { c.recoverRest(ctx, rc) })
	return n, false, nil
}

// recoverRest re-queues what the recovery rc left after its first chunk,
// a chunk per transaction, until a chunk finds less than a full one; the
// transaction that re-queues the last chunk deletes rc's row. Each holds
// rc's row, so that processes finishing the same recovery take turns; a
// failed chunk is tried again after a pause; if the store closes first,
// FinishRecoveries resumes it at the next start.
func (c *Shared) recoverRest(ctx context.Context, rc Recovery) {
	r := c.recovering
	background.Retry(ctx, r.Log, "recover deliveries", func(ctx context.Context) (bool, error) {
		more := false
		err := c.db.InTx(ctx, func(tx DB) error {
			var exists bool
			err := tx.QueryRow(ctx, `SELECT true FROM recoveries WHERE id = ?`+c.dialect.LockRow, rc.ID).Scan(&exists)
			if sqlrow.NoRows(err) {
				return nil // finished by another process
			}
			if err != nil {
				return fmt.Errorf("recover deliveries: %w", err)
			}
			n, err := r.Chunk(ctx, tx, rc, r.Now())
			if err != nil {
				return err
			}
			if more = n == r.Size; !more {
				_, err = tx.Exec(ctx, `DELETE FROM recoveries WHERE id = ?`, rc.ID)
				return sqlrow.Written(err, false, nil, "recover deliveries")
			}
			return nil
		})
		return more, err
	}, "webhook_id", rc.WebhookID, "recovery", rc.ID)
}

// FinishRecoveries resumes, in the background, the recoveries that a
// process which stopped or died left unfinished.
func (c *Shared) FinishRecoveries(ctx context.Context) error {
	rows, err := c.db.Query(ctx, `SELECT id, webhook_id, since, until, before FROM recoveries ORDER BY id`)
	rcs, err := collect(rows, err, "find unfinished recoveries", func(row sqlrow.Scanner) (rc Recovery, err error) {
		return rc, row.Scan(&rc.ID, &rc.WebhookID, &rc.Since, &rc.Until, &rc.Before)
	})
	if err != nil {
		return err
	}
	for _, rc := range rcs {
		c.recovering.Work.Go(func(ctx context.Context) { c.recoverRest(ctx, rc) })
	}
	return nil
}
