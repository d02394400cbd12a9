package storepg

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// claimQuery leases due deliveries; see storesqlite for the rules. Rows
// another process is claiming right now are skipped, not waited for.
const claimQuery = `WITH due AS (
	SELECT d.id FROM deliveries d
	LEFT JOIN webhooks w ON w.id = d.webhook_id
	LEFT JOIN sources sr ON sr.id = d.source_id
	WHERE d.status = 'pending' AND d.next_attempt_at <= $3
	  AND (d.lease_until IS NULL OR d.lease_until < $3)
	  AND (d.test OR coalesce(w.status, sr.status, 'active') = 'active')
	  AND (w.ordered IS NULL OR NOT w.ordered OR d.test OR d.id = (
		SELECT min(d2.id) FROM deliveries d2
		WHERE d2.webhook_id = d.webhook_id AND d2.status IN ('pending', 'held') AND NOT d2.test))
	ORDER BY d.next_attempt_at
	LIMIT $4
	FOR UPDATE OF d SKIP LOCKED)
UPDATE deliveries SET lease_owner = $1, lease_until = $2 FROM due WHERE deliveries.id = due.id
RETURNING deliveries.id`

// ClaimDue implements store.Store.
func (s *Store) ClaimDue(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	var jobs []*store.Job
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, claimQuery, p.Owner, ms(p.Now.Add(p.LeaseFor)), ms(p.Now), p.Limit)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		jobs, err = s.loadJobs(ctx, tx, ids)
		return err
	})
	return jobs, err
}

func (s *Store) loadJobs(ctx context.Context, tx pgx.Tx, ids []string) ([]*store.Job, error) {
	rows, err := tx.Query(ctx, `SELECT `+deliveryColumns+`, e.type, e.payload, e.created_at, coalesce(e.headers, ''), coalesce(e.content_type, '')
		FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.id = ANY($1) ORDER BY d.next_attempt_at, d.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("load claimed: %w", err)
	}
	jobs, err := collect(rows, func(row pgx.Row) (*store.Job, error) {
		var d hookd.Delivery
		var ev hookd.Event
		var next *int64
		var created, upd, evCreated int64
		var headers, contentType string
		err := row.Scan(&d.ID, &d.AppID, &d.EventID, &d.SourceID, &d.WebhookID, &d.URL, &d.Status, &d.AttemptCount, &next, &d.LastStatusCode, &d.Test,
			&created, &upd, &ev.Type, &ev.Payload, &evCreated, &headers, &contentType)
		if err != nil {
			return nil, err
		}
		d.NextAttemptAt = fromNullMs(next)
		d.CreatedAt, d.UpdatedAt = fromMs(created), fromMs(upd)
		ev.ID, ev.AppID, ev.Test, ev.CreatedAt = d.EventID, d.AppID, d.Test, fromMs(evCreated)
		if d.SourceID != "" {
			in := &hookd.Inbound{SourceID: d.SourceID, ContentType: contentType}
			if headers != "" {
				if err := json.Unmarshal([]byte(headers), &in.Headers); err != nil {
					return nil, fmt.Errorf("decode headers of event %s: %w", ev.ID, err)
				}
			}
			ev.Inbound = in
		}
		return &store.Job{Delivery: &d, Event: &ev}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("load claimed: %w", err)
	}
	apps := map[string]*hookd.App{}
	hooks := map[string]*hookd.Webhook{}
	for _, j := range jobs {
		app, ok := apps[j.Delivery.AppID]
		if !ok {
			app, err = s.scanApp(tx.QueryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE id = $1`, j.Delivery.AppID))
			if err != nil {
				return nil, fmt.Errorf("load app of claimed delivery: %w", err)
			}
			apps[app.ID] = app
		}
		j.Profile, j.DefaultSecret = app.Profile, app.DefaultSecret
		if id := j.Delivery.WebhookID; id != "" {
			w, ok := hooks[id]
			if !ok {
				w, err = s.getWebhook(ctx, tx, app.ID, id, "")
				if err != nil {
					return nil, fmt.Errorf("load webhook of claimed delivery: %w", err)
				}
				hooks[id] = w
			}
			j.Webhook = w
		}
	}
	return jobs, nil
}

// RecordAttempts implements store.Store.
func (s *Store) RecordAttempts(ctx context.Context, results []*store.AttemptResult) ([]hookd.Notice, error) {
	var notices []hookd.Notice
	// Rows are locked in webhook order so that concurrent recorders never
	// deadlock on each other.
	ordered := slices.Clone(results)
	slices.SortFunc(ordered, func(a, b *store.AttemptResult) int {
		return cmp.Or(cmp.Compare(a.Attempt.WebhookID, b.Attempt.WebhookID), cmp.Compare(a.Attempt.DeliveryID, b.Attempt.DeliveryID))
	})
	err := s.tx(ctx, func(tx pgx.Tx) error {
		notices = notices[:0]
		for _, r := range ordered {
			n, err := s.recordOne(ctx, tx, r)
			if err != nil {
				return err
			}
			notices = append(notices, n...)
		}
		return nil
	})
	return notices, err
}

