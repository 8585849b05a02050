-- Each item's events in one row, for lookups and ingest's history checks. Twin:
-- migrations/sqlite/0014_tracking_summaries.sql.
--
-- A lookup used to read an item's events from the unique index of tracking_events, eight or
-- more index entries on pages of an index that grows with every event; it now reads one row
-- by primary key, as a lookup of postal_items would. tracking_events stays the record;
-- eposta-postal's tracking::store appends a line here for every event it stores, in the same
-- transaction (format: tracking::summary). Measured in docs/benchmarks.md ("Tracking lookups").
-- Rows are updated in place as events arrive: the fill factor leaves room on each page so
-- that an update stays on its page (a HOT update, no new index entry).
CREATE TABLE tracking_summaries (
    tracking_number TEXT PRIMARY KEY,
    events          TEXT NOT NULL
) WITH (fillfactor = 70);

INSERT INTO tracking_summaries (tracking_number, events)
SELECT tracking_number,
       string_agg(code || '|' || status || '|' || location || '|'
                  || to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                  || '|' || COALESCE(reason_code, '') || '|' || COALESCE(action_code, ''),
                  E'\n' ORDER BY id)
FROM tracking_events
GROUP BY tracking_number;
