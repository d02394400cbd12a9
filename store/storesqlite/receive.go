package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlflow"
)

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
