-- +goose Up
-- Times are Unix milliseconds (INTEGER); JSON columns hold compact JSON text.
CREATE TABLE apps (
    id             TEXT PRIMARY KEY,
    uid            TEXT UNIQUE,
    name           TEXT NOT NULL,
    contact_email  TEXT NOT NULL DEFAULT '',
    profile        TEXT NOT NULL,
    default_secret BLOB NOT NULL,
    -- version counts updates, so that caches of decoded rows know when to drop them.
    version        INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE app_keys (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name       TEXT NOT NULL DEFAULT '',
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX app_keys_app ON app_keys(app_id, id);

CREATE TABLE event_types (
    id          TEXT NOT NULL UNIQUE,
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    schema      TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE webhooks (
    id                    TEXT PRIMARY KEY,
    app_id                TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    url                   TEXT NOT NULL,
    events                TEXT NOT NULL,
    status                TEXT NOT NULL,
    name                  TEXT NOT NULL DEFAULT '',
    description           TEXT NOT NULL DEFAULT '',
    headers               TEXT NOT NULL DEFAULT '{}',
    rate_limit            INTEGER NOT NULL DEFAULT 0,
    ordered               INTEGER NOT NULL DEFAULT 0,
    metadata              TEXT NOT NULL DEFAULT '{}',
    secret                BLOB NOT NULL,
    previous_secret       BLOB,
    previous_expires_at   INTEGER,
    disabled_reason       TEXT NOT NULL DEFAULT '',
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    failing_since         INTEGER,
    version               INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX webhooks_app ON webhooks(app_id, id);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    data            BLOB NOT NULL,
    payload         BLOB NOT NULL,
    idempotency_key TEXT,
    test            INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX events_app ON events(app_id, id);
CREATE INDEX events_created ON events(created_at);

CREATE TABLE idempotency_keys (
    app_id     TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- deliveries is also the queue: a pending row with next_attempt_at in the
-- past and no live lease is due.
CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    app_id           TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    event_id         TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    webhook_id       TEXT REFERENCES webhooks(id) ON DELETE CASCADE,
    url              TEXT,
    status           TEXT NOT NULL,
    attempt_count    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    lease_owner      TEXT,
    lease_until      INTEGER,
    last_status_code INTEGER,
    test             INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries(event_id);
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);
CREATE INDEX deliveries_webhook_open ON deliveries(webhook_id, id) WHERE status IN ('pending', 'held');
CREATE INDEX deliveries_app ON deliveries(app_id, id);

CREATE TABLE attempts (
    id              TEXT PRIMARY KEY,
    delivery_id     TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    webhook_id      TEXT,
    attempt         INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    status_code     INTEGER,
    request_headers TEXT NOT NULL,
    response_body   TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attempts_delivery ON attempts(delivery_id, attempt);
CREATE INDEX attempts_webhook_at ON attempts(webhook_id, at);

-- +goose Down
DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE idempotency_keys;
DROP TABLE events;
DROP TABLE webhooks;
DROP TABLE event_types;
DROP TABLE app_keys;
DROP TABLE apps;
