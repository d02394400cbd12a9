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
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/groupcommit"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

const idempotencyWindow = 24 * time.Hour

// Publish implements store.Store. Concurrent publishes share a
// transaction, and so one sync to disk (see groupcommit.Committer), each in
// a savepoint of its own.
func (s *Store) Publish(ctx context.Context, p *store.PublishParams) ([]store.PublishResult, error) {
	return s.publishes.Do(ctx, p)
}

// maxGroup bounds how many publish requests share one commit.
const maxGroup = 64

// commitTimeout bounds one commit of publishes: a disk that stalls fails
// the publishes waiting on it rather than holding them for ever.
const commitTimeout = 30 * time.Second

type publishGroup = []*groupcommit.Request[*store.PublishParams, []store.PublishResult]

// commitPublishes commits a group of publish requests in one transaction.
// The deliveries it writes are due at their publish's time, which falls
// before where claims start looking (see ClaimDue) if a claim ran while
// the group waited; the next claim then looks from the first. Those that
// the taker (see HandTo) takes are leased to it before the commit, so that
// no claim can see them unleased, and handed over after it.
func (s *Store) commitPublishes(ctx context.Context, group publishGroup) {
	var h *store.Handing
	if t := s.taker.Load(); t != nil {
		h = store.NewHanding(*t, group[0].Params.Now, s.resolveHanded)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, r := range group {
			// A caller that hung up is answered without work; one that
			// hangs up now must not interrupt the shared transaction,
			// which runs under the committer's context (see
			// groupcommit.Committer).
			if err := r.Ctx.Err(); err != nil {
				r.Err = err
				continue
			}
			if _, err := tx.ExecContext(ctx, `SAVEPOINT publish`); err != nil {
				r.Err = fmt.Errorf("savepoint: %w", err)
				continue
			}
			h.Mark()
			r.Result, r.Err = s.publishTx(ctx, tx, r.Params, h)
			if r.Err != nil {
				r.Result = nil
				s.leases.drop(h.Undo())
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO publish`); err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE publish`); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		s.leases.drop(h.Jobs())
	}
	if err := h.Done(ctx, err == nil); err != nil {
		// Not handed: claims take them, at once.
		s.log.Warn("hand published deliveries to the engine", "err", err, "count", len(h.Jobs()))
		s.leases.drop(h.Jobs())
		s.rescan.Store(true)
		for _, r := range group {
			for i := range r.Result {
				r.Result[i].Handed = 0
			}
		}
	}
	cursor := s.cursor.Load()
	for _, r := range group {
		if err != nil && r.Err == nil {
			r.Result, r.Err = nil, err
		}
		if r.Err == nil && ms(r.Params.Now) < cursor {
			s.rescan.Store(true)
		}
	}
}

// HandTo implements store.Handover.
func (s *Store) HandTo(t store.Taker) { s.taker.Store(&t) }

// resolveHanded gives handed jobs their apps and webhooks, read in a
// snapshot that holds the commit that made them.
func (s *Store) resolveHanded(ctx context.Context, jobs []*store.Job) ([]*store.Job, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("hand deliveries over: %w", err)
	}
	defer tx.Rollback()
	if err := s.resolveJobs(ctx, tx, jobs); err != nil {
		return nil, err
	}
	return jobs, nil
}

