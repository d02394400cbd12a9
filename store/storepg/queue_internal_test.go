package storepg

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd"
)

// TestDueQueryReadsUnusualTargetsOnce checks the plan of the claims' due
// query: the webhooks and sources it may not simply take from are read
// once, by their partial indexes, into a hashed set that each due row is
// checked against, rather than each row's webhook and source looked up.
// (Which rows it takes is the conformance suite's to check.)
func TestDueQueryReadsUnusualTargetsOnce(t *testing.T) {
	t.Parallel()
	s, _ := openInternal(t)
	checkPlan(t, s, []string{useIndexes, walkDueIndex}, dueQuery, []any{int64(1 << 40), 1000, []string{}},
		[]string{"Index Scan using deliveries_due", "hashed SubPlan", "Index Only Scan using webhooks_unusual", "Index Only Scan using sources_unusual"},
		[]string{"webhooks_pkey", "sources_pkey", "Seq Scan"})
}

// TestPruneWalksEventsByID checks that retention finds old events through
// the primary key, in its order, as ident.Floor allows (migration 10
// dropped the index on created_at), and looks up each one's open
// deliveries by index. The tables hold a few thousand rows, analyzed: on
// empty tables the two ways of reading an event's deliveries cost the
// planner the same, and it took either, depending on whether autovacuum
// had yet looked at the fresh schema.
func TestPruneWalksEventsByID(t *testing.T) {
	t.Parallel()
	s, _ := openInternal(t)
	for _, q := range []string{
		`INSERT INTO apps (id, name, profile, default_secret, created_at, updated_at) VALUES ('app_p', 'p', '{}', '\x00', 0, 0)`,
		`INSERT INTO events (id, app_id, type, data, payload, created_at)
		 SELECT 'evt_' || lpad(g::text, 26, '0'), 'app_p', 'x', '\x7b7d', '\x7b7d', 0 FROM generate_series(1, 200) g`,
		`INSERT INTO deliveries (id, app_id, event_id, url, status, created_at, updated_at)
		 SELECT 'dlv_' || lpad(g::text, 26, '0'), 'app_p', 'evt_' || lpad((g % 200 + 1)::text, 26, '0'), 'https://example.com',
		        CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'succeeded' END, 0, 0 FROM generate_series(1, 5000) g`,
		`ANALYZE`,
	} {
		if _, err := s.pool.Exec(t.Context(), q); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	checkPlan(t, s, []string{pruneInIDOrder}, prunableQuery, []any{int64(1 << 40), 500, "evt_01"},
		[]string{"Nested Loop Anti Join", "Index Scan using events_pkey on events", "Index Scan using deliveries_event", "Index Cond: (event_id = e.id)"},
		[]string{"Seq Scan", "Sort", "Materialize", "Hash", "Merge"})
}

// TestMovesWalkOpenDeliveriesInOrder checks that a status change moves
// a chunk of a webhook's open deliveries by walking an index in id order
// even when the statistics say the webhook has a few (they were taken
// before its backlog came), rather than reading all of them and sorting.
func TestMovesWalkOpenDeliveriesInOrder(t *testing.T) {
	t.Parallel()
	s, _ := openInternal(t)
	for _, q := range []string{
		`INSERT INTO apps (id, name, profile, default_secret, created_at, updated_at) VALUES ('app_m', 'm', '{}', '\x00', 0, 0)`,
		`INSERT INTO webhooks (id, app_id, url, events, status, secret, created_at, updated_at)
		 VALUES ('wh_m', 'app_m', 'https://example.com', '["*"]', 'active', '\x00', 0, 0)`,
		`INSERT INTO events (id, app_id, type, data, payload, created_at) VALUES ('evt_m', 'app_m', 'x', '\x7b7d', '\x7b7d', 0)`,
		`INSERT INTO deliveries (id, app_id, event_id, webhook_id, status, created_at, updated_at)
		 SELECT 'dlv_' || lpad(g::text, 26, '0'), 'app_m', 'evt_m', 'wh_m', 'held', 0, 0 FROM generate_series(1, 10) g`,
		`ANALYZE`,
		`INSERT INTO deliveries (id, app_id, event_id, webhook_id, status, created_at, updated_at)
		 SELECT 'dlv_' || lpad(g::text, 26, '0'), 'app_m', 'evt_m', 'wh_m', 'held', 0, 0 FROM generate_series(11, 30000) g`,
	} {
		if _, err := s.pool.Exec(t.Context(), q); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	for _, status := range []string{hookd.WebhookActive, hookd.WebhookPaused, hookd.WebhookDisabled} {
		q, _ := moveStatement("webhook_id", status)
		checkPlan(t, s, moveSettings, q, []any{int64(1 << 40), "wh_m", moveChunk},
			[]string{"LockRows", "Index Scan using"},
			[]string{"Sort", "Bitmap", "Seq Scan"})
	}
}

// checkPlan explains query with args on s, in a transaction that ran
// settings first, and checks that the plan has every string of want and
// none of unwanted.
func checkPlan(t *testing.T, s *Store, settings []string, query string, args []any, want, unwanted []string) {
	t.Helper()
	ctx := t.Context()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, q := range settings {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := tx.Query(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	for _, w := range want {
		if !strings.Contains(plan, w) {
			t.Errorf("plan lacks %q:\n%s", w, plan)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(plan, u) {
			t.Errorf("plan has %q:\n%s", u, plan)
		}
	}
}
