// Package store declares the storage seam of hookd: the Store interface that
// every database behind hookd implements, the parameters of its methods, and
// the Sealer that keeps secrets encrypted at rest.
//
// The delivery queue lives in the store too: deliveries are rows, a worker
// claims due ones under a lease (ClaimDue), and hands back the outcome of each
// attempt (RecordAttempts). A claim whose lease runs out before its result is
// recorded becomes due again, which is what makes delivery at-least-once
// across crashes. Package storetest holds the conformance suite that every
// implementation runs.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/hookd/hookd"
)

// ErrStale is returned (wrapped) by an update made from a read that the
// row has changed since; read again and retry.
var ErrStale = errors.New("store: changed since it was read")

// ErrClosed is returned by calls on a closed store.
var ErrClosed = errors.New("store: closed")

// Page selects one page of a list that is ordered newest first.
type Page struct {
	Limit int    // 1..250; the caller applies the default
	After string // cursor from the previous page's Next; "" for the first
}

// Store is everything hookd keeps. Implementations return *hookd.Error with
// code NOT_FOUND or CONFLICT for the conditions callers test, and wrap
// anything else with context.
type Store interface {
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	CreateApp(ctx context.Context, app *hookd.App) error
	// GetApp finds an app by id or by uid.
	GetApp(ctx context.Context, ref string) (*hookd.App, error)
	ListApps(ctx context.Context, page Page) ([]*hookd.App, string, error)
	UpdateApp(ctx context.Context, app *hookd.App) error
	// DeleteApp removes the app and everything that belongs to it.
	DeleteApp(ctx context.Context, id string) error

	CreateAppKey(ctx context.Context, key *hookd.AppKey) error
	ListAppKeys(ctx context.Context, appID string, page Page) ([]*hookd.AppKey, string, error)
	DeleteAppKey(ctx context.Context, appID, id string) error
	// AppKeyByHash finds the key whose hash is hash.
	AppKeyByHash(ctx context.Context, hash string) (*hookd.AppKey, error)

	// CreateSession keeps a dashboard session or portal link; a hash
	// already kept is a CONFLICT.
	CreateSession(ctx context.Context, s *hookd.Session) error
	// SessionByHash finds the session or link whose hash is hash, expired
	// or not: the caller compares ExpiresAt with its clock.
	SessionByHash(ctx context.Context, hash string) (*hookd.Session, error)
	// DeleteSession removes one session or link; NOT_FOUND when none has
	// that hash.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteExpiredSessions removes the sessions and links that expired
	// before now, and says how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	CreateEventType(ctx context.Context, et *hookd.EventType) error
	GetEventType(ctx context.Context, name string) (*hookd.EventType, error)
	ListEventTypes(ctx context.Context, page Page) ([]*hookd.EventType, string, error)
	// AllEventTypes lists the whole catalog, for validating filters.
	AllEventTypes(ctx context.Context) ([]*hookd.EventType, error)
	UpdateEventType(ctx context.Context, et *hookd.EventType) error

	// CreateWebhook stores w unless the app already has maxWebhooks
	// webhooks (0 = no cap), which is a CONFLICT.
	CreateWebhook(ctx context.Context, w *hookd.Webhook, maxWebhooks int) error
	GetWebhook(ctx context.Context, appID, id string) (*hookd.Webhook, error)
	ListWebhooks(ctx context.Context, appID string, page Page) ([]*hookd.Webhook, string, error)
	// UpdateWebhook stores w's fields, unless the row changed since w was
	// read (ErrStale); its failure counters are the store's own, and are
	// reset only when w re-activates the webhook. A status change moves the
	// webhook's deliveries with it: pausing holds pending deliveries,
	// re-activating releases held ones, disabling fails pending and held
	// ones (they can be recovered).
	UpdateWebhook(ctx context.Context, w *hookd.Webhook, now time.Time) error
	DeleteWebhook(ctx context.Context, appID, id string) error
	// WebhookByURL finds the app's webhook at url (NOT_FOUND when there is
	// none); listen webhooks are found again this way by their key.
	WebhookByURL(ctx context.Context, appID, url string) (*hookd.Webhook, error)
	// TouchWebhook sets only the webhook's updated_at to now (NOT_FOUND
	// when it is gone): a listen connection's sign of life. The version is
	// left alone, so it makes no concurrent update stale.
	TouchWebhook(ctx context.Context, id string, now time.Time) error
	// DeleteIdleListenWebhooks deletes the listen webhooks (URL starting
	// with hookd.ListenURLPrefix) of every app last updated before before,
	// with their deliveries, and returns how many.
	DeleteIdleListenWebhooks(ctx context.Context, before time.Time) (int, error)
	// WebhookHealth reads each webhook's kept values (see the Statistics
	// section of docs/DESIGN.md), by id: delivery count and last attempt
	// from its all-time statistics, the success rate from the minute
	// statistics of the 24 hours up to now; zero for a webhook that is
	// gone. One call reads a list's page at once.
	WebhookHealth(ctx context.Context, webhookIDs []string, now time.Time) (map[string]*hookd.WebhookHealth, error)
	// RecoverWebhook re-queues the webhook's failed deliveries created in
	// [p.Since, p.Until) that failed at or before p.Now. It re-queues up
	// to a chunk of them itself and returns how many, and whether that
	// was all: the rest it re-queues in the background, a chunk per
	// transaction, from a record of the recovery that it keeps until
	// done, so that a process that stops first leaves the rest to the
	// next one to start.
	RecoverWebhook(ctx context.Context, p *RecoverParams) (queued int, done bool, err error)

	CreateSource(ctx context.Context, src *hookd.Source) error
	// GetSource finds a source of an app; an empty appID finds it by id
	// alone (the public receive path).
	GetSource(ctx context.Context, appID, id string) (*hookd.Source, error)
	ListSources(ctx context.Context, appID string, page Page) ([]*hookd.Source, string, error)
	// UpdateSource stores src's fields, unless the row changed since src
	// was read (ErrStale). A status change moves the
	// source's forwarding deliveries as UpdateWebhook does.
	UpdateSource(ctx context.Context, src *hookd.Source, now time.Time) error
	// DeleteSource removes the source with its events and deliveries.
	DeleteSource(ctx context.Context, appID, id string) error
	// SourceHealth reads the source's kept event count and the creation
	// time of its newest event; zero for a source that is gone.
	SourceHealth(ctx context.Context, sourceID string) (*hookd.SourceHealth, error)
	// Receive stores what a source received and, when p.ForwardURL is
	// set and the event is not filtered, a delivery that forwards it (held
	// while p.Hold). A provider event id the source has recorded before
	// makes it answer the first event with duplicate set, storing nothing.
	Receive(ctx context.Context, p *ReceiveParams) (ev *hookd.Event, duplicate bool, err error)

	// Publish commits events and their deliveries in one transaction.
	Publish(ctx context.Context, p *PublishParams) ([]PublishResult, error)
	// GetEvent returns one event with its deliveries.
	GetEvent(ctx context.Context, appID, id string) (*hookd.Event, error)
	// ListEvents lists an app's events, newest first, each with its
	// deliveries; with a webhook id only those that went to it.
	ListEvents(ctx context.Context, f EventFilter, page Page) ([]*hookd.Event, string, error)

	ListDeliveries(ctx context.Context, f DeliveryFilter, page Page) ([]*hookd.Delivery, string, error)
	// GetDelivery returns one delivery with all its attempts.
	GetDelivery(ctx context.Context, appID, id string) (*hookd.Delivery, error)
	// RetryDelivery makes a delivery due now, whatever its status, unless
	// an attempt of it is in flight (CONFLICT).
	RetryDelivery(ctx context.Context, appID, id string, now time.Time) (*hookd.Delivery, error)

	// ClaimDue leases up to p.Limit due deliveries to p.Owner.
	ClaimDue(ctx context.Context, p *ClaimParams) ([]*Job, error)
	// RecordAttempts stores attempts and applies their outcomes, all in
	// one transaction, and returns the notices the outcomes raised.
	RecordAttempts(ctx context.Context, results []*AttemptResult) ([]hookd.Notice, error)
	// Defer hands claimed deliveries back without an attempt, due again at
	// the given time (rate limits, concurrency caps, shutdown).
	Defer(ctx context.Context, owner string, deferrals []Deferral) error
	// Prune deletes up to limit events created before before whose
	// deliveries have all finished (succeeded or failed), with their
	// deliveries and attempts, and forgets idempotency keys recorded before
	// before. It returns how many events it deleted. It finds them by id,
	// oldest first: an event's id carries the time it was made (see
	// ident.Floor), so an event whose id was made at or after before is
	// kept, whatever its created_at says.
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
	// NextDue returns when the earliest pending delivery becomes due;
	// false when none is pending.
	NextDue(ctx context.Context) (time.Time, bool, error)

	// Backlog counts the pending deliveries due at now (in flight or
	// not) and tells when the earliest of them became due. It reads an
	// index, not the deliveries: metrics call it every few seconds.
	Backlog(ctx context.Context, now time.Time) (Backlog, error)
	// CountWebhooks counts every app's webhooks by status.
	CountWebhooks(ctx context.Context) (map[string]int64, error)

	// Statistics are kept as work happens: RecordAttempts counts the
	// attempts of each batch per webhook, its app and StatsServer (and
	// forwards per source), and Receive what a source received, in
	// their own transactions, one upsert per scope and bucket.

	// ReadDeliveryStats returns the kept buckets of resolution res
	// (StatsMinute or StatsHour) of scope (a webhook id, an app id or
	// StatsServer) that start in [since, until), oldest first; buckets
	// in which nothing happened are left out.
	ReadDeliveryStats(ctx context.Context, scope string, res int, since, until time.Time) ([]DeliveryCounts, error)
	// ReadSourceStats is ReadDeliveryStats for a source.
	ReadSourceStats(ctx context.Context, sourceID string, res int, since, until time.Time) ([]SourceCounts, error)
	// AddRejections counts requests that sources refused (a receiver
	// gathers them in memory: a refusal stores nothing else).
	AddRejections(ctx context.Context, rs []Rejections) error
	// PruneStats deletes up to limit kept buckets of resolution res that
	// start before before, and all-time rows of webhooks and sources that
	// are gone, and returns how many rows it deleted.
	PruneStats(ctx context.Context, res int, before time.Time, limit int) (int, error)
}

