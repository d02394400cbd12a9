-- +goose Up
-- The admin token's hash, one row shared by every process on the
-- database, so that all of them accept the same token.
CREATE TABLE admin_token (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    hash      TEXT NOT NULL
);

-- +goose Down
DROP TABLE admin_token;
