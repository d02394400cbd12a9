package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlflow"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// CreateSource implements store.Store.
func (s *Store) CreateSource(ctx context.Context, src *hookd.Source) error {
	values, err := sqlrow.SourceValues(s.sealer, src)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO sources (`+sqlrow.SourceColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, values...)
	if err != nil {
		return fmt.Errorf("insert source: %w", err)
	}
	return nil
}

// GetSource implements store.Store.
func (s *Store) GetSource(ctx context.Context, appID, id string) (*hookd.Source, error) {
	q, args := `SELECT `+sqlrow.SourceColumns+`, version FROM sources WHERE id = ?`, []any{id}
	if appID != "" {
		q, args = q+` AND app_id = ?`, append(args, appID)
	}
	src, err := sqlrow.ScanSource(s.sealer, s.r.QueryRowContext(ctx, q, args...))
	return src, sqlrow.Found(err, "get source", "source", id)
}

// ListSources implements store.Store.
func (s *Store) ListSources(ctx context.Context, appID string, page store.Page) ([]*hookd.Source, string, error) {
	where, args := pageClause("id", page)
	rows, err := s.r.QueryContext(ctx, `SELECT `+sqlrow.SourceColumns+`, version FROM sources WHERE app_id = ?`+where+` ORDER BY id DESC LIMIT ?`,
		append(append([]any{appID}, args...), sqlrow.LimitFor(page))...)
	return sqlrow.List(rows, err, "list sources", page, func(row sqlrow.Scanner) (*hookd.Source, error) { return sqlrow.ScanSource(s.sealer, row) }, func(s *hookd.Source) string { return s.ID })
}

// UpdateSource implements store.Store.
func (s *Store) UpdateSource(ctx context.Context, src *hookd.Source, now time.Time) error {
	events, secret, prev, err := sqlrow.EncodeSource(s.sealer, src)
	if err != nil {
		return err
	}
	return sqlflow.UpdateThenMove(ctx, mover{s}, sqlflow.Update[*sql.Tx]{
		What: "source", Column: "source_id", ID: src.ID, Status: src.Status, Version: &src.Version,
		Check: func(tx *sql.Tx) sqlrow.Scanner {
			return tx.QueryRowContext(ctx, `SELECT status, version FROM sources WHERE id = ? AND app_id = ?`, src.ID, src.AppID)
		},
		Write: func(tx *sql.Tx, _ string) error {
			_, err := tx.ExecContext(ctx, `UPDATE sources SET name = ?, provider = ?, status = ?, forward_url = ?, events = ?, description = ?,
				header_prefix = ?, tolerance_seconds = ?, secret = ?, previous_secret = ?, previous_expires_at = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
				src.Name, src.Provider, src.Status, src.ForwardURL, events, src.Description, src.HeaderPrefix, src.ToleranceSeconds,
				secret, prev, nullMs(src.PreviousSecretExpiresAt), ms(src.UpdatedAt), src.ID)
			return err
		},
	}, now)
}

// DeleteSource implements store.Store.
func (s *Store) DeleteSource(ctx context.Context, appID, id string) error {
	res, err := s.exec(ctx, `DELETE FROM sources WHERE id = ? AND app_id = ?`, id, appID)
	if err != nil {
		return fmt.Errorf("delete source: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlrow.NotFound("source", id)
	}
	s.deletedDeliveries()
	return nil
}

// Receive implements store.Store.
func (s *Store) Receive(ctx context.Context, p *store.ReceiveParams) (*hookd.Event, bool, error) {
	return sqlflow.Receive(ctx, p, s.newID, func(fn func(sqlflow.ReceiveTx) error) error {
		return s.tx(ctx, func(tx *sql.Tx) error { return fn(receiveTx{s, tx}) })
	})
}

// receiveTx is a write transaction as sqlflow.Receive uses it.
type receiveTx struct {
	s  *Store
	tx *sql.Tx
}

// InsertUnlessReceived looks for the provider event before it inserts:
// the single writer keeps another from inserting it meanwhile.
func (r receiveTx) InsertUnlessReceived(ctx context.Context, ev *hookd.Event, data []byte, headers string) (string, error) {
	in := ev.Inbound
	if in.ProviderEventID != "" {
		var id string
		err := r.tx.QueryRowContext(ctx, `SELECT id FROM events WHERE source_id = ? AND provider_event_id = ?`, in.SourceID, in.ProviderEventID).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("find provider event: %w", err)
		}
	}
	_, err := r.tx.ExecContext(ctx, `INSERT INTO events (id, app_id, type, data, payload, test, created_at, source_id, provider_event_id, headers, content_type, filtered)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		ev.ID, ev.AppID, ev.Type, data, ev.Payload, ev.Test, ms(ev.CreatedAt), in.SourceID, nullString(in.ProviderEventID), headers, in.ContentType, in.Filtered)
	if err != nil {
		return "", fmt.Errorf("insert received event: %w", err)
	}
	return "", nil
}

func (r receiveTx) WriteStats(ctx context.Context, stats *store.StatsBatch) error {
	return r.s.writeStats(ctx, r.tx, stats)
}

func (r receiveTx) Event(ctx context.Context, appID, id string) (*hookd.Event, error) {
	return r.s.getEvent(ctx, r.tx, appID, id)
}

func (r receiveTx) InsertForward(ctx context.Context, ev *hookd.Event, d *hookd.DeliverySummary) error {
	now := ms(ev.CreatedAt)
	_, err := r.tx.ExecContext(ctx, `INSERT INTO deliveries (id, app_id, event_id, source_id, url, status, next_attempt_at, test, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, d.ID, ev.AppID, ev.ID, d.SourceID, d.URL, d.Status, now, ev.Test, now, now)
	if err != nil {
		return fmt.Errorf("insert forwarding delivery: %w", err)
	}
	return nil
}
