-- Failed logins per username, for the login back-off (internal/httpapi/throttle.go). Every
-- instance reads and counts here, so the back-off holds across instances. The key is the
-- hex SHA-256 of the username as typed, not the username: failures are counted for names
-- that exist and names that do not alike, people sometimes type a password into the
-- username field, and a typed name may be up to the body limit long.
CREATE TABLE login_failures (
    username_sha256 TEXT   PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    blocked_until   BIGINT
);
CREATE INDEX login_failures_last_failure_at ON login_failures (last_failure_at);
