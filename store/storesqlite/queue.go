package storesqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlflow"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// claimQuery finds up to ?2 claimable deliveries among the due ones that
// raw selects (rowid, webhook_id and next_attempt_at), in due order, with
// their rowids. A delivery is due when it is pending and its time (?1) has
// come; it is claimable unless its webhook is in the JSON array ?4 (full),
// its rowid is in ?3 (leased), or its webhook or source is not active (test
// deliveries and one-off URLs go regardless). An ordered webhook releases
// only its oldest open delivery. When raw is already in due order (the due
// index's), SQLite reads it as it comes, with no sort, and stops at the
// limit: a fifth faster than limiting raw's rowids first and joining
// deliveries again to sort them.
func claimQuery(raw string) string {
	return `SELECT ` + sqlrow.DeliveryColumns + `, d.rowid FROM (` + raw + `) AS raw
		JOIN deliveries d ON d.rowid = raw.rowid
		LEFT JOIN webhooks w ON w.id = d.webhook_id
		LEFT JOIN sources sr ON sr.id = d.source_id
		WHERE (d.test = 1 OR coalesce(w.status, sr.status, 'active') = 'active')
		  AND (w.ordered IS NULL OR w.ordered = 0 OR d.test = 1 OR d.id = (
			SELECT min(d2.id) FROM deliveries d2
			WHERE d2.webhook_id = d.webhook_id AND d2.status IN ('pending', 'held') AND d2.test = 0))
		ORDER BY raw.next_attempt_at
		LIMIT ?2`
}

// dueQuery looks at the first ?5 due at or after ?6. The due index holds
// the webhook and the rowid, so passing over full webhooks' and leased
// deliveries reads no rows.
var dueQuery = claimQuery(`SELECT rowid, webhook_id, next_attempt_at FROM deliveries INDEXED BY deliveries_due
	WHERE status = 'pending' AND next_attempt_at <= ?1 AND next_attempt_at >= ?6
	  AND rowid NOT IN (SELECT value FROM json_each(?3))
	  AND coalesce(webhook_id, '') NOT IN (SELECT value FROM json_each(?4))
	ORDER BY next_attempt_at LIMIT ?5`)

// newDueQuery looks only at what is new since a quiet claim (see
// quietMark): deliveries written since, with rowids above ?5, and
// deliveries that came due since, after ?6.
var newDueQuery = claimQuery(`SELECT rowid, webhook_id, next_attempt_at FROM (
		SELECT rowid, webhook_id, next_attempt_at FROM deliveries
		WHERE rowid > ?5 AND status = 'pending' AND next_attempt_at <= ?1
		UNION
		SELECT rowid, webhook_id, next_attempt_at FROM deliveries INDEXED BY deliveries_due
		WHERE status = 'pending' AND next_attempt_at <= ?1 AND next_attempt_at > ?6)
	WHERE rowid NOT IN (SELECT value FROM json_each(?3))
	  AND coalesce(webhook_id, '') NOT IN (SELECT value FROM json_each(?4))`)

// quietMark remembers a claim that found nothing it could take: every
// due delivery it looked at was leased or a full webhook's. Until a full
// webhook has room again or a write makes deliveries due that were not
// (see rescan), the claims after it need look only at what is new: the
// deliveries written since, and those that came due since. Deliveries
// that a claim with a reach could not see wait for the next claim that
// looks from the first, within fullScanEvery.
type quietMark struct {
	at    int64 // the claim's now, in Unix ms
	rowid int64 // the largest rowid of deliveries in its snapshot
}

// claimReach is how many due deliveries a claim passes over at most, in
// the due index alone, looking past those of full webhooks and leased ones;
// beyond it, pushing full webhooks' deliveries back uncovers the rest.
const claimReach = 20000

// pushQuery makes the deliveries of webhook ?3 among the first ?4 due at
// ?2 due again at ?1, but for those whose rowids are in the JSON array ?5
// (leased: a lease keeps the due time its claim found).
const pushQuery = `UPDATE deliveries SET next_attempt_at = ?1 WHERE rowid IN (
	SELECT rowid FROM (SELECT rowid, webhook_id FROM deliveries INDEXED BY deliveries_due
		WHERE status = 'pending' AND next_attempt_at <= ?2 ORDER BY next_attempt_at LIMIT ?4)
	WHERE webhook_id = ?3 AND rowid NOT IN (SELECT value FROM json_each(?5)))`

