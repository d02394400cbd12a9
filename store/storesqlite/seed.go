package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/hookd/hookd/store"
)

// seedBatch is how many rows one INSERT writes and seedCommit how many
// one transaction does: the store's own writer waits for the seed's
// transactions, so none may hold the database for long.
const seedBatch, seedCommit = 200, 20_000

// Seed writes the history s describes into the SQLite database at path
// (migrated, with s's app and webhooks in it) by INSERTs of many rows,
// many to a transaction. progress, if set, is told how many rows are
// written, now and then. It is for benchmarks (hookd bench), never for a
// store in use.
func Seed(ctx context.Context, path string, s *store.Seed, progress func(table string, rows int)) error {
	db := sql.OpenDB(connector(path, "immediate"))
	defer db.Close()
	db.SetMaxOpenConns(1)
	// The rows refer to one another as the foreign keys want, written in
	// order; checking each would read the tables they refer to. A large
	// page cache keeps the indexes' pages that the inserts update in
	// memory: with the default 2 MB, seeding slowed to a crawl past a few
	// hundred thousand rows.
	for _, p := range []string{"foreign_keys = OFF", "cache_size = -262144"} {
		if _, err := db.ExecContext(ctx, "PRAGMA "+p); err != nil {
			return fmt.Errorf("seed: PRAGMA %s: %w", p, err)
		}
	}
	inserts := []struct {
		head   string
		values func(r *store.SeedRow) []any
	}{
		{`INSERT INTO events (id, app_id, type, data, payload, created_at) VALUES `, func(r *store.SeedRow) []any {
			return []any{r.EventID, s.AppID, s.EventType, r.Data, r.Payload, r.At}
		}},
		{`INSERT INTO deliveries (id, app_id, event_id, webhook_id, status, attempt_count, last_status_code, created_at, updated_at) VALUES `, func(r *store.SeedRow) []any {
			return []any{r.DeliveryID, s.AppID, r.EventID, r.WebhookID, r.Status, 1, r.StatusCode, r.At, r.At + 5}
		}},
		{`INSERT INTO attempts (id, delivery_id, webhook_id, attempt, at, duration_ms, status_code, request_headers, response_body) VALUES `, func(r *store.SeedRow) []any {
			return []any{r.AttemptID, r.DeliveryID, r.WebhookID, 1, r.At + 5, 5, r.StatusCode, `{"content-type":"application/json"}`, `ok`}
		}},
	}
	for lo := 0; lo < s.Deliveries; lo += seedCommit {
		hi := min(lo+seedCommit, s.Deliveries)
		if err := seedRange(ctx, db, s, lo, hi, func(tx *sql.Tx, rows []store.SeedRow) error {
			for _, in := range inserts {
				args := make([]any, 0, len(rows)*9)
				for i := range rows {
					args = append(args, in.values(&rows[i])...)
				}
				row := "(" + placeholders(len(args)/len(rows)) + ")"
				q := in.head + strings.TrimSuffix(strings.Repeat(row+",", len(rows)), ",")
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("seed rows %d to %d: %w", lo, hi, err)
		}
		if progress != nil && hi%500_000 < seedCommit {
			progress("events, deliveries and attempts", hi)
		}
	}
	return nil
}

// seedRange writes rows lo..hi-1 of s in one transaction, seedBatch rows
// to a call of write.
func seedRange(ctx context.Context, db *sql.DB, s *store.Seed, lo, hi int, write func(*sql.Tx, []store.SeedRow) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows := make([]store.SeedRow, 0, seedBatch)
	for i := lo; i < hi; i += seedBatch {
		rows = rows[:0]
		for j := i; j < min(i+seedBatch, hi); j++ {
			rows = append(rows, s.Row(j))
		}
		if err := write(tx, rows); err != nil {
			return err
		}
	}
	return tx.Commit()
}
