package storepg

import (
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

// dueQuery finds due deliveries to claim, passing over those of the
// webhooks in $3 (full); see storesqlite for the rules.
// Rows another process is claiming right now are skipped, not waited for;
// the rows it returns stay locked until the claim commits.
const dueQuery = `SELECT d.id, coalesce(d.webhook_id, '') FROM deliveries d
	LEFT JOIN webhooks w ON w.id = d.webhook_id
	LEFT JOIN sources sr ON sr.id = d.source_id
	WHERE d.status = 'pending' AND d.next_attempt_at <= $1
	  AND (d.lease_until IS NULL OR d.lease_until < $1)
	  AND coalesce(d.webhook_id, '') <> ALL($3)
	  AND (d.test OR coalesce(w.status, sr.status, 'active') = 'active')
	  AND (w.ordered IS NULL OR NOT w.ordered OR d.test OR d.id = (
		SELECT min(d2.id) FROM deliveries d2
		WHERE d2.webhook_id = d.webhook_id AND d2.status IN ('pending', 'held') AND NOT d2.test))
	ORDER BY d.next_attempt_at
	LIMIT $2
	FOR NO KEY UPDATE OF d SKIP LOCKED`

// ClaimDue implements store.Store, in one transaction: full webhooks'
// deliveries are pushed back when asked, one statement finds and locks the
// candidates (passing over full webhooks'), p.Admit picks among them, and
// the picked are leased.
func (s *Store) ClaimDue(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	var jobs []*store.Job
	err := s.tx(ctx, func(tx pgx.Tx) error {
		jobs = nil
		// A lease lost with the last moments before a database crash only
		// makes its deliveries due again, which at-least-once delivery
		// allows: a claim need not wait for its commit to reach the disk.
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if err := s.push(ctx, tx, p); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, dueQuery, ms(p.Now), p.ScanLimit(), p.FullIDs())
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		type candidate struct{ id, webhookID string }
		var candidates []candidate
		var c candidate
		_, err = pgx.ForEachRow(rows, []any{&c.id, &c.webhookID}, func() error {
			candidates = append(candidates, c)
			return nil
		})
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		var take []string
		for _, c := range candidates {
			if len(take) < p.Limit && p.Admits(c.webhookID) {
				take = append(take, c.id)
			}
		}
		if len(take) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET lease_owner = $1, lease_until = $2 WHERE id = ANY($3)`,
			p.Owner, ms(p.Now.Add(p.LeaseFor)), take); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if jobs, err = s.loadJobs(ctx, tx, take); err != nil {
			return err
		}
		for _, j := range jobs {
			j.LeaseUntil = p.Now.Add(p.LeaseFor)
		}
		return nil
	})
	return jobs, err
}

// push moves the due, unleased deliveries of full webhooks, among the
// first ScanLimit due, to the times p.Full gives; rows another claim holds
// are skipped.
func (s *Store) push(ctx context.Context, tx pgx.Tx, p *store.ClaimParams) error {
	for id, at := range p.Full {
		if at.IsZero() {
			continue
		}
		_, err := tx.Exec(ctx, `UPDATE deliveries SET next_attempt_at = $1 WHERE id IN (
			SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $2 AND webhook_id = $3
			  AND (lease_until IS NULL OR lease_until < $2)
			ORDER BY next_attempt_at LIMIT $4 FOR NO KEY UPDATE SKIP LOCKED)`, ms(at), ms(p.Now), id, p.ScanLimit())
		if err != nil {
			return fmt.Errorf("claim: push back deliveries of webhook %s: %w", id, err)
		}
	}
	return nil
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
			if app, err = s.cachedApp(ctx, tx, j.Delivery.AppID); err != nil {
				return nil, fmt.Errorf("load app of claimed delivery: %w", err)
			}
			apps[app.ID] = app
		}
		j.Profile, j.DefaultSecret = app.Profile, app.DefaultSecret
		if id := j.Delivery.WebhookID; id != "" {
			w, ok := hooks[id]
			if !ok {
				if w, err = s.cachedWebhook(ctx, tx, app.ID, id); err != nil {
					return nil, fmt.Errorf("load webhook of claimed delivery: %w", err)
				}
				hooks[id] = w
			}
			j.Webhook = w
		}
	}
	return jobs, nil
}

// cachedApp returns an app, decoded anew only when its version moved.
func (s *Store) cachedApp(ctx context.Context, tx pgx.Tx, id string) (*hookd.App, error) {
	var version int64
	if err := tx.QueryRow(ctx, `SELECT version FROM apps WHERE id = $1`, id).Scan(&version); err != nil {
		return nil, err
	}
	return s.apps.Load(id, version, func() (*hookd.App, error) {
		return s.scanApp(tx.QueryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE id = $1`, id))
	})
}

