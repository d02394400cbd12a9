package storepg

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestDueQueryReadsUnusualTargetsOnce checks the plan of the claims' due
// query: the webhooks and sources it may not simply take from are read
// once, by their partial indexes, into a hashed set that each due row is
// checked against, rather than each row's webhook and source looked up.
// (Which rows it takes is the conformance suite's to check.)
func TestDueQueryReadsUnusualTargetsOnce(t *testing.T) {
	t.Parallel()
	checkPlan(t, []string{useIndexes, walkDueIndex}, dueQuery, []any{int64(1 << 40), 1000, []string{}},
		[]string{"Index Scan using deliveries_due", "hashed SubPlan", "Index Only Scan using webhooks_unusual", "Index Only Scan using sources_unusual"},
		[]string{"webhooks_pkey", "sources_pkey", "Seq Scan"})
}

// TestPruneWalksEventsByID checks that retention finds old events through
// the primary key, in its order, as ident.Floor allows (migration 10
// dropped the index on created_at), and looks up each one's open
// deliveries by index, whatever the statistics say (a fresh schema has
// none).
func TestPruneWalksEventsByID(t *testing.T) {
	t.Parallel()
	checkPlan(t, []string{pruneInIDOrder}, prunableQuery, []any{int64(1 << 40), 500, "evt_01"},
		[]string{"Nested Loop Anti Join", "Index Scan using events_pkey on events", "Index Scan using deliveries_event", "Index Cond: (event_id = e.id)"},
		[]string{"Seq Scan", "Sort", "Materialize", "Hash", "Merge"})
}

// checkPlan explains query with args on a fresh store, in a transaction
// that ran settings first, and checks that the plan has every string of
// want and none of unwanted.
func checkPlan(t *testing.T, settings []string, query string, args []any, want, unwanted []string) {
	t.Helper()
	s, _ := openInternal(t)
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