// fullScanEvery is how often at least a claim looks at the due
// deliveries from the first, not from where the last claim ended.
const fullScanEvery = time.Second

// ClaimDue implements store.Store. It writes nothing, unless it finds
// nothing to take and pushes full webhooks' deliveries back: the due rows,
// and what the attempts need, are read in one read transaction on a reader
// connection, beside the writer. Claims run one at a time (see
// leaseTable).
//
// Under a backlog, the head of the due index is the deliveries in flight,
// all leased. So a claim starts at a cursor: the due time of the first
// delivery the last claim turned down, or of the last one it took; and it
// passes over only the leases due from there on. It starts from the first
// after a claim that ran out of due deliveries, when a webhook that was
// full has room again (opened), after a write that may have made a
// delivery due before the cursor (rescan), and at least once every
// fullScanEvery. After a claim that found nothing it could take, claims
// look only at what is new (see quietMark).
func (s *Store) ClaimDue(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	s.claiming.Lock()
	defer s.claiming.Unlock()
	from, quiet := s.cursor.Load(), s.quiet.Load()
	opened := s.opened(p) // first: it also remembers p's full webhooks
	if s.rescan.Swap(false) || opened || p.Now.Sub(s.fullScan) >= fullScanEvery || p.Now.Before(s.fullScan) {
		from, quiet = 0, nil
	}
	switch {
	case quiet != nil:
		from = quiet.at
	case from == 0:
		s.fullScan = p.Now
	}
	seen := s.commits.Load()
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	defer tx.Rollback()
	// The snapshot is taken at the first read. Leases are read after it:
	// a publish leases what it hands over before it commits (see HandTo),
	// so a delivery that commits after the leases are read is not in the
	// snapshot.
	var newest int64
	if err := tx.StmtContext(ctx, s.read.lastDelivery).QueryRowContext(ctx).Scan(&newest); err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	skipFrom := from
	if quiet != nil {
		// What is new since the quiet claim may be due before it: a
		// publish taken straight by the engine is.
		skipFrom = 0
	}
	skip := s.leases.skip(p.Now, seen, skipFrom)
	skipJSON, err := json.Marshal(skip)
	if err != nil {
		return nil, err
	}
	fullJSON, err := json.Marshal(p.FullIDs())
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if quiet != nil {
		rows, err = tx.StmtContext(ctx, s.read.newDue).QueryContext(ctx, ms(p.Now), p.ScanLimit(), string(skipJSON), string(fullJSON), quiet.rowid, quiet.at)
	} else {
		rows, err = tx.StmtContext(ctx, s.read.due).QueryContext(ctx, ms(p.Now), p.ScanLimit(), string(skipJSON), string(fullJSON), max(p.ScanLimit()+len(skip), claimReach), from)
	}
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	until := p.Now.Add(p.LeaseFor)
	var jobs []*store.Job
	var rowids, due []int64
	var refused int64 // the due time of the first delivery Admit turned down
	exhausted := false
	for looked := 0; len(jobs) < p.Limit && looked < p.ScanLimit(); looked++ {
		if !rows.Next() {
			exhausted = true
			break
		}
		var rowid int64
		d, err := sqlrow.ScanDelivery(rows, &rowid)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim: %w", err)
		}
		if p.Admits(store.Candidate{AppID: d.AppID, WebhookID: d.WebhookID, URL: d.URL}) {
			jobs = append(jobs, &store.Job{Delivery: d, LeaseUntil: until})
			rowids = append(rowids, rowid)
			due = append(due, ms(*d.NextAttemptAt))
		} else if refused == 0 {
			refused = ms(*d.NextAttemptAt)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	jobs, err = s.loadJobs(ctx, tx, jobs)
	if err != nil {
		return nil, err
	}
	taken := jobs[:0]
	for i, j := range jobs {
		ordered := j.Webhook != nil && j.Webhook.Ordered
		if s.leases.takeFree(j.Delivery.ID, lease{owner: p.Owner, until: until, rowid: rowids[i], due: due[i], ordered: ordered}, p.Now) {
			taken = append(taken, j)
		}
	}
	jobs = taken
	// The next claim starts at the first delivery turned down, or after
	// the last one taken; from the first if this one ran out of due
	// deliveries; with what is new if it found nothing it could take.
	var next *quietMark
	cursor := int64(0)
	switch {
	case len(jobs) == 0 && refused == 0:
		// Read in the claim's snapshot: later rows are new to the next.
		next = &quietMark{at: ms(p.Now), rowid: newest}
	case exhausted:
	case refused != 0:
		cursor = refused
	default:
		cursor = due[len(due)-1]
	}
	s.cursor.Store(cursor)
	s.quiet.Store(next)
	if len(jobs) == 0 {
		// Only a claim that found nothing to take pushes full webhooks'
		// deliveries back: then they may hide others. Otherwise it would
		// wait for the writer, and hold up the claims after it, for
		// nothing.
		if err := s.push(ctx, p); err != nil {
			return nil, fmt.Errorf("claim: %w", err)
		}
	}
	return jobs, nil
}

// horizon is the due time before which the next claim may not look
// (Unix ms; 0 if it looks from the first), but for deliveries written
// since the last: a write that makes a delivery due before it sets
// rescan.
func (s *Store) horizon() int64 {
	if q := s.quiet.Load(); q != nil {
		return max(s.cursor.Load(), q.at)
	}
	return s.cursor.Load()
}

// opened reports whether a webhook that was full at the last claim no
// longer is: the claims since may have passed its deliveries over. It
// remembers p's full webhooks for the next claim. s.claiming is held.
func (s *Store) opened(p *store.ClaimParams) bool {
	opened := false
	for id := range s.lastFull {
		if _, ok := p.Full[id]; !ok {
			opened = true
			delete(s.lastFull, id)
		}
	}
	for id := range p.Full {
		s.lastFull[id] = true
	}
	return opened
}

// push moves the due deliveries of full webhooks that are not leased,
// among as many due as a claim looks at from the first, to the times
// p.Full gives. They move later, past where claims start: the cursor
// stays.
func (s *Store) push(ctx context.Context, p *store.ClaimParams) error {
	var pushing bool
	for _, at := range p.Full {
		pushing = pushing || !at.IsZero()
	}
	if !pushing {
		return nil
	}
	leased := s.leases.skip(p.Now, 0, 0)
	leasedJSON, err := json.Marshal(leased)
	if err != nil {
		return err
	}
	window := p.ScanLimit() + len(leased)
	return s.write(ctx, func(tx *sql.Tx) error {
		stmt := tx.StmtContext(ctx, s.stmt.push)
		for id, at := range p.Full {
			if at.IsZero() {
				continue
			}
			if _, err := stmt.ExecContext(ctx, ms(at), ms(p.Now), id, window, string(leasedJSON)); err != nil {
				return fmt.Errorf("push back deliveries of webhook %s: %w", id, err)
			}
		}
		return nil
	})
}

func jobIDs(jobs []*store.Job) []string {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.Delivery.ID
	}
	return ids
}

