package sqlshared

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlflow"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// CreateWebhook implements store.Store.
func (c *Shared) CreateWebhook(ctx context.Context, w *hookd.Webhook, maxWebhooks int) error {
	values, err := sqlrow.WebhookValues(c.sealer, w)
	if err != nil {
		return err
	}
	return c.db.InTx(ctx, func(tx DB) error {
		if maxWebhooks > 0 {
			if c.dialect.LockApp != "" {
				if _, err := tx.Exec(ctx, c.dialect.LockApp, w.AppID); err != nil {
					return fmt.Errorf("lock app: %w", err)
				}
			}
			if err := sqlflow.WebhookRoom(tx.QueryRow(ctx, `SELECT count(*) FROM webhooks WHERE app_id = ?`, w.AppID), maxWebhooks); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO webhooks (`+sqlrow.WebhookColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, values...)
		return sqlrow.Written(err, false, nil, "insert webhook")
	})
}

// GetWebhook implements store.Store.
func (c *Shared) GetWebhook(ctx context.Context, appID, id string) (*hookd.Webhook, error) {
	return c.Webhook(ctx, c.db, appID, id)
}

// Webhook reads the webhook with id of the app in db, a store's
// transaction or its database.
func (c *Shared) Webhook(ctx context.Context, db DB, appID, id string) (*hookd.Webhook, error) {
	w, err := sqlrow.ScanWebhook(c.sealer, db.QueryRow(ctx, `SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE id = ? AND app_id = ?`, id, appID))
	return w, sqlrow.Found(err, "get webhook", "webhook", id)
}

// ListWebhooks implements store.Store.
func (c *Shared) ListWebhooks(ctx context.Context, appID string, p store.Page) ([]*hookd.Webhook, string, error) {
	app, args := c.equal("app_id", appID)
	where, after := page("id", p)
	return list(ctx, c.db, "list webhooks", p, `SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE `+app+where+` ORDER BY app_id DESC, id DESC`,
		append(args, after...), func(row sqlrow.Scanner) (*hookd.Webhook, error) { return sqlrow.ScanWebhook(c.sealer, row) }, func(w *hookd.Webhook) string { return w.ID })
}

// DeleteWebhook implements store.Store.
func (c *Shared) DeleteWebhook(ctx context.Context, appID, id string) error {
	n, err := c.db.Exec(ctx, `DELETE FROM webhooks WHERE id = ? AND app_id = ?`, id, appID)
	if err := changed(n, err, "delete webhook", "webhook", id); err != nil {
		return err
	}
	c.deleted()
	return nil
}

// WebhookByURL implements store.Store.
func (c *Shared) WebhookByURL(ctx context.Context, appID, url string) (*hookd.Webhook, error) {
	w, err := sqlrow.ScanWebhook(c.sealer, c.db.QueryRow(ctx, `SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE app_id = ? AND url = ? ORDER BY id LIMIT 1`, appID, url))
	if sqlrow.NoRows(err) {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "no webhook at that url")
	}
	if err != nil {
		return nil, fmt.Errorf("find webhook by url: %w", err)
	}
	return w, nil
}

// TouchWebhook implements store.Store.
func (c *Shared) TouchWebhook(ctx context.Context, id string, now time.Time) error {
	n, err := c.db.Exec(ctx, `UPDATE webhooks SET updated_at = ? WHERE id = ?`, ms(now), id)
	return changed(n, err, "touch webhook", "webhook", id)
}

// DeleteIdleListenWebhooks implements store.Store.
func (c *Shared) DeleteIdleListenWebhooks(ctx context.Context, before time.Time) (int, error) {
	n, err := c.db.Exec(ctx, `DELETE FROM webhooks WHERE url LIKE ? AND updated_at < ?`, hookd.ListenURLPrefix+"%", ms(before))
	if err != nil {
		return 0, fmt.Errorf("delete idle listen webhooks: %w", err)
	}
	if n > 0 {
		c.deleted()
	}
	return int(n), nil
}
