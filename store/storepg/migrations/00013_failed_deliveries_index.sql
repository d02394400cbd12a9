-- +goose Up
-- A webhook's failed deliveries, newest first, for its deliveries list
-- filtered by status=failed and for recover: without it both walked every
-- delivery the webhook ever had to find the few that failed. An entry is
-- written only when a delivery fails (a status change, which rewrites
-- every index of the row anyway: status is in the predicates of
-- deliveries_due and deliveries_webhook_open) and goes when it is
-- recovered or pruned, so the engine's inserts and its updates to
-- pending or succeeded never touch it.
CREATE INDEX deliveries_webhook_failed ON deliveries(webhook_id, id) WHERE status = 'failed';

-- +goose Down
DROP INDEX deliveries_webhook_failed;
