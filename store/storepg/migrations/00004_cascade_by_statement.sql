-- +goose Up
-- A foreign key checks every row inserted, and on the delivery path those
-- checks cost more than the inserts (three per delivery, one per
-- attempt). These three guard nothing the code does not: a delivery is
-- inserted in the transaction that inserts its event (and its app is its
-- event's), an attempt under a lock on its delivery's row. What they did
-- on delete, the triggers below do once per statement.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_app_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION hookd_delete_deliveries_of_events() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM deliveries d USING gone g WHERE d.event_id = g.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_cascade AFTER DELETE ON events
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION hookd_delete_deliveries_of_events();

-- +goose StatementBegin
CREATE FUNCTION hookd_delete_attempts_of_deliveries() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM attempts a USING gone g WHERE a.delivery_id = g.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER deliveries_cascade AFTER DELETE ON deliveries
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION hookd_delete_attempts_of_deliveries();

-- +goose Down
DROP TRIGGER deliveries_cascade ON deliveries;
DROP FUNCTION hookd_delete_attempts_of_deliveries();
DROP TRIGGER events_cascade ON events;
DROP FUNCTION hookd_delete_deliveries_of_events();
DELETE FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id);
DELETE FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id);
ALTER TABLE attempts ADD CONSTRAINT attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES deliveries(id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps(id) ON DELETE CASCADE;
