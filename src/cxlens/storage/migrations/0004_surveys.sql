-- cxlens schema, version 4: survey definitions and personal answer links (docs/surveys.md). Email,
-- widget and triggers arrive in later versions.

CREATE TABLE surveys (                         -- one row per survey; the definition is SurveyJS JSON
    survey_key      BIGINT PRIMARY KEY,
    survey_id       VARCHAR NOT NULL UNIQUE,   -- public id srv_…
    name            VARCHAR NOT NULL UNIQUE,   -- short handle for the CLI and URLs, e.g. nps-quarterly
    title           VARCHAR NOT NULL,          -- in the default locale
    metric          VARCHAR,                   -- nps, csat or ces: which metric its rating question feeds
    definition      JSON NOT NULL,             -- the validated SurveyJS-subset document, as exported
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    archived_at     TIMESTAMPTZ
);

CREATE TABLE survey_links (                    -- personal, single-use links: one customer, one survey
    link_key        BIGINT PRIMARY KEY,
    survey_key      BIGINT NOT NULL,
    customer_key    BIGINT NOT NULL,
    token_hash      VARCHAR NOT NULL UNIQUE,   -- SHA-256 hex of the link's token; the token is never stored
    channel         VARCHAR NOT NULL,          -- where the link was sent: email, web, app, …
    touchpoint      VARCHAR,                   -- the moment asked about, e.g. case_solved
    answers         JSON,                      -- saved partial answers, until the survey is completed
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    answered_at     TIMESTAMPTZ                -- set once: a completed link records nothing more
);
