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
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlflow"
	"github.com/hookd/hookd/store/internal/sqlrow"
	"github.com/hookd/hookd/store/internal/versioncache"
)

// dueQuery finds due deliveries to claim, passing over those of the
// webhooks in $3 (full); see storesqlite for the rules.
// Rows another process is claiming right now are skipped, not waited for;
// the rows it returns stay locked until the claim commits.
//
// Most due rows go to active webhooks that are not ordered, which nothing
// more need be known of: the query reads the few targets that are not
// such (paused or disabled webhooks and sources, ordered webhooks) once,
// by their partial indexes (migration 9), and passes the rest without
// looking their webhook up. Joining each row to its webhook and source
// made the query twice as long (9.4 against 5.0 µs per delivered event in
// the sustained scenario).
const dueQuery = `SELECT d.id, d.app_id, coalesce(d.webhook_id, ''), CASE WHEN d.webhook_id IS NULL THEN coalesce(d.url, '') ELSE '' END FROM deliveries d
	WHERE d.status = 'pending' AND d.next_attempt_at <= $1
	  AND (d.lease_until IS NULL OR d.lease_until < $1)
	  AND coalesce(d.webhook_id, '') <> ALL($3)
	  AND (d.test OR coalesce(d.webhook_id, d.source_id) IS NULL
		OR coalesce(d.webhook_id, d.source_id) NOT IN (
			SELECT id FROM webhooks WHERE status <> 'active' OR ordered
			UNION ALL SELECT id FROM sources WHERE status <> 'active')
		OR d.id = (
			SELECT min(d2.id) FROM deliveries d2
			WHERE d2.webhook_id = d.webhook_id AND d2.status IN ('pending', 'held') AND NOT d2.test
			  AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id AND w.status = 'active' AND w.ordered)))
	ORDER BY d.next_attempt_at
	LIMIT $2
	FOR NO KEY UPDATE OF d SKIP LOCKED`

