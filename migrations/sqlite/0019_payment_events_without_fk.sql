-- Twin of migrations/postgres/0019_payment_events_without_fk.sql, which drops the foreign key
-- of payment_events to payments on PostgreSQL for speed (docs/decisions/0003). SQLite keeps
-- it: its check is one lookup in the payments' primary key, without a lock or a write, and
-- dropping a constraint there means rebuilding the table. Nothing to change.
SELECT 1;
