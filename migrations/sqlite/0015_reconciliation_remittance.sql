-- Reconciliation of bank statements (crates/eposta-payments/src/reconcile) and remittance
-- to payees (crates/eposta-payments/src/remittance). Twin:
-- migrations/postgres/0015_reconciliation_remittance.sql. docs/payments-reconciliation.md
-- describes both.

-- One import of a camt.053 file (eposta reconcile, or an upload at
-- /admin/payments/statements): the file's SHA-256, its GrpHdr/MsgId, where it came from and
-- who imported it. A broken file leaves no row: the import is one transaction.
CREATE TABLE statement_imports (
    id          BLOB PRIMARY KEY NOT NULL,
    file_name   TEXT NOT NULL,
    file_sha256 TEXT NOT NULL CHECK (length(file_sha256) = 64),
    message_id  TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('cli', 'upload')),
    imported_by TEXT NOT NULL,
    entries     INTEGER NOT NULL CHECK (entries >= 0),
    created_at  TEXT NOT NULL
);
CREATE INDEX statement_imports_created ON statement_imports (created_at);

-- Each statement applied, once: the bank's Stmt/Id is unique per account (ISO 20022), and it
-- survives a re-download of the statement (which changes MsgId, CreDtTm and so the file's
-- hash). A statement seen again is skipped whole.
CREATE TABLE bank_statements (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    import_id    BLOB NOT NULL REFERENCES statement_imports (id),
    account      TEXT NOT NULL CHECK (length(account) = 18),
    statement_id TEXT NOT NULL,
    created      TEXT,
    entries      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, statement_id)
);
CREATE INDEX bank_statements_import ON bank_statements (import_id);

-- What an import's entries did, by outcome: how many and their sum in para.
CREATE TABLE statement_outcomes (
    import_id BLOB NOT NULL REFERENCES statement_imports (id),
    outcome   TEXT NOT NULL CHECK (outcome IN ('completed', 'already_completed',
                  'unknown_reference', 'amount_mismatch', 'not_pending', 'bank_ref_used',
                  'other_currency', 'reversal', 'debit', 'not_booked', 'statement_seen')),
    entries   INTEGER NOT NULL CHECK (entries > 0),
    para      INTEGER NOT NULL,
    PRIMARY KEY (import_id, outcome)
);

-- The credits that did not complete a payment, for a person to look at: the line in the
-- file, the amount, the reference found (IPS form, '97…'), the bank's reference, and the
-- payment it named with the amount that payment expects or the state it is in. No names or
-- accounts of payers.
CREATE TABLE statement_items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    import_id     BLOB NOT NULL REFERENCES statement_imports (id),
    line          INTEGER NOT NULL,
    statement_id  TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('already_completed', 'unknown_reference',
                      'amount_mismatch', 'not_pending', 'bank_ref_used', 'other_currency',
                      'reversal')),
    amount_para   INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    reference     TEXT,
    bank_ref      TEXT NOT NULL,
    booking_date  TEXT,
    payment_id    BLOB REFERENCES payments (id),
    expected_para INTEGER,
    payment_state TEXT
);
CREATE INDEX statement_items_import ON statement_items (import_id, id);

-- A remittance batch: one business day's paid payments to one payee account (split in
-- parts of at most 10,000 transfers), exported at creation as pain.001.001.03 XML and CSV.
-- The exported bytes and their SHA-256 are stored; the triggers below refuse any change or
-- deletion of a batch or of its items, so a batch is immutable once exported.
CREATE TABLE remittance_batches (
    id             BLOB PRIMARY KEY NOT NULL,
    business_date  TEXT NOT NULL CHECK (length(business_date) = 10),
    payee_account  TEXT NOT NULL CHECK (length(payee_account) = 18),
    part           INTEGER NOT NULL CHECK (part >= 1),
    payee_name     TEXT NOT NULL,
    message_id     TEXT NOT NULL UNIQUE,
    execution_date TEXT NOT NULL,
    transfers      INTEGER NOT NULL CHECK (transfers > 0),
    total_para     INTEGER NOT NULL CHECK (total_para > 0),
    currency       TEXT NOT NULL CHECK (currency = 'RSD'),
    pain001        BLOB NOT NULL,
    pain001_sha256 TEXT NOT NULL CHECK (length(pain001_sha256) = 64),
    csv            BLOB NOT NULL,
    csv_sha256     TEXT NOT NULL CHECK (length(csv_sha256) = 64),
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (business_date, payee_account, part)
);
CREATE INDEX remittance_batches_created ON remittance_batches (created_at);

-- The payments of a batch and what each was paid; the primary key puts a payment in at
-- most one batch.
CREATE TABLE remittance_items (
    payment_id    BLOB PRIMARY KEY NOT NULL REFERENCES payments (id),
    batch_id      BLOB NOT NULL REFERENCES remittance_batches (id),
    amount_para   INTEGER NOT NULL CHECK (amount_para > 0),
    end_to_end_id TEXT NOT NULL
);
CREATE INDEX remittance_items_batch ON remittance_items (batch_id);

CREATE TRIGGER remittance_batches_no_update BEFORE UPDATE ON remittance_batches
BEGIN
    SELECT RAISE(ABORT, 'remittance batches are immutable once exported');
END;
CREATE TRIGGER remittance_batches_no_delete BEFORE DELETE ON remittance_batches
BEGIN
    SELECT RAISE(ABORT, 'remittance batches are immutable once exported');
END;
CREATE TRIGGER remittance_items_no_update BEFORE UPDATE ON remittance_items
BEGIN
    SELECT RAISE(ABORT, 'remittance batches are immutable once exported');
END;
CREATE TRIGGER remittance_items_no_delete BEFORE DELETE ON remittance_items
BEGIN
    SELECT RAISE(ABORT, 'remittance batches are immutable once exported');
END;

-- The batch a paid payment went out in (NULL: not remitted yet), set with its
-- remittance_items row. The partial index holds only the payments still to remit, so the
-- daily run does not scan every payment ever remitted.
ALTER TABLE payments ADD COLUMN remittance_batch BLOB REFERENCES remittance_batches (id);
CREATE INDEX payments_unremitted ON payments (completed_at)
    WHERE remittance_batch IS NULL AND state IN ('succeeded', 'partially_refunded');

-- The daily schedule: one row per business day whose remittance job was enqueued, so that
-- of several processes only one enqueues it.
CREATE TABLE remittance_days (
    business_date TEXT PRIMARY KEY NOT NULL CHECK (length(business_date) = 10),
    enqueued_at   TEXT NOT NULL
);
