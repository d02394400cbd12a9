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
	"github.com/hookd/hookd/store/internal/groupcommit"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

const idempotencyWindow = 24 * time.Hour

// Publish implements store.Store. Concurrent publishes of this process
// share a transaction, and so one sync to disk (see groupcommit.Committer),
// each in a savepoint of its own.
func (s *Store) Publish(ctx context.Context, p *store.PublishParams) ([]store.PublishResult, error) {
	res, err := s.publishes.Do(ctx, p)
	return res, unavailable(err)
}

// maxGroup bounds how many publish requests share one commit.
const maxGroup = 64

// commitTimeout bounds one commit of publishes: a database that stalls
// fails the publishes waiting on it rather than holding them for ever.
const commitTimeout = 30 * time.Second

type publishGroup = []*groupcommit.Request[*store.PublishParams, []store.PublishResult]

// commitPublishes commits a group of publish requests in one transaction.
// It first tries them all at once, with one COPY of events and one of
// deliveries for the whole group; if that fails, it commits them again
// one savepoint each, so that one request's failure is its own.
func (s *Store) commitPublishes(ctx context.Context, group publishGroup) {
	var live publishGroup
	for _, r := range group {
		// A caller that hung up is answered without work; one that
		// hangs up now must not interrupt the shared transaction.
		if err := r.Ctx.Err(); err != nil {
			r.Err = err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	if len(live) == 1 {
		// Alone, a publish's failure is its own without a savepoint.
		live[0].Err = s.commitTogether(ctx, live)
		return
	}
	if distinctKeys(live) && s.commitTogether(ctx, live) == nil {
		return
	}
	s.commitEach(ctx, live)
}

// commitTogether stores every request of group in one transaction, as
// committing them one after another would, in a few round trips: webhooks
// are read once per app and the rows are copied once. Any error undoes
// the whole group and is returned without answering the requests.
func (s *Store) commitTogether(ctx context.Context, group publishGroup) error {
	params := make([]*store.PublishParams, len(group))
	for i, r := range group {
		params[i] = r.Params
	}
	// The callers' deadlines must not interrupt a shared transaction: it
	// runs under the committer's context (see groupcommit.Committer).
	rt, h := s.handing(params[0].Now)
	var results [][]store.PublishResult
	var err error
	if hasKeys(params) {
		err = s.tx(ctx, func(tx pgx.Tx) error {
			h.Reset() // a transaction run again takes again
			results, err = s.publishTx(ctx, tx, rt, h, params...)
			return err
		})
	} else {
		results, err = s.publishPipelined(ctx, rt, h, params)
	}
	handed := s.handOver(ctx, h, err == nil)
	if err != nil {
		return err
	}
	for i, r := range group {
		if !handed {
			notHanded(results[i])
		}
		r.Result = results[i]
	}
	s.announceDue(results...)
	return nil
}

// HandTo implements store.Handover.
func (s *Store) HandTo(t store.Taker) { s.taker.Store(&t) }

// handing asks the taker, if any, for room for a commit's deliveries, and
// returns it with the routing the commit's publishes are to read. The
// jobs taken are resolved with the versions the routing read.
func (s *Store) handing(now time.Time) (*routing, *store.Handing) {
	rt := &routing{}
	t := s.taker.Load()
	if t == nil {
		return rt, nil
	}
	h := store.NewHanding(*t, now, func(ctx context.Context, jobs []*store.Job) ([]*store.Job, error) {
		return s.resolveHanded(ctx, rt, jobs)
	})
	return rt, h
}

// handOver hands h's jobs over once their commit is known, and reports
// whether it did. Jobs it could not hand over, their apps and webhooks
// unreadable, are handed back to the store due at once, for claims.
func (s *Store) handOver(ctx context.Context, h *store.Handing, committed bool) bool {
	err := h.Done(ctx, committed)
	if err == nil {
		return true
	}
	s.log.Warn("hand published deliveries to the engine", "err", err, "count", len(h.Jobs()))
	owner, _ := h.Lease()
	now := s.now()
	back := make([]store.Deferral, len(h.Jobs()))
	for i, j := range h.Jobs() {
		back[i] = store.Deferral{DeliveryID: j.Delivery.ID, At: now}
	}
	if err := s.Defer(ctx, owner, back); err != nil {
		// Their leases run out, and claims take them then.
		s.log.Warn("hand back published deliveries", "err", err, "count", len(back))
	}
	return false
}

// notHanded marks results as having handed nothing over, so that their
// deliveries are announced to claims.
func notHanded(results []store.PublishResult) {
	for i := range results {
		results[i].Handed = 0
	}
}

// resolveHanded gives handed jobs their apps and webhooks at the versions
// routing read (see resolve).
func (s *Store) resolveHanded(ctx context.Context, rt *routing, jobs []*store.Job) ([]*store.Job, error) {
	v := versions{apps: map[string]int64{}, hooks: map[string]int64{}}
	for _, j := range jobs {
		if _, ok := v.apps[j.Delivery.AppID]; ok {
			continue
		}
		v.apps[j.Delivery.AppID] = rt.appVersions[j.Delivery.AppID]
		for _, w := range rt.hooks[j.Delivery.AppID] {
			v.hooks[w.ID] = w.Version
		}
	}
	return s.resolve(ctx, s.pool, jobs, v)
}

// hasKeys reports whether any event of ps carries an idempotency key.
func hasKeys(ps []*store.PublishParams) bool {
	for _, p := range ps {
		for _, pe := range p.Events {
			if pe.Event.IdempotencyKey != "" {
				return true
			}
		}
	}
	return false
}

// publishPipelined does what publishTx does, for publishes without
// idempotency keys, in two round trips (see pipelinedTx): BEGIN and the
// apps' webhooks; then the inserts and COMMIT. A publish sent statement
// by statement took five, and at a thousand single-event publishes a
// second their system calls were a quarter of hookd's time.
func (s *Store) publishPipelined(ctx context.Context, rt *routing, h *store.Handing, ps []*store.PublishParams) ([][]store.PublishResult, error) {
	tx, err := s.beginPipelined(ctx)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	defer tx.end(ctx)
	b, apps := routingBatch(ps)
	if err := rt.read(tx.send(ctx, b, false), apps); err != nil {
		return nil, err
	}
	// Without idempotency keys, staging runs no statement of its own.
	results, rows, err := s.stageAll(ctx, nil, ps, rt, h)
	if err != nil {
		return nil, err
	}
	b, err = rows.insert(ctx, tx.conn)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := tx.send(ctx, b, true).Close(); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	return results, nil
}

// routingBatch queues the reads that routing needs, once for each app of
// ps: its version, then its webhooks, both locked (see routing); it
// returns the apps in the order queued.
func routingBatch(ps []*store.PublishParams) (*pgx.Batch, []string) {
	b := &pgx.Batch{}
	var apps []string
	seen := map[string]bool{}
	for _, p := range ps {
		if !seen[p.AppID] {
			seen[p.AppID] = true
			apps = append(apps, p.AppID)
			b.Queue(appLockQuery, p.AppID)
			b.Queue(routingQuery, p.AppID)
		}
	}
	return b, apps
}

// routing is what publishes read of their apps: the webhooks that route
// events (with their versions), and the apps' versions, for the jobs
// handed over (see resolveHanded).
//
// It reads them locked (FOR KEY SHARE), in place of foreign keys from
// events to apps and from deliveries to webhooks, which checked, and
// locked, the same rows once for every row inserted (see migration 7): a
// delete of the app or of a webhook waits for the publish to commit, and
// its trigger then deletes what the publish wrote; one that committed
// first leaves the app missing (the publish fails) or the webhook unread
// (nothing is routed to it). Updates, a status change included, do not
// wait for publishes, nor publishes for them.
type routing struct {
	hooks       map[string][]*hookd.Webhook // by app
	appVersions map[string]int64
}

// appLockQuery reads an app's version and locks its row until the
// publish commits.
const appLockQuery = `SELECT version FROM apps WHERE id = $1 FOR KEY SHARE`

// read reads what routingBatch queued, adding to what rt holds, and
// closes br. Routing reads the apps' webhooks as of the transaction; a
// concurrent status change commits either before (and is seen) or after
// (and moves the rows created here).
func (rt *routing) read(br pgx.BatchResults, apps []string) error {
	if rt.hooks == nil {
		rt.hooks, rt.appVersions = map[string][]*hookd.Webhook{}, map[string]int64{}
	}
	for _, id := range apps {
		var version int64
		err := br.QueryRow().Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			br.Close()
			return sqlrow.NotFound("app", id)
		}
		var rows pgx.Rows
		if err == nil {
			rt.appVersions[id] = version
			rows, err = br.Query()
		}
		if err == nil {
			rt.hooks[id], err = collect(rows, scanRoutingWebhook)
		}
		if err != nil {
			br.Close()
			return fmt.Errorf("load webhooks: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("load webhooks: %w", err)
	}
	return nil
}

// stageAll stages every publish of ps (see stagePublish) with the routing
// webhooks of its app.
func (s *Store) stageAll(ctx context.Context, tx pgx.Tx, ps []*store.PublishParams, rt *routing, h *store.Handing) ([][]store.PublishResult, *publishRows, error) {
	rows := &publishRows{}
	results := make([][]store.PublishResult, len(ps))
	for i, p := range ps {
		var err error
		if results[i], err = s.stagePublish(ctx, tx, p, rt.hooks[p.AppID], rows, h); err != nil {
			return nil, nil, err
		}
	}
	return results, rows, nil
}

// announceDue announces, once their transaction has committed, the
// pending deliveries that publishes made and did not hand over (see
// announcer), those this process's taker turned down included: another
// process may have room for them.
func (s *Store) announceDue(results ...[]store.PublishResult) {
	for _, rs := range results {
		for _, r := range rs {
			if r.Claimable() {
				s.announce.committed()
				return
			}
		}
	}
}

// distinctKeys reports whether no idempotency key appears in two requests
// of group: a key's first publish must be in the table before its second
// looks, which commitTogether's single copy at the end does not give.
func distinctKeys(group publishGroup) bool {
	owner := map[string]int{}
	for i, r := range group {
		for _, pe := range r.Params.Events {
			k := pe.Event.IdempotencyKey
			if k == "" {
				continue
			}
			k = r.Params.AppID + "\x00" + k
			if j, ok := owner[k]; ok && j != i {
				return false
			}
			owner[k] = i
		}
	}
	return true
}

// commitEach stores each request of group in a savepoint of its own.
func (s *Store) commitEach(ctx context.Context, group publishGroup) {
	rt, h := s.handing(group[0].Params.Now)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		h.Reset() // a transaction run again takes again
		for _, r := range group {
			r.Result, r.Err = nil, nil
			if _, err := tx.Exec(ctx, `SAVEPOINT publish`); err != nil {
				r.Err = fmt.Errorf("savepoint: %w", err)
				continue
			}
			h.Mark()
			results, err := s.publishTx(ctx, tx, rt, h, r.Params)
			if err == nil {
				r.Result = results[0]
			} else {
				h.Undo()
				r.Err = err
				if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT publish`); err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT publish`); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		return nil
	})
	handed := s.handOver(ctx, h, err == nil)
	for _, r := range group {
		if err != nil && r.Err == nil {
			r.Result, r.Err = nil, err
		}
		if !handed && r.Result != nil {
			notHanded(r.Result)
		}
		if err == nil && r.Err == nil {
			s.announceDue(r.Result)
		}
	}
}

// publishRows gathers the rows that publishes insert, column by column,
// to insert at once. A statement of arrays costs the same for two rows as
// for a thousand plus their bytes, where COPY cost about 1.5 ms a call
// whatever it carried, and most groups are a few single-event publishes.
type publishRows struct {
	events     newEvents
	deliveries newDeliveries
}

type newEvents struct {
	id, appID, typ  []string
	data, payload   [][]byte
	dataAt, dataLen []*int64
	idempotencyKey  []*string
	test            []bool
	createdAt       []int64
}

func (c *newEvents) add(appID string, ev *hookd.Event) {
	data, at, n := sqlrow.EventDataColumns(ev.Data, ev.Payload)
	c.id = append(c.id, ev.ID)
	c.appID = append(c.appID, appID)
	c.typ = append(c.typ, ev.Type)
	c.data = append(c.data, data)
	c.dataAt = append(c.dataAt, nullInt(at))
	c.dataLen = append(c.dataLen, nullInt(n))
	c.payload = append(c.payload, ev.Payload)
	c.idempotencyKey = append(c.idempotencyKey, nullString(ev.IdempotencyKey))
	c.test = append(c.test, ev.Test)
	c.createdAt = append(c.createdAt, ms(ev.CreatedAt))
}

type newDeliveries struct {
	id, appID, eventID, status []string
	webhookID, url, leaseOwner []*string
	test                       []bool
	at                         []int64 // next attempt, creation and update
	leaseUntil                 []*int64
}

// add adds a delivery, leased to leaseOwner ("" for none) until
// leaseUntil.
func (c *newDeliveries) add(id, appID, eventID string, r hookd.Route, test bool, at int64, leaseOwner string, leaseUntil time.Time) {
	c.id = append(c.id, id)
	c.appID = append(c.appID, appID)
	c.eventID = append(c.eventID, eventID)
	c.webhookID = append(c.webhookID, nullString(r.WebhookID))
	c.url = append(c.url, nullString(r.URL))
	c.status = append(c.status, r.Status)
	c.test = append(c.test, test)
	c.at = append(c.at, at)
	c.leaseOwner = append(c.leaseOwner, nullString(leaseOwner))
	var until *int64
	if leaseOwner != "" {
		v := ms(leaseUntil)
		until = &v
	}
	c.leaseUntil = append(c.leaseUntil, until)
}

// nullInt converts what sqlrow.EventDataColumns gives for a position.
func nullInt(v any) *int64 {
	n, ok := v.(int)
	if !ok {
		return nil
	}
	i := int64(n)
	return &i
}

// insert writes the rows in the transaction c is in: a table of copyMin
// rows or more by COPY, at once; the others by statements queued on the
// batch it returns, which the caller sends. (Neither table refers to the
// other, so the order of the two is free.)
func (pr *publishRows) insert(ctx context.Context, c copier) (*pgx.Batch, error) {
	b := &pgx.Batch{}
	if d := &pr.deliveries; len(d.id) >= copyMin {
		if err := d.copy(ctx, c); err != nil {
			return nil, err
		}
	} else if len(d.id) > 0 {
		b.Queue(`INSERT INTO deliveries (id, app_id, event_id, webhook_id, url, status, next_attempt_at, test, created_at, updated_at, lease_owner, lease_until)
			SELECT id, app_id, event_id, webhook_id, url, status, at, test, at, at, lease_owner, lease_until
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::bigint[], $9::text[], $10::bigint[])
			  AS v(id, app_id, event_id, webhook_id, url, status, test, at, lease_owner, lease_until)`,
			d.id, d.appID, d.eventID, d.webhookID, d.url, d.status, d.test, d.at, d.leaseOwner, d.leaseUntil)
	}
	if e := &pr.events; len(e.id) >= copyMin {
		if err := e.copy(ctx, c); err != nil {
			return nil, err
		}
	} else if len(e.id) > 0 {
		b.Queue(`INSERT INTO events (id, app_id, type, data_at, data_len, idempotency_key, test, created_at, data, payload)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[], $7::bool[], $8::bigint[], $9::bytea[], $10::bytea[])`,
			e.id, e.appID, e.typ, e.dataAt, e.dataLen, e.idempotencyKey, e.test, e.createdAt, e.data, e.payload)
	}
	return b, nil
}

func (c *newEvents) copy(ctx context.Context, to copier) error {
	size := 0
	for i := range c.id {
		size += 200 + len(c.data[i]) + len(c.payload[i])
	}
	return copyRows(ctx, to, "events", []string{"id", "app_id", "type", "data_at", "data_len", "idempotency_key", "test", "created_at", "data", "payload"},
		len(c.id), size, func(i int, w *binaryCopy) {
			w.text(c.id[i])
			w.text(c.appID[i])
			w.text(c.typ[i])
			w.nullInt4(c.dataAt[i])
			w.nullInt4(c.dataLen[i])
			w.nullText(c.idempotencyKey[i])
			w.bool(c.test[i])
			w.int8(c.createdAt[i])
			w.bytea(c.data[i])
			w.bytea(c.payload[i])
		})
}

func (c *newDeliveries) copy(ctx context.Context, to copier) error {
	return copyRows(ctx, to, "deliveries", []string{"id", "app_id", "event_id", "webhook_id", "url", "status", "next_attempt_at", "test", "created_at", "updated_at", "lease_owner", "lease_until"},
		len(c.id), 300*len(c.id), func(i int, w *binaryCopy) {
			w.text(c.id[i])
			w.text(c.appID[i])
			w.text(c.eventID[i])
			w.nullText(c.webhookID[i])
			w.nullText(c.url[i])
			w.text(c.status[i])
			w.int8(c.at[i])
			w.bool(c.test[i])
			w.int8(c.at[i])
			w.int8(c.at[i])
			w.nullText(c.leaseOwner[i])
			w.nullInt8(c.leaseUntil[i])
		})
}

// publishTx stores the events and deliveries of publish requests in tx,
// reading each app's webhooks once and inserting all rows at the end. Its
// caller announces deliveries it made due once tx commits (see announcer).
func (s *Store) publishTx(ctx context.Context, tx pgx.Tx, rt *routing, h *store.Handing, ps ...*store.PublishParams) ([][]store.PublishResult, error) {
	b, apps := routingBatch(ps)
	if err := rt.read(tx.SendBatch(ctx, b), apps); err != nil {
		return nil, err
	}
	results, rows, err := s.stageAll(ctx, tx, ps, rt, h)
	if err != nil {
		return nil, err
	}
	b, err = rows.insert(ctx, tx)
	if err == nil {
		err = tx.SendBatch(ctx, b).Close()
	}
	if err != nil {
		return nil, fmt.Errorf("insert events and deliveries: %w", err)
	}
	return results, nil
}

// stagePublish claims the idempotency keys of one publish request in tx
// (which only they use: nil will do without keys) and adds the rows of its
// new events and their deliveries to rows.
func (s *Store) stagePublish(ctx context.Context, tx pgx.Tx, p *store.PublishParams, hooks []*hookd.Webhook, rows *publishRows, h *store.Handing) ([]store.PublishResult, error) {
	var ordered map[string]bool
	if h != nil {
		ordered = store.OrderedWebhooks(hooks)
	}
	results := make([]store.PublishResult, len(p.Events))
	now := ms(p.Now)
	keyed := map[string]int{} // idempotency key → index of its event in this batch
	for i, pe := range p.Events {
		ev := pe.Event
		if j, ok := keyed[ev.IdempotencyKey]; ok && ev.IdempotencyKey != "" {
			results[i] = store.PublishResult{Event: results[j].Event, Deliveries: results[j].Deliveries, Duplicate: true}
			continue
		}
		if ev.IdempotencyKey != "" {
			keyed[ev.IdempotencyKey] = i
			first, err := s.claimIdempotencyKey(ctx, tx, p.AppID, ev, p.Now)
			if err != nil {
				return nil, err
			}
			if first != nil {
				results[i] = store.PublishResult{Event: first, Deliveries: len(first.Deliveries), Duplicate: true}
				continue
			}
		}
		if pe.OnlyWebhookID != "" && !slices.ContainsFunc(hooks, func(w *hookd.Webhook) bool { return w.ID == pe.OnlyWebhookID }) {
			return nil, sqlrow.NotFound("webhook", pe.OnlyWebhookID)
		}
		rows.events.add(p.AppID, ev)
		routes := hookd.RouteEvent(hooks, hookd.RouteParams{
			Type: ev.Type, OnlyWebhookID: pe.OnlyWebhookID, OneOffURL: pe.OneOffURL, OneOffEvents: pe.OneOffEvents,
		})
		result := store.PublishResult{Event: ev, Deliveries: len(routes)}
		for _, r := range routes {
			id, owner, until := s.newID("dlv"), "", time.Time{}
			taking := h.TakeRoute(id, p.AppID, ev, r, p.Now, ordered)
			result.Count(taking)
			if taking == store.RouteTaken {
				owner, until = h.Lease()
			}
			rows.deliveries.add(id, p.AppID, ev.ID, r, ev.Test, now, owner, until)
		}
		results[i] = result
	}
	return results, nil
}

// routingQuery loads the fields of an app's webhooks that routing reads,
// and locks the webhooks until the publish commits (see routing).
const routingQuery = `SELECT id, url, events, status, ordered, version FROM webhooks WHERE app_id = $1 ORDER BY id FOR KEY SHARE`

func scanRoutingWebhook(row sqlrow.Scanner) (*hookd.Webhook, error) {
	var w hookd.Webhook
	var events string
	if err := row.Scan(&w.ID, &w.URL, &events, &w.Status, &w.Ordered, &w.Version); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return nil, fmt.Errorf("decode events of webhook %s: %w", w.ID, err)
	}
	return &w, nil
}

// claimIdempotencyKey records ev's key and returns nil, or returns the
// first event published with the key within the window. Concurrent
// publishers of one key serialise on its row.
func (s *Store) claimIdempotencyKey(ctx context.Context, tx pgx.Tx, appID string, ev *hookd.Event, now time.Time) (*hookd.Event, error) {
	// A publisher of the same key in another transaction makes this insert
	// wait for it to commit; then the conflict is seen and, while the key
	// is within the window, this publish is its duplicate.
	var claimed string
	err := tx.QueryRow(ctx, `INSERT INTO idempotency_keys (app_id, key, event_id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (app_id, key) DO UPDATE SET event_id = excluded.event_id, created_at = excluded.created_at
		WHERE idempotency_keys.created_at <= $5
		RETURNING event_id`,
		appID, ev.IdempotencyKey, ev.ID, ms(now), ms(now.Add(-idempotencyWindow))).Scan(&claimed)
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	var eventID string
	if err := tx.QueryRow(ctx, `SELECT event_id FROM idempotency_keys WHERE app_id = $1 AND key = $2`, appID, ev.IdempotencyKey).Scan(&eventID); err != nil {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	first, err := s.getEvent(ctx, tx, appID, eventID)
	if hookd.IsNotFound(err) {
		// The first event is gone; the key is free again.
		if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET event_id = $3, created_at = $4 WHERE app_id = $1 AND key = $2`,
			appID, ev.IdempotencyKey, ev.ID, ms(now)); err != nil {
			return nil, fmt.Errorf("idempotency key: %w", err)
		}
		return nil, nil
	}
	return first, err
}

const eventColumns = `e.id, e.app_id, e.type, CASE WHEN e.data_at IS NULL THEN e.data ELSE substring(e.payload FROM e.data_at FOR e.data_len) END, e.payload, coalesce(e.idempotency_key, ''), e.test, e.created_at,
	coalesce(e.source_id, ''), coalesce(src.name, ''), coalesce(e.provider_event_id, ''), coalesce(e.headers, ''), coalesce(e.content_type, ''), e.filtered`

// GetEvent implements store.Store.
func (s *Store) GetEvent(ctx context.Context, appID, id string) (*hookd.Event, error) {
	return s.getEvent(ctx, s.pool, appID, id)
}

func (s *Store) getEvent(ctx context.Context, q querier, appID, id string) (*hookd.Event, error) {
	ev, err := sqlrow.ScanEvent(q.QueryRow(ctx, `SELECT `+eventColumns+` FROM `+sqlrow.EventsFrom+` WHERE e.id = $1 AND e.app_id = $2`, id, appID))
	if err := sqlrow.Found(err, "get event", "event", id); err != nil {
		return nil, err
	}
	if err := attachDeliveries(ctx, q, []*hookd.Event{ev}, ""); err != nil {
		return nil, err
	}
	return ev, nil
}

// ListEvents implements store.Store.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter, page store.Page) ([]*hookd.Event, string, error) {
	if f.WebhookID != "" {
		return s.listWebhookEvents(ctx, f, page)
	}
	q, a := eventsQuery(f, page)
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	events, err := collect(rows, sqlrow.ScanEvent)
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	events, next := sqlrow.TrimPage(events, page, func(e *hookd.Event) string { return e.ID })
	if err := attachDeliveries(ctx, s.pool, events, ""); err != nil {
		return nil, "", err
	}
	return events, next, nil
}

// eventsQuery is ListEvents' query for f (without a webhook) and page,
// with its arguments: a walk of events_app or events_source, newest
// first.
func eventsQuery(f store.EventFilter, page store.Page) (string, []any) {
	var a args
	var q string
	switch {
	case f.SourceID != "":
		q = `SELECT ` + eventColumns + ` FROM ` + sqlrow.EventsFrom + ` WHERE ` + equalRange("e.source_id", a.add(f.SourceID)) + ` AND e.app_id = ` + a.add(f.AppID)
	case f.Inbound:
		q = `SELECT ` + eventColumns + ` FROM ` + sqlrow.EventsFrom + ` WHERE ` + equalRange("e.app_id", a.add(f.AppID)) + ` AND e.source_id IS NOT NULL`
	default:
		q = `SELECT ` + eventColumns + ` FROM ` + sqlrow.EventsFrom + ` WHERE ` + equalRange("e.app_id", a.add(f.AppID)) + ` AND e.source_id IS NULL`
	}
	if page.After != "" {
		q += ` AND e.id < ` + a.add(page.After)
	}
	order := ` ORDER BY e.app_id DESC, e.id DESC` // events_app's (see equalRange)
	if f.SourceID != "" {
		order = ` ORDER BY e.source_id DESC, e.id DESC` // events_source's
	}
	return q + order + ` LIMIT ` + a.add(sqlrow.LimitFor(page)), a
}

// webhookEventsQuery lists the events of a webhook ($1) of an app ($2)
// by walking the webhook's deliveries newest first, joining each to its
// event, and stopping at the limit ($3), after the delivery $4 when
// after is set. (Ordered by event id it read and sorted every delivery
// the webhook ever had.) An event has at most one delivery to a webhook,
// made with it, so the order is the events' own within a process; the
// cursor is the delivery's id.
func webhookEventsQuery(after bool) string {
	q := `SELECT d.id, ` + eventColumns + ` FROM deliveries d JOIN events e ON e.id = d.event_id LEFT JOIN sources src ON src.id = e.source_id
	WHERE ` + equalRange("d.webhook_id", "$1") + ` AND d.app_id = $2`
	if after {
		q += ` AND d.id < $4`
	}
	return q + ` ORDER BY d.webhook_id DESC, d.id DESC LIMIT $3`
}

// listWebhookEvents is ListEvents of one webhook (see webhookEventsQuery).
func (s *Store) listWebhookEvents(ctx context.Context, f store.EventFilter, page store.Page) ([]*hookd.Event, string, error) {
	a := []any{f.WebhookID, f.AppID, sqlrow.LimitFor(page)}
	if page.After != "" {
		a = append(a, page.After)
	}
	rows, err := s.pool.Query(ctx, webhookEventsQuery(page.After != ""), a...)
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	type item struct {
		delivery string
		event    *hookd.Event
	}
	items, err := collect(rows, func(row sqlrow.Scanner) (item, error) {
		var it item
		var err error
		it.event, err = sqlrow.ScanEvent(sqlrow.PrefixedRow{Row: row, First: &it.delivery})
		return it, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	items, next := sqlrow.TrimPage(items, page, func(it item) string { return it.delivery })
	events := make([]*hookd.Event, len(items))
	for i, it := range items {
		events[i] = it.event
	}
	if err := attachDeliveries(ctx, s.pool, events, f.WebhookID); err != nil {
		return nil, "", err
	}
	return events, next, nil
}

// attachDeliveries fills in each event's delivery summaries, only those to
// webhookID when it is set.
func attachDeliveries(ctx context.Context, q querier, events []*hookd.Event, webhookID string) error {
	if len(events) == 0 {
		return nil
	}
	byID := sqlrow.EventsByID(events)
	ids := make([]string, 0, len(events))
	for _, ev := range events {
		ids = append(ids, ev.ID)
	}
	a := []any{ids}
	if webhookID != "" {
		a = append(a, webhookID)
	}
	rows, err := q.Query(ctx, attachQuery(webhookID != ""), a...)
	return sqlrow.AttachSummaries(byID, rows, err)
}

// attachQuery reads the delivery summaries of the events $1, only those
// to the webhook $2 when oneWebhook is set.
func attachQuery(oneWebhook bool) string {
	q := sqlrow.SummaryQuery + ` WHERE d.event_id = ANY($1)`
	if oneWebhook {
		q += ` AND d.webhook_id = $2`
	}
	return q + ` ORDER BY d.id`
}

// attemptsQuery reads the attempts of the delivery $1.
const attemptsQuery = `SELECT id, delivery_id, coalesce(webhook_id, ''), attempt, at, duration_ms, coalesce(status_code, 0),
	request_headers, response_headers, response_body, error FROM attempts WHERE delivery_id = $1 ORDER BY attempt, at`

// ListDeliveries implements store.Store.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter, page store.Page) ([]*hookd.Delivery, string, error) {
	q, a := deliveriesQuery(f, page)
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	out, err := collect(rows, func(row sqlrow.Scanner) (*hookd.Delivery, error) { return sqlrow.ScanDelivery(row) })
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	out, next := sqlrow.TrimPage(out, page, func(d *hookd.Delivery) string { return d.ID })
	return out, next, nil
}

// deliveriesQuery is ListDeliveries' query for f and page, with its
// arguments.
func deliveriesQuery(f store.DeliveryFilter, page store.Page) (string, []any) {
	if f.WebhookID == "" && f.SourceID == "" && f.EventID == "" {
		return appDeliveriesQuery(f, page)
	}
	var a args
	q := `SELECT ` + sqlrow.DeliveryColumns + ` FROM deliveries d WHERE d.app_id = ` + a.add(f.AppID)
	if f.WebhookID != "" {
		q += ` AND ` + equalRange("d.webhook_id", a.add(f.WebhookID))
	}
	if f.SourceID != "" {
		q += ` AND ` + equalRange("d.source_id", a.add(f.SourceID))
	}
	if f.EventID != "" {
		q += ` AND d.event_id = ` + a.add(f.EventID)
	}
	if lit, ok := store.StatusLiteral(f.Status); ok {
		q += ` AND d.status = ` + lit
	} else if f.Status != "" {
		q += ` AND d.status = ` + a.add(f.Status)
	}
	if page.After != "" {
		q += ` AND d.id < ` + a.add(page.After)
	}
	return q + sqlrow.DeliveryOrder(f) + ` LIMIT ` + a.add(sqlrow.LimitFor(page)), a
}

// appDeliveriesQuery lists the deliveries of an app, newest first, by
// walking the app's events (events_app) newest first and each one's
// deliveries (deliveries_event): no index of deliveries leads with the
// app, and walking their primary key skipped every newer delivery of
// other apps. A delivery is made with its event, so the order by event
// and then delivery is the deliveries' own within a process. A page after
// a delivery starts at its event; a cursor whose delivery is gone (pruned
// meanwhile) ends the list.
func appDeliveriesQuery(f store.DeliveryFilter, page store.Page) (string, []any) {
	var a args
	q := `SELECT ` + sqlrow.DeliveryColumns + ` FROM events e JOIN deliveries d ON d.event_id = e.id
		WHERE ` + equalRange("e.app_id", a.add(f.AppID))
	if lit, ok := store.StatusLiteral(f.Status); ok {
		q += ` AND d.status = ` + lit
	} else if f.Status != "" {
		q += ` AND d.status = ` + a.add(f.Status)
	}
	if page.After != "" {
		after := a.add(page.After)
		q += ` AND e.id <= (SELECT event_id FROM deliveries WHERE id = ` + after + `)
			AND (e.id < (SELECT event_id FROM deliveries WHERE id = ` + after + `) OR d.id < ` + after + `)`
	}
	return q + ` ORDER BY e.app_id DESC, e.id DESC, d.id DESC LIMIT ` + a.add(sqlrow.LimitFor(page)), a
}

// GetDelivery implements store.Store.
func (s *Store) GetDelivery(ctx context.Context, appID, id string) (*hookd.Delivery, error) {
	d, err := sqlrow.ScanDelivery(s.pool.QueryRow(ctx, `SELECT `+sqlrow.DeliveryColumns+` FROM deliveries d WHERE d.id = $1 AND d.app_id = $2`, id, appID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, sqlrow.NotFound("delivery", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get delivery: %w", err)
	}
	rows, err := s.pool.Query(ctx, attemptsQuery, id)
	if err != nil {
		return nil, fmt.Errorf("get attempts: %w", err)
	}
	attempts, err := collect(rows, func(row sqlrow.Scanner) (*hookd.Attempt, error) {
		var a hookd.Attempt
		var at, dur int64
		var headers, respHeaders []byte
		if err := row.Scan(&a.ID, &a.DeliveryID, &a.WebhookID, &a.Attempt, &at, &dur, &a.StatusCode, &headers, &respHeaders, &a.ResponseBody, &a.Error); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(headers, &a.RequestHeaders); err != nil {
			return nil, fmt.Errorf("decode attempt %s: %w", a.ID, err)
		}
		var err error
		if a.ResponseHeaders, err = sqlrow.DecodeHeaders(respHeaders); err != nil {
			return nil, fmt.Errorf("decode attempt %s: %w", a.ID, err)
		}
		a.At, a.Duration = fromMs(at), time.Duration(dur)*time.Millisecond
		return &a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("get attempts: %w", err)
	}
	d.Attempts = attempts
	if d.Attempts == nil {
		d.Attempts = []*hookd.Attempt{}
	}
	return d, nil
}

// RetryDelivery implements store.Store.
func (s *Store) RetryDelivery(ctx context.Context, appID, id string, now time.Time) (*hookd.Delivery, error) {
	var d *hookd.Delivery
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var leaseUntil *int64
		var webhookStatus string
		var test bool
		// Locking the event keeps retention (which skips locked events)
		// from deleting it under the retry.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM events WHERE id = (SELECT event_id FROM deliveries WHERE id = $1) FOR SHARE`, id); err != nil {
			return fmt.Errorf("retry delivery: %w", err)
		}
		err := tx.QueryRow(ctx, `SELECT d.lease_until, coalesce(w.status, ''), d.test FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.id = $1 AND d.app_id = $2 FOR NO KEY UPDATE OF d`, id, appID).Scan(&leaseUntil, &webhookStatus, &test)
		if errors.Is(err, pgx.ErrNoRows) {
			return sqlrow.NotFound("delivery", id)
		}
		if err != nil {
			return fmt.Errorf("retry delivery: %w", err)
		}
		status, err := hookd.RetryStatus(leaseUntil != nil && *leaseUntil > ms(now), webhookStatus, test, id)
		if err != nil {
			return err
		}
		d, err = sqlrow.ScanDelivery(tx.QueryRow(ctx, `UPDATE deliveries d SET status = $1, next_attempt_at = $2, lease_owner = NULL, lease_until = NULL, updated_at = $2
			WHERE d.id = $3 RETURNING `+sqlrow.DeliveryColumns, status, ms(now), id))
		if err != nil {
			return fmt.Errorf("retry delivery: %w", err)
		}
		return s.notifyDue(ctx, tx)
	})
	return d, err
}
