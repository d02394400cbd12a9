-- +goose Up
-- Statistics kept as work happens (see the Statistics section of
-- docs/DESIGN.md): a row per scope (a webhook, app or source id; '' for
-- every app), resolution (res: bucket width in seconds, 0 for the one
-- all-time row) and bucket (its start, Unix ms). The attempt duration
-- histogram is one column per bucket (d00..d39, see hookd.DurationBucket),
-- so that an upsert adds to it in SQL.
CREATE TABLE delivery_stats (
    scope      TEXT NOT NULL,
    res        INTEGER NOT NULL,
    bucket     INTEGER NOT NULL,
    attempts   INTEGER NOT NULL,
    succeeded  INTEGER NOT NULL,
    failed     INTEGER NOT NULL,
    exhausted  INTEGER NOT NULL,
    deliveries INTEGER NOT NULL, -- first attempts (all-time rows)
    last_at    INTEGER NOT NULL, -- the latest attempt (all-time rows)
    d00 INTEGER NOT NULL DEFAULT 0,
    d01 INTEGER NOT NULL DEFAULT 0,
    d02 INTEGER NOT NULL DEFAULT 0,
    d03 INTEGER NOT NULL DEFAULT 0,
    d04 INTEGER NOT NULL DEFAULT 0,
    d05 INTEGER NOT NULL DEFAULT 0,
    d06 INTEGER NOT NULL DEFAULT 0,
    d07 INTEGER NOT NULL DEFAULT 0,
    d08 INTEGER NOT NULL DEFAULT 0,
    d09 INTEGER NOT NULL DEFAULT 0,
    d10 INTEGER NOT NULL DEFAULT 0,
    d11 INTEGER NOT NULL DEFAULT 0,
    d12 INTEGER NOT NULL DEFAULT 0,
    d13 INTEGER NOT NULL DEFAULT 0,
    d14 INTEGER NOT NULL DEFAULT 0,
    d15 INTEGER NOT NULL DEFAULT 0,
    d16 INTEGER NOT NULL DEFAULT 0,
    d17 INTEGER NOT NULL DEFAULT 0,
    d18 INTEGER NOT NULL DEFAULT 0,
    d19 INTEGER NOT NULL DEFAULT 0,
    d20 INTEGER NOT NULL DEFAULT 0,
    d21 INTEGER NOT NULL DEFAULT 0,
    d22 INTEGER NOT NULL DEFAULT 0,
    d23 INTEGER NOT NULL DEFAULT 0,
    d24 INTEGER NOT NULL DEFAULT 0,
    d25 INTEGER NOT NULL DEFAULT 0,
    d26 INTEGER NOT NULL DEFAULT 0,
    d27 INTEGER NOT NULL DEFAULT 0,
    d28 INTEGER NOT NULL DEFAULT 0,
    d29 INTEGER NOT NULL DEFAULT 0,
    d30 INTEGER NOT NULL DEFAULT 0,
    d31 INTEGER NOT NULL DEFAULT 0,
    d32 INTEGER NOT NULL DEFAULT 0,
    d33 INTEGER NOT NULL DEFAULT 0,
    d34 INTEGER NOT NULL DEFAULT 0,
    d35 INTEGER NOT NULL DEFAULT 0,
    d36 INTEGER NOT NULL DEFAULT 0,
    d37 INTEGER NOT NULL DEFAULT 0,
    d38 INTEGER NOT NULL DEFAULT 0,
    d39 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, res, bucket)
) WITHOUT ROWID;
-- Retention deletes old buckets oldest first.
CREATE INDEX delivery_stats_age ON delivery_stats (res, bucket);

CREATE TABLE source_stats (
    scope          TEXT NOT NULL,
    res            INTEGER NOT NULL,
    bucket         INTEGER NOT NULL,
    received       INTEGER NOT NULL,
    rejected       INTEGER NOT NULL,
    duplicates     INTEGER NOT NULL,
    forwarded      INTEGER NOT NULL,
    forward_failed INTEGER NOT NULL,
    last_at        INTEGER NOT NULL, -- the newest event received (all-time rows)
    PRIMARY KEY (scope, res, bucket)
) WITHOUT ROWID;
CREATE INDEX source_stats_age ON source_stats (res, bucket);

-- The kept values start from what is stored: each webhook's attempts and
-- each source's events (once, over the whole history).
INSERT INTO delivery_stats (scope, res, bucket, attempts, succeeded, failed, exhausted, deliveries, last_at)
SELECT webhook_id, 0, 0, count(*), count(*) FILTER (WHERE status_code BETWEEN 200 AND 299),
    count(*) FILTER (WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299), 0,
    count(*) FILTER (WHERE attempt = 1), max(at)
FROM attempts WHERE webhook_id IS NOT NULL GROUP BY webhook_id;
INSERT INTO source_stats (scope, res, bucket, received, rejected, duplicates, forwarded, forward_failed, last_at)
SELECT source_id, 0, 0, count(*), 0, 0, 0, 0, max(created_at)
FROM events WHERE source_id IS NOT NULL GROUP BY source_id;

-- +goose Down
DROP TABLE source_stats;
DROP TABLE delivery_stats;
