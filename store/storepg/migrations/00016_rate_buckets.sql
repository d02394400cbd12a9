-- +goose Up
-- A token bucket per rate-limited webhook, shared by every process on the
-- database (see Store.TakeTokens): tokens refill at rate a second up to
-- burst; at is when they were last counted, in seconds of the database's
-- clock, so that processes whose clocks differ agree. wanted and granted
-- are the last request's, kept on the row so that one upsert can answer
-- it. Only rate-limited webhooks have a row; the foreign key is checked
-- when a bucket is first made, and deleting a webhook deletes its bucket.
CREATE TABLE rate_buckets (
    webhook_id text COLLATE "C" PRIMARY KEY REFERENCES webhooks(id) ON DELETE CASCADE,
    rate       double precision NOT NULL,
    burst      double precision NOT NULL,
    tokens     double precision NOT NULL,
    at         double precision NOT NULL,
    wanted     integer NOT NULL,
    granted    integer NOT NULL
);

-- +goose Down
DROP TABLE rate_buckets;
