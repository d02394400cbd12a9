package storepg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlflow"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

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
