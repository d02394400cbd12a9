package storesqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// claimQuery leases due deliveries. A delivery is due when it is pending,
// its time has come, nobody holds a live lease on it, and its webhook or
// source is active (test deliveries and one-off URLs go regardless). An
// ordered webhook releases only its oldest open delivery.
const claimQuery = `UPDATE deliveries SET lease_owner = ?1, lease_until = ?2
WHERE id IN (
	SELECT d.id FROM deliveries d
	LEFT JOIN webhooks w ON w.id = d.webhook_id
	LEFT JOIN sources sr ON sr.id = d.source_id
	WHERE d.status = 'pending' AND d.next_attempt_at <= ?3
	  AND (d.lease_until IS NULL OR d.lease_until < ?3)
	  AND (d.test = 1 OR coalesce(w.status, sr.status, 'active') = 'active')
	  AND (w.ordered IS NULL OR w.ordered = 0 OR d.test = 1 OR d.id = (
		SELECT min(d2.id) FROM deliveries d2
		WHERE d2.webhook_id = d.webhook_id AND d2.status IN ('pending', 'held') AND d2.test = 0))
	ORDER BY d.next_attempt_at
	LIMIT ?4)
RETURNING id, app_id, event_id, coalesce(source_id, ''), coalesce(webhook_id, ''), coalesce(url, ''), status, attempt_count,
	next_attempt_at, coalesce(last_status_code, 0), test, created_at, updated_at`

// ClaimDue implements store.Store.
func (s *Store) ClaimDue(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	var jobs []*store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.StmtContext(ctx, s.stmt.claim).QueryContext(ctx, p.Owner, ms(p.Now.Add(p.LeaseFor)), ms(p.Now), p.Limit)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		jobs = jobs[:0]
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("claim: %w", err)
			}
			jobs = append(jobs, &store.Job{Delivery: d})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		return s.loadJobs(ctx, tx, jobs)
	})
	return jobs, err
}

// loadJobs reads what attempting claimed deliveries needs: each event's
// payload, and the apps and webhooks, decoded once and cached while their
// version stays the same.
func (s *Store) loadJobs(ctx context.Context, tx *sql.Tx, jobs []*store.Job) error {
	eventStmt := tx.StmtContext(ctx, s.stmt.jobEvent)
	apps := map[string]*hookd.App{}
	hooks := map[string]*hookd.Webhook{}
	for _, j := range jobs {
		d := j.Delivery
		ev := &hookd.Event{ID: d.EventID, AppID: d.AppID, Test: d.Test}
		var created int64
		var headers, contentType string
		if err := eventStmt.QueryRowContext(ctx, d.EventID).Scan(&ev.Type, &ev.Payload, &created, &headers, &contentType); err != nil {
			return fmt.Errorf("load event of claimed delivery: %w", err)
		}
		ev.CreatedAt = fromMs(created)
		if d.SourceID != "" {
			in := &hookd.Inbound{SourceID: d.SourceID, ContentType: contentType}
			if headers != "" {
				if err := json.Unmarshal([]byte(headers), &in.Headers); err != nil {
					return fmt.Errorf("decode headers of event %s: %w", ev.ID, err)
				}
			}
			ev.Inbound = in
		}
		j.Event = ev
		app, ok := apps[d.AppID]
		if !ok {
			var err error
			if app, err = s.cachedApp(ctx, tx, d.AppID); err != nil {
				return fmt.Errorf("load app of claimed delivery: %w", err)
			}
			apps[d.AppID] = app
		}
		j.Profile, j.DefaultSecret = app.Profile, app.DefaultSecret
		if id := d.WebhookID; id != "" {
			w, ok := hooks[id]
			if !ok {
				var err error
				if w, err = s.cachedWebhook(ctx, tx, app.ID, id); err != nil {
					return fmt.Errorf("load webhook of claimed delivery: %w", err)
				}
				hooks[id] = w
			}
			j.Webhook = w
		}
	}
	return nil
}

