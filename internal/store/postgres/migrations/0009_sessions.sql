-- Sessions (internal/store/sessions.go): one row per login, keyed by the rotation family
-- id every token of the login carries as "sid". The refresh_tokens rows decide whether a
-- session is still live; this row holds what they cannot: when it last refreshed, from
-- which client, and until when its newest refresh token runs.
CREATE TABLE sessions (
    id           TEXT   PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    user_agent   TEXT   NOT NULL DEFAULT '',
    client_ip    TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- The families issued before this migration become sessions of unknown client: their
-- login is their oldest token, their last use the newest.
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at)
SELECT family_id, MIN(user_id), MIN(issued_at), MAX(issued_at), MAX(expires_at)
FROM refresh_tokens GROUP BY family_id;
