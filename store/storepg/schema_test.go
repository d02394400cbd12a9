package storepg_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestNoUnreadIndexes checks that migration 6 dropped the two indexes
// that every delivery wrote and no read used (attempts by id, deliveries
// by app), and kept those the reads need.
func TestNoUnreadIndexes(t *testing.T) {
	t.Parallel()
	_, _, conn := freshStore(t)
	rows, err := conn.Query(t.Context(), `SELECT indexname FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename IN ('attempts', 'deliveries', 'events')`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	indexes := map[string]bool{}
	for _, n := range names {
		indexes[n] = true
	}
	for _, gone := range []string{"attempts_pkey", "deliveries_app", "events_created"} {
		if indexes[gone] {
			t.Errorf("index %s is still there", gone)
		}
	}
	for _, kept := range []string{"attempts_delivery", "attempts_webhook_at", "deliveries_pkey", "deliveries_webhook", "deliveries_due", "events_pkey", "events_app"} {
		if !indexes[kept] {
			t.Errorf("index %s is missing (have %v)", kept, names)
		}
	}
}

// TestIDsCompareInC checks that every column holding an id compares
// byte by byte (migration 8), and that the joins of ids across tables
// can use the indexes: one column left in the database's collation would
// make them compare in "C" against an index that cannot serve it.
func TestIDsCompareInC(t *testing.T) {
	t.Parallel()
	_, _, conn := freshStore(t)
	ctx := t.Context()
	rows, err := conn.Query(ctx, `SELECT table_name || '.' || column_name, coalesce(collation_name, '') FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type = 'text'
		  AND column_name IN ('id', 'app_id', 'event_id', 'webhook_id', 'source_id', 'delivery_id')`)
	if err != nil {
		t.Fatal(err)
	}
	type column struct{ Name, Collation string }
	columns, err := pgx.CollectRows(rows, pgx.RowToStructByPos[column])
	if err != nil {
		t.Fatal(err)
	}
	if len(columns) < 20 {
		t.Fatalf("found %d id columns, want the 20 or more of the schema: %v", len(columns), columns)
	}
	for _, c := range columns {
		if c.Collation != "C" {
			t.Errorf("%s has collation %q, want C", c.Name, c.Collation)
		}
	}

	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	// Joins by nested loops only, and no table read whole: each side of a
	// join must then find its rows by an index condition on the id.
	for _, off := range []string{"enable_seqscan", "enable_bitmapscan", "enable_hashjoin", "enable_mergejoin"} {
		if _, err := tx.Exec(ctx, `SELECT set_config($1, 'off', true)`, off); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`SELECT 1 FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = 'dlv_x'`,
		`SELECT 1 FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = 'dlv_x'`,
		`SELECT 1 FROM deliveries d JOIN apps a ON a.id = d.app_id WHERE d.id = 'dlv_x'`,
		`SELECT 1 FROM deliveries d JOIN attempts a ON a.delivery_id = d.id WHERE d.id = 'dlv_x'`,
		`SELECT 1 FROM events e JOIN sources s ON s.id = e.source_id WHERE e.id = 'evt_x'`,
		`SELECT 1 FROM deliveries d WHERE d.id = ANY($1::text[])`,
	} {
		var plan []string
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, []string{"dlv_x"})
		}
		rows, err := tx.Query(ctx, `EXPLAIN `+q, args...)
		if err == nil {
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		scans, conds := 0, 0
		for _, line := range plan {
			if strings.Contains(line, " Scan ") {
				scans++
			}
			if strings.Contains(line, "Index Cond:") {
				conds++
			}
		}
		if scans == 0 || conds != scans || strings.Contains(strings.Join(plan, "\n"), "Seq Scan") {
			t.Errorf("%s does not find every row by an index condition:\n%s", q, strings.Join(plan, "\n"))
		}
	}
}

// TestNoJSONColumns checks that JSON is kept as text (or bytes), never as
// json or jsonb: those refuse a string holding the escape \u0000, which
// JSON from outside may carry (a provider's headers, an event's data),
// and one such row would fail the batch it is written in. Text keeps the
// escape as the six characters it is.
func TestNoJSONColumns(t *testing.T) {
	t.Parallel()
	_, _, conn := freshStore(t)
	rows, err := conn.Query(t.Context(), `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type IN ('json', 'jsonb')`)
	if err != nil {
		t.Fatal(err)
	}
	columns, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(columns) > 0 {
		t.Errorf("columns of type json or jsonb: %q", columns)
	}
}
