// Package sqlflow is the order of the steps that both SQL stores take in
// the writes that span several statements: updating a webhook or source
// and moving its open deliveries, receiving an inbound event and the
// delivery that forwards it; and what a batch of recorded attempts
// decides (Judgement), which both stores' RecordAttempts apply with
// statements of their own. Each store supplies its statements (their
// placeholders and locking differ) as a small interface or func values.
package sqlflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// Mover is how a store moves the open deliveries of a webhook or source
// whose status changed, Tx being its transaction.
type Mover[Tx any] interface {
	// InTx runs fn in one write transaction.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// MoveChunk makes up to one chunk of the open deliveries of the
	// webhook or source with id (column names which) follow status, in
	// tx; it returns how many it moved.
	MoveChunk(ctx context.Context, tx Tx, column, id, status string, now time.Time) (int, error)
	// MoveRest moves, in the background, what the first chunk of moved
	// deliveries left.
	MoveRest(moved int, column, id, status string, now time.Time)
}

// Update is one versioned update of a webhook or a source.
type Update[Tx any] struct {
	What   string // "webhook" or "source"
	Column string // the deliveries' column that names it: "webhook_id" or "source_id"
	ID     string
	Status string // its status after the update
	// Version is the version the update was made from; it is incremented
	// once the update commits.
	Version *int64
	// Check selects the row's status and version (see
	// sqlrow.CheckVersion), locking it where the database needs that.
	Check func(tx Tx) sqlrow.Scanner
	// Write writes the row, whose status was old.
	Write func(tx Tx, old string) error
}

// UpdateThenMove applies u in one transaction and, when it changes the
// status, moves the first chunk of open deliveries in that transaction
// and the rest in the background (see Mover).
func UpdateThenMove[Tx any](ctx context.Context, m Mover[Tx], u Update[Tx], now time.Time) error {
	moved := 0
	err := m.InTx(ctx, func(tx Tx) error {
		old, err := sqlrow.CheckVersion(u.Check(tx), u.What, u.ID, *u.Version)
		if err != nil {
			return err
		}
		if err := u.Write(tx, old); err != nil {
			return fmt.Errorf("update %s: %w", u.What, err)
		}
		if old == u.Status {
			return nil
		}
		moved, err = m.MoveChunk(ctx, tx, u.Column, u.ID, u.Status, now)
		return err
	})
	if err != nil {
		return err
	}
	*u.Version++
	m.MoveRest(moved, u.Column, u.ID, u.Status, now)
	return nil
}

// Reactivated reports whether an update turns w back on from old, and
// then gives it a clean slate: no failures, no reason for a disable.
func Reactivated(w *hookd.Webhook, old string) bool {
	if w.Status != hookd.WebhookActive || old == hookd.WebhookActive {
		return false
	}
	w.ConsecutiveFailures, w.DisabledReason = 0, ""
	return true
}

// ReceiveTx is a store's transaction as Receive uses it.
type ReceiveTx interface {
	// InsertUnlessReceived inserts ev, with its data column data and its
	// headers encoded as JSON, unless its source received an event with
	// the same provider event id before: it returns that event's id then,
	// "" when it inserted ev.
	InsertUnlessReceived(ctx context.Context, ev *hookd.Event, data []byte, headers string) (firstID string, err error)
	// Event reads the event with id of the app, with its deliveries.
	Event(ctx context.Context, appID, id string) (*hookd.Event, error)
	// InsertForward inserts the delivery d that forwards ev to d.URL.
	InsertForward(ctx context.Context, ev *hookd.Event, d *hookd.DeliverySummary) error
	// WriteStats adds stats to the sources' statistics.
	WriteStats(ctx context.Context, stats *store.StatsBatch) error
}

// Receive stores the inbound event p describes and the delivery that
// forwards it, and counts it in the source's statistics, in one
// transaction that inTx runs; newID gives the delivery's id. It returns
// the event, or the one first received with the same provider event id
// and true.
func Receive(ctx context.Context, p *store.ReceiveParams, newID func(prefix string) string, inTx func(fn func(tx ReceiveTx) error) error) (*hookd.Event, bool, error) {
	ev, in := p.Event, p.Event.Inbound
	headers, err := json.Marshal(in.Headers)
	if err != nil {
		return nil, false, fmt.Errorf("encode headers: %w", err)
	}
	var first *hookd.Event
	err = inTx(func(tx ReceiveTx) error {
		var err error
		if first, err = receive(ctx, tx, p, newID, string(headers)); err != nil {
			return err
		}
		var stats store.StatsBatch
		stats.Received(in.SourceID, ev.CreatedAt, first != nil)
		return tx.WriteStats(ctx, &stats)
	})
	if err != nil {
		return nil, false, err
	}
	if first != nil {
		return first, true, nil
	}
	return ev, false, nil
}

// receive stores what Receive received in tx; it returns the event
// received first when this one is a duplicate.
func receive(ctx context.Context, tx ReceiveTx, p *store.ReceiveParams, newID func(prefix string) string, headers string) (*hookd.Event, error) {
	ev, in := p.Event, p.Event.Inbound
	// A body that is not a JSON object has no data; the column holds
	// it as empty (not NULL), which reads back as nil.
	data := []byte{}
	if ev.Data != nil {
		data = ev.Data
	}
	firstID, err := tx.InsertUnlessReceived(ctx, ev, data, headers)
	if err != nil {
		return nil, err
	}
	if firstID != "" {
		return tx.Event(ctx, ev.AppID, firstID)
	}
	ev.Deliveries = []*hookd.DeliverySummary{}
	if p.ForwardURL == "" || in.Filtered {
		return nil, nil
	}
	d := &hookd.DeliverySummary{ID: newID("dlv"), SourceID: in.SourceID, URL: p.ForwardURL, Status: hookd.DeliveryPending}
	if p.Hold {
		d.Status = hookd.DeliveryHeld
	}
	if err := tx.InsertForward(ctx, ev, d); err != nil {
		return nil, err
	}
	ev.Deliveries = append(ev.Deliveries, d)
	return nil, nil
}

// WebhookRoom is the error of creating a webhook in an app that may have
// at most max of them, row holding how many it has (SELECT count(*)):
// nil while there is room.
func WebhookRoom(row sqlrow.Scanner, max int) error {
	var n int
	if err := row.Scan(&n); err != nil {
		return fmt.Errorf("count webhooks: %w", err)
	}
	if n >= max {
		return hookd.Errorf(hookd.ECONFLICT, "the app already has %d webhook(s), its profile's max_webhooks", n)
	}
	return nil
}