// ClaimDue implements store.Store, in one transaction of two round trips
// (see pipelinedTx): the first pushes full webhooks' deliveries back when
// asked and finds and locks the candidates (passing over full webhooks');
// p.Admit picks among them; the second leases the picked, loads them and
// commits.
func (s *Store) ClaimDue(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	tx, err := s.beginPipelined(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	defer tx.end(ctx)

	// A lease lost with the last moments before a database crash only
	// makes its deliveries due again, which at-least-once delivery
	// allows: a claim need not wait for its commit to reach the disk.
	b := &pgx.Batch{}
	b.Queue(`SET LOCAL synchronous_commit = off`)
	b.Queue(useIndexes)
	b.Queue(walkDueIndex)
	queuePushes(b, p)
	before := b.Len()
	b.Queue(dueQuery, ms(p.Now), p.ScanLimit(), p.FullIDs())
	for _, reset := range endDueWalk {
		b.Queue(reset)
	}
	br := tx.send(ctx, b, false)
	take, err := readCandidates(br, before, p)
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	if len(take.ids) == 0 {
		// Commit the pushes, and release the candidates' locks.
		if err := tx.send(ctx, &pgx.Batch{}, true).Close(); err != nil {
			return nil, fmt.Errorf("claim: %w", err)
		}
		return nil, nil
	}

	b = &pgx.Batch{}
	b.Queue(leaseJobsQuery, p.Owner, ms(p.Now.Add(p.LeaseFor)), take.ids)
	b.Queue(`SELECT id, version FROM apps WHERE id = ANY($1)`, take.apps)
	b.Queue(`SELECT id, version FROM webhooks WHERE id = ANY($1)`, take.hooks)
	br = tx.send(ctx, b, true)
	jobs, v, err := readClaimed(br)
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	jobs, err = s.resolve(ctx, tx.conn, jobs, v)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	for _, j := range jobs {
		j.LeaseUntil = p.Now.Add(p.LeaseFor)
	}
	return jobs, nil
}

// useIndexes makes the statements after it in its transaction find rows
// through an index wherever one serves. The delivery path's statements
// look up a few hundred rows by key in tables of millions; a planner whose
// statistics lag (see walkDueIndex) takes the table for a small one and
// reads all of it, which at 30,000 deliveries made a claim of twenty cost
// 14 ms.
const useIndexes = `SELECT set_config('enable_seqscan', 'off', true)`

// walkDueIndex makes the queries after it in its transaction, until
// endDueWalk, find due deliveries by walking deliveries_due in order, as
// they must. Left to itself, the planner trusts statistics that lag a
// queue table by minutes (an hour of deliveries can arrive between two
// autovacuum runs, and none if autovacuum is off): it sees a few pending
// rows, reads and sorts all of them to return the first, and a claim that
// takes 4 ms with the index takes 130 ms at 60,000 pending.
const walkDueIndex = `SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)`

// endDueWalk undoes walkDueIndex for the rest of the transaction.
var endDueWalk = []string{`RESET enable_sort`, `RESET enable_bitmapscan`}

// queuePushes queues the statements that move the due, unleased deliveries
// of full webhooks, among the first ScanLimit due, to the times p.Full
// gives (rows another claim holds are skipped).
func queuePushes(b *pgx.Batch, p *store.ClaimParams) {
	for id, at := range p.Full {
		if at.IsZero() {
			continue
		}
		b.Queue(`UPDATE deliveries SET next_attempt_at = $1 WHERE id IN (
			SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $2 AND webhook_id = $3
			  AND (lease_until IS NULL OR lease_until < $2)
			ORDER BY next_attempt_at LIMIT $4 FOR NO KEY UPDATE SKIP LOCKED)`, ms(at), ms(p.Now), id, p.ScanLimit())
	}
}

// taking is what a claim takes: the deliveries' ids, and their apps' and
// webhooks' (each once), whose versions the caches want.
type taking struct {
	ids, apps, hooks []string
}

// readCandidates reads the first batch of a claim: the settings and the
// pushes (the first `before` statements), the due query and endDueWalk;
// it returns what p.Admit takes.
func readCandidates(br pgx.BatchResults, before int, p *store.ClaimParams) (taking, error) {
	var take taking
	for range before {
		if _, err := br.Exec(); err != nil {
			return take, err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return take, err
	}
	type candidate struct {
		id string
		store.Candidate
	}
	var candidates []candidate
	var c candidate
	if _, err := pgx.ForEachRow(rows, []any{&c.id, &c.AppID, &c.WebhookID, &c.URL}, func() error {
		candidates = append(candidates, c)
		return nil
	}); err != nil {
		return take, err
	}
	for range endDueWalk {
		if _, err := br.Exec(); err != nil {
			return take, err
		}
	}
	apps, hooks := map[string]bool{}, map[string]bool{}
	for _, c := range candidates {
		if len(take.ids) < p.Limit && p.Admits(c.Candidate) {
			take.ids = append(take.ids, c.id)
			if !apps[c.AppID] {
				apps[c.AppID] = true
				take.apps = append(take.apps, c.AppID)
			}
			if c.WebhookID != "" && !hooks[c.WebhookID] {
				hooks[c.WebhookID] = true
				take.hooks = append(take.hooks, c.WebhookID)
			}
		}
	}
	return take, nil
}

// leaseJobsQuery leases the deliveries in $3 to $1 until $2 and returns
// them with their events. The versions of their apps and webhooks, for
// the caches, are read by two queries of their own in the same batch:
// joined here, they were looked up once for every delivery.
const leaseJobsQuery = `WITH d AS (UPDATE deliveries SET lease_owner = $1, lease_until = $2 WHERE id = ANY($3) RETURNING *)
	SELECT ` + sqlrow.DeliveryColumns + `, e.type, e.payload, e.created_at, coalesce(e.headers, ''), coalesce(e.content_type, '')
	FROM d JOIN events e ON e.id = d.event_id
	ORDER BY d.next_attempt_at, d.id`

// readClaimed reads the second batch of a claim: the leased jobs, then
// the versions of their apps and webhooks (see resolve).
func readClaimed(br pgx.BatchResults) ([]*store.Job, versions, error) {
	v := versions{apps: map[string]int64{}, hooks: map[string]int64{}}
	rows, err := br.Query()
	if err != nil {
		return nil, v, err
	}
	jobs, err := collect(rows, func(row sqlrow.Scanner) (*store.Job, error) {
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
		return nil, v, err
	}
	for _, into := range []map[string]int64{v.apps, v.hooks} {
		rows, err := br.Query()
		if err != nil {
			return nil, v, err
		}
		var id string
		var version int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &version}, func() error {
			into[id] = version
			return nil
		}); err != nil {
			return nil, v, err
		}
	}
	return jobs, v, nil
}

// versions are the versions of apps and webhooks, by id, that a
// transaction saw.
type versions struct {
	apps, hooks map[string]int64
}

// resolve gives jobs their apps and webhooks: from the caches at the
// versions v holds, and what the caches lack read through q in one query
// for the apps and one for the webhooks (a fan-out to 10,000 new webhooks
// read them one by one, a round trip each). A row read anew may be newer
// than the version v holds; it is cached at its own, and a later job that
// sees the newer version finds it. It returns the jobs whose app and
// webhook it found: the deliveries of an app or webhook deleted since
// were deleted with it.
func (s *Store) resolve(ctx context.Context, q querier, jobs []*store.Job, v versions) ([]*store.Job, error) {
	apps, err := cachedRows(ctx, q, &s.apps, v.apps, `SELECT `+sqlrow.AppColumns+`, version FROM apps WHERE id = ANY($1)`,
		func(row pgx.Row) (string, *hookd.App, int64, error) {
			var version int64
			app, err := sqlrow.ScanApp(s.sealer, row, &version)
			if err != nil {
				return "", nil, 0, err
			}
			return app.ID, app, version, nil
		})
	if err != nil {
		return nil, fmt.Errorf("load apps: %w", err)
	}
	hooks, err := cachedRows(ctx, q, &s.hooks, v.hooks, `SELECT `+sqlrow.WebhookColumns+`, version FROM webhooks WHERE id = ANY($1)`,
		func(row pgx.Row) (string, *hookd.Webhook, int64, error) {
			w, err := sqlrow.ScanWebhook(s.sealer, row)
			if err != nil {
				return "", nil, 0, err
			}
			return w.ID, w, w.Version, nil
		})
	if err != nil {
		return nil, fmt.Errorf("load webhooks: %w", err)
	}
	found := make([]*store.Job, 0, len(jobs))
	for _, j := range jobs {
		d := j.Delivery
		app := apps[d.AppID]
		if app == nil {
			continue
		}
		j.Profile, j.DefaultSecret = app.Profile, app.DefaultSecret
		if id := d.WebhookID; id != "" {
			if j.Webhook = hooks[id]; j.Webhook == nil {
				continue
			}
		}
		found = append(found, j)
	}
	return found, nil
}

// cachedRows returns the rows of the ids in want at the versions given,
// from cache, and reads those it lacks with query (which takes the ids as
// $1), caching them at the versions scan returns with their ids.
func cachedRows[V any](ctx context.Context, q querier, cache *versioncache.Cache[V], want map[string]int64, query string,
	scan func(pgx.Row) (string, V, int64, error)) (map[string]V, error) {
	got := make(map[string]V, len(want))
	var missing []string
	for id, version := range want {
		if v, ok := cache.Get(id, version); ok {
			got[id] = v
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return got, nil
	}
	rows, err := q.Query(ctx, query, missing)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		id, v, version, err := scan(rows)
		if err != nil {
			return nil, err
		}
		cache.Put(id, version, v)
		got[id] = v
	}
	return got, rows.Err()
}

// RecordAttempts implements store.Store, in one transaction of two round
// trips (see pipelinedTx): the first locks the batch's webhooks against
// deletes (FOR KEY SHARE: a delete would leave their attempts behind) and
// reads what the verdicts depend on; the second inserts every attempt and
// updates every delivery from arrays, writes the webhooks' counters and
// commits. When the batch may move a webhook's counters (see
// needsWebhookLocks), a round trip between them locks the webhooks for
// update and reads again. Locks are taken in id order, as every writer
// does, so that recorders and API updates never deadlock. The deliveries
// are not locked on the way: a recorder updates only the deliveries whose
// lease it holds.
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
	var err error
	for range 3 {
		var notices []hookd.Notice
		if notices, err = s.recordAttempts(ctx, results, ids, hookIDs); !retryable(err) {
			return notices, unavailable(err)
		}
	}
	return nil, err
}

