package sqlrow

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sealing"
)

// The columns the Scan functions read, in order.
const (
	AppColumns     = `id, uid, name, contact_email, profile, default_secret, created_at, updated_at`
	KeyColumns     = `id, app_id, name, hash, created_at`
	WebhookColumns = `id, app_id, url, events, status, name, description, headers, rate_limit, ordered, metadata,
	secret, previous_secret, previous_expires_at, disabled_reason, consecutive_failures, created_at, updated_at`
	SourceColumns = `id, app_id, name, provider, status, forward_url, events, description, header_prefix, tolerance_seconds,
	secret, previous_secret, previous_expires_at, created_at, updated_at`
	EventTypeColumns = `id, name, description, status, schema, created_at, updated_at`
	// DeliveryColumns are read from deliveries d.
	DeliveryColumns = `d.id, d.app_id, d.event_id, coalesce(d.source_id, ''), coalesce(d.webhook_id, ''), coalesce(d.url, ''), d.status, d.attempt_count,
	d.next_attempt_at, coalesce(d.last_status_code, 0), d.test, d.created_at, d.updated_at`
	// EventsFrom is what the event columns of each store are read from.
	EventsFrom = `events e LEFT JOIN sources src ON src.id = e.source_id`
)

// FromMs is a stored time (Unix milliseconds) as a time in UTC.
func FromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

// FromNullMs is FromMs of a column that may be NULL.
func FromNullMs(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := FromMs(*v)
	return &t
}

// EncodeApp returns an app's profile and sealed default secret as stored.
func EncodeApp(s store.Sealer, app *hookd.App) (profile, secret []byte, err error) {
	if profile, err = json.Marshal(app.Profile); err != nil {
		return nil, nil, fmt.Errorf("encode profile: %w", err)
	}
	if secret, err = s.Seal([]byte(app.DefaultSecret)); err != nil {
		return nil, nil, fmt.Errorf("seal default secret: %w", err)
	}
	return profile, secret, nil
}

// ScanApp reads an app's columns (AppColumns), then into extra. A
// profile field the stored profile lacks takes its default.
func ScanApp(s store.Sealer, row Scanner, extra ...any) (*hookd.App, error) {
	var (
		app             hookd.App
		uid             *string
		profile, secret []byte
		created, upd    int64
	)
	if err := row.Scan(append([]any{&app.ID, &uid, &app.Name, &app.ContactEmail, &profile, &secret, &created, &upd}, extra...)...); err != nil {
		return nil, err
	}
	if uid != nil {
		app.UID = *uid
	}
	app.Profile = hookd.DefaultProfile()
	app.Profile.Retry.ScheduleSeconds = nil
	if err := json.Unmarshal(profile, &app.Profile); err != nil {
		return nil, fmt.Errorf("decode profile of app %s: %w", app.ID, err)
	}
	plain, err := s.Open(secret)
	if err != nil {
		return nil, fmt.Errorf("open default secret of app %s: %w", app.ID, err)
	}
	app.DefaultSecret = string(plain)
	app.CreatedAt, app.UpdatedAt = FromMs(created), FromMs(upd)
	return &app, nil
}

// ScanKey reads an app key's columns (KeyColumns).
func ScanKey(row Scanner) (*hookd.AppKey, error) {
	var k hookd.AppKey
	var created int64
	if err := row.Scan(&k.ID, &k.AppID, &k.Name, &k.Hash, &created); err != nil {
		return nil, err
	}
	k.CreatedAt = FromMs(created)
	return &k, nil
}

// ScanEventType reads an event type's columns (EventTypeColumns).
func ScanEventType(row Scanner) (*hookd.EventType, error) {
	var et hookd.EventType
	var schema *string
	var created, upd int64
	if err := row.Scan(&et.ID, &et.Name, &et.Description, &et.Status, &schema, &created, &upd); err != nil {
		return nil, err
	}
	if schema != nil {
		et.Schema = json.RawMessage(*schema)
	}
	et.CreatedAt, et.UpdatedAt = FromMs(created), FromMs(upd)
	return &et, nil
}

// WebhookRow holds a webhook's JSON and sealed columns as stored.
type WebhookRow struct {
	Events, Headers, Metadata []byte
	Secret, PrevSecret        []byte
}

