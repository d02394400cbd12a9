-- +goose Up
-- Two indexes that no read uses, each written by every delivery: an
-- attempt is read only with its delivery (attempts_delivery) or counted
-- for its webhook's health (attempts_webhook_at), never looked up by its
-- id; deliveries are listed by webhook or by source, and found by id or
-- by event, never by app alone (an app's go with its events). A
-- delivered event wrote sixteen index entries; it now writes thirteen
-- (the record's new row version wrote one into deliveries_app too).
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
DROP INDEX deliveries_app;

-- +goose Down
CREATE INDEX deliveries_app ON deliveries(app_id, id);
ALTER TABLE attempts ADD PRIMARY KEY (id);
