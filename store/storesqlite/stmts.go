package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// stmts are the delivery path's statements, prepared once on the writer
// connection: parsing SQL was a fifth of the CPU time before they were.
type stmts struct {
	claim, jobEvents, appVersion, webhookVersion *sql.Stmt
	insertAttempts, recordInfo, updateDeliveries *sql.Stmt
	insertEvent, insertDelivery                  *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (*stmts, error) {
	var st stmts
	var errs []error
	p := func(dst **sql.Stmt, query string) {
		stmt, err := db.PrepareContext(ctx, query)
		if err != nil {
			errs = append(errs, err)
			return
		}
		*dst = stmt
	}
	p(&st.claim, claimQuery)
	p(&st.jobEvents, `SELECT id, type, payload, created_at, coalesce(headers, ''), coalesce(content_type, '') FROM events
		WHERE id IN (SELECT value FROM json_each(?))`)
	p(&st.appVersion, `SELECT version FROM apps WHERE id = ?`)
	p(&st.webhookVersion, `SELECT version FROM webhooks WHERE id = ?`)
	p(&st.insertEvent, `INSERT INTO events (id, app_id, type, data, payload, idempotency_key, test, created_at) VALUES (?,?,?,?,?,?,?,?)`)
	p(&st.insertDelivery, `INSERT INTO deliveries (id, app_id, event_id, webhook_id, url, status, next_attempt_at, test, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?)`)
	// Batches arrive as one JSON array each, unpacked by json_each.
	p(&st.insertAttempts, `INSERT INTO attempts (id, delivery_id, webhook_id, attempt, at, duration_ms, status_code, request_headers, response_body, error)
		SELECT value->>'id', value->>'delivery_id', value->>'webhook_id', value->>'attempt', value->>'at', value->>'duration_ms',
			value->>'status_code', value->'request_headers', value->>'response_body', value->>'error'
		FROM json_each(?)`)
	p(&st.recordInfo, `SELECT d.id, d.app_id, d.event_id, coalesce(d.webhook_id, ''), coalesce(d.webhook_id, d.source_id, ''), coalesce(d.lease_owner, ''),
		d.test, coalesce(w.status, sr.status, ''), coalesce(w.consecutive_failures, 0), w.failing_since
		FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN sources sr ON sr.id = d.source_id
		WHERE d.id IN (SELECT value FROM json_each(?))`)
	p(&st.updateDeliveries, `UPDATE deliveries SET status = v.status, attempt_count = max(attempt_count, v.attempt), next_attempt_at = v.next,
			last_status_code = v.code, lease_owner = NULL, lease_until = NULL, updated_at = v.at
		FROM (SELECT value->>'id' AS id, value->>'status' AS status, value->>'attempt' AS attempt, value->>'next' AS next,
			value->>'code' AS code, value->>'at' AS at FROM json_each(?)) AS v
		WHERE deliveries.id = v.id`)
	if err := errors.Join(errs...); err != nil {
		st.close()
		return nil, fmt.Errorf("prepare statements: %w", err)
	}
	return &st, nil
}

func (st *stmts) close() {
	for _, s := range []*sql.Stmt{st.claim, st.jobEvents, st.appVersion, st.webhookVersion, st.insertAttempts, st.recordInfo, st.updateDeliveries, st.insertEvent, st.insertDelivery} {
		if s != nil {
			s.Close()
		}
	}
}