// publishTx stores one publish request's events and deliveries in tx,
// leasing those that h takes. The rows go in by multi-row statements (see
// publishRows), written before anything reads them back.
func (s *Store) publishTx(ctx context.Context, tx *sql.Tx, p *store.PublishParams, h *store.Handing) ([]store.PublishResult, error) {
	results := make([]store.PublishResult, len(p.Events))
	hooks, err := routingWebhooks(ctx, tx, p.AppID)
	if err != nil {
		return nil, err
	}
	var ordered map[string]bool
	if h != nil {
		ordered = store.OrderedWebhooks(hooks)
	}
	rows := publishRows{s: s, tx: tx}
	now := ms(p.Now)
	for i, pe := range p.Events {
		ev := pe.Event
		if ev.IdempotencyKey != "" {
			// The first event with this key may be one of this request's.
			if err := rows.write(ctx); err != nil {
				return nil, err
			}
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
		data, at, n := sqlrow.EventDataColumns(ev.Data, ev.Payload)
		rows.events = append(rows.events, ev.ID, p.AppID, ev.Type, data, at, n, ev.Payload, nullString(ev.IdempotencyKey), ev.Test, ms(ev.CreatedAt))
		routes := hookd.RouteEvent(hooks, hookd.RouteParams{
			Type: ev.Type, OnlyWebhookID: pe.OnlyWebhookID, OneOffURL: pe.OneOffURL, OneOffEvents: pe.OneOffEvents,
		})
		result := store.PublishResult{Event: ev, Deliveries: len(routes)}
		for _, r := range routes {
			id := s.newID("dlv")
			rowid, err := rows.delivery(ctx, id, p.AppID, ev.ID, nullString(r.WebhookID), nullString(r.URL), r.Status, now, ev.Test)
			if err != nil {
				return nil, err
			}
			taking := h.TakeRoute(id, p.AppID, ev, r, p.Now, ordered)
			result.Count(taking)
			if taking != store.RouteTaken {
				continue
			}
			owner, until := h.Lease()
			s.leases.take(id, lease{owner: owner, until: until, rowid: rowid, due: now})
		}
		results[i] = result
	}
	if err := rows.write(ctx); err != nil {
		return nil, err
	}
	return results, nil
}

// publishRows gathers a publish's events and deliveries and writes them
// with the multi-row statements: one statement per row, through
// database/sql and cgo, was about a third of a publish's time on the
// writer. The deliveries' rowids are given, not left to SQLite, since a
// lease needs its delivery's: one past the table's largest, as SQLite
// would choose, counted from the largest when the first is added.
type publishRows struct {
	s          *Store
	tx         *sql.Tx
	events     []any // insertEvents' ten columns a row
	deliveries []any // insertDeliveries' eleven columns a row
	nextRowid  int64 // 0 until read
}

// delivery adds a pending or held delivery and returns its rowid.
func (r *publishRows) delivery(ctx context.Context, id, appID, eventID string, webhookID, url any, status string, now int64, test bool) (int64, error) {
	if r.nextRowid == 0 {
		var last int64
		if err := r.tx.StmtContext(ctx, r.s.stmt.lastDelivery).QueryRowContext(ctx).Scan(&last); err != nil {
			return 0, fmt.Errorf("insert delivery: %w", err)
		}
		r.nextRowid = last + 1
	}
	rowid := r.nextRowid
	r.nextRowid++
	r.deliveries = append(r.deliveries, rowid, id, appID, eventID, webhookID, url, status, now, test, now, now)
	return rowid, nil
}

// write inserts the rows gathered so far, events first (deliveries refer
// to them).
func (r *publishRows) write(ctx context.Context) error {
	if err := r.s.stmt.insertEvents.exec(ctx, r.tx, r.events); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	if err := r.s.stmt.insertDeliveries.exec(ctx, r.tx, r.deliveries); err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	r.events, r.deliveries = r.events[:0], r.deliveries[:0]
	return nil
}

// routingWebhooks loads the fields of an app's webhooks that routing reads.
func routingWebhooks(ctx context.Context, q queryer, appID string) ([]*hookd.Webhook, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, url, events, status, ordered FROM webhooks WHERE app_id = ? ORDER BY id`, appID)
	if err != nil {
		return nil, fmt.Errorf("load webhooks: %w", err)
	}
	defer rows.Close()
	var hooks []*hookd.Webhook
	for rows.Next() {
		var w hookd.Webhook
		var events []byte
		if err := rows.Scan(&w.ID, &w.URL, &events, &w.Status, &w.Ordered); err != nil {
			return nil, fmt.Errorf("load webhooks: %w", err)
		}
		if err := json.Unmarshal(events, &w.Events); err != nil {
			return nil, fmt.Errorf("decode events of webhook %s: %w", w.ID, err)
		}
		hooks = append(hooks, &w)
	}
	return hooks, rows.Err()
}

// claimIdempotencyKey records ev's key and returns nil, or returns the
// first event published with the key within the window.
func (s *Store) claimIdempotencyKey(ctx context.Context, tx *sql.Tx, appID string, ev *hookd.Event, now time.Time) (*hookd.Event, error) {
	var eventID string
	var created int64
	err := tx.QueryRowContext(ctx, `SELECT event_id, created_at FROM idempotency_keys WHERE app_id = ? AND key = ?`, appID, ev.IdempotencyKey).Scan(&eventID, &created)
	switch {
	case err == nil && fromMs(created).After(now.Add(-idempotencyWindow)):
		first, err := s.getEvent(ctx, tx, appID, eventID)
		if err == nil || !hookd.IsNotFound(err) {
			return first, err
		}
		// The first event is gone (deleted with its data); the key is free.
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys (app_id, key, event_id, created_at) VALUES (?,?,?,?)
		ON CONFLICT (app_id, key) DO UPDATE SET event_id = excluded.event_id, created_at = excluded.created_at`,
		appID, ev.IdempotencyKey, ev.ID, ms(now))
	if err != nil {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	return nil, nil
}

// eventColumns are read from sqlrow.EventsFrom.
const eventColumns = `e.id, e.app_id, e.type, CASE WHEN e.data_at IS NULL THEN e.data ELSE substr(e.payload, e.data_at, e.data_len) END, e.payload, coalesce(e.idempotency_key, ''), e.test, e.created_at,
	coalesce(e.source_id, ''), coalesce(src.name, ''), coalesce(e.provider_event_id, ''), coalesce(e.headers, ''), coalesce(e.content_type, ''), e.filtered`

// GetEvent implements store.Store.
func (s *Store) GetEvent(ctx context.Context, appID, id string) (*hookd.Event, error) {
	return s.getEvent(ctx, s.r, appID, id)
}

func (s *Store) getEvent(ctx context.Context, q queryer, appID, id string) (*hookd.Event, error) {
	ev, err := sqlrow.ScanEvent(q.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM `+sqlrow.EventsFrom+` WHERE e.id = ? AND e.app_id = ?`, id, appID))
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
	q, all := eventsQuery(f, page)
	rows, err := s.r.QueryContext(ctx, q, all...)
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	events, err := sqlrow.Collect(rows, sqlrow.ScanEvent)
	rows.Close()
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	events, next := sqlrow.TrimPage(events, page, func(e *hookd.Event) string { return e.ID })
	if err := attachDeliveries(ctx, s.r, events, ""); err != nil {
		return nil, "", err
	}
	return events, next, nil
}

// eventsQuery is ListEvents' query for f (without a webhook) and page,
// with its arguments: a walk of events_app or events_source, newest
// first.
func eventsQuery(f store.EventFilter, page store.Page) (string, []any) {
	where, args := pageClause("e.id", page)
	var q string
	var all []any
	switch {
	case f.SourceID != "":
		q = `SELECT ` + eventColumns + ` FROM ` + sqlrow.EventsFrom + ` WHERE e.source_id = ? AND e.app_id = ?`
		all = []any{f.SourceID, f.AppID}
	case f.Inbound:
		q = `SELECT ` + eventColumns + ` FROM ` + sqlrow.EventsFrom + ` WHERE e.app_id = ? AND e.source_id IS NOT NULL`
		all = []any{f.AppID}
	default:
		q = `SELECT ` + eventColumns + ` FROM ` + sqlrow.EventsFrom + ` WHERE e.app_id = ? AND e.source_id IS NULL`
		all = []any{f.AppID}
	}
	return q + where + ` ORDER BY e.id DESC LIMIT ?`, append(append(all, args...), sqlrow.LimitFor(page))
}

// webhookEventsQuery lists the events of a webhook of an app by walking
// the webhook's deliveries newest first, joining each to its event, and
// stopping at the limit, after a delivery when after is set. (Ordered by
// event id it read and sorted every delivery the webhook ever had: 1.7 s
// at 300,000.) An event has at most one delivery to a webhook, made with
// it, so the order is the events' own within a process; the cursor is
// the delivery's id.
func webhookEventsQuery(after bool) string {
	q := `SELECT d.id, ` + eventColumns + ` FROM deliveries d JOIN events e ON e.id = d.event_id LEFT JOIN sources src ON src.id = e.source_id
	WHERE d.webhook_id = ? AND d.app_id = ?`
	if after {
		q += ` AND d.id < ?`
	}
	return q + ` ORDER BY d.webhook_id DESC, d.id DESC LIMIT ?`
}

// listWebhookEvents is ListEvents of one webhook (see webhookEventsQuery).
func (s *Store) listWebhookEvents(ctx context.Context, f store.EventFilter, page store.Page) ([]*hookd.Event, string, error) {
	a := []any{f.WebhookID, f.AppID}
	if page.After != "" {
		a = append(a, page.After)
	}
	rows, err := s.r.QueryContext(ctx, webhookEventsQuery(page.After != ""), append(a, sqlrow.LimitFor(page))...)
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	var events []*hookd.Event
	var cursors []string
	for rows.Next() {
		var delivery string
		ev, err := sqlrow.ScanEvent(sqlrow.PrefixedRow{Row: rows, First: &delivery})
		if err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("list events: %w", err)
		}
		events, cursors = append(events, ev), append(cursors, delivery)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	events, next := sqlrow.TrimPage(events, page, func(*hookd.Event) string { return "more" })
	if next != "" {
		next = cursors[len(events)-1] // the delivery of the page's last event
	}
	if err := attachDeliveries(ctx, s.r, events, f.WebhookID); err != nil {
		return nil, "", err
	}
	return events, next, nil
}

// deliveriesQuery is ListDeliveries' query for f and page, with its
// arguments.
func deliveriesQuery(f store.DeliveryFilter, page store.Page) (string, []any) {
	if f.WebhookID == "" && f.SourceID == "" && f.EventID == "" {
		return appDeliveriesQuery(f, page)
	}
	q := `SELECT ` + sqlrow.DeliveryColumns + ` FROM deliveries d WHERE d.app_id = ?`
	args := []any{f.AppID}
	if f.WebhookID != "" {
		q += ` AND d.webhook_id = ?`
		args = append(args, f.WebhookID)
	}
	if f.SourceID != "" {
		q += ` AND d.source_id = ?`
		args = append(args, f.SourceID)
	}
	if f.EventID != "" {
		q += ` AND d.event_id = ?`
		args = append(args, f.EventID)
	}
	if lit, ok := store.StatusLiteral(f.Status); ok {
		q += ` AND d.status = ` + lit
	} else if f.Status != "" {
		q += ` AND d.status = ?`
		args = append(args, f.Status)
	}
	where, pargs := pageClause("d.id", page)
	return q + where + sqlrow.DeliveryOrder(f) + ` LIMIT ?`, append(append(args, pargs...), sqlrow.LimitFor(page))
}

// appDeliveriesQuery lists the deliveries of an app, newest first, by
// walking the app's events (events_app) newest first and each one's
// deliveries (deliveries_event): no index of deliveries leads with the
// app, and walking their primary key skipped every newer delivery of
// other apps. A delivery is made with its event, so the order by event
// and then delivery is the deliveries' own. A page after a delivery
// starts at its event; a cursor whose delivery is gone (pruned
// meanwhile) ends the list.
func appDeliveriesQuery(f store.DeliveryFilter, page store.Page) (string, []any) {
	q := `SELECT ` + sqlrow.DeliveryColumns + ` FROM events e JOIN deliveries d ON d.event_id = e.id WHERE e.app_id = ?1`
	args := []any{f.AppID, sqlrow.LimitFor(page)}
	if lit, ok := store.StatusLiteral(f.Status); ok {
		q += ` AND d.status = ` + lit
	} else if f.Status != "" {
		q += ` AND d.status = ?3`
		args = append(args, f.Status)
	}
	if page.After != "" {
		args = append(args, page.After)
		after := fmt.Sprintf("?%d", len(args))
		q += ` AND e.id <= (SELECT event_id FROM deliveries WHERE id = ` + after + `)
			AND (e.id < (SELECT event_id FROM deliveries WHERE id = ` + after + `) OR d.id < ` + after + `)`
	}
	return q + ` ORDER BY e.id DESC, d.id DESC LIMIT ?2`, args
}

// attachDeliveries fills in each event's delivery summaries, only those to
// webhookID when it is set.
func attachDeliveries(ctx context.Context, q queryer, events []*hookd.Event, webhookID string) error {
	if len(events) == 0 {
		return nil
	}
	byID := sqlrow.EventsByID(events)
	args := make([]any, 0, len(events)+1)
	for _, ev := range events {
		args = append(args, ev.ID)
	}
	if webhookID != "" {
		args = append(args, webhookID)
	}
	rows, err := q.QueryContext(ctx, attachQuery(len(events), webhookID != ""), args...)
	return sqlrow.AttachSummaries(byID, rows, err)
}

// attachQuery reads the delivery summaries of n events, only those to
// one webhook (the last argument) when oneWebhook is set.
func attachQuery(n int, oneWebhook bool) string {
	q := sqlrow.SummaryQuery + ` WHERE d.event_id IN (` + placeholders(n) + `)`
	if oneWebhook {
		// The unary + keeps SQLite from finding the rows by the webhook
		// (every delivery it ever had) rather than by the events.
		q += ` AND +d.webhook_id = ?`
	}
	return q + ` ORDER BY d.id`
}

// attemptsQuery reads the attempts of a delivery.
const attemptsQuery = `SELECT id, delivery_id, coalesce(webhook_id, ''), attempt, at, duration_ms, coalesce(status_code, 0),
	request_headers, response_headers, response_body, error FROM attempts WHERE delivery_id = ? ORDER BY attempt, at`

// scanDelivery scans deliveryColumns, then any columns after them into
// extra.
func scanDelivery(row interface{ Scan(...any) error }, extra ...any) (*hookd.Delivery, error) {
	var d hookd.Delivery
	var next sql.NullInt64
	var created, upd int64
	err := row.Scan(append([]any{&d.ID, &d.AppID, &d.EventID, &d.SourceID, &d.WebhookID, &d.URL, &d.Status, &d.AttemptCount, &next, &d.LastStatusCode, &d.Test, &created, &upd}, extra...)...)
	if err != nil {
		return nil, err
	}
	d.NextAttemptAt = fromNullMs(next)
	d.CreatedAt, d.UpdatedAt = fromMs(created), fromMs(upd)
	return &d, nil
}

// ListDeliveries implements store.Store.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter, page store.Page) ([]*hookd.Delivery, string, error) {
	q, args := deliveriesQuery(f, page)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []*hookd.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	out, next := sqlrow.TrimPage(out, page, func(d *hookd.Delivery) string { return d.ID })
	return out, next, nil
}

// GetDelivery implements store.Store.
func (s *Store) GetDelivery(ctx context.Context, appID, id string) (*hookd.Delivery, error) {
	d, err := sqlrow.ScanDelivery(s.r.QueryRowContext(ctx, `SELECT `+sqlrow.DeliveryColumns+` FROM deliveries d WHERE d.id = ? AND d.app_id = ?`, id, appID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlrow.NotFound("delivery", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get delivery: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, attemptsQuery, id)
	if err != nil {
		return nil, fmt.Errorf("get attempts: %w", err)
	}
	defer rows.Close()
	d.Attempts = []*hookd.Attempt{}
	for rows.Next() {
		var a hookd.Attempt
		var at, dur int64
		var headers, respHeaders []byte
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.WebhookID, &a.Attempt, &at, &dur, &a.StatusCode, &headers, &respHeaders, &a.ResponseBody, &a.Error); err != nil {
			return nil, fmt.Errorf("get attempts: %w", err)
		}
		if err := json.Unmarshal(headers, &a.RequestHeaders); err != nil {
			return nil, fmt.Errorf("decode attempt %s: %w", a.ID, err)
		}
		if a.ResponseHeaders, err = sqlrow.DecodeHeaders(respHeaders); err != nil {
			return nil, fmt.Errorf("decode attempt %s: %w", a.ID, err)
		}
		a.At, a.Duration = fromMs(at), time.Duration(dur)*time.Millisecond
		d.Attempts = append(d.Attempts, &a)
	}
	return d, rows.Err()
}

// RetryDelivery implements store.Store.
func (s *Store) RetryDelivery(ctx context.Context, appID, id string, now time.Time) (*hookd.Delivery, error) {
	var d *hookd.Delivery
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var webhookStatus string
		var test bool
		err := tx.QueryRowContext(ctx, `SELECT coalesce(w.status, ''), d.test FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.id = ? AND d.app_id = ?`, id, appID).Scan(&webhookStatus, &test)
		if errors.Is(err, sql.ErrNoRows) {
			return sqlrow.NotFound("delivery", id)
		}
		if err != nil {
			return fmt.Errorf("retry delivery: %w", err)
		}
		status, err := hookd.RetryStatus(s.leases.held(id, now), webhookStatus, test, id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = ?1, next_attempt_at = ?2, updated_at = ?2 WHERE id = ?3`,
			status, ms(now), id)
		if err != nil {
			return fmt.Errorf("retry delivery: %w", err)
		}
		d, err = sqlrow.ScanDelivery(tx.QueryRowContext(ctx, `SELECT `+sqlrow.DeliveryColumns+` FROM deliveries d WHERE d.id = ?`, id))
		if err != nil {
			return fmt.Errorf("retry delivery: %w", err)
		}
		return nil
	})
	if err == nil {
		// The holder of an expired lease no longer decides the outcome.
		s.leases.clear(id, s.commits.Load())
	}
	return d, err
}
