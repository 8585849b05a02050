-- Tracking lookups answered from the index alone. Twin: migrations/postgres/0012_tracking_lookup_index.sql.
--
-- On PostgreSQL the unique key of events becomes a unique index that carries the columns a
-- lookup shows (INCLUDE). SQLite has no INCLUDE, and its lookups are not where the benchmark
-- is, so its unique key (item, code, location, time) stays as it is: nothing to change here.
SELECT 1;
