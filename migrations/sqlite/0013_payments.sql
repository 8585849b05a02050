-- Bill payments: payments, the history of their state changes, refunds, citizens' saved
-- payees, and the local test acquirer's card sessions. Twin: migrations/postgres/0013_payments.sql.
-- docs/payments.md describes the model.

-- One payment order and what became of it. Amounts are para (RSD 1 = 100 para); the payer
-- pays amount_para + fee_para; refunded_para counts what has been paid back so far.
-- owner_kind says whose it is: a citizen (owner_user), an organisation through an API key
-- (owner_organisation, api_key_id), or a clerk (owner_user) at an office's counter
-- (owner_office). reference is the payee's model and reference number in IPS QR form
-- ('97' || control || body); collection_reference is ePošta's own model-97 reference of an
-- IPS transfer to the collection account, unique, matched by reconciliation together with
-- the amount; bank_ref is the bank's reference of the transfer that completed it.
-- Card payments: provider and provider_ref name the acquirer's payment, redirect_url its
-- hosted card page, return_url where the card holder comes back to.
CREATE TABLE payments (
    id                   BLOB PRIMARY KEY NOT NULL,
    confirmation         TEXT NOT NULL UNIQUE CHECK (length(confirmation) = 12),
    state                TEXT NOT NULL CHECK (state IN ('created', 'pending', 'succeeded', 'failed',
                             'cancelled', 'expired', 'refunded', 'partially_refunded')),
    method               TEXT NOT NULL CHECK (method IN ('card', 'ips', 'cash')),
    channel              TEXT NOT NULL CHECK (channel IN ('web', 'api', 'counter')),
    owner_kind           TEXT NOT NULL CHECK (owner_kind IN ('citizen', 'organisation', 'counter')),
    owner_user           BLOB REFERENCES users (id),
    owner_organisation   BLOB REFERENCES organisations (id),
    owner_office         BLOB REFERENCES offices (id),
    api_key_id           BLOB REFERENCES api_keys (id),
    payer_name           TEXT NOT NULL,
    payer_address        TEXT NOT NULL,
    payee_name           TEXT NOT NULL,
    payee_address        TEXT NOT NULL,
    payee_account        TEXT NOT NULL CHECK (length(payee_account) = 18),
    purpose              TEXT NOT NULL,
    payment_code         TEXT NOT NULL CHECK (length(payment_code) = 3),
    reference            TEXT,
    amount_para          INTEGER NOT NULL CHECK (amount_para > 0 AND amount_para <= 1000000000),
    fee_para             INTEGER NOT NULL CHECK (fee_para >= 0),
    refunded_para        INTEGER NOT NULL DEFAULT 0 CHECK (refunded_para >= 0),
    currency             TEXT NOT NULL CHECK (currency = 'RSD'),
    provider             TEXT,
    provider_ref         TEXT,
    return_url           TEXT,
    redirect_url         TEXT,
    collection_reference TEXT UNIQUE,
    bank_ref             TEXT,
    submission_key       TEXT UNIQUE,
    expires_at           TEXT,
    completed_at         TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    CHECK (owner_kind <> 'citizen' OR owner_user IS NOT NULL),
    CHECK (owner_kind <> 'organisation' OR owner_organisation IS NOT NULL),
    CHECK (owner_kind <> 'counter' OR (owner_user IS NOT NULL AND owner_office IS NOT NULL))
);
CREATE UNIQUE INDEX payments_provider_ref ON payments (provider, provider_ref);
CREATE UNIQUE INDEX payments_bank_ref ON payments (bank_ref) WHERE bank_ref IS NOT NULL;
CREATE INDEX payments_owner_user ON payments (owner_user, created_at);
CREATE INDEX payments_owner_organisation ON payments (owner_organisation, created_at);
CREATE INDEX payments_pending ON payments (expires_at) WHERE state = 'pending';

-- Every state change of a payment, in order: the event, the states before and after, who
-- or what caused it (user:…, key:…, provider:…, system) and details without personal data.
-- The first row of a payment is its creation (event 'create', from_state NULL). Rows are
-- written with the change, in its transaction (or statement); the payments sweeper chains
-- them into the audit log in batches and marks them audited in the same transaction
-- (docs/payments.md, "Audit").
CREATE TABLE payment_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id BLOB NOT NULL REFERENCES payments (id),
    event      TEXT NOT NULL CHECK (event IN ('create', 'start', 'succeed', 'fail', 'cancel',
                   'expire', 'refund_part', 'refund_rest')),
    from_state TEXT,
    to_state   TEXT NOT NULL,
    actor      TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}',
    audited    BOOLEAN NOT NULL DEFAULT FALSE,
    at         TEXT NOT NULL
);
CREATE INDEX payment_events_payment ON payment_events (payment_id, id);
CREATE INDEX payment_events_unaudited ON payment_events (id) WHERE NOT audited;

-- Refunds asked of the card acquirer. A 'pending' refund already counts against what may
-- still be refunded, so that two refunds at once cannot pay back more than was charged.
CREATE TABLE payment_refunds (
    id           BLOB PRIMARY KEY NOT NULL,
    payment_id   BLOB NOT NULL REFERENCES payments (id),
    amount_para  INTEGER NOT NULL CHECK (amount_para > 0),
    state        TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    provider_ref TEXT,
    requested_by TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX payment_refunds_payment ON payment_refunds (payment_id);

-- A citizen's saved payees, to fill the payment form again. reference in IPS QR form.
CREATE TABLE saved_payees (
    id           BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    address      TEXT NOT NULL,
    account      TEXT NOT NULL CHECK (length(account) = 18),
    payment_code TEXT NOT NULL CHECK (length(payment_code) = 3),
    reference    TEXT,
    purpose      TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX saved_payees_unique ON saved_payees (user_id, account, name);

-- The local test acquirer's card sessions (crates/eposta-payments/src/provider/test_acquirer):
-- in a real installation these rows would live at the acquirer, not here. No card number is
-- stored, only its last four digits, as an acquirer shows them.
CREATE TABLE test_acquirer_sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    merchant_ref   TEXT NOT NULL UNIQUE,
    amount_para    INTEGER NOT NULL CHECK (amount_para > 0),
    description    TEXT NOT NULL,
    return_url     TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('open', 'challenge', 'succeeded', 'declined', 'cancelled')),
    decline_reason TEXT,
    card_last4     TEXT,
    refunded_para  INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