// Backlog is how much delivery work is due and how late it is.
type Backlog struct {
	// Due is the number of pending deliveries whose next attempt time has
	// come.
	Due int64
	// OldestDueAt is the earliest next attempt time among them; zero when
	// Due is 0.
	OldestDueAt time.Time
}

// PublishParams are the events of one publish request of one app.
type PublishParams struct {
	AppID  string
	Now    time.Time
	Events []*PublishEvent
}

// PublishEvent is one event to commit, with how to route it.
type PublishEvent struct {
	// Event is complete but for its deliveries: id, type, canonical data,
	// the wire payload and the creation time are set by the caller.
	Event *hookd.Event
	// OnlyWebhookID routes the event to that webhook alone, whatever its
	// filter or status (test events).
	OnlyWebhookID string
	// OneOffURL is a destination given with the request. If one of the
	// app's webhooks has that URL the event goes to it (once), else to
	// the URL itself, signed with the app's default secret. OneOffEvents
	// filters which types go there; empty means all.
	OneOffURL    string
	OneOffEvents []string
}

// PublishResult is the outcome of one PublishEvent.
type PublishResult struct {
	Event      *hookd.Event
	Deliveries int
	// Handed is how many of the deliveries went straight to the store's
	// Taker (see Handover): no claim need look for them.
	Handed int
	// TurnedDown is how many pending deliveries the Taker turned down:
	// it claims them when it has room (see Offer.Take), unless another
	// process does first.
	TurnedDown int
	// Held is how many were written held (their webhook is paused).
	Held int
	// Duplicate is set when the idempotency key was seen within 24 hours:
	// Event is then the first event and nothing was created.
	Duplicate bool
}