func (s *Store) cachedApp(ctx context.Context, tx *sql.Tx, id string) (*hookd.App, error) {
	var version int64
	if err := tx.StmtContext(ctx, s.stmt.appVersion).QueryRowContext(ctx, id).Scan(&version); err != nil {
		return nil, err
	}
	if app, ok := s.apps.Get(id, version); ok {
		return app, nil
	}
	app, err := s.scanApp(tx.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE id = ?`, id))
	if err != nil {
		return nil, err
	}
	s.apps.Put(id, version, app)
	return app, nil
}

func (s *Store) cachedWebhook(ctx context.Context, tx *sql.Tx, appID, id string) (*hookd.Webhook, error) {
	var version int64
	if err := tx.StmtContext(ctx, s.stmt.webhookVersion).QueryRowContext(ctx, id).Scan(&version); err != nil {
		return nil, err
	}
	if w, ok := s.hooks.Get(id, version); ok {
		return w, nil
	}
	w, err := s.getWebhook(ctx, tx, appID, id)
	if err != nil {
		return nil, err
	}
	s.hooks.Put(id, version, w)
	return w, nil
}

// RecordAttempts implements store.Store.
func (s *Store) RecordAttempts(ctx context.Context, results []*store.AttemptResult) ([]hookd.Notice, error) {
	var notices []hookd.Notice
	err := s.tx(ctx, func(tx *sql.Tx) error {
		notices = notices[:0]
		st := recordStmts{
			insertAttempt:  tx.StmtContext(ctx, s.stmt.insertAttempt),
			recordInfo:     tx.StmtContext(ctx, s.stmt.recordInfo),
			updateDelivery: tx.StmtContext(ctx, s.stmt.updateDelivery),
		}
		for _, r := range results {
			n, err := s.recordOne(ctx, tx, &st, r)
			if err != nil {
				return err
			}
			notices = append(notices, n...)
		}
		return nil
	})
	return notices, err
}

// recordStmts are the prepared statements of one RecordAttempts.
type recordStmts struct {
	insertAttempt, recordInfo, updateDelivery *sql.Stmt
}

func (s *Store) recordOne(ctx context.Context, tx *sql.Tx, st *recordStmts, r *store.AttemptResult) ([]hookd.Notice, error) {
	a := r.Attempt
	headers, err := json.Marshal(a.RequestHeaders)
	if err != nil {
		return nil, fmt.Errorf("encode request headers: %w", err)
	}
	var statusCode any
	if a.StatusCode != 0 {
		statusCode = a.StatusCode
	}
	if a.ID == "" {
		a.ID = s.newID("att")
	}
	// webhookStatus is the status of the delivery's webhook or source.
	var appID, eventID, webhookID, webhookStatus string
	var test, owned bool
	var failures int
	var failingSince sql.NullInt64
	err = st.recordInfo.QueryRowContext(ctx, r.Owner, a.DeliveryID).
		Scan(&appID, &eventID, &webhookID, &webhookStatus, &test, &failures, &failingSince, &owned)
	if errors.Is(err, sql.ErrNoRows) {
		// The delivery was deleted with its webhook or app while the
		// attempt was in flight. Nothing is left to log it against, and
		// failing would sink the other results of the batch.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("record attempt: %w", err)
	}
	if _, err := st.insertAttempt.ExecContext(ctx, a.ID, a.DeliveryID, nullString(a.WebhookID), a.Attempt, ms(a.At), a.Duration.Milliseconds(), statusCode,
		headers, a.ResponseBody, a.Error); err != nil {
		return nil, fmt.Errorf("insert attempt: %w", err)
	}
	if !owned {
		// The lease ran out and the delivery was claimed again (or
		// retried by hand): the attempt is logged, the new holder decides.
		return nil, nil
	}
	at := ms(a.At)
	base := hookd.Notice{AppID: appID, WebhookID: webhookID, DeliveryID: a.DeliveryID, EventID: eventID, At: a.At}
	var notices []hookd.Notice

	status, next := hookd.DeliverySucceeded, any(nil)
	switch {
	case a.Succeeded():
	case !r.NextAttemptAt.IsZero() && r.DisableReason == "":
		status, next = hookd.DeliveryPending, ms(r.NextAttemptAt)
		if !test && webhookStatus == hookd.WebhookPaused {
			status = hookd.DeliveryHeld
		} else if !test && webhookStatus == hookd.WebhookDisabled {
			status, next = hookd.DeliveryFailed, nil
		}
	default:
		status = hookd.DeliveryFailed
	}
	if _, err := st.updateDelivery.ExecContext(ctx, status, a.Attempt, next, statusCode, at, a.DeliveryID); err != nil {
		return nil, fmt.Errorf("update delivery: %w", err)
	}
	if status == hookd.DeliveryFailed && webhookStatus != hookd.WebhookDisabled {
		notices = append(notices, withKind(base, hookd.NoticeDeliveryExhausted, ""))
	}
	if webhookID == "" || test {
		return notices, nil
	}

	if a.Succeeded() {
		if failures > 0 || failingSince.Valid {
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL WHERE id = ?`, webhookID); err != nil {
				return nil, fmt.Errorf("update webhook: %w", err)
			}
			if failures > 0 {
				notices = append(notices, withKind(base, hookd.NoticeWebhookRecovered, ""))
			}
		}
		return notices, nil
	}
	if status == hookd.DeliveryFailed {
		failures++
	}
	since := at
	if failingSince.Valid {
		since = failingSince.Int64
	}
	if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET consecutive_failures = ?, failing_since = ? WHERE id = ?`, failures, since, webhookID); err != nil {
		return nil, fmt.Errorf("update webhook: %w", err)
	}
	if webhookStatus == hookd.WebhookDisabled {
		return notices, nil
	}
	reason := r.DisableReason
	switch {
	case reason != "":
	case r.AutoDisableAfter > 0 && failures >= r.AutoDisableAfter:
		reason = fmt.Sprintf("%d consecutive failed deliveries", failures)
	case r.AutoDisableAge > 0 && at-since >= r.AutoDisableAge.Milliseconds():
		reason = fmt.Sprintf("nothing but failures since %s", fromMs(since).Format(time.RFC3339))
	}
	if reason == "" {
		return notices, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET status = 'disabled', disabled_reason = ?, updated_at = ?, version = version + 1 WHERE id = ?`, reason, at, webhookID); err != nil {
		return nil, fmt.Errorf("disable webhook: %w", err)
	}
	if err := moveDeliveries(ctx, tx, webhookID, hookd.WebhookDisabled, a.At); err != nil {
		return nil, err
	}
	return append(notices, withKind(base, hookd.NoticeWebhookDisabled, reason)), nil
}

