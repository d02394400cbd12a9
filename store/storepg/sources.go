package storepg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	_, err = s.pool.Exec(ctx, `INSERT INTO sources (`+sqlrow.SourceColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`, values...)
	if err != nil {
		return fmt.Errorf("insert source: %w", err)
	}
	return nil
}

// GetSource implements store.Store.
func (s *Store) GetSource(ctx context.Context, appID, id string) (*hookd.Source, error) {
	q, args := `SELECT `+sqlrow.SourceColumns+`, version FROM sources WHERE id = $1`, []any{id}
	if appID != "" {
		q, args = q+` AND app_id = $2`, append(args, appID)
	}
	src, err := sqlrow.ScanSource(s.sealer, s.pool.QueryRow(ctx, q, args...))
	return src, sqlrow.Found(err, "get source", "source", id)
}

// ListSources implements store.Store.
func (s *Store) ListSources(ctx context.Context, appID string, page store.Page) ([]*hookd.Source, string, error) {
	where, a := pageClause("id", page, 2)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+sqlrow.SourceColumns+`, version FROM sources WHERE `+equalRange("app_id", "$1")+where+` ORDER BY app_id DESC, id DESC LIMIT $%d`, len(a)+2),
		append(append([]any{appID}, a...), sqlrow.LimitFor(page))...)
	return sqlrow.List(rows, err, "list sources", page, func(row sqlrow.Scanner) (*hookd.Source, error) { return sqlrow.ScanSource(s.sealer, row) }, func(s *hookd.Source) string { return s.ID })
}

// UpdateSource implements store.Store.
func (s *Store) UpdateSource(ctx context.Context, src *hookd.Source, now time.Time) error {
	events, secret, prev, err := sqlrow.EncodeSource(s.sealer, src)
	if err != nil {
		return err
	}
	return sqlflow.UpdateThenMove(ctx, mover{s}, sqlflow.Update[pgx.Tx]{
		What: "source", Column: "source_id", ID: src.ID, Status: src.Status, Version: &src.Version,
		Check: func(tx pgx.Tx) sqlrow.Scanner {
			return tx.QueryRow(ctx, `SELECT status, version FROM sources WHERE id = $1 AND app_id = $2 FOR NO KEY UPDATE`, src.ID, src.AppID)
		},
		Write: func(tx pgx.Tx, _ string) error {
			_, err := tx.Exec(ctx, `UPDATE sources SET name = $1, provider = $2, status = $3, forward_url = $4, events = $5, description = $6,
				header_prefix = $7, tolerance_seconds = $8, secret = $9, previous_secret = $10, previous_expires_at = $11, updated_at = $12, version = version + 1 WHERE id = $13`,
				src.Name, src.Provider, src.Status, src.ForwardURL, events, src.Description, src.HeaderPrefix, src.ToleranceSeconds,
				secret, prev, nullMs(src.PreviousSecretExpiresAt), ms(src.UpdatedAt), src.ID)
			return err
		},
	}, now)
}

// DeleteSource implements store.Store.
func (s *Store) DeleteSource(ctx context.Context, appID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sources WHERE id = $1 AND app_id = $2`, id, appID)
	if err != nil {
		return fmt.Errorf("delete source: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return sqlrow.NotFound("source", id)
	}
	return nil
}

// Receive implements store.Store.
func (s *Store) Receive(ctx context.Context, p *store.ReceiveParams) (*hookd.Event, bool, error) {
	return sqlflow.Receive(ctx, p, s.newID, func(fn func(sqlflow.ReceiveTx) error) error {
		return s.tx(ctx, func(tx pgx.Tx) error { return fn(receiveTx{s, tx}) })
	})
}

// receiveTx is a transaction as sqlflow.Receive uses it.
type receiveTx struct {
	s  *Store
	tx pgx.Tx
}

// InsertUnlessReceived locks the source's row until the commit, in place
// of foreign keys (see routing): a delete of the source or of its app
// waits, then its trigger deletes what this wrote. A resent provider
// event collides on the unique index and is answered with the first one;
// ON CONFLICT keeps concurrent resends from failing.
func (r receiveTx) InsertUnlessReceived(ctx context.Context, ev *hookd.Event, data []byte, headers string) (string, error) {
	in := ev.Inbound
	var locked int
	err := r.tx.QueryRow(ctx, `SELECT 1 FROM sources WHERE id = $1 AND app_id = $2 FOR KEY SHARE`, in.SourceID, ev.AppID).Scan(&locked)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", sqlrow.NotFound("source", in.SourceID)
	}
	if err != nil {
		return "", fmt.Errorf("lock source: %w", err)
	}
	tag, err := r.tx.Exec(ctx, `INSERT INTO events (id, app_id, type, data, payload, test, created_at, source_id, provider_event_id, headers, content_type, filtered)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
		ON CONFLICT (source_id, provider_event_id) WHERE provider_event_id IS NOT NULL DO NOTHING`,
		ev.ID, ev.AppID, ev.Type, data, ev.Payload, ev.Test, ms(ev.CreatedAt), in.SourceID, nullString(in.ProviderEventID), headers, in.ContentType, in.Filtered)
	if err != nil {
		return "", fmt.Errorf("insert received event: %w", err)
	}
	if tag.RowsAffected() > 0 {
		return "", nil
	}
	var id string
	if err := r.tx.QueryRow(ctx, `SELECT id FROM events WHERE source_id = $1 AND provider_event_id = $2`, in.SourceID, in.ProviderEventID).Scan(&id); err != nil {
		return "", fmt.Errorf("find provider event: %w", err)
	}
	return id, nil
}

func (r receiveTx) WriteStats(ctx context.Context, stats *store.StatsBatch) error {
	return writeStats(ctx, r.tx, stats)
}

func (r receiveTx) Event(ctx context.Context, appID, id string) (*hookd.Event, error) {
	return r.s.getEvent(ctx, r.tx, appID, id)
}

// InsertForward wakes the claimers when the delivery is due.
func (r receiveTx) InsertForward(ctx context.Context, ev *hookd.Event, d *hookd.DeliverySummary) error {
	now := ms(ev.CreatedAt)
	_, err := r.tx.Exec(ctx, `INSERT INTO deliveries (id, app_id, event_id, source_id, url, status, next_attempt_at, test, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, d.ID, ev.AppID, ev.ID, d.SourceID, d.URL, d.Status, now, ev.Test, now, now)
	if err != nil {
		return fmt.Errorf("insert forwarding delivery: %w", err)
	}
	if d.Status == hookd.DeliveryPending {
		return r.s.notifyDue(ctx, r.tx)
	}
	return nil
}
