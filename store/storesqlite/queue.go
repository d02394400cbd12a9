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
			jobs = append(jobs, &store.Job{Delivery: d, LeaseUntil: p.Now.Add(p.LeaseFor)})
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
	if len(jobs) == 0 {
		return nil
	}
	byEvent := make(map[string][]*store.Job, len(jobs))
	ids := make([]string, 0, len(jobs))
	for _, j := range jobs {
		if _, ok := byEvent[j.Delivery.EventID]; !ok {
			ids = append(ids, j.Delivery.EventID)
		}
		byEvent[j.Delivery.EventID] = append(byEvent[j.Delivery.EventID], j)
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := tx.StmtContext(ctx, s.stmt.jobEvents).QueryContext(ctx, string(idsJSON))
	if err != nil {
		return fmt.Errorf("load events of claimed deliveries: %w", err)
	}
	for rows.Next() {
		var id, typ, headers, contentType string
		var payload []byte
		var created int64
		if err := rows.Scan(&id, &typ, &payload, &created, &headers, &contentType); err != nil {
			rows.Close()
			return fmt.Errorf("load events of claimed deliveries: %w", err)
		}
		var in *hookd.Inbound
		if headers != "" {
			in = &hookd.Inbound{ContentType: contentType}
			if err := json.Unmarshal([]byte(headers), &in.Headers); err != nil {
				rows.Close()
				return fmt.Errorf("decode headers of event %s: %w", id, err)
			}
		}
		for _, j := range byEvent[id] {
			d := j.Delivery
			j.Event = &hookd.Event{ID: id, AppID: d.AppID, Type: typ, Payload: payload, Test: d.Test, CreatedAt: fromMs(created)}
			if in != nil && d.SourceID != "" {
				withSource := *in
				withSource.SourceID = d.SourceID
				j.Event.Inbound = &withSource
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load events of claimed deliveries: %w", err)
	}
	apps := map[string]*hookd.App{}
	hooks := map[string]*hookd.Webhook{}
	for _, j := range jobs {
		d := j.Delivery
		if j.Event == nil {
			return fmt.Errorf("load claimed delivery %s: its event %s is gone", d.ID, d.EventID)
		}
		app, ok := apps[d.AppID]
		if !ok {
			if app, err = s.cachedApp(ctx, tx, d.AppID); err != nil {
				return fmt.Errorf("load app of claimed delivery: %w", err)
			}
			apps[d.AppID] = app
		}
		j.Profile, j.DefaultSecret = app.Profile, app.DefaultSecret
		if id := d.WebhookID; id != "" {
			w, ok := hooks[id]
			if !ok {
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

// RecordAttempts implements store.Store. A batch costs a fixed handful of
// statements whatever its size: one reads what the outcomes depend on, one
// inserts every attempt, one updates every delivery (rows passed as JSON and
// unpacked with json_each), and one or two more per webhook whose counters
// moved.
func (s *Store) RecordAttempts(ctx context.Context, results []*store.AttemptResult) ([]hookd.Notice, error) {
	var notices []hookd.Notice
	err := s.tx(ctx, func(tx *sql.Tx) error {
		notices = notices[:0]
		infos, err := s.recordInfos(ctx, tx, results)
		if err != nil {
			return err
		}
		targets := map[string]*hookd.Target{} // by webhook or source id
		attempts := make([]attemptRow, 0, len(results))
		updates := make([]deliveryUpdate, 0, len(results))
		for _, r := range results {
			a := r.Attempt
			info, ok := infos[a.DeliveryID]
			if !ok {
				// Deleted with its webhook or app while in flight:
				// nothing is left to log it against.
				continue
			}
			if a.ID == "" {
				a.ID = s.newID("att")
			}
			row, err := newAttemptRow(a)
			if err != nil {
				return err
			}
			attempts = append(attempts, row)
			if info.owner != r.Owner {
				continue // the lease ran out: logged, but the new holder decides
			}
			key := info.targetID
			if key == "" {
				key = "delivery:" + a.DeliveryID // a one-off URL has no shared state
			}
			t := targets[key]
			if t == nil {
				t = info.target()
				targets[key] = t
			}
			v := t.Record(&r.AttemptReport, info.test)
			updates = append(updates, deliveryUpdate{ID: a.DeliveryID, Status: v.Status, Attempt: a.Attempt, Next: nullMs(v.NextAttemptAt),
				Code: nullCode(a.StatusCode), At: ms(a.At)})
			for _, kind := range v.Notices {
				n := hookd.Notice{Kind: kind, AppID: info.appID, WebhookID: info.webhookID, DeliveryID: a.DeliveryID, EventID: info.eventID, At: a.At}
				if kind == hookd.NoticeWebhookDisabled {
					n.Reason = t.DisabledReason
				}
				notices = append(notices, n)
			}
		}
		if err := execJSON(ctx, tx.StmtContext(ctx, s.stmt.insertAttempts), attempts); err != nil {
			return fmt.Errorf("insert attempts: %w", err)
		}
		if err := execJSON(ctx, tx.StmtContext(ctx, s.stmt.updateDeliveries), updates); err != nil {
			return fmt.Errorf("update deliveries: %w", err)
		}
		return s.saveTargets(ctx, tx, targets, results)
	})
	return notices, err
}

// recordInfo is what recording an attempt of one delivery depends on.
type recordInfo struct {
	appID, eventID, webhookID, targetID, owner string
	test                                       bool
	status                                     string // of the webhook or source
	failures                                   int
	failingSince                               sql.NullInt64
}

func (i *recordInfo) target() *hookd.Target {
	t := &hookd.Target{Status: i.status, Webhook: i.webhookID != "", Failures: i.failures}
	if i.failingSince.Valid {
		t.FailingSince = fromMs(i.failingSince.Int64)
	}
	return t
}

func (s *Store) recordInfos(ctx context.Context, tx *sql.Tx, results []*store.AttemptResult) (map[string]*recordInfo, error) {
	ids := make([]string, len(results))
	for i, r := range results {
		ids[i] = r.Attempt.DeliveryID
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.StmtContext(ctx, s.stmt.recordInfo).QueryContext(ctx, string(idsJSON))
	if err != nil {
		return nil, fmt.Errorf("record attempts: %w", err)
	}
	defer rows.Close()
	infos := make(map[string]*recordInfo, len(results))
	for rows.Next() {
		var id string
		var in recordInfo
		if err := rows.Scan(&id, &in.appID, &in.eventID, &in.webhookID, &in.targetID, &in.owner, &in.test, &in.status, &in.failures, &in.failingSince); err != nil {
			return nil, fmt.Errorf("record attempts: %w", err)
		}
		infos[id] = &in
	}
	return infos, rows.Err()
}

// saveTargets writes the webhook counters and disables that recording
// changed.
func (s *Store) saveTargets(ctx context.Context, tx *sql.Tx, targets map[string]*hookd.Target, results []*store.AttemptResult) error {
	last := map[string]time.Time{} // the latest attempt per webhook
	for _, r := range results {
		if id := r.Attempt.WebhookID; id != "" && r.Attempt.At.After(last[id]) {
			last[id] = r.Attempt.At
		}
	}
	for id, t := range targets {
		if !t.Webhook {
			continue
		}
		if t.CountersChanged {
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET consecutive_failures = ?, failing_since = ? WHERE id = ?`,
				t.Failures, nullMs(t.FailingSince), id); err != nil {
				return fmt.Errorf("update webhook: %w", err)
			}
		}
		if t.DisabledReason != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET status = 'disabled', disabled_reason = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
				t.DisabledReason, ms(last[id]), id); err != nil {
				return fmt.Errorf("disable webhook: %w", err)
			}
			if err := moveDeliveries(ctx, tx, id, hookd.WebhookDisabled, last[id]); err != nil {
				return err
			}
		}
	}
	return nil
}

// attemptRow and deliveryUpdate are rows passed to SQLite as JSON.
type attemptRow struct {
	ID         string          `json:"id"`
	DeliveryID string          `json:"delivery_id"`
	WebhookID  *string         `json:"webhook_id"`
	Attempt    int             `json:"attempt"`
	At         int64           `json:"at"`
	DurationMs int64           `json:"duration_ms"`
	StatusCode *int            `json:"status_code"`
	Headers    json.RawMessage `json:"request_headers"`
	Body       string          `json:"response_body"`
	Error      string          `json:"error"`
}

func newAttemptRow(a *hookd.Attempt) (attemptRow, error) {
	headers, err := json.Marshal(a.RequestHeaders)
	if err != nil {
		return attemptRow{}, fmt.Errorf("encode request headers: %w", err)
	}
	row := attemptRow{ID: a.ID, DeliveryID: a.DeliveryID, Attempt: a.Attempt, At: ms(a.At), DurationMs: a.Duration.Milliseconds(),
		StatusCode: nullCode(a.StatusCode), Headers: headers, Body: a.ResponseBody, Error: a.Error}
	if a.WebhookID != "" {
		row.WebhookID = &a.WebhookID
	}
	return row, nil
}

type deliveryUpdate struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Attempt int    `json:"attempt"`
	Next    any    `json:"next"`
	Code    *int   `json:"code"`
	At      int64  `json:"at"`
}

func nullCode(code int) *int {
	if code == 0 {
		return nil
	}
	return &code
}

// execJSON runs stmt with rows encoded as one JSON array, unless there are
// none.
func execJSON[T any](ctx context.Context, stmt *sql.Stmt, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = stmt.ExecContext(ctx, string(b))
	return err
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
