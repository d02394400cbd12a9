-- +goose Up
-- Dashboard sessions and portal links, kept only as hashes of their
-- secrets. Every process on the database reads the same rows, so a
-- session made by one is good on all of them.
CREATE TABLE sessions (
    hash       TEXT COLLATE "C" PRIMARY KEY,
    kind       TEXT NOT NULL,
    admin      BOOLEAN NOT NULL DEFAULT FALSE,
    app_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    credential TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- +goose Down
DROP TABLE sessions;