func (s *Store) recordOne(ctx context.Context, tx pgx.Tx, r *store.AttemptResult) ([]hookd.Notice, error) {
	a := r.Attempt
	headers, err := json.Marshal(a.RequestHeaders)
	if err != nil {
		return nil, fmt.Errorf("encode request headers: %w", err)
	}
	var statusCode *int
	if a.StatusCode != 0 {
		statusCode = &a.StatusCode
	}
	if a.ID == "" {
		a.ID = s.newID("att")
	}
	// A delivery deleted (with its webhook or app) while in flight has
	// nothing left to log against.
	if _, err := tx.Exec(ctx, `INSERT INTO attempts (id, delivery_id, webhook_id, attempt, at, duration_ms, status_code, request_headers, response_body, error)
		SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$10 WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = $2)`,
		a.ID, a.DeliveryID, nullString(a.WebhookID), a.Attempt, ms(a.At), a.Duration.Milliseconds(), statusCode, string(headers), a.ResponseBody, a.Error); err != nil {
		return nil, fmt.Errorf("insert attempt: %w", err)
	}

	// Lock the webhook, then the delivery: the order UpdateWebhook uses
	// too, so the two never deadlock.
	// webhookStatus is the status of the delivery's webhook or source.
	var appID, eventID, webhookID, sourceStatus, webhookStatus string
	var test bool
	var failures int
	var failingSince *int64
	err = tx.QueryRow(ctx, `SELECT d.app_id, d.event_id, coalesce(d.webhook_id, ''), coalesce(sr.status, ''), d.test
		FROM deliveries d LEFT JOIN sources sr ON sr.id = d.source_id WHERE d.id = $1 AND d.lease_owner = $2`,
		a.DeliveryID, r.Owner).Scan(&appID, &eventID, &webhookID, &sourceStatus, &test)
	webhookStatus = sourceStatus
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil // the lease ran out and another holder decides
	}
	if err != nil {
		return nil, fmt.Errorf("record attempt: %w", err)
	}
	if webhookID != "" {
		err := tx.QueryRow(ctx, `SELECT status, consecutive_failures, failing_since FROM webhooks WHERE id = $1 FOR UPDATE`, webhookID).
			Scan(&webhookStatus, &failures, &failingSince)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("record attempt: %w", err)
		}
	}
	if err := tx.QueryRow(ctx, `SELECT id FROM deliveries WHERE id = $1 AND lease_owner = $2 FOR UPDATE`, a.DeliveryID, r.Owner).Scan(new(string)); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("record attempt: %w", err)
	}
	at := ms(a.At)
	base := hookd.Notice{AppID: appID, WebhookID: webhookID, DeliveryID: a.DeliveryID, EventID: eventID, At: a.At}
	var notices []hookd.Notice

	status, next := hookd.DeliverySucceeded, (*int64)(nil)
	switch {
	case a.Succeeded():
	case !r.NextAttemptAt.IsZero() && r.DisableReason == "":
		status, next = hookd.DeliveryPending, nullMs(r.NextAttemptAt)
		if !test && webhookStatus == hookd.WebhookPaused {
			status = hookd.DeliveryHeld
		} else if !test && webhookStatus == hookd.WebhookDisabled {
			status, next = hookd.DeliveryFailed, nil
		}
	default:
		status = hookd.DeliveryFailed
	}
	if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = $1, attempt_count = GREATEST(attempt_count, $2), next_attempt_at = $3, last_status_code = $4,
		lease_owner = NULL, lease_until = NULL, updated_at = $5 WHERE id = $6`,
		status, a.Attempt, next, statusCode, at, a.DeliveryID); err != nil {
		return nil, fmt.Errorf("update delivery: %w", err)
	}
	if status == hookd.DeliveryFailed && webhookStatus != hookd.WebhookDisabled {
		notices = append(notices, withKind(base, hookd.NoticeDeliveryExhausted, ""))
	}
	if webhookID == "" || test {
		return notices, nil
	}
	if a.Succeeded() {
		if failures > 0 || failingSince != nil {
			if _, err := tx.Exec(ctx, `UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL WHERE id = $1`, webhookID); err != nil {
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
	if failingSince != nil {
		since = *failingSince
	}
	if _, err := tx.Exec(ctx, `UPDATE webhooks SET consecutive_failures = $1, failing_since = $2 WHERE id = $3`, failures, since, webhookID); err != nil {
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
	if _, err := tx.Exec(ctx, `UPDATE webhooks SET status = 'disabled', disabled_reason = $1, updated_at = $2, version = version + 1 WHERE id = $3`, reason, at, webhookID); err != nil {
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
	ids := make([]string, len(deferrals))
	ats := make([]int64, len(deferrals))
	for i, d := range deferrals {
		ids[i], ats[i] = d.DeliveryID, ms(d.At)
	}
	_, err := s.pool.Exec(ctx, `UPDATE deliveries d SET next_attempt_at = v.at, lease_owner = NULL, lease_until = NULL
		FROM unnest($1::text[], $2::bigint[]) AS v(id, at) WHERE d.id = v.id AND d.lease_owner = $3`, ids, ats, owner)
	if err != nil {
		return fmt.Errorf("defer deliveries: %w", err)
	}
	return nil
}

// NextDue implements store.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next int64
	err := s.pool.QueryRow(ctx, `SELECT d.next_attempt_at FROM deliveries d
		LEFT JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN sources sr ON sr.id = d.source_id
		WHERE d.status = 'pending' AND d.lease_owner IS NULL AND (d.test OR coalesce(w.status, sr.status, 'active') = 'active')
		ORDER BY d.next_attempt_at LIMIT 1`).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM events WHERE id IN (
			SELECT e.id FROM events e WHERE e.created_at < $1
			  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status IN ('pending', 'held'))
			ORDER BY e.created_at LIMIT $2
			FOR UPDATE SKIP LOCKED)`, ms(before), limit)
		if err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, ms(before)); err != nil {
			return fmt.Errorf("prune idempotency keys: %w", err)
		}
		return nil
	})
	return int(n), err
}
