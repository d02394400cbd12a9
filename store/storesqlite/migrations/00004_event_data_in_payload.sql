-- +goose Up
-- An event's data is, for every envelope that embeds it as it is, a slice
-- of its payload: such an event stores an empty data column and where in
-- the payload its data lies (see store.EventDataColumns).
ALTER TABLE events ADD COLUMN data_at INTEGER;
ALTER TABLE events ADD COLUMN data_len INTEGER;

-- +goose Down
UPDATE events SET data = substr(payload, data_at, data_len) WHERE data_at IS NOT NULL;
ALTER TABLE events DROP COLUMN data_len;
ALTER TABLE events DROP COLUMN data_at;
