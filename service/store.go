package service

import (
	"context"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// Store is what the service needs of the storage seam: the methods it
// calls, grouped by the part of the API each serves. store.Store has them
// all; the engine's queue, pruning and metrics methods are not the
// service's to call.
type Store interface {
	AppStore
	EventTypeStore
	WebhookStore
	SourceStore
	EventStore
	StatsStore
	SessionStore
}

// SessionStore keeps dashboard sessions and portal links (sessions.go).
type SessionStore interface {
	CreateSession(ctx context.Context, s *hookd.Session) error
	SessionByHash(ctx context.Context, hash string) (*hookd.Session, error)
	DeleteSession(ctx context.Context, hash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

var _ Store = store.Store(nil)

// AppStore keeps apps and their API keys (apps.go).
type AppStore interface {
	CreateApp(ctx context.Context, app *hookd.App) error
	GetApp(ctx context.Context, ref string) (*hookd.App, error)
	ListApps(ctx context.Context, page store.Page) ([]*hookd.App, string, error)
	UpdateApp(ctx context.Context, app *hookd.App) error
	DeleteApp(ctx context.Context, id string) error

	CreateAppKey(ctx context.Context, key *hookd.AppKey) error
	ListAppKeys(ctx context.Context, appID string, page store.Page) ([]*hookd.AppKey, string, error)
	DeleteAppKey(ctx context.Context, appID, id string) error
	AppKeyByHash(ctx context.Context, hash string) (*hookd.AppKey, error)
}

// EventTypeStore keeps the event type catalog (eventtypes.go), which
// publishing reads too.
type EventTypeStore interface {
	CreateEventType(ctx context.Context, et *hookd.EventType) error
	GetEventType(ctx context.Context, name string) (*hookd.EventType, error)
	ListEventTypes(ctx context.Context, page store.Page) ([]*hookd.EventType, string, error)
	AllEventTypes(ctx context.Context) ([]*hookd.EventType, error)
	UpdateEventType(ctx context.Context, et *hookd.EventType) error
}

// WebhookStore keeps webhooks, listen webhooks among them (webhooks.go,
// listen.go).
type WebhookStore interface {
	CreateWebhook(ctx context.Context, w *hookd.Webhook, maxWebhooks int) error
	GetWebhook(ctx context.Context, appID, id string) (*hookd.Webhook, error)
	ListWebhooks(ctx context.Context, appID string, page store.Page) ([]*hookd.Webhook, string, error)
	UpdateWebhook(ctx context.Context, w *hookd.Webhook, now time.Time) error
	DeleteWebhook(ctx context.Context, appID, id string) error
	WebhookByURL(ctx context.Context, appID, url string) (*hookd.Webhook, error)
	TouchWebhook(ctx context.Context, id string, now time.Time) error
	DeleteIdleListenWebhooks(ctx context.Context, before time.Time) (int, error)
	WebhookHealth(ctx context.Context, webhookIDs []string, now time.Time) (map[string]*hookd.WebhookHealth, error)
	RecoverWebhook(ctx context.Context, p *store.RecoverParams) (int, bool, error)
}

// SourceStore keeps inbound sources (sources.go).
type SourceStore interface {
	CreateSource(ctx context.Context, src *hookd.Source) error
	GetSource(ctx context.Context, appID, id string) (*hookd.Source, error)
	ListSources(ctx context.Context, appID string, page store.Page) ([]*hookd.Source, string, error)
	UpdateSource(ctx context.Context, src *hookd.Source, now time.Time) error
	DeleteSource(ctx context.Context, appID, id string) error
	SourceHealth(ctx context.Context, sourceID string) (*hookd.SourceHealth, error)
}

// EventStore publishes events and reads them back with their deliveries
// (events.go).
type EventStore interface {
	Publish(ctx context.Context, p *store.PublishParams) ([]store.PublishResult, error)
	GetEvent(ctx context.Context, appID, id string) (*hookd.Event, error)
	ListEvents(ctx context.Context, f store.EventFilter, page store.Page) ([]*hookd.Event, string, error)
	ListDeliveries(ctx context.Context, f store.DeliveryFilter, page store.Page) ([]*hookd.Delivery, string, error)
	GetDelivery(ctx context.Context, appID, id string) (*hookd.Delivery, error)
	RetryDelivery(ctx context.Context, appID, id string, now time.Time) (*hookd.Delivery, error)
}

// StatsStore reads the statistics kept as work happens, and the backlog
// that the server's statistics report (stats.go).
type StatsStore interface {
	ReadDeliveryStats(ctx context.Context, scope string, res int, since, until time.Time) ([]store.DeliveryCounts, error)
	ReadSourceStats(ctx context.Context, sourceID string, res int, since, until time.Time) ([]store.SourceCounts, error)
	Backlog(ctx context.Context, now time.Time) (store.Backlog, error)
}