func withKind(n hookd.Notice, kind, reason string) hookd.Notice {
	n.Kind, n.Reason = kind, reason
	return n
}

// Defer implements store.Store.
func (s *Store) Defer(ctx context.Context, owner string, deferrals []store.Deferral) error {
	if len(deferrals) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?`)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		defer stmt.Close()
		for _, d := range deferrals {
			if _, err := stmt.ExecContext(ctx, ms(d.At), d.DeliveryID, owner); err != nil {
				return fmt.Errorf("defer delivery: %w", err)
			}
		}
		return nil
	})
}

// NextDue implements store.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	// Leased deliveries are skipped: their holder records them, or their
	// lease runs out, which the dispatcher's poll interval covers.
	var next int64
	err := s.r.QueryRowContext(ctx, `SELECT d.next_attempt_at FROM deliveries d
		LEFT JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN sources sr ON sr.id = d.source_id
		WHERE d.status = 'pending' AND d.lease_owner IS NULL AND (d.test OR coalesce(w.status, sr.status, 'active') = 'active')
		ORDER BY d.next_attempt_at LIMIT 1`).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	return fromMs(next), true, nil
}

// Prune implements store.Store.
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (
			SELECT e.id FROM events e WHERE e.created_at < ?
			  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status IN ('pending', 'held'))
			ORDER BY e.created_at LIMIT ?)`, ms(before), limit)
		if err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, ms(before)); err != nil {
			return fmt.Errorf("prune idempotency keys: %w", err)
		}
		return nil
	})
	return int(n), err
}
