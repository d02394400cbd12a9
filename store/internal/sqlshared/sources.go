package sqlshared

import (
	"context"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// CreateSource implements store.Store.
func (c *Shared) CreateSource(ctx context.Context, src *hookd.Source) error {
	values, err := sqlrow.SourceValues(c.sealer, src)
	if err != nil {
		return err
	}
	_, err = c.db.Exec(ctx, `INSERT INTO sources (`+sqlrow.SourceColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, values...)
	return sqlrow.Written(err, false, nil, "insert source")
}

// GetSource implements store.Store.
func (c *Shared) GetSource(ctx context.Context, appID, id string) (*hookd.Source, error) {
	q, args := `SELECT `+sqlrow.SourceColumns+`, version FROM sources WHERE id = ?`, []any{id}
	if appID != "" {
		q, args = q+` AND app_id = ?`, append(args, appID)
	}
	src, err := sqlrow.ScanSource(c.sealer, c.db.QueryRow(ctx, q, args...))
	return src, sqlrow.Found(err, "get source", "source", id)
}

// ListSources implements store.Store.
func (c *Shared) ListSources(ctx context.Context, appID string, p store.Page) ([]*hookd.Source, string, error) {
	app, args := c.equal("app_id", appID)
	where, after := page("id", p)
	return list(ctx, c.db, "list sources", p, `SELECT `+sqlrow.SourceColumns+`, version FROM sources WHERE `+app+where+` ORDER BY app_id DESC, id DESC`,
		append(args, after...), func(row sqlrow.Scanner) (*hookd.Source, error) { return sqlrow.ScanSource(c.sealer, row) }, func(s *hookd.Source) string { return s.ID })
}

// DeleteSource implements store.Store.
func (c *Shared) DeleteSource(ctx context.Context, appID, id string) error {
	n, err := c.db.Exec(ctx, `DELETE FROM sources WHERE id = ? AND app_id = ?`, id, appID)
	if err := changed(n, err, "delete source", "source", id); err != nil {
		return err
	}
	c.deleted()
	return nil
}