// EncodeWebhook returns a webhook's JSON and sealed columns as stored:
// its secrets and credential headers sealed with s.
func EncodeWebhook(s store.Sealer, w *hookd.Webhook) (*WebhookRow, error) {
	var r WebhookRow
	var err error
	if r.Events, err = json.Marshal(orEmpty(w.Events)); err != nil {
		return nil, fmt.Errorf("encode events: %w", err)
	}
	headers, err := sealing.SealHeaders(s, w.Headers)
	if err != nil {
		return nil, err
	}
	if r.Headers, err = json.Marshal(headers); err != nil {
		return nil, fmt.Errorf("encode headers: %w", err)
	}
	if r.Metadata, err = json.Marshal(orEmptyMap(w.Metadata)); err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	if r.Secret, r.PrevSecret, err = sealing.SealSecrets(s, w.Secret, w.PreviousSecret); err != nil {
		return nil, err
	}
	return &r, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orEmptyMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// ScanWebhook reads a webhook's columns (WebhookColumns) and its version,
// opening its secrets and credential headers with s.
func ScanWebhook(s store.Sealer, row Scanner) (*hookd.Webhook, error) {
	var (
		w                         hookd.Webhook
		events, headers, metadata []byte
		secret, prevSecret        []byte
		prevExpires               *int64
		created, upd              int64
	)
	err := row.Scan(&w.ID, &w.AppID, &w.URL, &events, &w.Status, &w.Name, &w.Description, &headers, &w.RateLimit, &w.Ordered, &metadata,
		&secret, &prevSecret, &prevExpires, &w.DisabledReason, &w.ConsecutiveFailures, &created, &upd, &w.Version)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(json.Unmarshal(events, &w.Events), json.Unmarshal(headers, &w.Headers), json.Unmarshal(metadata, &w.Metadata)); err != nil {
		return nil, fmt.Errorf("decode webhook %s: %w", w.ID, err)
	}
	if w.Secret, w.PreviousSecret, err = sealing.OpenSecrets(s, secret, prevSecret); err != nil {
		return nil, fmt.Errorf("webhook %s: %w", w.ID, err)
	}
	if err := sealing.OpenHeaders(s, w.Headers); err != nil {
		return nil, fmt.Errorf("webhook %s: %w", w.ID, err)
	}
	if p := FromNullMs(prevExpires); p != nil && w.PreviousSecret != "" {
		w.PreviousSecretExpiresAt = *p
	}
	w.CreatedAt, w.UpdatedAt = FromMs(created), FromMs(upd)
	return &w, nil
}

// EncodeSource returns a source's events (JSON) and sealed secrets as
// stored.
func EncodeSource(s store.Sealer, src *hookd.Source) (events string, secret, prev []byte, err error) {
	b, err := json.Marshal(orEmpty(src.Events))
	if err != nil {
		return "", nil, nil, fmt.Errorf("encode events: %w", err)
	}
	if secret, prev, err = sealing.SealSecrets(s, src.Secret, src.PreviousSecret); err != nil {
		return "", nil, nil, err
	}
	return string(b), secret, prev, nil
}

// ScanSource reads a source's columns (SourceColumns) and its version,
// opening its secrets with s.
func ScanSource(s store.Sealer, row Scanner) (*hookd.Source, error) {
	var (
		src          hookd.Source
		events       string
		secret, prev []byte
		prevExpires  *int64
		created, upd int64
	)
	err := row.Scan(&src.ID, &src.AppID, &src.Name, &src.Provider, &src.Status, &src.ForwardURL, &events, &src.Description, &src.HeaderPrefix,
		&src.ToleranceSeconds, &secret, &prev, &prevExpires, &created, &upd, &src.Version)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &src.Events); err != nil {
		return nil, fmt.Errorf("decode source %s: %w", src.ID, err)
	}
	if src.Secret, src.PreviousSecret, err = sealing.OpenSecrets(s, secret, prev); err != nil {
		return nil, fmt.Errorf("source %s: %w", src.ID, err)
	}
	if p := FromNullMs(prevExpires); p != nil && src.PreviousSecret != "" {
		src.PreviousSecretExpiresAt = *p
	}
	src.CreatedAt, src.UpdatedAt = FromMs(created), FromMs(upd)
	return &src, nil
}

// ScanEvent reads an event's columns, which each store lists (the SQL
// that cuts its data out of its payload differs) from EventsFrom.
func ScanEvent(row Scanner) (*hookd.Event, error) {
	var ev hookd.Event
	var data []byte
	var created int64
	var in hookd.Inbound
	var headers string
	if err := row.Scan(&ev.ID, &ev.AppID, &ev.Type, &data, &ev.Payload, &ev.IdempotencyKey, &ev.Test, &created,
		&in.SourceID, &in.SourceName, &in.ProviderEventID, &headers, &in.ContentType, &in.Filtered); err != nil {
		return nil, err
	}
	if len(data) > 0 {
		ev.Data = json.RawMessage(data)
	}
	ev.CreatedAt = FromMs(created)
	if in.SourceID != "" {
		if headers != "" {
			if err := json.Unmarshal([]byte(headers), &in.Headers); err != nil {
				return nil, fmt.Errorf("decode headers of event %s: %w", ev.ID, err)
			}
		}
		ev.Inbound = &in
	}
	return &ev, nil
}

