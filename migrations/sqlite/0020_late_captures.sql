-- Card payments the acquirer reports paid after ePošta gave up on them (expired or
-- cancelled here: the sweeper's cancel crossed the card holder's payment at the acquirer).
-- The money was taken for a payment that will never be paid on, so it goes back at once:
-- one row per payment, written with the job that asks the acquirer for the refund (its id is
-- the refund's idempotency key there). state: 'refunding' until the acquirer confirms
-- ('refunded', with its refund reference), or 'failed' (reason) for a person to settle.
-- Twin: migrations/postgres/0020_late_captures.sql. docs/payments.md, "Paid too late".
CREATE TABLE late_captures (
    id           BLOB PRIMARY KEY NOT NULL,
    payment_id   BLOB NOT NULL UNIQUE REFERENCES payments (id),
    provider     TEXT NOT NULL,
    provider_ref TEXT NOT NULL,
    amount_para  INTEGER NOT NULL CHECK (amount_para > 0),
    state        TEXT NOT NULL CHECK (state IN ('refunding', 'refunded', 'failed')),
    refund_ref   TEXT,
    reason       TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX late_captures_open ON late_captures (created_at) WHERE state <> 'refunded';
