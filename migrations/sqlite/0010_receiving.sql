-- Receiving: the recipient's side of postal items (one-time codes, recipient sessions, the
-- recipient's choices) and the notices owed to recipients when their items move.
-- Twin: migrations/postgres/0010_receiving.sql.

-- A one-time code asked for at /receive. Every request makes a row, whether or not the
-- tracking number is booked here (then item_id is NULL and no code is sent), so that
-- throttling, wrong codes and expiry answer alike for every number. The code is kept as an
-- HMAC under the installation's secret: six digits are too few for a plain hash.
CREATE TABLE receiving_codes (
    id              BLOB PRIMARY KEY NOT NULL,
    tracking_number TEXT NOT NULL,
    item_id         BLOB REFERENCES postal_items (id),
    code_hash       TEXT NOT NULL,
    client_key      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);
CREATE INDEX receiving_codes_number ON receiving_codes (tracking_number, created_at);
CREATE INDEX receiving_codes_client ON receiving_codes (client_key, created_at);

-- A recipient's session for one item, opened by the right code: the cookie holds a random
-- token, this table its SHA-256.
CREATE TABLE receiving_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    item_id    BLOB NOT NULL REFERENCES postal_items (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- What the recipient chose for an item. `destination` NULL: as booked (home, at the
-- recipient's address on the item); `pickup`: at the post office `office_id`; `address`: at
-- another address (a redirect). `collector_*`: another person who may collect the item.
CREATE TABLE receiving_choices (
    item_id                   BLOB PRIMARY KEY NOT NULL REFERENCES postal_items (id),
    destination               TEXT CHECK (destination IN ('home', 'pickup', 'address')),
    office_id                 BLOB REFERENCES offices (id),
    address_name              TEXT,
    address_street            TEXT,
    address_number            TEXT,
    address_postal_code       TEXT,
    address_place             TEXT,
    collector_name            TEXT,
    collector_document        TEXT CHECK (collector_document IN ('id_card', 'passport', 'driving_licence')),
    collector_document_digits TEXT,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL,
    CHECK ((office_id IS NOT NULL) = (destination IS NOT NULL AND destination = 'pickup')),
    CHECK ((address_postal_code IS NOT NULL) = (destination IS NOT NULL AND destination = 'address'))
);

-- A notice owed to a recipient: one row per stored event that calls for one, written in the
-- transaction that stores the event; the `postal.receiving.notices` job turns rows into
-- outbox messages and sets queued_at. The unique key makes a notice exist at most once.
CREATE TABLE receiving_notices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id    BLOB NOT NULL REFERENCES postal_items (id),
    status     TEXT NOT NULL CHECK (status IN ('accepted', 'out_for_delivery', 'available_for_pickup', 'delivered')),
    location   TEXT NOT NULL,
    event_time TEXT NOT NULL,
    created_at TEXT NOT NULL,
    queued_at  TEXT,
    UNIQUE (item_id, status, location, event_time)
);

-- "Items addressed to me": a citizen's items by their account's e-mail address.
CREATE INDEX postal_items_recipient_email ON postal_items (recipient_email)
    WHERE recipient_email IS NOT NULL;
