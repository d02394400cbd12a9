-- +goose Up
-- A webhook's failed deliveries, newest first, for its deliveries list
-- filtered by status=failed and for recover: without it both walked every
-- delivery the webhook ever had to find the few that failed. An entry is
-- written only when a delivery fails and goes when it is recovered or
-- pruned, so the engine's inserts and its updates to pending or
-- succeeded never touch it.
CREATE INDEX deliveries_webhook_failed ON deliveries(webhook_id, id) WHERE status = 'failed';

-- A recovery of a webhook's failed deliveries that is still re-queueing
-- them, chunk by chunk, in the background: the request re-queues the first
-- chunk and records the rest here, so that a process that stops before it
-- is done leaves it to the next one to start. It re-queues deliveries
-- created in [since, until) that failed at or before `before` (when it was
-- asked for), so that one it re-queued and that failed again is not
-- re-queued twice.
CREATE TABLE recoveries (
    id         TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    since      INTEGER NOT NULL,
    until      INTEGER NOT NULL,
    before     INTEGER NOT NULL
);

-- +goose Down
DROP TABLE recoveries;
DROP INDEX deliveries_webhook_failed;
