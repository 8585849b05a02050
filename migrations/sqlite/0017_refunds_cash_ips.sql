-- Refunds of cash payments at the counter and of IPS payments by credit transfer (card
-- refunds go through the acquirer as before). Twin: migrations/postgres/0017_refunds_cash_ips.sql.
-- docs/payments.md ("Refunds"), docs/counter-payments.md ("Paying back at the counter") and
-- docs/payments-reconciliation.md ("Refund batches") describe the rules.

-- How a refund is paid back: 'acquirer' (a card payment, through the acquirer: every refund
-- before this migration), 'counter' (cash out of the drawer of clerk_id at office_id, who
-- notes a reason), 'transfer' (a credit transfer from the collection account to account, the
-- payer's, in the refund batch batch_id once exported). SQLite cannot add a table CHECK to
-- an existing table: the PostgreSQL twin's payment_refunds_channel_fields (counter refunds
-- name a clerk and an office, transfers an account) is kept by the code here.
ALTER TABLE payment_refunds ADD COLUMN channel TEXT NOT NULL DEFAULT 'acquirer'
    CHECK (channel IN ('acquirer', 'counter', 'transfer'));
ALTER TABLE payment_refunds ADD COLUMN reason TEXT;
ALTER TABLE payment_refunds ADD COLUMN clerk_id BLOB REFERENCES users (id);
ALTER TABLE payment_refunds ADD COLUMN office_id BLOB REFERENCES offices (id);
ALTER TABLE payment_refunds ADD COLUMN account TEXT CHECK (length(account) = 18);
-- A clerk's cash paid back in a day (the balance) and the transfers still to batch.
CREATE INDEX payment_refunds_clerk ON payment_refunds (clerk_id, created_at)
    WHERE clerk_id IS NOT NULL;
CREATE INDEX payment_refunds_office ON payment_refunds (office_id, created_at)
    WHERE office_id IS NOT NULL;
CREATE INDEX payment_refunds_to_batch ON payment_refunds (created_at)
    WHERE channel = 'transfer' AND state = 'pending';

-- A refund batch: one business day's IPS refunds (split in parts of at most 10,000
-- transfers), exported at creation as pain.001.001.03 XML and CSV, debiting the collection
-- account and crediting each payer. A parallel table rather than a kind of remittance
-- batch: a remittance batch is one payee's (payee_account, payee_name, unique per day and
-- part), a refund batch has a creditor per transfer and several refunds of one payment.
-- Immutable as remittance batches are.
CREATE TABLE refund_batches (
    id             BLOB PRIMARY KEY NOT NULL,
    business_date  TEXT NOT NULL CHECK (length(business_date) = 10),
    part           INTEGER NOT NULL CHECK (part >= 1),
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
    UNIQUE (business_date, part)
);
CREATE INDEX refund_batches_created ON refund_batches (created_at);

-- The refunds of a batch; the primary key puts a refund in at most one batch.
CREATE TABLE refund_batch_items (
    refund_id     BLOB PRIMARY KEY NOT NULL REFERENCES payment_refunds (id),
    batch_id      BLOB NOT NULL REFERENCES refund_batches (id),
    payment_id    BLOB NOT NULL REFERENCES payments (id),
    amount_para   INTEGER NOT NULL CHECK (amount_para > 0),
    end_to_end_id TEXT NOT NULL UNIQUE
);
CREATE INDEX refund_batch_items_batch ON refund_batch_items (batch_id);

CREATE TRIGGER refund_batches_no_update BEFORE UPDATE ON refund_batches
BEGIN
    SELECT RAISE(ABORT, 'refund batches are immutable once exported');
END;
CREATE TRIGGER refund_batches_no_delete BEFORE DELETE ON refund_batches
BEGIN
    SELECT RAISE(ABORT, 'refund batches are immutable once exported');
END;
CREATE TRIGGER refund_batch_items_no_update BEFORE UPDATE ON refund_batch_items
BEGIN
    SELECT RAISE(ABORT, 'refund batches are immutable once exported');
END;
CREATE TRIGGER refund_batch_items_no_delete BEFORE DELETE ON refund_batch_items
BEGIN
    SELECT RAISE(ABORT, 'refund batches are immutable once exported');
END;

-- The batch a transfer refund went out in (NULL: not yet), set with its item.
ALTER TABLE payment_refunds ADD COLUMN batch_id BLOB REFERENCES refund_batches (id);

-- The account an IPS payment was paid from, as the bank statement that completed it names
-- it (camt.053 RltdPties/DbtrAcct): where a refund goes back to. Written by reconciliation
-- for the payments each batch completes. Personal data: shown to the payer and on refund
-- batches, never logged. No foreign key: the row is written in the transaction that
-- completes the payment, and checking a key per row would slow a million-entry import.
-- WITHOUT ROWID: the rows live in the primary key's b-tree, one insert per row, not two.
CREATE TABLE payment_payer_accounts (
    payment_id BLOB PRIMARY KEY NOT NULL,
    account    TEXT NOT NULL CHECK (length(account) = 18)
) WITHOUT ROWID;

-- A closed cash day's refunds paid out at the counter by the clerk: how many and their sum.
-- expected_para is then the cash taken less the cash paid back.
ALTER TABLE counter_cash_days ADD COLUMN refunds INTEGER CHECK (refunds >= 0);
ALTER TABLE counter_cash_days ADD COLUMN refunded_para INTEGER CHECK (refunded_para >= 0);