// reschedule makes pending deliveries due at new times.
func (s *Store) reschedule(ctx context.Context, deferrals []store.Deferral) error {
	if len(deferrals) == 0 {
		return nil
	}
	// They move to later than now, past where claims start. A few dozen
	// at a time: the one-off deliveries of a hanging host come back by
	// the thousand, and one transaction of them all held the writer, and
	// every publish behind it, for tens of milliseconds.
	for chunk := range slices.Chunk(deferrals, rescheduleChunk) {
		err := s.write(ctx, func(tx *sql.Tx) error {
			stmt := tx.StmtContext(ctx, s.stmt.reschedule)
			for _, d := range chunk {
				if _, err := stmt.ExecContext(ctx, ms(d.At), d.DeliveryID); err != nil {
					return fmt.Errorf("reschedule delivery: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// rescheduleChunk is how many deliveries one write of reschedule moves.
const rescheduleChunk = 64

// loadJobs reads what claimed deliveries need: each event's payload, and
// the apps and webhooks, decoded once and cached while their version stays
// the same. It reads in the snapshot the deliveries were found in, where
// all of these exist.
func (s *Store) loadJobs(ctx context.Context, tx *sql.Tx, jobs []*store.Job) ([]*store.Job, error) {
	if len(jobs) == 0 {
		return nil, nil
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
		return nil, err
	}
	rows, err := tx.StmtContext(ctx, s.read.jobEvents).QueryContext(ctx, string(idsJSON))
	if err != nil {
		return nil, fmt.Errorf("load events of claimed deliveries: %w", err)
	}
	for rows.Next() {
		var id, typ, headers, contentType string
		var payload []byte
		var created int64
		if err := rows.Scan(&id, &typ, &payload, &created, &headers, &contentType); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load events of claimed deliveries: %w", err)
		}
		var in *hookd.Inbound
		if headers != "" {
			in = &hookd.Inbound{ContentType: contentType}
			if err := json.Unmarshal([]byte(headers), &in.Headers); err != nil {
				rows.Close()
				return nil, fmt.Errorf("decode headers of event %s: %w", id, err)
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
		return nil, fmt.Errorf("load events of claimed deliveries: %w", err)
	}
	for _, j := range jobs {
		if j.Event == nil {
			return nil, fmt.Errorf("load claimed delivery %s: its event %s is gone", j.Delivery.ID, j.Delivery.EventID)
		}
	}
	if err := s.resolveJobs(ctx, tx, jobs); err != nil {
		return nil, err
	}
	return jobs, nil
}

// resolveJobs gives jobs their apps and webhooks, from the caches while
// their versions in tx's snapshot stay the same.
func (s *Store) resolveJobs(ctx context.Context, tx *sql.Tx, jobs []*store.Job) error {
	apps := map[string]*hookd.App{}
	hooks := map[string]*hookd.Webhook{}
	for _, j := range jobs {
		d := j.Delivery
		app, ok := apps[d.AppID]
		if !ok {
			var err error
			if app, err = s.cachedApp(ctx, tx, d.AppID); err != nil {
				return fmt.Errorf("load app of delivery %s: %w", d.ID, err)
			}
			apps[d.AppID] = app
		}
		j.Profile, j.DefaultSecret = app.Profile, app.DefaultSecret
		if id := d.WebhookID; id != "" {
			w, ok := hooks[id]
			if !ok {
				var err error
				if w, err = s.cachedWebhook(ctx, tx, app.ID, id); err != nil {
					return fmt.Errorf("load webhook of delivery %s: %w", d.ID, err)
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
	if err := tx.StmtContext(ctx, s.read.appVersion).QueryRowContext(ctx, id).Scan(&version); err != nil {
		return nil, err
	}
	return s.apps.Load(id, version, func() (*hookd.App, error) {
		return sqlrow.ScanApp(s.sealer, tx.QueryRowContext(ctx, `SELECT `+sqlrow.AppColumns+` FROM apps WHERE id = ?`, id))
	})
}

func (s *Store) cachedWebhook(ctx context.Context, tx *sql.Tx, appID, id string) (*hookd.Webhook, error) {
	var version int64
	if err := tx.StmtContext(ctx, s.read.webhookVersion).QueryRowContext(ctx, id).Scan(&version); err != nil {
		return nil, err
	}
	return s.hooks.Load(id, version, func() (*hookd.Webhook, error) { return s.getWebhook(ctx, tx, appID, id) })
}

// RecordAttempts implements store.Store. A batch costs a handful of
// statements whatever its size: one reads what the outcomes depend on, a
// few multi-row ones insert the attempts and update their deliveries (see
// multiRow), and one or two more per webhook whose counters moved.
func (s *Store) RecordAttempts(ctx context.Context, results []*store.AttemptResult) ([]hookd.Notice, error) {
	var j sqlflow.Judgement
	err := s.write(ctx, func(tx *sql.Tx) error {
		j = sqlflow.Judgement{}
		infos, err := s.recordInfos(ctx, tx, results)
		if err != nil {
			return err
		}
		attempts := make([]any, 0, 11*len(results))
		outcomes := make([]any, 0, 6*len(results))
		var scratch []byte // each attempt's headers' encoding, reused
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
			scratch = sqlrow.AppendHeaders(scratch[:0], a.RequestHeaders)
			headers := string(scratch)
			scratch = sqlrow.ResponseHeaders(scratch[:0], a.ResponseHeaders)
			body, errText := sqlrow.StorableAttemptText(a)
			attempts = append(attempts, a.ID, a.DeliveryID, nullString(a.WebhookID), a.Attempt, ms(a.At), a.Duration.Milliseconds(),
				nullCode(a.StatusCode), headers, string(scratch), body, errText)
			if s.leases.owner(a.DeliveryID) != r.Owner {
				// The lease ran out: logged and counted, but the new
				// holder decides.
				j.Expired(info, a)
				continue
			}
			v := j.Judge(r, info)
			outcomes = append(outcomes, a.DeliveryID, v.Status, a.Attempt, nullMs(v.NextAttemptAt), nullCode(a.StatusCode), ms(a.At))
		}
		if err := s.stmt.attempts.exec(ctx, tx, attempts); err != nil {
			return fmt.Errorf("insert attempts: %w", err)
		}
		if err := s.stmt.outcomes.exec(ctx, tx, outcomes); err != nil {
			return fmt.Errorf("update deliveries: %w", err)
		}
		if err := s.saveTargets(ctx, tx, j.Targets, results); err != nil {
			return err
		}
		return s.writeStats(ctx, tx, &j.Stats)
	})
	if err == nil {
		seq := s.commits.Load()
		horizon := s.horizon()
		for _, r := range results {
			if s.leases.end(r.Owner, []string{r.Attempt.DeliveryID}, seq) {
				// The next of the ordered webhook's deliveries may go
				// now, and it was due before this one.
				s.rescan.Store(true)
			}
			if !r.NextAttemptAt.IsZero() && ms(r.NextAttemptAt) < horizon {
				s.rescan.Store(true) // a retry due at once
			}
		}
	}
	return j.Notices, err
}

func (s *Store) recordInfos(ctx context.Context, tx *sql.Tx, results []*store.AttemptResult) (map[string]*sqlflow.RecordInfo, error) {
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
	infos := make(map[string]*sqlflow.RecordInfo, len(results))
	for rows.Next() {
		var id string
		var in sqlflow.RecordInfo
		if err := rows.Scan(&id, &in.AppID, &in.EventID, &in.WebhookID, &in.TargetID, &in.Test, &in.Status, &in.Failures, &in.FailingSince); err != nil {
			return nil, fmt.Errorf("record attempts: %w", err)
		}
		infos[id] = &in
	}
	return infos, rows.Err()
}

// saveTargets writes the webhook counters and disables that recording
// changed.
func (s *Store) saveTargets(ctx context.Context, tx *sql.Tx, targets map[string]*hookd.Target, results []*store.AttemptResult) error {
	last := sqlflow.LastAttempts(results)
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

func nullCode(code int) *int {
	if code == 0 {
		return nil
	}
	return &code
}

// Defer implements store.Store. A delivery handed back to be due now
// only loses its lease; one due later is rescheduled first.
func (s *Store) Defer(ctx context.Context, owner string, deferrals []store.Deferral) error {
	now := s.now()
	var ids []string
	var later []store.Deferral
	for _, d := range deferrals {
		if s.leases.owner(d.DeliveryID) != owner {
			continue
		}
		ids = append(ids, d.DeliveryID)
		if d.At.After(now) {
			later = append(later, d)
		}
	}
	if err := s.reschedule(ctx, later); err != nil {
		return err
	}
	s.leases.end(owner, ids, s.commits.Load())
	if len(later) < len(ids) {
		// Handed back due at once, at the time a claim found them,
		// which may be before where claims start.
		s.rescan.Store(true)
	}
	return nil
}

// NextDue implements store.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	// Leased deliveries are skipped: their holder records them, or their
	// lease runs out, which the dispatcher's poll interval covers. SQLite
	// passes over them in the due index, as claims do: read one by one,
	// the engine's thousand leases cost 2 ms a call.
	leased, err := json.Marshal(s.leases.liveRowids(s.now()))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	var next int64
	err = s.r.QueryRowContext(ctx, `SELECT d.next_attempt_at FROM deliveries d INDEXED BY deliveries_due
		LEFT JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN sources sr ON sr.id = d.source_id
		WHERE d.status = 'pending' AND d.rowid NOT IN (SELECT value FROM json_each(?1))
		  AND (d.test OR coalesce(w.status, sr.status, 'active') = 'active')
		ORDER BY d.next_attempt_at LIMIT 1`, string(leased)).Scan(&next)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	return fromMs(next), true, nil
}

// Prune implements store.Store. It walks the events by id from the
// oldest, up to the least id made at before (see store.Store.Prune).
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (
			SELECT e.id FROM events e WHERE e.id < ?3 AND e.created_at < ?1
			  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status IN ('pending', 'held'))
			ORDER BY e.id LIMIT ?2)`, ms(before), limit, ident.Floor(hookd.EventIDPrefix, before))
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
