-- Tracking lookups answered from the index alone. Twin: migrations/sqlite/0012_tracking_lookup_index.sql.
--
-- The unique key of events (item, code, location, time) also serves lookups by item; carrying
-- the other columns a lookup shows in the same index lets PostgreSQL answer a lookup with an
-- index-only scan instead of visiting one heap page per event (an item's events arrive over
-- days, so they lie on different pages). The unique index replaces the table's UNIQUE
-- constraint, so there is still one index, only wider; `ON CONFLICT (tracking_number, code,
-- location, event_time)` infers it as before. Measured in docs/benchmarks.md ("Tracking
-- lookups").
CREATE UNIQUE INDEX tracking_events_key ON tracking_events (tracking_number, code, location, event_time)
    INCLUDE (id, status, reason_code, action_code);
ALTER TABLE tracking_events DROP CONSTRAINT tracking_events_tracking_number_code_location_event_time_key;
