-- Leaner indexes on payments, for reconciliation on PostgreSQL (docs/benchmarks.md,
-- "Reconciliation"). Twin: migrations/sqlite/0021_payments_lean_indexes.sql.
--
-- Completing a payment is never a HOT update (its state and bank reference are indexed), so
-- every completion writes a new entry into every index of the table: 54 % of the server's
-- CPU in a million-entry import went to index insertion (perf). Two changes cut it:
--
-- 1. Indexes on columns that most rows leave empty hold only the rows that have a value:
--    an acquirer's reference (card payments only), the owning user (not an organisation's
--    payments), the owning organisation (not a citizen's), the counter form's submission key
--    (counter payments only). Every query on them names a value (`= $1`), which PostgreSQL
--    proves to imply IS NOT NULL, so they still use these indexes; uniqueness is unchanged,
--    since NULLs never conflicted.
-- 2. Codes compare byte by byte: the confirmation number, ePošta's collection reference and
--    the bank's reference are ASCII identifiers, never sorted for people, so they take the
--    "C" collation instead of the database's (C.UTF-8 or a language's), whose comparisons
--    copy and collate both strings. Equality is the same under either.
--
-- Measured on the reconciliation benchmark (1,000,000 entries, 880,000 completions): the
-- server's CPU went from 23.3–24.1 s to 19.9–20.4 s, the import from 27.6–29.3 s to 24.8–24.9 s
-- (docs/benchmarks.md).
DROP INDEX payments_provider_ref;
CREATE UNIQUE INDEX payments_provider_ref ON payments (provider, provider_ref)
    WHERE provider_ref IS NOT NULL;
DROP INDEX payments_owner_user;
CREATE INDEX payments_owner_user ON payments (owner_user, created_at)
    WHERE owner_user IS NOT NULL;
DROP INDEX payments_owner_organisation;
CREATE INDEX payments_owner_organisation ON payments (owner_organisation, created_at)
    WHERE owner_organisation IS NOT NULL;
ALTER TABLE payments DROP CONSTRAINT payments_submission_key_key;
CREATE UNIQUE INDEX payments_submission_key ON payments (submission_key)
    WHERE submission_key IS NOT NULL;
ALTER TABLE payments
    ALTER COLUMN confirmation TYPE TEXT COLLATE "C",
    ALTER COLUMN collection_reference TYPE TEXT COLLATE "C",
    ALTER COLUMN bank_ref TYPE TEXT COLLATE "C";
