-- +goose Up
-- Statistics kept as work happens (see the Statistics section of
-- docs/DESIGN.md): a row per scope (a webhook, app or source id; '' for
-- every app), resolution (res: bucket width in seconds, 0 for the one
-- all-time row) and bucket (its start, Unix ms). Recorders upsert them a
-- batch at a time; only their counters change, so updates stay HOT in the
-- room fillfactor leaves.
CREATE TABLE delivery_stats (
    scope      TEXT COLLATE "C" NOT NULL,
    res        INTEGER NOT NULL,
    bucket     BIGINT NOT NULL,
    attempts   BIGINT NOT NULL,
    succeeded  BIGINT NOT NULL,
    failed     BIGINT NOT NULL,
    exhausted  BIGINT NOT NULL,
    deliveries BIGINT NOT NULL, -- first attempts (all-time rows)
    last_at    BIGINT NOT NULL, -- the latest attempt (all-time rows)
    durations  BIGINT[] NOT NULL, -- hookd.DurationBuckets counts
    PRIMARY KEY (scope, res, bucket)
) WITH (fillfactor = 70);
-- Retention deletes old buckets oldest first.
CREATE INDEX delivery_stats_age ON delivery_stats (res, bucket);

CREATE TABLE source_stats (
    scope          TEXT COLLATE "C" NOT NULL,
    res            INTEGER NOT NULL,
    bucket         BIGINT NOT NULL,
    received       BIGINT NOT NULL,
    rejected       BIGINT NOT NULL,
    duplicates     BIGINT NOT NULL,
    forwarded      BIGINT NOT NULL,
    forward_failed BIGINT NOT NULL,
    last_at        BIGINT NOT NULL, -- the newest event received (all-time rows)
    PRIMARY KEY (scope, res, bucket)
) WITH (fillfactor = 70);
CREATE INDEX source_stats_age ON source_stats (res, bucket);

-- The kept values start from what is stored: each webhook's attempts and
-- each source's events (once, over the whole history).
INSERT INTO delivery_stats (scope, res, bucket, attempts, succeeded, failed, exhausted, deliveries, last_at, durations)
SELECT webhook_id, 0, 0, count(*), count(*) FILTER (WHERE status_code BETWEEN 200 AND 299),
    count(*) FILTER (WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299), 0,
    count(*) FILTER (WHERE attempt = 1), max(at), '{}'
FROM attempts WHERE webhook_id IS NOT NULL GROUP BY webhook_id;
INSERT INTO source_stats (scope, res, bucket, received, rejected, duplicates, forwarded, forward_failed, last_at)
SELECT source_id, 0, 0, count(*), 0, 0, 0, 0, max(created_at)
FROM events WHERE source_id IS NOT NULL GROUP BY source_id;

-- +goose Down
DROP TABLE source_stats;
DROP TABLE delivery_stats;
