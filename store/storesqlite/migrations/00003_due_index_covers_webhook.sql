-- +goose Up
-- Claims scan the due index past the deliveries of webhooks that have no
-- room; with the webhook in the index they need not read the rows.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at, webhook_id) WHERE status = 'pending';

-- +goose Down
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
