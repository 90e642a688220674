-- cxlens schema, version 1: the unified customer data model (docs/data-model.md).
-- Portable SQL (DuckDB and PostgreSQL): VARCHAR, TIMESTAMPTZ, DOUBLE PRECISION, JSON.
-- Timestamps are stored in UTC. Large append-only tables carry no unique index: idempotency is
-- enforced by the single writer's anti-join (docs/decisions/0002-idempotency-without-indexes.md).

CREATE TABLE customers (
    customer_key    BIGINT PRIMARY KEY,        -- internal surrogate; every row refers to it (fast scans)
    customer_id     VARCHAR NOT NULL UNIQUE,   -- public, unguessable id (cus_...)
    canonical_key   BIGINT NOT NULL,           -- surviving profile after merges (itself when unmerged)
    name            VARCHAR,
    email           VARCHAR,                   -- preferred contact, also held in identities
    phone           VARCHAR,
    segment         VARCHAR,
    value           DOUBLE PRECISION,          -- lifetime value in the brand's currency
    attributes      JSON,
    signed_up_at    TIMESTAMPTZ,
    first_seen_at   TIMESTAMPTZ,
    last_seen_at    TIMESTAMPTZ,
    churned_at      TIMESTAMPTZ,
    churn_reason    VARCHAR,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE identities (
    kind            VARCHAR NOT NULL,          -- user_id, email, phone, anonymous_id, external:<system>, social:<network>
    value           VARCHAR NOT NULL,          -- normalised (emails lower-cased, phones E.164)
    customer_key    BIGINT NOT NULL,           -- the profile that first claimed it
    source          VARCHAR NOT NULL,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, value)
);

CREATE TABLE identity_conflicts (
    conflict_id     VARCHAR PRIMARY KEY,
    kind            VARCHAR NOT NULL,
    value           VARCHAR NOT NULL,
    held_by         BIGINT NOT NULL,           -- customer_key that keeps the identity
    claimed_by      BIGINT NOT NULL,           -- customer_key the conflicting row belongs to
    source          VARCHAR NOT NULL,
    resolution      VARCHAR NOT NULL,          -- kept_holder | merged_anonymous
    recorded_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE merges (
    merge_id        VARCHAR PRIMARY KEY,
    winner_key      BIGINT NOT NULL,
    loser_key       BIGINT NOT NULL,
    reason          VARCHAR NOT NULL,
    actor           VARCHAR NOT NULL,
    merged_at       TIMESTAMPTZ NOT NULL,
    undone_at       TIMESTAMPTZ,
    undone_by       VARCHAR
);

CREATE TABLE merge_members (                   -- profiles whose canonical_key a merge changed
    merge_id        VARCHAR NOT NULL,
    customer_key    BIGINT NOT NULL,
    previous_canonical_key BIGINT NOT NULL,
    PRIMARY KEY (merge_id, customer_key)
);

CREATE TABLE interactions (
    interaction_key BIGINT NOT NULL,           -- increasing; shown as int_<key>
    customer_key    BIGINT NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    channel         VARCHAR NOT NULL,          -- web, app, email, phone, chat, social, store, other
    name            VARCHAR NOT NULL,
    stage           VARCHAR,                   -- awareness .. advocacy (ingest/base.py STAGES), incl. fulfilment
    source          VARCHAR NOT NULL,
    properties      JSON,
    idempotency_key VARCHAR NOT NULL           -- unique per source
);

CREATE TABLE responses (
    response_key    BIGINT NOT NULL,           -- increasing; shown as rsp_<key>
    customer_key    BIGINT NOT NULL,
    metric          VARCHAR NOT NULL,          -- nps, csat, ces, other
    scale_min       INTEGER NOT NULL,
    scale_max       INTEGER NOT NULL,
    score           DOUBLE PRECISION NOT NULL,
    comment         VARCHAR,
    touchpoint      VARCHAR,
    channel         VARCHAR,
    survey          VARCHAR,
    case_key        BIGINT,
    answered_at     TIMESTAMPTZ NOT NULL,
    source          VARCHAR NOT NULL,
    properties      JSON,
    idempotency_key VARCHAR NOT NULL
);

CREATE TABLE cases (
    case_key        BIGINT PRIMARY KEY,
    case_id         VARCHAR NOT NULL UNIQUE,   -- public id (case_...)
    customer_key    BIGINT NOT NULL,
    source          VARCHAR NOT NULL,
    external_id     VARCHAR NOT NULL,          -- unique per source
    channel         VARCHAR NOT NULL,
    subject         VARCHAR,
    status          VARCHAR NOT NULL,          -- new, open, pending, on_hold, solved, closed
    priority        VARCHAR,                   -- low, normal, high, urgent
    team            VARCHAR,
    assignee        VARCHAR,
    category        VARCHAR,
    created_at      TIMESTAMPTZ NOT NULL,
    first_response_at TIMESTAMPTZ,
    solved_at       TIMESTAMPTZ,
    closed_at       TIMESTAMPTZ,
    reopen_count    INTEGER NOT NULL DEFAULT 0,
    satisfaction    DOUBLE PRECISION,
    properties      JSON
);

CREATE TABLE case_events (                     -- messages and changes of a case, in order
    event_key       BIGINT NOT NULL,           -- increasing; shown as cev_<key>
    case_key        BIGINT NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    kind            VARCHAR NOT NULL,          -- message, status_change, assignment, handoff
    direction       VARCHAR,                   -- in, out, internal (messages)
    author          VARCHAR,
    channel         VARCHAR,
    body            VARCHAR,
    from_value      VARCHAR,
    to_value        VARCHAR,
    source          VARCHAR NOT NULL,
    idempotency_key VARCHAR NOT NULL
);

-- No secondary indexes: DuckDB scans an integer key over 10M rows in ~10-15 ms, while an
-- ART index would triple bulk-insert time without speeding these lookups up
-- (docs/decisions/0002-idempotency-without-indexes.md).

CREATE TABLE workspace_meta (                  -- facts about the workspace itself (e.g. kind = demo)
    key             VARCHAR PRIMARY KEY,
    value           VARCHAR NOT NULL
);
