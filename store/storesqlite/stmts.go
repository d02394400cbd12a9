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
	push, reschedule, recordInfo   *sql.Stmt
	lastDelivery                   *sql.Stmt // the largest rowid of deliveries (see publishRows)
	insertEvents, insertDeliveries *multiRow // a publish's rows (see publishRows)
	attempts, outcomes             *multiRow // attempts to insert, deliveries to update with their outcome
	deliveryStats, sourceStats     *multiRow // statistics to add to (see writeStats)
}

// readStmts are the delivery path's statements on the reader pool.
type readStmts struct {
	due, newDue, lastDelivery, jobEvents, appVersion, webhookVersion *sql.Stmt
}

// lastDeliveryQuery reads the largest rowid of deliveries, 0 for none.
const lastDeliveryQuery = `SELECT coalesce(max(rowid), 0) FROM deliveries`

func prepareReads(ctx context.Context, db *sql.DB) (*readStmts, error) {
	var st readStmts
	var errs []error
	p := func(dst **sql.Stmt, query string) {
		stmt, err := db.PrepareContext(ctx, query)
		if err != nil {
			errs = append(errs, err)
			return
		}
		*dst = stmt
	}
	p(&st.due, dueQuery)
	p(&st.newDue, newDueQuery)
	p(&st.lastDelivery, lastDeliveryQuery)
	p(&st.jobEvents, `SELECT id, type, payload, created_at, coalesce(headers, ''), coalesce(content_type, '') FROM events
		WHERE id IN (SELECT value FROM json_each(?))`)
	p(&st.appVersion, `SELECT version FROM apps WHERE id = ?`)
	p(&st.webhookVersion, `SELECT version FROM webhooks WHERE id = ?`)
	if err := errors.Join(errs...); err != nil {
		st.close()
		return nil, fmt.Errorf("prepare statements: %w", err)
	}
	return &st, nil
}

func (st *readStmts) close() {
	for _, s := range []*sql.Stmt{st.due, st.newDue, st.lastDelivery, st.jobEvents, st.appVersion, st.webhookVersion} {
		if s != nil {
			s.Close()
		}
	}
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
	p(&st.push, pushQuery)
	p(&st.lastDelivery, lastDeliveryQuery)
	p(&st.reschedule, `UPDATE deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending'`)
	p(&st.recordInfo, `SELECT d.id, d.app_id, d.event_id, coalesce(d.webhook_id, ''), coalesce(d.webhook_id, d.source_id, ''),
		d.test, coalesce(w.status, sr.status, ''), coalesce(w.consecutive_failures, 0), w.failing_since
		FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN sources sr ON sr.id = d.source_id
		WHERE d.id IN (SELECT value FROM json_each(?))`)
	var err error
	st.insertEvents, err = prepareMultiRow(ctx, db, 10, func(values string) string {
		return `INSERT INTO events (id, app_id, type, data, data_at, data_len, payload, idempotency_key, test, created_at) ` + values
	})
	errs = append(errs, err)
	st.insertDeliveries, err = prepareMultiRow(ctx, db, 11, func(values string) string {
		return `INSERT INTO deliveries (rowid, id, app_id, event_id, webhook_id, url, status, next_attempt_at, test, created_at, updated_at) ` + values
	})
	errs = append(errs, err)
	st.attempts, err = prepareMultiRow(ctx, db, 11, func(values string) string {
		return `INSERT INTO attempts (id, delivery_id, webhook_id, attempt, at, duration_ms, status_code, request_headers, response_headers, response_body, error) ` + values
	})
	errs = append(errs, err)
	st.outcomes, err = prepareMultiRow(ctx, db, 6, func(values string) string {
		return `UPDATE deliveries SET status = v.column2, attempt_count = max(attempt_count, v.column3), next_attempt_at = v.column4,
			last_status_code = v.column5, updated_at = v.column6
		FROM (` + values + `) AS v WHERE deliveries.id = v.column1`
	})
	errs = append(errs, err)
	st.deliveryStats, st.sourceStats, err = prepareStats(ctx, db)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		st.close()
		return nil, fmt.Errorf("prepare statements: %w", err)
	}
	return &st, nil
}

func (st *stmts) close() {
	for _, s := range []*sql.Stmt{st.push, st.reschedule, st.recordInfo, st.lastDelivery} {
		if s != nil {
			s.Close()
		}
	}
	for _, m := range []*multiRow{st.insertEvents, st.insertDeliveries, st.attempts, st.outcomes, st.deliveryStats, st.sourceStats} {
		if m != nil {
			m.close()
		}
	}
}
