-- When a user row last changed, stamped by every write of one, so that each instance's
-- user cache can forget the users another instance changed (store/usercache.go).
ALTER TABLE users ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX users_changed_at ON users (changed_at);
