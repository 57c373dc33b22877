-- Schema v1. Instants are BIGINT unix microseconds, NULL for "never".
-- The PostgreSQL file of the same name differs only where the dialects must.

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    username           TEXT    NOT NULL UNIQUE,
    email              TEXT    NOT NULL DEFAULT '',
    first_name         TEXT    NOT NULL DEFAULT '',
    last_name          TEXT    NOT NULL DEFAULT '',
    password_hash      TEXT    NOT NULL,
    role               TEXT    NOT NULL CHECK (role IN ('admin', 'teacher', 'student')),
    is_active          BOOLEAN NOT NULL CHECK (is_active IN (0, 1)),
    date_joined        BIGINT  NOT NULL,
    last_login         BIGINT,
    tokens_valid_after BIGINT
);

-- The token text is never stored: the jti names it, its signature proves it.
CREATE TABLE refresh_tokens (
    jti            TEXT   PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id      TEXT   NOT NULL,
    issued_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    blacklisted_at BIGINT,
    replaced_by    TEXT
);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- No foreign key on user_id: a deleted user's revocation must outlive the user row.
CREATE TABLE revocations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    jti         TEXT,
    user_id     BIGINT NOT NULL,
    valid_after BIGINT,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX revocations_jti ON revocations (jti) WHERE jti IS NOT NULL;
CREATE INDEX revocations_created_at ON revocations (created_at);
CREATE INDEX revocations_expires_at ON revocations (expires_at);
