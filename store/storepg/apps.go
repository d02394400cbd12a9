package storepg

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	_, err = s.pool.Exec(ctx, `INSERT INTO apps (`+sqlrow.AppColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, values...)
	return sqlrow.Written(err, isUniqueViolation(err), sqlrow.UIDTaken(app.UID), "insert app")
}

// GetApp implements store.Store.
func (s *Store) GetApp(ctx context.Context, ref string) (*hookd.App, error) {
	app, err := sqlrow.ScanApp(s.sealer, s.pool.QueryRow(ctx, `SELECT `+sqlrow.AppColumns+` FROM apps WHERE id = $1 OR uid = $1 ORDER BY id = $1 DESC LIMIT 1`, ref))
	// Every publish looks its app up first (when the cache misses), so a
	// database that does not answer must say so here: 503, not 500.
	return app, unavailable(sqlrow.Found(err, "get app", "app", ref))
}

// ListApps implements store.Store.
func (s *Store) ListApps(ctx context.Context, page store.Page) ([]*hookd.App, string, error) {
	where, a := pageClause("id", page, 1)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+sqlrow.AppColumns+` FROM apps WHERE true`+where+` ORDER BY id DESC LIMIT $%d`, len(a)+1), append(a, sqlrow.LimitFor(page))...)
	return sqlrow.List(rows, err, "list apps", page, func(row sqlrow.Scanner) (*hookd.App, error) { return sqlrow.ScanApp(s.sealer, row) }, func(a *hookd.App) string { return a.ID })
}

// collect scans every row with scan.
func collect[T any](rows pgx.Rows, scan func(sqlrow.Scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	return sqlrow.Collect(rows, scan)
}

// UpdateApp implements store.Store.
func (s *Store) UpdateApp(ctx context.Context, app *hookd.App) error {
	profile, secret, err := sqlrow.EncodeApp(s.sealer, app)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE apps SET uid = $1, name = $2, contact_email = $3, profile = $4, default_secret = $5, updated_at = $6, version = version + 1 WHERE id = $7`,
		nullString(app.UID), app.Name, app.ContactEmail, string(profile), secret, ms(app.UpdatedAt), app.ID)
	if err := sqlrow.Written(err, isUniqueViolation(err), sqlrow.UIDTaken(app.UID), "update app"); err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return sqlrow.NotFound("app", app.ID)
	}
	return nil
}

// DeleteApp implements store.Store.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM apps WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete app: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return sqlrow.NotFound("app", id)
	}
	return nil
}

// CreateAppKey implements store.Store.
func (s *Store) CreateAppKey(ctx context.Context, key *hookd.AppKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO app_keys (id, app_id, name, hash, created_at) VALUES ($1,$2,$3,$4,$5)`,
		key.ID, key.AppID, key.Name, key.Hash, ms(key.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert app key: %w", err)
	}
	return nil
}

// ListAppKeys implements store.Store.
func (s *Store) ListAppKeys(ctx context.Context, appID string, page store.Page) ([]*hookd.AppKey, string, error) {
	where, a := pageClause("id", page, 2)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT id, app_id, name, hash, created_at FROM app_keys WHERE app_id = $1`+where+` ORDER BY id DESC LIMIT $%d`, len(a)+2),
		append(append([]any{appID}, a...), sqlrow.LimitFor(page))...)
	return sqlrow.List(rows, err, "list app keys", page, sqlrow.ScanKey, func(k *hookd.AppKey) string { return k.ID })
}

// DeleteAppKey implements store.Store.
func (s *Store) DeleteAppKey(ctx context.Context, appID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM app_keys WHERE app_id = $1 AND id = $2`, appID, id)
	if err != nil {
		return fmt.Errorf("delete app key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return sqlrow.NotFound("key", id)
	}
	return nil
}

// AppKeyByHash implements store.Store.
func (s *Store) AppKeyByHash(ctx context.Context, hash string) (*hookd.AppKey, error) {
	k, err := sqlrow.ScanKey(s.pool.QueryRow(ctx, `SELECT id, app_id, name, hash, created_at FROM app_keys WHERE hash = $1`, hash))
	return k, sqlrow.Found(err, "find app key", "key", "")
}

func nullJSON(b json.RawMessage) *string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	return &s
}

// CreateEventType implements store.Store.
func (s *Store) CreateEventType(ctx context.Context, et *hookd.EventType) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO event_types (`+sqlrow.EventTypeColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		et.ID, et.Name, et.Description, et.Status, nullJSON(et.Schema), ms(et.CreatedAt), ms(et.UpdatedAt))
	return sqlrow.Written(err, isUniqueViolation(err), hookd.Errorf(hookd.ECONFLICT, "event type %q already exists", et.Name), "insert event type")
}

// GetEventType implements store.Store.
func (s *Store) GetEventType(ctx context.Context, name string) (*hookd.EventType, error) {
	et, err := sqlrow.ScanEventType(s.pool.QueryRow(ctx, `SELECT `+sqlrow.EventTypeColumns+` FROM event_types WHERE name = $1`, name))
	return et, sqlrow.Found(err, "get event type", "event type", name)
}

// ListEventTypes implements store.Store.
func (s *Store) ListEventTypes(ctx context.Context, page store.Page) ([]*hookd.EventType, string, error) {
	where, a := pageClause("id", page, 1)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+sqlrow.EventTypeColumns+` FROM event_types WHERE true`+where+` ORDER BY id DESC LIMIT $%d`, len(a)+1),
		append(a, sqlrow.LimitFor(page))...)
	return sqlrow.List(rows, err, "list event types", page, sqlrow.ScanEventType, func(e *hookd.EventType) string { return e.ID })
}

// AllEventTypes implements store.Store.
func (s *Store) AllEventTypes(ctx context.Context) ([]*hookd.EventType, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sqlrow.EventTypeColumns+` FROM event_types ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	ets, err := collect(rows, sqlrow.ScanEventType)
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	return ets, nil
}

// UpdateEventType implements store.Store.
func (s *Store) UpdateEventType(ctx context.Context, et *hookd.EventType) error {
	tag, err := s.pool.Exec(ctx, `UPDATE event_types SET description = $1, status = $2, schema = $3, updated_at = $4 WHERE name = $5`,
		et.Description, et.Status, nullJSON(et.Schema), ms(et.UpdatedAt), et.Name)
	if err != nil {
		return fmt.Errorf("update event type: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return sqlrow.NotFound("event type", et.Name)
	}
	return nil
}