func (s *Store) recordAttempts(ctx context.Context, results []*store.AttemptResult, ids, hookIDs []string) ([]hookd.Notice, error) {
	tx, err := s.beginPipelined(ctx)
	if err != nil {
		return nil, fmt.Errorf("record attempts: %w", err)
	}
	defer tx.end(ctx)
	b := &pgx.Batch{}
	b.Queue(useIndexes)
	b.Queue(`SELECT id FROM webhooks WHERE id = ANY($1) ORDER BY id FOR KEY SHARE`, hookIDs)
	b.Queue(recordInfosQuery, ids)
	infos, err := readRecordInfos(tx.send(ctx, b, false), b.Len())
	if err == nil && needsWebhookLocks(results, infos) {
		b = &pgx.Batch{}
		b.Queue(`SELECT id FROM webhooks WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, hookIDs)
		b.Queue(recordInfosQuery, ids)
		infos, err = readRecordInfos(tx.send(ctx, b, false), b.Len())
	}
	if err != nil {
		return nil, fmt.Errorf("record attempts: %w", err)
	}

	var j sqlflow.Judgement
	var ins attemptColumns
	var upd deliveryColumnsUpdate
	for _, r := range results {
		a := r.Attempt
		info, ok := infos[a.DeliveryID]
		if !ok {
			continue // deleted with its webhook or app while in flight
		}
		if a.ID == "" {
			a.ID = s.newID("att")
		}
		ins.add(a)
		if info.Owner != r.Owner {
			// The lease ran out: logged and counted, but the new holder
			// decides.
			j.Expired(info, a)
			continue
		}
		upd.add(r.Owner, a, j.Judge(r, info))
	}

	b = &pgx.Batch{}
	if len(ins.id) >= copyMin {
		if err := ins.copy(ctx, tx.conn); err != nil {
			return nil, fmt.Errorf("record attempts: %w", err)
		}
	} else if len(ins.id) > 0 {
		b.Queue(`INSERT INTO attempts (id, delivery_id, webhook_id, attempt, at, duration_ms, status_code, request_headers, response_headers, response_body, error)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[])`,
			ins.id, ins.deliveryID, ins.webhookID, ins.attempt, ins.at, ins.duration, ins.code, ins.headers, ins.respHeaders, ins.body, ins.err)
	}
	if len(upd.id) > 0 {
		// A lease that changed hands since the read (it ran out, and
		// another process claimed the delivery) leaves the row alone.
		b.Queue(`UPDATE deliveries d SET status = v.status, attempt_count = GREATEST(d.attempt_count, v.attempt), next_attempt_at = v.next,
				last_status_code = v.code, lease_owner = NULL, lease_until = NULL, updated_at = v.at
			FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[]) AS v(id, status, attempt, next, code, at, owner)
			WHERE d.id = v.id AND d.lease_owner = v.owner`,
			upd.id, upd.status, upd.attempt, upd.next, upd.code, upd.at, upd.owner)
	}
	disables := queueCounters(b, j.Targets)
	// The statistics go last, just before the commit: their rows are the
	// ones every recorder shares, held for as short a time as can be.
	if !disables {
		queueStats(b, &j.Stats)
	}
	if err := tx.send(ctx, b, !disables).Close(); err != nil {
		return nil, fmt.Errorf("record attempts: %w", err)
	}
	if disables {
		rest, err := s.disableTargets(ctx, tx.conn, j.Targets, results)
		if err != nil {
			return nil, err
		}
		last := &pgx.Batch{}
		queueStats(last, &j.Stats)
		if err := tx.send(ctx, last, true).Close(); err != nil {
			return nil, fmt.Errorf("record attempts: %w", err)
		}
		for _, m := range rest {
			s.moveRest(m.moved, "webhook_id", m.webhookID, hookd.WebhookDisabled, m.at)
		}
	}
	return j.Notices, nil
}

// recordInfosQuery reads what recording attempts of the deliveries in $1
// depends on.
const recordInfosQuery = `SELECT d.id, d.app_id, d.event_id, coalesce(d.webhook_id, ''), coalesce(d.webhook_id, d.source_id, ''),
	coalesce(d.lease_owner, ''), d.test, coalesce(w.status, sr.status, ''), coalesce(w.consecutive_failures, 0), w.failing_since
	FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN sources sr ON sr.id = d.source_id
	WHERE d.id = ANY($1)`

// readRecordInfos reads a batch of n statements of a record whose last
// is recordInfosQuery (the others set or lock, and return nothing read);
// it closes br.
func readRecordInfos(br pgx.BatchResults, n int) (infos map[string]*sqlflow.RecordInfo, err error) {
	defer func() {
		if closeErr := br.Close(); err == nil {
			err = closeErr
		}
	}()
	for range n - 1 {
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	infos = map[string]*sqlflow.RecordInfo{}
	for rows.Next() {
		var id string
		var in sqlflow.RecordInfo
		if err := rows.Scan(&id, &in.AppID, &in.EventID, &in.WebhookID, &in.TargetID, &in.Owner, &in.Test, &in.Status, &in.Failures, &in.FailingSince); err != nil {
			return nil, err
		}
		infos[id] = &in
	}
	return infos, rows.Err()
}

// needsWebhookLocks reports whether recording results, by what infos
// (read under FOR KEY SHARE) say, may move a webhook's counters or depend
// on its status: a failure, or a success on a webhook with failures
// counted. Only then are the webhooks locked for update and the infos
// read again, so that other recorders and status changes take their
// turns. Successes on webhooks that count no failures change nothing of
// theirs, whatever their status and whoever records beside them: a move
// of a re-activated backlog holds its webhook's row for a whole chunk,
// and when every recorder of the webhook waited on it the backlog drained
// at half the sustained rate.
func needsWebhookLocks(results []*store.AttemptResult, infos map[string]*sqlflow.RecordInfo) bool {
	for _, r := range results {
		info, ok := infos[r.Attempt.DeliveryID]
		if !ok || info.WebhookID == "" || info.Test || info.Owner != r.Owner {
			continue // no webhook state moves (see hookd.Target.Record)
		}
		if !r.Attempt.Succeeded() || info.Failures > 0 || info.FailingSince != nil {
			return true
		}
	}
	return false
}

// queueCounters queues the updates of the webhook counters that recording
// moved, and reports whether a webhook is to be disabled (see
// disableTargets).
func queueCounters(b *pgx.Batch, targets map[string]*hookd.Target) (disables bool) {
	for id, t := range targets {
		if !t.Webhook {
			continue
		}
		if t.CountersChanged {
			b.Queue(`UPDATE webhooks SET consecutive_failures = $1, failing_since = $2 WHERE id = $3`,
				t.Failures, nullMs(t.FailingSince), id)
		}
		disables = disables || t.DisabledReason != ""
	}
	return disables
}

// disableTargets disables the webhooks that recording disabled, and fails
// the first chunk of their open deliveries; it returns what moveRest is to
// finish once the transaction commits (see moveChunk).
func (s *Store) disableTargets(ctx context.Context, q querier, targets map[string]*hookd.Target, results []*store.AttemptResult) ([]startedMove, error) {
	last := sqlflow.LastAttempts(results)
	var started []startedMove
	for id, t := range targets {
		if !t.Webhook || t.DisabledReason == "" {
			continue
		}
		if _, err := q.Exec(ctx, `UPDATE webhooks SET status = 'disabled', disabled_reason = $1, updated_at = $2, version = version + 1 WHERE id = $3`,
			t.DisabledReason, ms(last[id]), id); err != nil {
			return nil, fmt.Errorf("disable webhook: %w", err)
		}
		moved, err := s.moveOpenDeliveries(ctx, q, "webhook_id", id, hookd.WebhookDisabled, last[id])
		if err != nil {
			return nil, err
		}
		started = append(started, startedMove{webhookID: id, moved: moved, at: last[id]})
	}
	return started, nil
}

// startedMove is a webhook's move that its first chunk started.
type startedMove struct {
	webhookID string
	moved     int
	at        time.Time
}

// attemptColumns are attempts to insert, column by column.
type attemptColumns struct {
	id, deliveryID        []string
	webhookID             []*string
	attempt, at, duration []int64
	code                  []*int64
	headers, respHeaders  []string
	body, err             []string
	scratch               []byte // the headers' encoding, reused
}

func (c *attemptColumns) add(a *hookd.Attempt) {
	c.scratch = sqlrow.AppendHeaders(c.scratch[:0], a.RequestHeaders)
	c.id = append(c.id, a.ID)
	c.deliveryID = append(c.deliveryID, a.DeliveryID)
	c.webhookID = append(c.webhookID, nullString(a.WebhookID))
	c.attempt = append(c.attempt, int64(a.Attempt))
	c.at = append(c.at, ms(a.At))
	c.duration = append(c.duration, a.Duration.Milliseconds())
	c.code = append(c.code, nullCode(a.StatusCode))
	c.headers = append(c.headers, string(c.scratch))
	c.scratch = sqlrow.ResponseHeaders(c.scratch[:0], a.ResponseHeaders)
	c.respHeaders = append(c.respHeaders, string(c.scratch))
	body, errText := sqlrow.StorableAttemptText(a)
	c.body = append(c.body, body)
	c.err = append(c.err, errText)
}

func (c *attemptColumns) copy(ctx context.Context, to copier) error {
	size := 0
	for i := range c.id {
		size += 200 + len(c.headers[i]) + len(c.respHeaders[i]) + len(c.body[i]) + len(c.err[i])
	}
	return copyRows(ctx, to, "attempts", []string{"id", "delivery_id", "webhook_id", "attempt", "at", "duration_ms", "status_code", "request_headers", "response_headers", "response_body", "error"},
		len(c.id), size, func(i int, w *binaryCopy) {
			w.text(c.id[i])
			w.text(c.deliveryID[i])
			w.nullText(c.webhookID[i])
			w.int8(c.attempt[i])
			w.int8(c.at[i])
			w.int8(c.duration[i])
			w.nullInt8(c.code[i])
			w.text(c.headers[i])
			w.text(c.respHeaders[i])
			w.text(c.body[i])
			w.text(c.err[i])
		})
}

// deliveryColumnsUpdate are delivery outcomes to write, column by column.
type deliveryColumnsUpdate struct {
	id, status, owner []string
	attempt           []int64
	next, code        []*int64
	at                []int64
}

func (c *deliveryColumnsUpdate) add(owner string, a *hookd.Attempt, v hookd.Verdict) {
	c.id = append(c.id, a.DeliveryID)
	c.owner = append(c.owner, owner)
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

// NextDue implements store.Store, in one round trip.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	tx, err := s.beginPipelined(ctx)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	defer tx.end(ctx)
	b := &pgx.Batch{}
	b.Queue(walkDueIndex)
	b.Queue(`SELECT d.next_attempt_at FROM deliveries d
		LEFT JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN sources sr ON sr.id = d.source_id
		WHERE d.status = 'pending' AND d.lease_owner IS NULL AND (d.test OR coalesce(w.status, sr.status, 'active') = 'active')
		ORDER BY d.next_attempt_at LIMIT 1`)
	br := tx.send(ctx, b, true)
	var next *int64
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&next)
	}
	if closeErr := br.Close(); err == nil || errors.Is(err, pgx.ErrNoRows) {
		err = closeErr
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return fromMs(*next), true, nil
}

// prunableQuery finds up to $2 events made before $1 (created_at, in ms)
// and $3 (ident.Floor of it), oldest first, whose deliveries have all
// finished, and locks them.
const prunableQuery = `SELECT e.id FROM events e WHERE e.id < $3 AND e.created_at < $1
	  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status IN ('pending', 'held'))
	ORDER BY e.id LIMIT $2
	FOR UPDATE SKIP LOCKED`

// pruneInIDOrder makes the statements after it in its transaction walk
// events_pkey in order for prunableQuery and look each event's open
// deliveries up by deliveries_event: with statistics that lag (see
// walkDueIndex) the planner would read and sort every old event, or hold
// every open delivery in memory and compare each event with all of them.
const pruneInIDOrder = `SELECT set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true),
	set_config('enable_bitmapscan', 'off', true), set_config('enable_material', 'off', true),
	set_config('enable_mergejoin', 'off', true), set_config('enable_hashjoin', 'off', true)`

// Prune implements store.Store. It walks the events by id from the
// oldest, up to the least id made at before (see store.Store.Prune).
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, pruneInIDOrder); err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM events WHERE id IN (`+prunableQuery+`)`, ms(before), limit, ident.Floor(hookd.EventIDPrefix, before))
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
