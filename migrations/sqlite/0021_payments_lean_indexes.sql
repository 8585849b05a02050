-- Twin of migrations/postgres/0021_payments_lean_indexes.sql: the indexes on columns most
-- payments leave empty hold only the rows with a value. SQLite's default collation already
-- compares bytes, and its submission key's UNIQUE is part of the table (changing it means
-- rebuilding the table), so those two parts have nothing to do here.
DROP INDEX payments_provider_ref;
CREATE UNIQUE INDEX payments_provider_ref ON payments (provider, provider_ref)
    WHERE provider_ref IS NOT NULL;
DROP INDEX payments_owner_user;
CREATE INDEX payments_owner_user ON payments (owner_user, created_at)
    WHERE owner_user IS NOT NULL;
DROP INDEX payments_owner_organisation;
CREATE INDEX payments_owner_organisation ON payments (owner_organisation, created_at)
    WHERE owner_organisation IS NOT NULL;
