-- What the last import-users brought as each user's password, so that a re-import can
-- tell a new password (which must end the user's tokens) from the one it brought before,
-- which ciphemic may since have upgraded to argon2id at a login. It is the hex SHA-256 of
-- the imported hash string, never the hash: NULL for a user no import has written since
-- this migration (created by ciphemic, or imported before it).
ALTER TABLE users ADD COLUMN imported_hash_sha256 TEXT;
