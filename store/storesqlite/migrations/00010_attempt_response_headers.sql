-- +goose Up
-- The headers of an attempt's answer, as a JSON object like
-- request_headers; '' (older rows, and attempts that got no answer) is
-- none.
ALTER TABLE attempts ADD COLUMN response_headers TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE attempts DROP COLUMN response_headers;
