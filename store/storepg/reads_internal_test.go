package storepg

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// seedReads fills s with the shape that reads must stay fast on: one app
// whose webhook wh_big has most of the deliveries (one in 97 failed), wh_small a handful, and statistics taken of it all.
func seedReads(t *testing.T, s *Store) {
	t.Helper()
	for _, q := range []string{
		`INSERT INTO apps (id, name, profile, default_secret, created_at, updated_at) VALUES ('app_r', 'r', '{}', '\x00', 0, 0)`,
		`INSERT INTO webhooks (id, app_id, url, events, status, secret, created_at, updated_at)
		 SELECT w, 'app_r', 'https://example.com', '["*"]', 'active', '\x00'::bytea, 0, 0
		 FROM unnest(ARRAY['wh_big', 'wh_small']) w UNION ALL
		 SELECT 'wh_' || g, 'app_r', 'https://example.com', '["*"]', 'active', '\x00'::bytea, 0, 0 FROM generate_series(1, 1000) g`,
		`INSERT INTO sources (id, app_id, name, provider, status, tolerance_seconds, secret, created_at, updated_at)
		 SELECT 'src_' || g, 'app_r', 'r', 'standard', 'active', 300, '\x00'::bytea, 0, 0 FROM generate_series(1, 1000) g
		 UNION ALL SELECT 'src_r', 'app_r', 'r', 'standard', 'active', 300, '\x00'::bytea, 0, 0`,
		`INSERT INTO events (id, app_id, type, data, payload, created_at)
		 SELECT 'evt_' || lpad(g::text, 26, '0'), 'app_r', 'x', '\x7b7d', '\x7b7d', g FROM generate_series(1, 40000) g`,
		`INSERT INTO deliveries (id, app_id, event_id, webhook_id, status, attempt_count, created_at, updated_at)
		 SELECT 'dlv_' || lpad(g::text, 26, '0'), 'app_r', 'evt_' || lpad(g::text, 26, '0'),
		        CASE WHEN g % 1000 = 0 THEN 'wh_small' ELSE 'wh_big' END,
		        CASE WHEN g % 97 = 0 THEN 'failed' ELSE 'succeeded' END, 1, g, g
		 FROM generate_series(1, 40000) g`,
		`INSERT INTO attempts (id, delivery_id, webhook_id, attempt, at, duration_ms, status_code, request_headers)
		 SELECT 'att_' || lpad(g::text, 26, '0'), 'dlv_' || lpad(g::text, 26, '0'), 'wh_big', 1, g, 5, 200, '{}' FROM generate_series(1, 40000) g`,
		`ANALYZE`,
	} {
		if _, err := s.pool.Exec(t.Context(), q); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
}

// TestReadPlansWalkIndexes pins the plans of the list and get queries that
// the API runs on every read: each walks an index in the list's order and
// stops at the limit (no sort, no read of a whole table or of all of a
// webhook's deliveries), planned for the values given (a custom plan) and
// for any (the generic plan a prepared statement switches to).
func TestReadPlansWalkIndexes(t *testing.T) {
	t.Parallel()
	s, _ := openInternal(t)
	seedReads(t, s)
	cursor := store.Page{Limit: 50, After: "dlv_" + strings.Repeat("0", 21) + "30000"}
	noSort := []string{"Seq Scan", "Sort", "Bitmap", "Hash"}
	type tc struct {
		name     string
		query    string
		args     []any
		want     []string
		unwanted []string
	}
	deliveries := func(f store.DeliveryFilter, p store.Page) (string, []any) { return deliveriesQuery(f, p) }
	events := func(f store.EventFilter, p store.Page) (string, []any) { return eventsQuery(f, p) }
	var cases []tc
	add := func(name string, q string, a []any, want ...string) {
		cases = append(cases, tc{name, q, a, want, noSort})
	}
	q, a := deliveries(store.DeliveryFilter{AppID: "app_r", WebhookID: "wh_small"}, store.Page{Limit: 50})
	add("a small webhook's deliveries", q, a, "Index Scan Backward using deliveries_webhook on deliveries d", "Limit")
	q, a = deliveries(store.DeliveryFilter{AppID: "app_r", WebhookID: "wh_big"}, cursor)
	add("a page of a big webhook's deliveries", q, a, "Index Scan Backward using deliveries_webhook on deliveries d", "Index Cond: ((webhook_id >= ")
	q, a = deliveries(store.DeliveryFilter{AppID: "app_r", WebhookID: "wh_big", Status: "failed"}, store.Page{Limit: 50})
	add("a webhook's failed deliveries", q, a, "Index Scan Backward using deliveries_webhook_failed")
	q, a = deliveries(store.DeliveryFilter{AppID: "app_r", WebhookID: "wh_big", Status: "failed"}, store.Page{Limit: 50, After: "dlv_" + strings.Repeat("0", 21) + "20000"})
	add("a page of a webhook's failed deliveries", q, a, "Index Scan Backward using deliveries_webhook_failed")
	q, a = deliveries(store.DeliveryFilter{AppID: "app_r", WebhookID: "wh_big", Status: "held"}, store.Page{Limit: 50})
	add("a webhook's held deliveries", q, a, "Index Scan Backward using deliveries_webhook_open")
	q, a = deliveries(store.DeliveryFilter{AppID: "app_r", SourceID: "src_r"}, store.Page{Limit: 50})
	add("a source's deliveries", q, a, "Index Scan Backward using deliveries_source")
	q, a = deliveries(store.DeliveryFilter{AppID: "app_r"}, cursor)
	cases = append(cases, tc{"the app's deliveries", q, a, []string{"Scan Backward using events_app", "Index Scan using deliveries_event", "Presorted Key: e.app_id, d.event_id"},
		[]string{"Seq Scan", "Bitmap", "Hash"}})
	q, a = deliveries(store.DeliveryFilter{AppID: "app_r"}, store.Page{Limit: 50})
	cases = append(cases, tc{"the app's first deliveries", q, a, []string{"Scan Backward using events_app", "Index Scan using deliveries_event", "Presorted Key: e.app_id, d.event_id"},
		[]string{"Seq Scan", "Bitmap", "Hash"}})
	q, a = events(store.EventFilter{AppID: "app_r"}, store.Page{Limit: 50})
	add("the app's events", q, a, "Index Scan Backward using events_app")
	q, a = events(store.EventFilter{AppID: "app_r"}, store.Page{Limit: 50, After: "evt_" + strings.Repeat("0", 21) + "30000"})
	add("a page of the app's events", q, a, "Index Scan Backward using events_app", "Index Cond: ((app_id >= ")
	q, a = events(store.EventFilter{AppID: "app_r", SourceID: "src_r"}, store.Page{Limit: 50})
	add("a source's events", q, a, "Index Scan Backward using events_source")
	add("a webhook's events", webhookEventsQuery(false), []any{"wh_small", "app_r", 51},
		"Index Scan Backward using deliveries_webhook on deliveries d", "Index Scan using events_pkey", "Nested Loop")
	add("a page of a webhook's events", webhookEventsQuery(true), []any{"wh_big", "app_r", 51, cursor.After},
		"Index Scan Backward using deliveries_webhook on deliveries d", "Index Scan using events_pkey", "Nested Loop")
	add("an event", `SELECT `+eventColumns+` FROM `+sqlrow.EventsFrom+` WHERE e.id = $1 AND e.app_id = $2`, []any{"evt_1", "app_r"},
		"Index Scan using events_", "(id = ")
	// A sort of the few rows found is no matter.
	noScan := []string{"Seq Scan", "Bitmap", "Hash"}
	cases = append(cases,
		tc{"an event's deliveries", attachQuery(false), []any{[]string{"evt_1", "evt_2"}}, []string{"Index Scan using deliveries_event", "Index Scan using webhooks_pkey"}, noScan},
		tc{"an event's deliveries to one webhook", attachQuery(true), []any{[]string{"evt_1", "evt_2"}, "wh_big"}, []string{"Index Scan using deliveries_event"}, noScan})
	add("a delivery", `SELECT `+sqlrow.DeliveryColumns+` FROM deliveries d WHERE d.id = $1 AND d.app_id = $2`, []any{"dlv_1", "app_r"},
		"Index Scan using deliveries_pkey")
	cases = append(cases, tc{"a delivery's attempts", attemptsQuery, []any{"dlv_1"}, []string{"Index Scan using attempts_delivery"}, noScan})
	add("webhooks", `SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE `+equalRange("app_id", "$1")+` AND id < $2 ORDER BY app_id DESC, id DESC LIMIT $3`, []any{"app_r", "wh_z", 51},
		"Index Scan Backward using webhooks_app")
	add("sources", `SELECT `+sqlrow.SourceColumns+` FROM sources WHERE `+equalRange("app_id", "$1")+` AND id < $2 ORDER BY app_id DESC, id DESC LIMIT $3`, []any{"app_r", "src_z", 51},
		"Index Scan Backward using sources_app")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkReadPlan(t, s, c.query, c.args, c.want, c.unwanted)
		})
	}
}

// checkReadPlan checks the plan of query both as planned for args and as
// the generic plan of a prepared statement, outside any setting.
func checkReadPlan(t *testing.T, s *Store, query string, args []any, want, unwanted []string) {
	t.Helper()
	checkPlan(t, s, nil, query, args, want, unwanted)
	ctx := t.Context()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Prepare(ctx, "read", query); err != nil {
		t.Fatal(err)
	}
	defer tx.Exec(ctx, `DEALLOCATE read`)
	params := make([]string, len(args))
	for i, a := range args {
		params[i] = literal(a)
	}
	rows, err := tx.Query(ctx, "EXPLAIN EXECUTE read("+strings.Join(params, ", ")+")")
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
			t.Errorf("generic plan lacks %q:\n%s", w, plan)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(plan, u) {
			t.Errorf("generic plan has %q:\n%s", u, plan)
		}
	}
}

// literal writes a test's argument as SQL.
func literal(v any) string {
	switch v := v.(type) {
	case string:
		return "'" + v + "'"
	case []string:
		quoted := make([]string, len(v))
		for i, s := range v {
			quoted[i] = literal(s)
		}
		return "ARRAY[" + strings.Join(quoted, ", ") + "]::text[]"
	default:
		return fmt.Sprint(v)
	}
}
