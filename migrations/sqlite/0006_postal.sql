-- Postal items and their tracking events. Twin: migrations/postgres/0006_postal.sql.

-- The next serial per S10 service indicator; allocation takes blocks with UPDATE … RETURNING.
CREATE TABLE s10_serials (
    service_indicator TEXT PRIMARY KEY NOT NULL CHECK (length(service_indicator) = 2),
    next_serial       INTEGER NOT NULL CHECK (next_serial BETWEEN 0 AND 100000000),
    wrapped_at        TEXT
);

CREATE TABLE postal_items (
    id                     BLOB PRIMARY KEY NOT NULL,
    tracking_number        TEXT NOT NULL UNIQUE,
    booking_code           TEXT NOT NULL UNIQUE,
    product                TEXT NOT NULL CHECK (product IN ('letter', 'registered_letter', 'parcel', 'express')),
    weight_g               INTEGER NOT NULL CHECK (weight_g > 0),
    options                TEXT NOT NULL,
    cod_minor              INTEGER,
    declared_value_minor   INTEGER,
    price_minor            INTEGER NOT NULL,
    vat_minor              INTEGER NOT NULL,
    currency               TEXT NOT NULL,
    sender_name            TEXT NOT NULL,
    sender_street          TEXT NOT NULL,
    sender_number          TEXT NOT NULL,
    sender_postal_code     TEXT NOT NULL,
    sender_place           TEXT NOT NULL,
    sender_phone           TEXT,
    recipient_name         TEXT NOT NULL,
    recipient_street       TEXT NOT NULL,
    recipient_number       TEXT NOT NULL,
    recipient_postal_code  TEXT NOT NULL,
    recipient_place        TEXT NOT NULL,
    recipient_phone        TEXT,
    recipient_email        TEXT,
    status                 TEXT NOT NULL,
    booked_by_user         BLOB REFERENCES users (id),
    booked_by_organisation BLOB REFERENCES organisations (id),
    accepted_office_id     BLOB REFERENCES offices (id),
    accepted_at            TEXT,
    paid_at                TEXT,
    payment_method         TEXT CHECK (payment_method IN ('cash', 'card', 'online')),
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX postal_items_user ON postal_items (booked_by_user, created_at);
CREATE INDEX postal_items_organisation ON postal_items (booked_by_organisation, created_at);

-- Events may name items booked elsewhere (inbound international mail), so no foreign key.
-- The unique key makes a repeated event a no-op and serves lookups by item.
CREATE TABLE tracking_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tracking_number TEXT NOT NULL,
    code            TEXT NOT NULL,
    status          TEXT NOT NULL,
    location        TEXT NOT NULL,
    event_time      TEXT NOT NULL,
    reason_code     TEXT,
    action_code     TEXT,
    flag            TEXT,
    source          TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    UNIQUE (tracking_number, code, location, event_time)
);
