-- +goose Up
-- The webhooks and sources whose due deliveries a claim may not simply
-- take: paused or disabled ones, and ordered webhooks. They are few, and
-- claims read them once each (storepg's dueQuery) instead of looking up
-- every due delivery's webhook and source.
CREATE INDEX webhooks_unusual ON webhooks(id) WHERE status <> 'active' OR ordered;
CREATE INDEX sources_unusual ON sources(id) WHERE status <> 'active';

-- +goose Down
DROP INDEX sources_unusual;
DROP INDEX webhooks_unusual;
