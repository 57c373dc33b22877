-- The audit trail (internal/httpapi/audit.go): logins, token events, account and user
-- administration actions. No foreign keys: the trail of a deleted user must outlive the
-- user row. No secret is ever stored here: no password, hash or token text.
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         BIGINT  NOT NULL,
    kind       TEXT    NOT NULL,
    actor_id   BIGINT,
    user_id    BIGINT,
    username   TEXT    NOT NULL DEFAULT '',
    client_ip  TEXT    NOT NULL DEFAULT '',
    request_id TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_user_id ON audit_events (user_id);
