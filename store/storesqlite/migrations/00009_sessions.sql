-- +goose Up
-- Dashboard sessions and portal links, kept only as hashes of their
-- secrets.
CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    admin      INTEGER NOT NULL DEFAULT 0,
    app_id     TEXT NOT NULL DEFAULT '',
    credential TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- +goose Down
DROP TABLE sessions;