// Count counts one of r's deliveries by what TakeRoute made of it.
func (r *PublishResult) Count(t Taking) {
	switch t {
	case RouteTaken:
		r.Handed++
	case RouteTurnedDown:
		r.TurnedDown++
	case RouteHeld:
		r.Held++
	}
}

// Due reports whether r made deliveries that this process must claim
// now: pending ones that the Taker neither took nor turned down.
func (r *PublishResult) Due() bool {
	return !r.Duplicate && r.Deliveries > r.Handed+r.TurnedDown+r.Held
}

// Claimable reports whether r made pending deliveries that were not
// handed over: claims of any process may take them now.
func (r *PublishResult) Claimable() bool {
	return !r.Duplicate && r.Deliveries > r.Handed+r.Held
}

// EventFilter narrows ListEvents. With neither WebhookID, SourceID nor
// Inbound it lists the app's published (outbound) events.
type EventFilter struct {
	AppID     string
	WebhookID string
	SourceID  string
	// Inbound lists what every source of the app received.
	Inbound bool
}

// ReceiveParams is one request a source received.
type ReceiveParams struct {
	// Event has its id, app, type (possibly empty), raw body as Payload,
	// Data (the body when it is a JSON object, else nil), creation time
	// and Inbound set.
	Event      *hookd.Event
	ForwardURL string
	Hold       bool
}

