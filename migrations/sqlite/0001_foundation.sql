-- Foundation: offices, accounts, sessions, API keys, jobs, outbox, audit log, idempotency.
-- The PostgreSQL twin is migrations/postgres/0001_foundation.sql; keep them in step.

CREATE TABLE offices (
    id            BLOB PRIMARY KEY NOT NULL,
    code          TEXT NOT NULL UNIQUE,
    postal_code   TEXT NOT NULL,
    name          TEXT NOT NULL,
    municipality  TEXT NOT NULL,
    address       TEXT NOT NULL,
    latitude      REAL,
    longitude     REAL,
    opening_hours TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX offices_postal_code ON offices (postal_code);

CREATE TABLE users (
    id             BLOB PRIMARY KEY NOT NULL,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    display_name   TEXT NOT NULL DEFAULT '',
    role           TEXT NOT NULL CHECK (role IN ('citizen', 'clerk', 'manager', 'admin')),
    office_id      BLOB REFERENCES offices (id),
    lang           TEXT NOT NULL DEFAULT 'sr-Cyrl' CHECK (lang IN ('sr-Cyrl', 'sr-Latn', 'en')),
    email_verified INTEGER NOT NULL DEFAULT 0,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CHECK ((role IN ('clerk', 'manager')) = (office_id IS NOT NULL))
);
CREATE INDEX users_office ON users (office_id);

-- One-time links sent by e-mail (confirmation, password reset); only the hash is kept.
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('confirm', 'reset')),
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

CREATE TABLE sessions (
    id           BLOB PRIMARY KEY NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins, for throttling per account and per address. The account is a keyed hash of
-- the e-mail, so attempts on accounts that do not exist look the same as on those that do.
CREATE TABLE login_failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_key TEXT NOT NULL,
    address     TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX login_failures_account ON login_failures (account_key, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

CREATE TABLE organisations (
    id         BLOB PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('agency', 'business')),
    created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
    id              BLOB PRIMARY KEY NOT NULL,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    scopes          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
);
CREATE INDEX api_keys_organisation ON api_keys (organisation_id);

-- The job queue. A job is inserted in the same transaction as the write that causes it.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    priority     INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 10,
    run_at       TEXT NOT NULL,
    locked_until TEXT,
    locked_by    TEXT,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    failed_at    TEXT
);
CREATE INDEX jobs_due ON jobs (failed_at, run_at, priority);

-- E-mails and SMS on their way out; the admin console shows this table.
CREATE TABLE outbox (
    id         BLOB PRIMARY KEY NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('held', 'queued', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at    TEXT
);
CREATE INDEX outbox_created ON outbox (created_at);

-- Append-only; each entry carries the hash of the one before (see audit.rs).
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    office_id  BLOB,
    details    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER,
    body         BLOB,
    content_type TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
