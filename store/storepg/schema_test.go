package storepg_test

import (
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
		WHERE schemaname = current_schema() AND tablename IN ('attempts', 'deliveries')`)
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
	for _, gone := range []string{"attempts_pkey", "deliveries_app"} {
		if indexes[gone] {
			t.Errorf("index %s is still there", gone)
		}
	}
	for _, kept := range []string{"attempts_delivery", "attempts_webhook_at", "deliveries_pkey", "deliveries_webhook", "deliveries_due"} {
		if !indexes[kept] {
			t.Errorf("index %s is missing (have %v)", kept, names)
		}
	}
}
