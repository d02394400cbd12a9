-- +goose Up
-- Retention finds old events by id (ids carry their creation time; see
-- ident.Floor), through the primary key, so the index on created_at that
-- it used is one entry per event that nothing reads.
DROP INDEX events_created;

-- +goose Down
CREATE INDEX events_created ON events(created_at);
