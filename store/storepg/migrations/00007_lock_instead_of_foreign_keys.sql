-- +goose Up
-- The last foreign keys that every published event and delivery checked:
-- events to apps and sources, deliveries to webhooks and sources. Each
-- inserted row queued a trigger that looked its app or webhook up and
-- locked it (FOR KEY SHARE), 4 to 6 µs a row: a tenth of PostgreSQL's CPU
-- per delivered event. A publish now locks its app and the app's
-- webhooks once, as it reads them to route (storepg's routing), and a
-- receive its source: a delete of any of them waits for the commit, and
-- the triggers below then delete what it wrote; a delete that committed
-- first leaves nothing to route to. What ON DELETE CASCADE did, the
-- triggers do once per statement.
ALTER TABLE events DROP CONSTRAINT events_app_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_source_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_webhook_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_source_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION hookd_delete_events_of_apps() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM events e USING gone g WHERE e.app_id = g.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER apps_cascade AFTER DELETE ON apps
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION hookd_delete_events_of_apps();

-- +goose StatementBegin
CREATE FUNCTION hookd_delete_deliveries_of_webhooks() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM deliveries d USING gone g WHERE d.webhook_id = g.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER webhooks_cascade AFTER DELETE ON webhooks
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION hookd_delete_deliveries_of_webhooks();

-- +goose StatementBegin
CREATE FUNCTION hookd_delete_rows_of_sources() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM events e USING gone g WHERE e.source_id = g.id;
    DELETE FROM deliveries d USING gone g WHERE d.source_id = g.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER sources_cascade AFTER DELETE ON sources
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION hookd_delete_rows_of_sources();

-- +goose Down
DROP TRIGGER sources_cascade ON sources;
DROP FUNCTION hookd_delete_rows_of_sources();
DROP TRIGGER webhooks_cascade ON webhooks;
DROP FUNCTION hookd_delete_deliveries_of_webhooks();
DROP TRIGGER apps_cascade ON apps;
DROP FUNCTION hookd_delete_events_of_apps();
DELETE FROM deliveries d WHERE d.source_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.id = d.source_id);
DELETE FROM deliveries d WHERE d.webhook_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id);
DELETE FROM events e WHERE e.source_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.id = e.source_id);
DELETE FROM events e WHERE NOT EXISTS (SELECT 1 FROM apps a WHERE a.id = e.app_id);
ALTER TABLE deliveries ADD CONSTRAINT deliveries_source_id_fkey FOREIGN KEY (source_id) REFERENCES sources(id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES webhooks(id) ON DELETE CASCADE;
ALTER TABLE events ADD CONSTRAINT events_source_id_fkey FOREIGN KEY (source_id) REFERENCES sources(id) ON DELETE CASCADE;
ALTER TABLE events ADD CONSTRAINT events_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps(id) ON DELETE CASCADE;
