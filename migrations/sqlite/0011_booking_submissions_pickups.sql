-- A booking form's submission key (so a double-clicked "confirm" books once) and pickup
-- requests from the sender's address. Twin: migrations/postgres/0011_booking_submissions_pickups.sql.

-- The form carries a random key from its price step; the first confirm with it books, any
-- later one finds the item booked by the first.
CREATE TABLE booking_submissions (
    submission_key TEXT PRIMARY KEY NOT NULL CHECK (length(submission_key) BETWEEN 16 AND 64),
    item_id        BLOB NOT NULL REFERENCES postal_items (id),
    created_at     TEXT NOT NULL
);

-- A request that a postman collect a booked item at the sender's address in a date window
-- (Europe/Belgrade dates, both days included). At most one open request per item.
CREATE TABLE pickup_requests (
    id           BLOB PRIMARY KEY NOT NULL,
    item_id      BLOB NOT NULL REFERENCES postal_items (id),
    window_from  TEXT NOT NULL,
    window_to    TEXT NOT NULL CHECK (window_to >= window_from),
    note         TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status IN ('requested', 'cancelled', 'collected')),
    requested_by BLOB REFERENCES users (id),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX pickup_requests_open ON pickup_requests (item_id) WHERE status = 'requested';
CREATE INDEX pickup_requests_window ON pickup_requests (window_from) WHERE status = 'requested';
