package storesqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestDueQueryNeedsNoSort checks that SQLite plans the claims' due query
// as a walk of the due index in its order, stopping at the limit, with no
// sort of the rows it found: what makes it cheap under a backlog.
func TestDueQueryNeedsNoSort(t *testing.T) {
	t.Parallel()
	db := sql.OpenDB(connector(filepath.Join(t.TempDir(), "hookd.db"), "deferred"))
	t.Cleanup(func() { db.Close() })
	if err := migrate(t.Context(), db, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+dueQuery, 1000, 256, "[]", "[]", 20000, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "USING COVERING INDEX deliveries_due") {
		t.Errorf("the due query does not walk the due index:\n%s", text)
	}
	if strings.Contains(text, "TEMP B-TREE") {
		t.Errorf("the due query sorts what it found:\n%s", text)
	}
}
