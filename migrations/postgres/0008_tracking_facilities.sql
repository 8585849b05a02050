-- Tracking: the facilities (sorting centres, exchange offices, depots) that post events beside
-- the post offices, and an index for the staff's list of flagged events.
-- Twin: migrations/sqlite/0008_tracking_facilities.sql.

-- A scanner names where an event happened by an office code (offices.code) or by one of
-- these codes; a code is one or the other, never both (the service checks on registration).
CREATE TABLE postal_facilities (
    code       TEXT PRIMARY KEY NOT NULL CHECK (length(code) BETWEEN 1 AND 16),
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Flagged events are few; staff list them per location, newest first.
CREATE INDEX tracking_events_flagged ON tracking_events (location, id) WHERE flag IS NOT NULL;
