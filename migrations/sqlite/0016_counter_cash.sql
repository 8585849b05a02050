-- Cash payments at the counter: each clerk's cash day (Europe/Belgrade date) and its balance
-- at closing. Twin: migrations/postgres/0016_counter_cash.sql. docs/counter-payments.md
-- describes the rules.

-- A clerk's cash day. The first cash payment of the day makes the row (open); every cash
-- payment takes the row in its transaction, so a close and a payment never interleave:
-- closing sets closed_at and the totals counted from the clerk's cash payments of the day,
-- the cash the clerk counted, and the difference (counted - expected; negative: cash is
-- missing). A closed day takes no more cash payments from that clerk.
CREATE TABLE counter_cash_days (
    id              BLOB PRIMARY KEY NOT NULL,
    clerk_id        BLOB NOT NULL REFERENCES users (id),
    office_id       BLOB NOT NULL REFERENCES offices (id),
    day             TEXT NOT NULL CHECK (length(day) = 10),
    opened_at       TEXT NOT NULL,
    closed_at       TEXT,
    payments        INTEGER CHECK (payments >= 0),
    amount_para     INTEGER CHECK (amount_para >= 0),
    fee_para        INTEGER CHECK (fee_para >= 0),
    expected_para   INTEGER CHECK (expected_para >= 0),
    counted_para    INTEGER CHECK (counted_para >= 0),
    difference_para INTEGER,
    CHECK ((closed_at IS NULL) = (counted_para IS NULL)),
    UNIQUE (clerk_id, day)
);
CREATE INDEX counter_cash_days_office ON counter_cash_days (office_id, day);

-- The office's cash payments of a day, for its manager's view of the balances.
CREATE INDEX payments_owner_office ON payments (owner_office, created_at) WHERE owner_office IS NOT NULL;