// cachedWebhook returns a webhook, decoded anew only when its version
// moved.
func (s *Store) cachedWebhook(ctx context.Context, tx pgx.Tx, appID, id string) (*hookd.Webhook, error) {
	var version int64
	if err := tx.QueryRow(ctx, `SELECT version FROM webhooks WHERE id = $1`, id).Scan(&version); err != nil {
		return nil, err
	}
	return s.hooks.Load(id, version, func() (*hookd.Webhook, error) { return s.getWebhook(ctx, tx, appID, id) })
}

// RecordAttempts implements store.Store. A batch costs a fixed handful of
// statements whatever its size: the webhooks and deliveries it touches are
// locked (webhooks first, in id order, as every writer does, so recorders
// and API updates never deadlock), every attempt is inserted and every
// delivery updated from arrays, and one or two more statements run per
// webhook whose counters moved.
func (s *Store) RecordAttempts(ctx context.Context, results []*store.AttemptResult) ([]hookd.Notice, error) {
	ids := make([]string, len(results))
	var hookIDs []string
	for i, r := range results {
		ids[i] = r.Attempt.DeliveryID
		if r.Attempt.WebhookID != "" {
			hookIDs = append(hookIDs, r.Attempt.WebhookID)
		}
	}
	slices.Sort(hookIDs)
	hookIDs = slices.Compact(hookIDs)
	var notices []hookd.Notice
	err := s.tx(ctx, func(tx pgx.Tx) error {
		notices = notices[:0]
		if len(hookIDs) > 0 {
			if _, err := tx.Exec(ctx, `SELECT id FROM webhooks WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, hookIDs); err != nil {
				return fmt.Errorf("lock webhooks: %w", err)
			}
		}
		infos, err := recordInfos(ctx, tx, ids)
		if err != nil {
			return err
		}
		var ins attemptColumns
		var upd deliveryColumnsUpdate
		targets := map[string]*hookd.Target{}
		for _, r := range results {
			a := r.Attempt
			info, ok := infos[a.DeliveryID]
			if !ok {
				continue // deleted with its webhook or app while in flight
			}
			if a.ID == "" {
				a.ID = s.newID("att")
			}
			if err := ins.add(a); err != nil {
				return err
			}
			if info.owner != r.Owner {
				continue // the lease ran out: logged, but the new holder decides
			}
			key := info.targetID
			if key == "" {
				key = "delivery:" + a.DeliveryID
			}
			t := targets[key]
			if t == nil {
				t = info.target()
				targets[key] = t
			}
			v := t.Record(&r.AttemptReport, info.test)
			upd.add(a, v)
			for _, kind := range v.Notices {
				n := hookd.Notice{Kind: kind, AppID: info.appID, WebhookID: info.webhookID, DeliveryID: a.DeliveryID, EventID: info.eventID, At: a.At}
				if kind == hookd.NoticeWebhookDisabled {
					n.Reason = t.DisabledReason
				}
				notices = append(notices, n)
			}
		}
		if len(ins.id) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO attempts (id, delivery_id, webhook_id, attempt, at, duration_ms, status_code, request_headers, response_body, error)
				SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::text[])`,
				ins.id, ins.deliveryID, ins.webhookID, ins.attempt, ins.at, ins.duration, ins.code, ins.headers, ins.body, ins.err); err != nil {
				return fmt.Errorf("insert attempts: %w", err)
			}
		}
		if len(upd.id) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE deliveries d SET status = v.status, attempt_count = GREATEST(d.attempt_count, v.attempt), next_attempt_at = v.next,
					last_status_code = v.code, lease_owner = NULL, lease_until = NULL, updated_at = v.at
				FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) AS v(id, status, attempt, next, code, at)
				WHERE d.id = v.id`,
				upd.id, upd.status, upd.attempt, upd.next, upd.code, upd.at); err != nil {
				return fmt.Errorf("update deliveries: %w", err)
			}
		}
		return saveTargets(ctx, tx, targets, results)
	})
	return notices, err
}

// recordInfo is what recording an attempt of one delivery depends on.
type recordInfo struct {
	appID, eventID, webhookID, targetID, owner string
	test                                       bool
	status                                     string // of the webhook or source
	failures                                   int
	failingSince                               *int64
}

func (i *recordInfo) target() *hookd.Target {
	t := &hookd.Target{Status: i.status, Webhook: i.webhookID != "", Failures: i.failures}
	if i.failingSince != nil {
		t.FailingSince = fromMs(*i.failingSince)
	}
	return t
}

// recordInfos reads, and locks, the deliveries of a batch.
func recordInfos(ctx context.Context, tx pgx.Tx, ids []string) (map[string]*recordInfo, error) {
	rows, err := tx.Query(ctx, `SELECT d.id, d.app_id, d.event_id, coalesce(d.webhook_id, ''), coalesce(d.webhook_id, d.source_id, ''),
		coalesce(d.lease_owner, ''), d.test, coalesce(w.status, sr.status, ''), coalesce(w.consecutive_failures, 0), w.failing_since
		FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN sources sr ON sr.id = d.source_id
		WHERE d.id = ANY($1) ORDER BY d.id FOR NO KEY UPDATE OF d`, ids)
	if err != nil {
		return nil, fmt.Errorf("record attempts: %w", err)
	}
	defer rows.Close()
	infos := make(map[string]*recordInfo, len(ids))
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
func saveTargets(ctx context.Context, tx pgx.Tx, targets map[string]*hookd.Target, results []*store.AttemptResult) error {
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
			if _, err := tx.Exec(ctx, `UPDATE webhooks SET consecutive_failures = $1, failing_since = $2 WHERE id = $3`,
				t.Failures, nullMs(t.FailingSince), id); err != nil {
				return fmt.Errorf("update webhook: %w", err)
			}
		}
		if t.DisabledReason != "" {
			if _, err := tx.Exec(ctx, `UPDATE webhooks SET status = 'disabled', disabled_reason = $1, updated_at = $2, version = version + 1 WHERE id = $3`,
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

// attemptColumns are attempts to insert, column by column.
type attemptColumns struct {
	id, deliveryID        []string
	webhookID             []*string
	attempt, at, duration []int64
	code                  []*int64
	headers, body, err    []string
}

func (c *attemptColumns) add(a *hookd.Attempt) error {
	headers, err := json.Marshal(a.RequestHeaders)
	if err != nil {
		return fmt.Errorf("encode request headers: %w", err)
	}
	c.id = append(c.id, a.ID)
	c.deliveryID = append(c.deliveryID, a.DeliveryID)
	c.webhookID = append(c.webhookID, nullString(a.WebhookID))
	c.attempt = append(c.attempt, int64(a.Attempt))
	c.at = append(c.at, ms(a.At))
	c.duration = append(c.duration, a.Duration.Milliseconds())
	c.code = append(c.code, nullCode(a.StatusCode))
	c.headers = append(c.headers, string(headers))
	c.body = append(c.body, a.ResponseBody)
	c.err = append(c.err, a.Error)
	return nil
}

// deliveryColumnsUpdate are delivery outcomes to write, column by column.
type deliveryColumnsUpdate struct {
	id, status []string
	attempt    []int64
	next, code []*int64
	at         []int64
}

func (c *deliveryColumnsUpdate) add(a *hookd.Attempt, v hookd.Verdict) {
	c.id = append(c.id, a.DeliveryID)
	c.status = append(c.status, v.Status)
	c.attempt = append(c.attempt, int64(a.Attempt))
	c.next = append(c.next, nullMs(v.NextAttemptAt))
	c.code = append(c.code, nullCode(a.StatusCode))
	c.at = append(c.at, ms(a.At))
}

func nullCode(code int) *int64 {
	if code == 0 {
		return nil
	}
	v := int64(code)
	return &v
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
	return s.tx(ctx, func(tx pgx.Tx) error {
		// Lock in id order first, as every multi-row writer does.
		if _, err := tx.Exec(ctx, `SELECT id FROM deliveries WHERE id = ANY($1) AND lease_owner = $2 ORDER BY id FOR NO KEY UPDATE`, ids, owner); err != nil {
			return fmt.Errorf("defer deliveries: %w", err)
		}
		_, err := tx.Exec(ctx, `UPDATE deliveries d SET next_attempt_at = v.at, lease_owner = NULL, lease_until = NULL
			FROM unnest($1::text[], $2::bigint[]) AS v(id, at) WHERE d.id = v.id AND d.lease_owner = $3`, ids, ats, owner)
		if err != nil {
			return fmt.Errorf("defer deliveries: %w", err)
		}
		return nil
	})
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
