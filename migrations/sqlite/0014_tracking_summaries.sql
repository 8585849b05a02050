-- Each item's events in one row, for lookups and ingest's history checks. Twin:
-- migrations/postgres/0014_tracking_summaries.sql (the reasons are there).
--
-- Times are copied as SQLite stores them (RFC 3339 with +00:00), which tracking::summary
-- reads as it reads its own.
CREATE TABLE tracking_summaries (
    tracking_number TEXT PRIMARY KEY,
    events          TEXT NOT NULL
);

INSERT INTO tracking_summaries (tracking_number, events)
SELECT tracking_number,
       group_concat(code || '|' || status || '|' || location || '|' || event_time
                    || '|' || COALESCE(reason_code, '') || '|' || COALESCE(action_code, ''),
                    char(10) ORDER BY id)
FROM tracking_events
GROUP BY tracking_number;
