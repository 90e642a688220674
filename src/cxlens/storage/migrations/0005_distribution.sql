-- cxlens schema, version 5: getting surveys to customers and acting on the answers (docs/surveys.md) —
-- invitations (email, with reminders), triggers on interactions, web widgets with publishable keys,
-- anonymous answers (public link, widget), and closing the loop on unhappy answers.

-- A link may belong to someone not known yet (public link, widget visitor): the answer is then
-- recorded under the identity kept in `respondent` ({"user_id": …} or {"anonymous_id": …}), which
-- creates or finds the profile through the import pipeline.
ALTER TABLE survey_links ALTER COLUMN customer_key DROP NOT NULL;
ALTER TABLE survey_links ADD COLUMN respondent JSON;
ALTER TABLE survey_links ADD COLUMN reminder_token_hash VARCHAR;   -- a reminder's own token opens the same link
ALTER TABLE survey_links ADD COLUMN widget_key BIGINT;             -- shown in this widget: it may be framed by its origins

CREATE TABLE survey_invitations (              -- every decision to ask a customer: scheduled, sent, failed or held back
    invitation_key  BIGINT PRIMARY KEY,
    survey_key      BIGINT NOT NULL,
    customer_key    BIGINT NOT NULL,           -- canonical profile when it was planned
    channel         VARCHAR NOT NULL,          -- email
    touchpoint      VARCHAR,                   -- the moment asked about, e.g. case_solved
    trigger_key     BIGINT,                    -- the trigger that planned it; NULL when sent by hand
    subject         VARCHAR NOT NULL,          -- what it is about: int_<key>, case_<key>, period-<n>, followup-<key>, manual-<n>;
                                               -- (trigger, customer, subject) is planned once
    address         VARCHAR,                   -- the email address it goes to
    status          VARCHAR NOT NULL,          -- scheduled, sent, failed, suppressed
    reason          VARCHAR,                   -- why suppressed or failed: contact_frequency, no_address, the SMTP error
    send_after      TIMESTAMPTZ NOT NULL,      -- not before (a trigger's delay)
    remind_after_days DOUBLE PRECISION,        -- one reminder this long after sending, if still unanswered
    link_key        BIGINT,                    -- the personal link it carries, made when sent
    attempts        INTEGER NOT NULL DEFAULT 0,
    sent_at         TIMESTAMPTZ,
    reminded_at     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE survey_triggers (                 -- when to ask by itself: after an interaction, a solved case, or every N days
    trigger_key     BIGINT PRIMARY KEY,
    name            VARCHAR NOT NULL UNIQUE,
    survey_key      BIGINT NOT NULL,
    kind            VARCHAR NOT NULL,          -- interaction, case_solved, every
    event           VARCHAR,                   -- kind interaction: the interaction's name, e.g. Order Delivered
    every_days      DOUBLE PRECISION,          -- kind every: ask each active customer once per this many days
    delay_minutes   DOUBLE PRECISION NOT NULL, -- wait this long after the moment before sending
    sample_rate     DOUBLE PRECISION NOT NULL, -- share of eligible customers asked, 0 < rate <= 1
    touchpoint      VARCHAR,
    remind_after_days DOUBLE PRECISION,
    created_at      TIMESTAMPTZ NOT NULL,      -- moments before this are never surveyed
    disabled_at     TIMESTAMPTZ
);

CREATE TABLE survey_widgets (                  -- web widgets: one survey, shown on the listed origins only
    widget_key      BIGINT PRIMARY KEY,
    widget_id       VARCHAR NOT NULL UNIQUE,   -- the publishable key cxw_…: public by design, it sits in the brand's page
    survey_key      BIGINT NOT NULL,
    allowed_origins JSON NOT NULL,             -- ["https://shop.example.com"]: who may show it
    touchpoint      VARCHAR,
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);

CREATE TABLE loop_rules (                      -- closing the loop: which answers become follow-up cases
    rule_key        BIGINT PRIMARY KEY,
    name            VARCHAR NOT NULL UNIQUE,
    metric          VARCHAR NOT NULL,          -- nps, csat, ces
    max_score       DOUBLE PRECISION NOT NULL, -- answers scoring at most this are followed up (nps detractors: 6)
    survey_key      BIGINT,                    -- only answers to this survey; NULL: any survey
    team            VARCHAR NOT NULL,
    priority        VARCHAR NOT NULL,
    resurvey        BOOLEAN NOT NULL,          -- ask again when the follow-up case is solved
    created_at      TIMESTAMPTZ NOT NULL,      -- answers before this are not followed up
    disabled_at     TIMESTAMPTZ
);

CREATE TABLE loop_followups (                  -- one follow-up case per unhappy answer
    response_key    BIGINT PRIMARY KEY,
    rule_key        BIGINT NOT NULL,
    customer_key    BIGINT NOT NULL,
    case_key        BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    resurvey_invitation_key BIGINT             -- the invitation sent when the case was solved
);
