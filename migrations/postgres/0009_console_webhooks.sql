-- Organisation members (the web console of agencies and businesses) and signed webhooks with
-- their deliveries and attempts. Twin: migrations/sqlite/0009_console_webhooks.sql.

-- An account's place in an organisation. Owners change things (API keys, webhooks); members
-- read. Only citizens' (self-registered) accounts are members: staff act for the post.
CREATE TABLE organisation_members (
    organisation_id UUID NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organisation_id, user_id)
);
CREATE INDEX organisation_members_user ON organisation_members (user_id);

-- Where an organisation wants its events. The signing secret is not stored: it is derived
-- from the installation's secret key and `secret_salt` (see kernel webhooks::domain), so a
-- copy of the database alone cannot sign. After a rotation the previous secret keeps signing
-- beside the new one until `previous_until`.
CREATE TABLE webhook_endpoints (
    id               UUID PRIMARY KEY NOT NULL,
    organisation_id  UUID NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    url              TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    events           TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    secret_salt      TEXT NOT NULL,
    previous_salt    TEXT,
    previous_until   TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_organisation ON webhook_endpoints (organisation_id);

-- One event for one endpoint: the body is fixed when the event happens (and signed anew at
-- each attempt, with that attempt's time).
CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY NOT NULL,
    endpoint_id     UUID NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    organisation_id UUID NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    event_id        UUID NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ,
    delivered_at    TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

-- Every HTTP attempt of a delivery: what the receiver answered, how long it took, or why it
-- could not be reached. Never the body or the secret.
CREATE TABLE webhook_attempts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  UUID NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at TIMESTAMPTZ NOT NULL,
    status_code  INTEGER,
    latency_ms   BIGINT NOT NULL,
    error        TEXT,
    succeeded    BOOLEAN NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
