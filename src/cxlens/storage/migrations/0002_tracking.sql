-- cxlens schema, version 2: live ingestion through the Segment-compatible tracking API
-- (docs/api.md "Tracking API", docs/decisions/0003-tracking-spool.md).

CREATE TABLE sources (                         -- systems that send events; one write key each
    source_key      INTEGER PRIMARY KEY,
    name            VARCHAR NOT NULL UNIQUE,   -- also the `source` of the rows it creates
    key_hash        VARCHAR NOT NULL,          -- SHA-256 hex of the write key; the key itself is never stored
    key_hint        VARCHAR NOT NULL,          -- first characters of the key, to tell keys apart
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);

CREATE TABLE tracking_events (                 -- every event processed: deduplication and per-source counts
    source          VARCHAR NOT NULL,
    message_id      VARCHAR NOT NULL,
    id_hash         UBIGINT NOT NULL,          -- hash(source, message_id): a narrow column to anti-join on
    type            VARCHAR NOT NULL,          -- identify, track, page, screen, group, alias
    received_at     TIMESTAMPTZ NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,      -- clock-skew corrected timestamp
    processed_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE tracking_rejects (                -- accepted events the model could not take, with the reason
    source          VARCHAR NOT NULL,
    message_id      VARCHAR NOT NULL,
    type            VARCHAR NOT NULL,
    field           VARCHAR,
    reason          VARCHAR NOT NULL,
    payload         JSON NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE tracking_segments (               -- spool files already applied (a crash before deletion is harmless)
    name            VARCHAR PRIMARY KEY,
    events          BIGINT NOT NULL,
    processed_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE accounts (                        -- companies/accounts from `group` calls
    account_id      VARCHAR PRIMARY KEY,       -- the sender's groupId
    name            VARCHAR,
    traits          JSON,
    source          VARCHAR NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE account_members (
    account_id      VARCHAR NOT NULL,
    customer_key    BIGINT NOT NULL,
    source          VARCHAR NOT NULL,
    linked_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, customer_key)
);
