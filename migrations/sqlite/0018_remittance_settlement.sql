-- Settlement of remittance batches (crates/eposta-payments/src/remittance/settle.rs and
-- src/reconcile/debits.rs): what the bank said about each exported batch (pain.002) and
-- what its statements show (the batch's debits). Twin: migrations/postgres/0018_remittance_settlement.sql.
-- docs/payments-reconciliation.md, "Settlement", describes it.
--
-- Batches and their items never change (0015's triggers), so their status lives beside them:
-- the current status of a batch and of each transfer that has one of its own, and an
-- append-only history of every change with what caused it.

-- One pain.002 read (eposta remittance status FILE, or the upload on
-- /admin/payments/remittance). Its GrpHdr/MsgId is unique per sending bank: a report read
-- again is recognised and changes nothing. batch_id is NULL when OrgnlMsgId names no batch
-- of ours (the report is kept, so that it is recognised too).
CREATE TABLE remittance_status_reports (
    id                  BLOB PRIMARY KEY NOT NULL,
    message_id          TEXT NOT NULL UNIQUE,
    original_message_id TEXT NOT NULL,
    batch_id            BLOB REFERENCES remittance_batches (id),
    version             TEXT NOT NULL,
    file_name           TEXT NOT NULL,
    file_sha256         TEXT NOT NULL CHECK (length(file_sha256) = 64),
    source              TEXT NOT NULL CHECK (source IN ('cli', 'upload')),
    imported_by         TEXT NOT NULL,
    transactions        INTEGER NOT NULL CHECK (transactions >= 0),
    changed             INTEGER NOT NULL CHECK (changed >= 0),
    unknown             INTEGER NOT NULL CHECK (unknown >= 0),
    created_at          TEXT NOT NULL
);
CREATE INDEX remittance_status_reports_batch ON remittance_status_reports (batch_id);

-- The current status of a batch: a pain.002 code, or 'settled' once the batch's debits are
-- booked on a statement of the collection account.
CREATE TABLE remittance_batch_status (
    batch_id         BLOB PRIMARY KEY NOT NULL REFERENCES remittance_batches (id),
    status           TEXT NOT NULL CHECK (status IN ('RCVD', 'PDNG', 'ACTC', 'ACCP', 'ACSP', 'ACWC', 'ACSC', 'PART', 'RJCT', 'settled')),
    reason_code      TEXT,
    report_id        BLOB REFERENCES remittance_status_reports (id),
    statement_import BLOB REFERENCES statement_imports (id),
    updated_at       TEXT NOT NULL
);

-- The current status of a transfer (a payment of a batch) that has one of its own: named in
-- a TxInfAndSts, rejected with its whole batch, or booked on a statement. A transfer without
-- a row has its batch's status.
CREATE TABLE remittance_transfer_status (
    batch_id         BLOB NOT NULL REFERENCES remittance_batches (id),
    payment_id       BLOB NOT NULL REFERENCES payments (id),
    status           TEXT NOT NULL CHECK (status IN ('PDNG', 'ACTC', 'ACCP', 'ACSP', 'ACWC', 'ACSC', 'RJCT', 'settled')),
    reason_code      TEXT,
    reason_info      TEXT,
    report_id        BLOB REFERENCES remittance_status_reports (id),
    statement_import BLOB REFERENCES statement_imports (id),
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (batch_id, payment_id)
);

-- Every change of a batch's (payment_id NULL) or a transfer's status, with the report or the
-- statement import that made it. Append-only: the triggers below refuse changes.
CREATE TABLE remittance_status_history (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id         BLOB NOT NULL REFERENCES remittance_batches (id),
    payment_id       BLOB REFERENCES payments (id),
    status           TEXT NOT NULL CHECK (status IN ('RCVD', 'PDNG', 'ACTC', 'ACCP', 'ACSP', 'ACWC', 'ACSC', 'PART', 'RJCT', 'settled')),
    reason_code      TEXT,
    reason_info      TEXT,
    report_id        BLOB REFERENCES remittance_status_reports (id),
    statement_import BLOB REFERENCES statement_imports (id),
    recorded_at      TEXT NOT NULL
);
CREATE INDEX remittance_status_history_batch ON remittance_status_history (batch_id, id);

-- A transfer the bank rejected (RJCT): its money never left the collection account, so its
-- payment is due again. The next remittance run puts it into a new batch and sets
-- retry_batch (compare-and-set on NULL); the partial unique index allows one open rejection
-- per payment. A retried transfer rejected again gets a row of its own (its retry batch).
CREATE TABLE remittance_rejections (
    batch_id          BLOB NOT NULL REFERENCES remittance_batches (id),
    payment_id        BLOB NOT NULL REFERENCES payments (id),
    end_to_end_id     TEXT NOT NULL,
    amount_para       INTEGER NOT NULL CHECK (amount_para > 0),
    reason_code       TEXT,
    report_id         BLOB REFERENCES remittance_status_reports (id),
    rejected_at       TEXT NOT NULL,
    retry_batch       BLOB REFERENCES remittance_batches (id),
    retry_amount_para INTEGER CHECK (retry_amount_para > 0),
    PRIMARY KEY (batch_id, payment_id),
    CHECK ((retry_batch IS NULL) = (retry_amount_para IS NULL))
);
CREATE UNIQUE INDEX remittance_rejections_open ON remittance_rejections (payment_id)
    WHERE retry_batch IS NULL;
CREATE INDEX remittance_rejections_retry ON remittance_rejections (retry_batch)
    WHERE retry_batch IS NOT NULL;
CREATE INDEX remittance_rejections_e2e ON remittance_rejections (end_to_end_id)
    WHERE retry_batch IS NOT NULL;

-- Every transfer of every batch: the items of 0015 (a payment's first batch) and the retries
-- of rejected transfers.
CREATE VIEW remittance_transfers AS
    SELECT batch_id, payment_id, amount_para, end_to_end_id FROM remittance_items
    UNION ALL
    SELECT retry_batch, payment_id, retry_amount_para, end_to_end_id FROM remittance_rejections
    WHERE retry_batch IS NOT NULL;

-- Statement debits and pain.002 transactions are matched by end-to-end id.
CREATE INDEX remittance_items_e2e ON remittance_items (end_to_end_id);

CREATE TRIGGER remittance_status_history_no_update BEFORE UPDATE ON remittance_status_history
BEGIN
    SELECT RAISE(ABORT, 'the remittance status history is append-only');
END;
CREATE TRIGGER remittance_status_history_no_delete BEFORE DELETE ON remittance_status_history
BEGIN
    SELECT RAISE(ABORT, 'the remittance status history is append-only');
END;

-- A statement's debits that settle a remittance batch are counted as their own outcome.
-- SQLite cannot change a CHECK: the table is rebuilt (nothing refers to it).
CREATE TABLE statement_outcomes_0018 (
    import_id BLOB NOT NULL REFERENCES statement_imports (id),
    outcome   TEXT NOT NULL CHECK (outcome IN ('completed', 'already_completed',
                  'unknown_reference', 'amount_mismatch', 'not_pending', 'bank_ref_used',
                  'other_currency', 'reversal', 'debit', 'remittance_debit', 'not_booked',
                  'statement_seen')),
    entries   INTEGER NOT NULL CHECK (entries > 0),
    para      INTEGER NOT NULL,
    PRIMARY KEY (import_id, outcome)
);
INSERT INTO statement_outcomes_0018 (import_id, outcome, entries, para)
    SELECT import_id, outcome, entries, para FROM statement_outcomes;
DROP TABLE statement_outcomes;
ALTER TABLE statement_outcomes_0018 RENAME TO statement_outcomes;