// ScanDelivery reads a delivery's columns (DeliveryColumns), then any
// columns after them into extra.
func ScanDelivery(row Scanner, extra ...any) (*hookd.Delivery, error) {
	var d hookd.Delivery
	var next sql.NullInt64 // not *int64: SQLite's claim scans each delivery with this
	var created, upd int64
	err := row.Scan(append([]any{&d.ID, &d.AppID, &d.EventID, &d.SourceID, &d.WebhookID, &d.URL, &d.Status, &d.AttemptCount, &next, &d.LastStatusCode, &d.Test, &created, &upd}, extra...)...)
	if err != nil {
		return nil, err
	}
	if next.Valid {
		t := FromMs(next.Int64)
		d.NextAttemptAt = &t
	}
	d.CreatedAt, d.UpdatedAt = FromMs(created), FromMs(upd)
	return &d, nil
}

// AppValues returns a new app's values in AppColumns order, its default
// secret sealed with s.
func AppValues(s store.Sealer, app *hookd.App) ([]any, error) {
	profile, secret, err := EncodeApp(s, app)
	if err != nil {
		return nil, err
	}
	return []any{app.ID, nullString(app.UID), app.Name, app.ContactEmail, profile, secret, app.CreatedAt.UnixMilli(), app.UpdatedAt.UnixMilli()}, nil
}

// WebhookValues returns a new webhook's values in WebhookColumns order,
// its secrets and credential headers sealed with s.
func WebhookValues(s store.Sealer, w *hookd.Webhook) ([]any, error) {
	r, err := EncodeWebhook(s, w)
	if err != nil {
		return nil, err
	}
	return []any{w.ID, w.AppID, w.URL, r.Events, w.Status, w.Name, w.Description, r.Headers, w.RateLimit, w.Ordered, r.Metadata,
		r.Secret, r.PrevSecret, nullMs(w.PreviousSecretExpiresAt), w.DisabledReason, w.ConsecutiveFailures, w.CreatedAt.UnixMilli(), w.UpdatedAt.UnixMilli()}, nil
}

// SourceValues returns a new source's values in SourceColumns order, its
// secrets sealed with s.
func SourceValues(s store.Sealer, src *hookd.Source) ([]any, error) {
	events, secret, prev, err := EncodeSource(s, src)
	if err != nil {
		return nil, err
	}
	return []any{src.ID, src.AppID, src.Name, src.Provider, src.Status, src.ForwardURL, events, src.Description, src.HeaderPrefix, src.ToleranceSeconds,
		secret, prev, nullMs(src.PreviousSecretExpiresAt), src.CreatedAt.UnixMilli(), src.UpdatedAt.UnixMilli()}, nil
}

// nullString is s, or NULL for "".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullMs is t in Unix milliseconds, or NULL for the zero time.
func nullMs(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// SummaryQuery selects the delivery summaries of events; a store adds
// which events (WHERE d.event_id ...) and AttachSummaries reads them.
const SummaryQuery = `SELECT d.event_id, d.id, coalesce(d.source_id, ''), coalesce(d.webhook_id, ''), coalesce(w.name, ''), coalesce(d.url, w.url, ''),
		d.status, d.attempt_count
		FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id`

// EventsByID empties each event's delivery summaries, to be filled by
// AttachSummaries, and returns the events by id.
func EventsByID(events []*hookd.Event) map[string]*hookd.Event {
	byID := make(map[string]*hookd.Event, len(events))
	for _, ev := range events {
		byID[ev.ID] = ev
		ev.Deliveries = []*hookd.DeliverySummary{}
	}
	return byID
}

// AttachSummaries appends the delivery summaries that rows hold
// (SummaryQuery) to their events; rows and err are what the query
// returned. It closes rows.
func AttachSummaries(byID map[string]*hookd.Event, rows Rows, err error) error {
	if err != nil {
		return fmt.Errorf("load deliveries: %w", err)
	}
	defer closeRows(rows)
	for rows.Next() {
		var eventID string
		var d hookd.DeliverySummary
		if err := rows.Scan(&eventID, &d.ID, &d.SourceID, &d.WebhookID, &d.WebhookName, &d.URL, &d.Status, &d.AttemptCount); err != nil {
			return fmt.Errorf("load deliveries: %w", err)
		}
		byID[eventID].Deliveries = append(byID[eventID].Deliveries, &d)
	}
	return rows.Err()
}

// DeliveryOrder is the order of a list of deliveries, newest first. With
// a webhook or a source it names that column first (equal in every row)
// so that the index by that column and id is the one that gives it.
func DeliveryOrder(f store.DeliveryFilter) string {
	switch {
	case f.WebhookID != "":
		return ` ORDER BY d.webhook_id DESC, d.id DESC`
	case f.SourceID != "":
		return ` ORDER BY d.source_id DESC, d.id DESC`
	}
	return ` ORDER BY d.id DESC`
}

// PrefixedRow scans its first column into First and the rest as asked.
type PrefixedRow struct {
	Row   Scanner
	First any
}

// Scan implements Scanner.
func (r PrefixedRow) Scan(dest ...any) error {
	return r.Row.Scan(append([]any{r.First}, dest...)...)
}
