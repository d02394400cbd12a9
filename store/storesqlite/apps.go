package storesqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// CreateApp implements store.Store.
func (s *Store) CreateApp(ctx context.Context, app *hookd.App) error {
	values, err := sqlrow.AppValues(s.sealer, app)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO apps (`+sqlrow.AppColumns+`) VALUES (?,?,?,?,?,?,?,?)`, values...)
	return sqlrow.Written(err, isUniqueViolation(err), sqlrow.UIDTaken(app.UID), "insert app")
}

// GetApp implements store.Store.
func (s *Store) GetApp(ctx context.Context, ref string) (*hookd.App, error) {
	app, err := sqlrow.ScanApp(s.sealer, s.r.QueryRowContext(ctx, `SELECT `+sqlrow.AppColumns+` FROM apps WHERE id = ? OR uid = ? ORDER BY id = ? DESC LIMIT 1`, ref, ref, ref))
	return app, sqlrow.Found(err, "get app", "app", ref)
}

// ListApps implements store.Store.
func (s *Store) ListApps(ctx context.Context, page store.Page) ([]*hookd.App, string, error) {
	where, args := pageClause("id", page)
	rows, err := s.r.QueryContext(ctx, `SELECT `+sqlrow.AppColumns+` FROM apps WHERE 1=1`+where+` ORDER BY id DESC LIMIT ?`, append(args, sqlrow.LimitFor(page))...)
	return sqlrow.List(rows, err, "list apps", page, func(row sqlrow.Scanner) (*hookd.App, error) { return sqlrow.ScanApp(s.sealer, row) }, func(a *hookd.App) string { return a.ID })
}

// UpdateApp implements store.Store.
func (s *Store) UpdateApp(ctx context.Context, app *hookd.App) error {
	profile, err := json.Marshal(app.Profile)
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	secret, err := s.sealer.Seal([]byte(app.DefaultSecret))
	if err != nil {
		return fmt.Errorf("seal default secret: %w", err)
	}
	res, err := s.exec(ctx, `UPDATE apps SET uid = ?, name = ?, contact_email = ?, profile = ?, default_secret = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
		nullString(app.UID), app.Name, app.ContactEmail, profile, secret, ms(app.UpdatedAt), app.ID)
	if err := sqlrow.Written(err, isUniqueViolation(err), sqlrow.UIDTaken(app.UID), "update app"); err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlrow.NotFound("app", app.ID)
	}
	return nil
}

// DeleteApp implements store.Store.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `DELETE FROM apps WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete app: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlrow.NotFound("app", id)
	}
	s.deletedDeliveries()
	return nil
}

// CreateAppKey implements store.Store.
func (s *Store) CreateAppKey(ctx context.Context, key *hookd.AppKey) error {
	_, err := s.exec(ctx, `INSERT INTO app_keys (id, app_id, name, hash, created_at) VALUES (?,?,?,?,?)`,
		key.ID, key.AppID, key.Name, key.Hash, ms(key.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert app key: %w", err)
	}
	return nil
}

// ListAppKeys implements store.Store.
func (s *Store) ListAppKeys(ctx context.Context, appID string, page store.Page) ([]*hookd.AppKey, string, error) {
	where, args := pageClause("id", page)
	rows, err := s.r.QueryContext(ctx, `SELECT id, app_id, name, hash, created_at FROM app_keys WHERE app_id = ?`+where+` ORDER BY id DESC LIMIT ?`,
		append(append([]any{appID}, args...), sqlrow.LimitFor(page))...)
	return sqlrow.List(rows, err, "list app keys", page, sqlrow.ScanKey, func(k *hookd.AppKey) string { return k.ID })
}

// DeleteAppKey implements store.Store.
func (s *Store) DeleteAppKey(ctx context.Context, appID, id string) error {
	res, err := s.exec(ctx, `DELETE FROM app_keys WHERE app_id = ? AND id = ?`, appID, id)
	if err != nil {
		return fmt.Errorf("delete app key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlrow.NotFound("key", id)
	}
	return nil
}

// AppKeyByHash implements store.Store.
func (s *Store) AppKeyByHash(ctx context.Context, hash string) (*hookd.AppKey, error) {
	k, err := sqlrow.ScanKey(s.r.QueryRowContext(ctx, `SELECT id, app_id, name, hash, created_at FROM app_keys WHERE hash = ?`, hash))
	return k, sqlrow.Found(err, "find app key", "key", "")
}

// CreateEventType implements store.Store.
func (s *Store) CreateEventType(ctx context.Context, et *hookd.EventType) error {
	_, err := s.exec(ctx, `INSERT INTO event_types (`+sqlrow.EventTypeColumns+`) VALUES (?,?,?,?,?,?,?)`,
		et.ID, et.Name, et.Description, et.Status, nullJSON(et.Schema), ms(et.CreatedAt), ms(et.UpdatedAt))
	return sqlrow.Written(err, isUniqueViolation(err), hookd.Errorf(hookd.ECONFLICT, "event type %q already exists", et.Name), "insert event type")
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// GetEventType implements store.Store.
func (s *Store) GetEventType(ctx context.Context, name string) (*hookd.EventType, error) {
	et, err := sqlrow.ScanEventType(s.r.QueryRowContext(ctx, `SELECT `+sqlrow.EventTypeColumns+` FROM event_types WHERE name = ?`, name))
	return et, sqlrow.Found(err, "get event type", "event type", name)
}

// ListEventTypes implements store.Store.
func (s *Store) ListEventTypes(ctx context.Context, page store.Page) ([]*hookd.EventType, string, error) {
	where, args := pageClause("id", page)
	ets, err := s.queryEventTypes(ctx, `SELECT `+sqlrow.EventTypeColumns+` FROM event_types WHERE 1=1`+where+` ORDER BY id DESC LIMIT ?`, append(args, sqlrow.LimitFor(page))...)
	if err != nil {
		return nil, "", err
	}
	ets, next := sqlrow.TrimPage(ets, page, func(e *hookd.EventType) string { return e.ID })
	return ets, next, nil
}

// AllEventTypes implements store.Store.
func (s *Store) AllEventTypes(ctx context.Context) ([]*hookd.EventType, error) {
	return s.queryEventTypes(ctx, `SELECT `+sqlrow.EventTypeColumns+` FROM event_types ORDER BY id`)
}

func (s *Store) queryEventTypes(ctx context.Context, q string, args ...any) ([]*hookd.EventType, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	defer rows.Close()
	var ets []*hookd.EventType
	for rows.Next() {
		et, err := sqlrow.ScanEventType(rows)
		if err != nil {
			return nil, fmt.Errorf("list event types: %w", err)
		}
		ets = append(ets, et)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	return ets, nil
}

// UpdateEventType implements store.Store.
func (s *Store) UpdateEventType(ctx context.Context, et *hookd.EventType) error {
	res, err := s.exec(ctx, `UPDATE event_types SET description = ?, status = ?, schema = ?, updated_at = ? WHERE name = ?`,
		et.Description, et.Status, nullJSON(et.Schema), ms(et.UpdatedAt), et.Name)
	if err != nil {
		return fmt.Errorf("update event type: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlrow.NotFound("event type", et.Name)
	}
	return nil
}
