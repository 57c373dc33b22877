-- Refresh-token reuse detection (RFC 9700 §4.14). A replayed, already spent refresh token
-- revokes its whole rotation family: the family's refresh tokens are blacklisted in
-- refresh_tokens, and one revocation row per family, keyed by family_id, tells every
-- instance to refuse the family's access tokens (their "sid" claim). A repeated kill of
-- the same family updates that row instead of adding one, so replaying a dead token
-- cannot grow the table.
ALTER TABLE revocations ADD COLUMN family_id TEXT;
CREATE UNIQUE INDEX revocations_family_id ON revocations (family_id) WHERE family_id IS NOT NULL;
