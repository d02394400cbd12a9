package storesqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookd/hookd/store"
)

// TestReadPlansWalkIndexes checks that SQLite plans the list queries of
// the API as walks of an index in the list's order that stop at the
// limit: no sort of what they found (a TEMP B-TREE, but for the sort of
// one event's few deliveries by id) and no read of a whole table,
// whatever the page.
func TestReadPlansWalkIndexes(t *testing.T) {
	t.Parallel()
	db := sql.OpenDB(connector(filepath.Join(t.TempDir(), "hookd.db"), "deferred"))
	t.Cleanup(func() { db.Close() })
	if err := migrate(t.Context(), db, nil); err != nil {
		t.Fatal(err)
	}
	page := store.Page{Limit: 50, After: "dlv_01"}
	type tc struct {
		name  string
		query string
		args  []any
		want  string
	}
	var cases []tc
	add := func(name, want string, q string, args []any) { cases = append(cases, tc{name, q, args, want}) }
	q, a := deliveriesQuery(store.DeliveryFilter{AppID: "app", WebhookID: "wh"}, store.Page{Limit: 50})
	add("a webhook's deliveries", "deliveries_webhook", q, a)
	q, a = deliveriesQuery(store.DeliveryFilter{AppID: "app", WebhookID: "wh"}, page)
	add("a page of a webhook's deliveries", "deliveries_webhook", q, a)
	q, a = deliveriesQuery(store.DeliveryFilter{AppID: "app", WebhookID: "wh", Status: "failed"}, page)
	add("a webhook's failed deliveries", "deliveries_webhook_failed", q, a)
	q, a = deliveriesQuery(store.DeliveryFilter{AppID: "app", WebhookID: "wh", Status: "held"}, page)
	add("a webhook's held deliveries", "deliveries_webhook", q, a)
	q, a = deliveriesQuery(store.DeliveryFilter{AppID: "app", SourceID: "src"}, page)
	add("a source's deliveries", "deliveries_source", q, a)
	q, a = deliveriesQuery(store.DeliveryFilter{AppID: "app"}, page)
	add("the app's deliveries", "events_app", q, a)
	q, a = deliveriesQuery(store.DeliveryFilter{AppID: "app", Status: "failed"}, store.Page{Limit: 50})
	add("the app's failed deliveries", "events_app", q, a)
	add("a webhook's events", "deliveries_webhook", webhookEventsQuery(true), []any{"wh", "app", "dlv_01", 51})
	q, a = eventsQuery(store.EventFilter{AppID: "app"}, page)
	add("the app's events", "events_app", q, a)
	q, a = eventsQuery(store.EventFilter{AppID: "app", SourceID: "src"}, page)
	add("a source's events", "events_source", q, a)
	add("an event's deliveries", "deliveries_event", attachQuery(2, true), []any{"evt_1", "evt_2", "wh"})
	add("a delivery's attempts", "attempts_delivery", attemptsQuery, []any{"dlv_1"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan := explainQueryPlan(t, db, c.query, c.args)
			if !strings.Contains(plan, "INDEX "+c.want) {
				t.Errorf("the plan does not use %s:\n%s", c.want, plan)
			}
			if strings.Contains(plan, "TEMP B-TREE") && !strings.Contains(plan, "LAST TERM OF ORDER BY") && !strings.Contains(c.name, "an event's") && !strings.Contains(c.name, "attempts") {
				t.Errorf("the plan sorts what it found:\n%s", plan)
			}
			for _, line := range strings.Split(plan, "\n") {
				if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "INDEX") {
					t.Errorf("the plan reads a whole table:\n%s", plan)
				}
			}
		})
	}
}

// explainQueryPlan returns SQLite's plan of query, a line per step.
func explainQueryPlan(t *testing.T, db *sql.DB, query string, args []any) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
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
	return strings.Join(plan, "\n")
}
