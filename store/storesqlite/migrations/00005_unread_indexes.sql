-- +goose Up
-- Two indexes that no read uses, each written by every delivery: an
-- attempt is read only with its delivery (attempts_delivery) or counted
-- for its webhook's health (attempts_webhook_at), never looked up by its
-- id; deliveries are listed by webhook or by source, and found by id or
-- by event, never by app alone. (Deleting an app now reads the whole
-- deliveries table once, for the foreign key's cascade.) SQLite keeps a
-- primary key's index as long as its table, so attempts is copied into a
-- table without one: once, at the first start after an upgrade, about ten
-- seconds per million attempts, with room for a second copy meanwhile.
-- (An attempt whose delivery is gone, which the foreign key forbids, is
-- left behind rather than failing the upgrade.)
CREATE TABLE attempts_copy (
    id              TEXT NOT NULL,
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
INSERT INTO attempts_copy SELECT id, delivery_id, webhook_id, attempt, at, duration_ms, status_code, request_headers, response_body, error
    FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries) ORDER BY rowid;
DROP TABLE attempts;
ALTER TABLE attempts_copy RENAME TO attempts;
CREATE INDEX attempts_delivery ON attempts(delivery_id, attempt);
CREATE INDEX attempts_webhook_at ON attempts(webhook_id, at);
DROP INDEX deliveries_app;

-- +goose Down
CREATE INDEX deliveries_app ON deliveries(app_id, id);
CREATE TABLE attempts_copy (
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
INSERT INTO attempts_copy SELECT id, delivery_id, webhook_id, attempt, at, duration_ms, status_code, request_headers, response_body, error
    FROM attempts ORDER BY rowid;
DROP TABLE attempts;
ALTER TABLE attempts_copy RENAME TO attempts;
CREATE INDEX attempts_delivery ON attempts(delivery_id, attempt);
CREATE INDEX attempts_webhook_at ON attempts(webhook_id, at);
