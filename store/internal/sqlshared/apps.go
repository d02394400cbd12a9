package sqlshared

import (
	"context"
	"encoding/json"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// CreateApp implements store.Store.
func (c *Shared) CreateApp(ctx context.Context, app *hookd.App) error {
	values, err := sqlrow.AppValues(c.sealer, app)
	if err != nil {
		return err
	}
	_, err = c.db.Exec(ctx, `INSERT INTO apps (`+sqlrow.AppColumns+`) VALUES (?,?,?,?,?,?,?,?)`, values...)
	return sqlrow.Written(err, c.db.UniqueViolation(err), sqlrow.UIDTaken(app.UID), "insert app")
}

// GetApp implements store.Store.
func (c *Shared) GetApp(ctx context.Context, ref string) (*hookd.App, error) {
	app, err := sqlrow.ScanApp(c.sealer, c.db.QueryRow(ctx, `SELECT `+sqlrow.AppColumns+` FROM apps WHERE id = ? OR uid = ? ORDER BY id = ? DESC LIMIT 1`, ref, ref, ref))
	return app, sqlrow.Found(err, "get app", "app", ref)
}

// ListApps implements store.Store.
func (c *Shared) ListApps(ctx context.Context, p store.Page) ([]*hookd.App, string, error) {
	where, args := page("id", p)
	return list(ctx, c.db, "list apps", p, `SELECT `+sqlrow.AppColumns+` FROM apps WHERE 1=1`+where+` ORDER BY id DESC`, args,
		func(row sqlrow.Scanner) (*hookd.App, error) { return sqlrow.ScanApp(c.sealer, row) }, func(a *hookd.App) string { return a.ID })
}

// UpdateApp implements store.Store.
func (c *Shared) UpdateApp(ctx context.Context, app *hookd.App) error {
	profile, secret, err := sqlrow.EncodeApp(c.sealer, app)
	if err != nil {
		return err
	}
	n, err := c.db.Exec(ctx, `UPDATE apps SET uid = ?, name = ?, contact_email = ?, profile = ?, default_secret = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
		nullString(app.UID), app.Name, app.ContactEmail, profile, secret, ms(app.UpdatedAt), app.ID)
	if err := sqlrow.Written(err, c.db.UniqueViolation(err), sqlrow.UIDTaken(app.UID), "update app"); err != nil {
		return err
	}
	return changed(n, nil, "update app", "app", app.ID)
}

// DeleteApp implements store.Store.
func (c *Shared) DeleteApp(ctx context.Context, id string) error {
	n, err := c.db.Exec(ctx, `DELETE FROM apps WHERE id = ?`, id)
	if err := changed(n, err, "delete app", "app", id); err != nil {
		return err
	}
	c.deleted()
	return nil
}

// CreateAppKey implements store.Store.
func (c *Shared) CreateAppKey(ctx context.Context, key *hookd.AppKey) error {
	_, err := c.db.Exec(ctx, `INSERT INTO app_keys (`+sqlrow.KeyColumns+`) VALUES (?,?,?,?,?)`,
		key.ID, key.AppID, key.Name, key.Hash, ms(key.CreatedAt))
	return sqlrow.Written(err, false, nil, "insert app key")
}

// ListAppKeys implements store.Store.
func (c *Shared) ListAppKeys(ctx context.Context, appID string, p store.Page) ([]*hookd.AppKey, string, error) {
	where, args := page("id", p)
	return list(ctx, c.db, "list app keys", p, `SELECT `+sqlrow.KeyColumns+` FROM app_keys WHERE app_id = ?`+where+` ORDER BY id DESC`,
		append([]any{appID}, args...), sqlrow.ScanKey, func(k *hookd.AppKey) string { return k.ID })
}

// DeleteAppKey implements store.Store.
func (c *Shared) DeleteAppKey(ctx context.Context, appID, id string) error {
	n, err := c.db.Exec(ctx, `DELETE FROM app_keys WHERE app_id = ? AND id = ?`, appID, id)
	return changed(n, err, "delete app key", "key", id)
}

// AppKeyByHash implements store.Store.
func (c *Shared) AppKeyByHash(ctx context.Context, hash string) (*hookd.AppKey, error) {
	k, err := sqlrow.ScanKey(c.db.QueryRow(ctx, `SELECT `+sqlrow.KeyColumns+` FROM app_keys WHERE hash = ?`, hash))
	return k, sqlrow.Found(err, "find app key", "key", "")
}

// CreateEventType implements store.Store.
func (c *Shared) CreateEventType(ctx context.Context, et *hookd.EventType) error {
	_, err := c.db.Exec(ctx, `INSERT INTO event_types (`+sqlrow.EventTypeColumns+`) VALUES (?,?,?,?,?,?,?)`,
		et.ID, et.Name, et.Description, et.Status, nullJSON(et.Schema), ms(et.CreatedAt), ms(et.UpdatedAt))
	return sqlrow.Written(err, c.db.UniqueViolation(err), hookd.Errorf(hookd.ECONFLICT, "event type %q already exists", et.Name), "insert event type")
}

// GetEventType implements store.Store.
func (c *Shared) GetEventType(ctx context.Context, name string) (*hookd.EventType, error) {
	et, err := sqlrow.ScanEventType(c.db.QueryRow(ctx, `SELECT `+sqlrow.EventTypeColumns+` FROM event_types WHERE name = ?`, name))
	return et, sqlrow.Found(err, "get event type", "event type", name)
}

// ListEventTypes implements store.Store.
func (c *Shared) ListEventTypes(ctx context.Context, p store.Page) ([]*hookd.EventType, string, error) {
	where, args := page("id", p)
	return list(ctx, c.db, "list event types", p, `SELECT `+sqlrow.EventTypeColumns+` FROM event_types WHERE 1=1`+where+` ORDER BY id DESC`, args,
		sqlrow.ScanEventType, func(e *hookd.EventType) string { return e.ID })
}

// AllEventTypes implements store.Store.
func (c *Shared) AllEventTypes(ctx context.Context) ([]*hookd.EventType, error) {
	rows, err := c.db.Query(ctx, `SELECT `+sqlrow.EventTypeColumns+` FROM event_types ORDER BY id`)
	return collect(rows, err, "list event types", sqlrow.ScanEventType)
}

// UpdateEventType implements store.Store.
func (c *Shared) UpdateEventType(ctx context.Context, et *hookd.EventType) error {
	n, err := c.db.Exec(ctx, `UPDATE event_types SET description = ?, status = ?, schema = ?, updated_at = ? WHERE name = ?`,
		et.Description, et.Status, nullJSON(et.Schema), ms(et.UpdatedAt), et.Name)
	return changed(n, err, "update event type", "event type", et.Name)
}

// nullJSON is a JSON column's text, or NULL for none.
func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// nullString is s, or NULL for "".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
