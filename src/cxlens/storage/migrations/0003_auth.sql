-- cxlens schema, version 3: users, roles, sessions and API tokens (docs/security.md).
-- No secret is stored in clear: passwords as argon2id hashes, session and API tokens as SHA-256.

CREATE TABLE users (                           -- people who sign in to the web app
    user_key        BIGINT PRIMARY KEY,        -- internal surrogate
    user_id         VARCHAR NOT NULL UNIQUE,   -- public, unguessable id (usr_...)
    email           VARCHAR NOT NULL UNIQUE,   -- the sign-in name, lower-cased
    name            VARCHAR NOT NULL,
    role            VARCHAR NOT NULL,          -- admin, analyst, agent, viewer (auth/model.py MATRIX)
    password_hash   VARCHAR NOT NULL,          -- argon2id encoded hash with its salt and parameters
    disabled_at     TIMESTAMPTZ,               -- set: the user cannot sign in and has no session
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE auth_sessions (                   -- signed-in browsers; a row ends at sign-out, disable or new password
    session_hash    VARCHAR PRIMARY KEY,       -- SHA-256 hex of the session cookie's token
    user_key        BIGINT NOT NULL,
    csrf_token      VARCHAR NOT NULL,          -- bound to this session; sent back by every form
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (                      -- programs calling the API; several revoked tokens may share a name
    token_key       BIGINT PRIMARY KEY,
    name            VARCHAR NOT NULL,          -- unique among active tokens (checked by the writer)
    role            VARCHAR NOT NULL,
    token_hash      VARCHAR NOT NULL UNIQUE,   -- SHA-256 hex of the token; the token itself is never stored
    token_hint      VARCHAR NOT NULL,          -- first characters of the token, to tell tokens apart
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);

CREATE TABLE login_attempts (                  -- every sign-in attempt: the throttle counts recent failures
    email           VARCHAR NOT NULL,          -- as typed, lower-cased (also for unknown emails)
    client          VARCHAR NOT NULL,          -- the client's IP address
    attempted_at    TIMESTAMPTZ NOT NULL,
    succeeded       BOOLEAN                    -- NULL: refused unchecked because throttled
);
