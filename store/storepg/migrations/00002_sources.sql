-- +goose Up
CREATE TABLE sources (
    id                  TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    provider            TEXT NOT NULL,
    status              TEXT NOT NULL,
    forward_url         TEXT NOT NULL DEFAULT '',
    events              TEXT NOT NULL DEFAULT '[]',
    description         TEXT NOT NULL DEFAULT '',
    header_prefix       TEXT NOT NULL DEFAULT '',
    tolerance_seconds   BIGINT NOT NULL,
    secret              BYTEA NOT NULL,
    previous_secret     BYTEA,
    previous_expires_at BIGINT,
    version             BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX sources_app ON sources(app_id, id);

-- What a source received is an event with the raw body as its payload.
ALTER TABLE events ADD COLUMN source_id TEXT REFERENCES sources(id) ON DELETE CASCADE;
ALTER TABLE events ADD COLUMN provider_event_id TEXT;
ALTER TABLE events ADD COLUMN headers TEXT;
ALTER TABLE events ADD COLUMN content_type TEXT;
ALTER TABLE events ADD COLUMN filtered BOOLEAN NOT NULL DEFAULT false;
CREATE UNIQUE INDEX events_source_provider_id ON events(source_id, provider_event_id) WHERE provider_event_id IS NOT NULL;
CREATE INDEX events_source ON events(source_id, id) WHERE source_id IS NOT NULL;

ALTER TABLE deliveries ADD COLUMN source_id TEXT REFERENCES sources(id) ON DELETE CASCADE;
CREATE INDEX deliveries_source ON deliveries(source_id, id) WHERE source_id IS NOT NULL;

-- +goose Down
DROP INDEX deliveries_source;
ALTER TABLE deliveries DROP COLUMN source_id;
DROP INDEX events_source;
DROP INDEX events_source_provider_id;
ALTER TABLE events DROP COLUMN filtered;
ALTER TABLE events DROP COLUMN content_type;
ALTER TABLE events DROP COLUMN headers;
ALTER TABLE events DROP COLUMN provider_event_id;
ALTER TABLE events DROP COLUMN source_id;
DROP TABLE sources;
