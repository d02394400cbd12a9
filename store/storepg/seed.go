package storepg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/store"
)

// Seed writes the history s describes into the database at url (migrated,
// with s's app and webhooks in it) by COPY, one table at a time in one
// transaction, and then analyzes the tables as autovacuum would after
// such a load. progress, if set, is told how many rows of a table are
// written, now and then. It is for benchmarks (hookd bench), never for
// a store in use.
func Seed(ctx context.Context, url string, s *store.Seed, progress func(table string, rows int)) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tables := []struct {
		name    string
		columns []string
		values  func(r *store.SeedRow) []any
	}{
		{"events", []string{"id", "app_id", "type", "data", "payload", "created_at"}, func(r *store.SeedRow) []any {
			return []any{r.EventID, s.AppID, s.EventType, r.Data, r.Payload, r.At}
		}},
		{"deliveries", []string{"id", "app_id", "event_id", "webhook_id", "status", "attempt_count", "last_status_code", "created_at", "updated_at"}, func(r *store.SeedRow) []any {
			return []any{r.DeliveryID, s.AppID, r.EventID, r.WebhookID, r.Status, int64(1), int64(r.StatusCode), r.At, r.At + 5}
		}},
		{"attempts", []string{"id", "delivery_id", "webhook_id", "attempt", "at", "duration_ms", "status_code", "request_headers", "response_body"}, func(r *store.SeedRow) []any {
			return []any{r.AttemptID, r.DeliveryID, r.WebhookID, int64(1), r.At + 5, int64(5), int64(r.StatusCode), `{"content-type":"application/json"}`, `ok`}
		}},
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, t := range tables {
		i := 0
		_, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, pgx.CopyFromFunc(func() ([]any, error) {
			if i == s.Deliveries {
				return nil, nil
			}
			r := s.Row(i)
			i++
			if progress != nil && i%500_000 == 0 {
				progress(t.name, i)
			}
			return t.values(&r), nil
		}))
		if err != nil {
			return fmt.Errorf("seed %s: %w", t.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE events, deliveries, attempts`); err != nil {
		return fmt.Errorf("seed: analyze: %w", err)
	}
	return nil
}
