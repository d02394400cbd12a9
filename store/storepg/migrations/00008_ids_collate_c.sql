-- +goose Up
-- Ids compare byte by byte (COLLATE "C") rather than by the database's
-- collation: every index probe and insert on an id column compared text
-- through the locale's rules (bttextcmp, strcoll), a tenth of
-- PostgreSQL's CPU per delivered event. Ids are ASCII, so their order is
-- the same. Every column that holds an id changes together: a comparison
-- of a "C" column with one of the default collation is made in "C", and
-- an index of the default collation cannot serve it. Indexes on these
-- columns are rebuilt (the tables are not rewritten), which takes a while
-- on a large database, once.
ALTER TABLE apps ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE event_types ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE app_keys ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN app_id TYPE text COLLATE "C";
ALTER TABLE webhooks ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN app_id TYPE text COLLATE "C";
ALTER TABLE sources ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN app_id TYPE text COLLATE "C";
ALTER TABLE idempotency_keys ALTER COLUMN app_id TYPE text COLLATE "C", ALTER COLUMN event_id TYPE text COLLATE "C";
ALTER TABLE events ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN app_id TYPE text COLLATE "C",
    ALTER COLUMN source_id TYPE text COLLATE "C";
ALTER TABLE deliveries ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN app_id TYPE text COLLATE "C",
    ALTER COLUMN event_id TYPE text COLLATE "C", ALTER COLUMN webhook_id TYPE text COLLATE "C",
    ALTER COLUMN source_id TYPE text COLLATE "C";
ALTER TABLE attempts ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN delivery_id TYPE text COLLATE "C",
    ALTER COLUMN webhook_id TYPE text COLLATE "C";

-- +goose Down
ALTER TABLE attempts ALTER COLUMN id TYPE text COLLATE "default", ALTER COLUMN delivery_id TYPE text COLLATE "default",
    ALTER COLUMN webhook_id TYPE text COLLATE "default";
ALTER TABLE deliveries ALTER COLUMN id TYPE text COLLATE "default", ALTER COLUMN app_id TYPE text COLLATE "default",
    ALTER COLUMN event_id TYPE text COLLATE "default", ALTER COLUMN webhook_id TYPE text COLLATE "default",
    ALTER COLUMN source_id TYPE text COLLATE "default";
ALTER TABLE events ALTER COLUMN id TYPE text COLLATE "default", ALTER COLUMN app_id TYPE text COLLATE "default",
    ALTER COLUMN source_id TYPE text COLLATE "default";
ALTER TABLE idempotency_keys ALTER COLUMN app_id TYPE text COLLATE "default", ALTER COLUMN event_id TYPE text COLLATE "default";
ALTER TABLE sources ALTER COLUMN id TYPE text COLLATE "default", ALTER COLUMN app_id TYPE text COLLATE "default";
ALTER TABLE webhooks ALTER COLUMN id TYPE text COLLATE "default", ALTER COLUMN app_id TYPE text COLLATE "default";
ALTER TABLE app_keys ALTER COLUMN id TYPE text COLLATE "default", ALTER COLUMN app_id TYPE text COLLATE "default";
ALTER TABLE event_types ALTER COLUMN id TYPE text COLLATE "default";
ALTER TABLE apps ALTER COLUMN id TYPE text COLLATE "default";