// DeliveryFilter narrows ListDeliveries.
type DeliveryFilter struct {
	AppID     string
	WebhookID string
	SourceID  string
	EventID   string
	Status    string
}

// RecoverParams says which failed deliveries RecoverWebhook re-queues.
type RecoverParams struct {
	AppID, WebhookID string
	// Since and Until bound when the deliveries were created: [Since,
	// Until), a zero Until for no upper bound.
	Since, Until time.Time
	// Now is when they become due again.
	Now time.Time
}

// ClaimParams ask for a batch of due deliveries.
type ClaimParams struct {
	Owner    string // who holds the lease; results must name it
	Now      time.Time
	Limit    int // deliveries to lease at most
	LeaseFor time.Duration
	// Scan bounds how many due deliveries, in due order, a claim looks at;
	// 0 means Limit.
	Scan int
	// Full lists webhooks that have no room for more deliveries: their due
	// deliveries are left due, or, those looked at of a webhook mapped to a
	// time, due again then, so that later claims look past them. A store
	// may push deliveries back only when the claim takes none (when they
	// may be hiding others).
	Full map[string]time.Time
	// Admit, when set, is asked about each other due delivery looked at,
	// and leases those it takes; it lets the caller take no more of a
	// webhook's, an app's or a host's deliveries than it has room for.
	// Nil takes all.
	Admit func(Candidate) bool
}

// Candidate is a delivery a claim looks at or a publish offers (see
// Offer.Take): whose it is and where it goes, as much as a caller needs to
// share its room fairly.
type Candidate struct {
	AppID     string
	WebhookID string // "" for a one-off URL or a source's forward
	// URL is where a delivery without a webhook goes; a store may leave
	// it empty for a webhook's.
	URL string
}

// Admits reports whether p takes c, a delivery of a webhook that is not
// full.
func (p *ClaimParams) Admits(c Candidate) bool {
	return p.Admit == nil || p.Admit(c)
}

// ScanLimit is how many due deliveries a claim looks at.
func (p *ClaimParams) ScanLimit() int {
	if p.Scan <= 0 {
		return p.Limit
	}
	return p.Scan
}

// FullIDs returns the ids of the webhooks in Full.
func (p *ClaimParams) FullIDs() []string {
	ids := make([]string, 0, len(p.Full))
	for id := range p.Full {
		ids = append(ids, id)
	}
	return ids
}

// Job is a claimed delivery with everything needed to attempt it.
type Job struct {
	Delivery *hookd.Delivery
	Event    *hookd.Event // ID, AppID, Type, Payload, Test, CreatedAt
	// Webhook is nil for a one-off destination; Delivery.URL is then set.
	Webhook *hookd.Webhook
	Profile hookd.Profile
	// DefaultSecret signs one-off destinations.
	DefaultSecret string
	// LeaseUntil is when the claim runs out.
	LeaseUntil time.Time
}

// AttemptResult is one finished attempt, reported by the lease holder
// Owner.
type AttemptResult struct {
	Owner string
	hookd.AttemptReport
	// Outcome classifies the attempt for metrics (hookd.Outcome...).
	Outcome string
	// Published is when the delivery's event was published, for the
	// latency from publish to the answer that ended the delivery.
	Published time.Time
	// Status is the delivery's status once RecordAttempts has applied
	// the attempt; empty when it was not applied (the lease had run out).
	Status string
}

// TokenRequest asks a rate limit shared by several processes (see
// storepg.Store.TakeTokens) for up to Want deliveries' worth of a
// webhook's budget, which refills at PerSecond up to Burst.
type TokenRequest struct {
	WebhookID string
	PerSecond float64
	Burst     float64
	Want      int
}

// Deferral hands one claimed delivery back, due again at At.
type Deferral struct {
	DeliveryID string
	At         time.Time
}

// AdminTokens is implemented by a store that many processes share
// (PostgreSQL): the admin token's hash lives there, not in each process's
// data dir, so that every process accepts the same token.
type AdminTokens interface {
	// OfferAdminTokenHash stores hash as the admin token's unless one is
	// stored already, and returns the one stored: of processes that start
	// at once, each offering a token it generated, one wins and all of
	// them learn which.
	OfferAdminTokenHash(ctx context.Context, hash string) (string, error)
	// SetAdminTokenHash stores hash as the admin token's, replacing any.
	SetAdminTokenHash(ctx context.Context, hash string) error
}

// Sealer encrypts secrets before they are stored and decrypts them after.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}
