-- The cut-over from a Django deployment (docs/MIGRATING-FROM-DJANGO.md).
--
-- django_users maps the Django pk of each imported user to its ciphemic id. A token
-- without a "kid" (only the Django server issues those) names its user by Django pk, and
-- once any mapping exists it is resolved only through this table: after an import with
-- --renumber the pk may be another ciphemic user's id.
CREATE TABLE django_users (
    django_id BIGINT PRIMARY KEY,
    user_id   BIGINT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE
);

-- The one row records when import-tokens ran. simplejwt 5.2 writes no record of the
-- refresh token a rotation hands out, so a correctly signed Django refresh token issued
-- before this instant and unknown to refresh_tokens is accepted once, until the instant
-- plus the refresh lifetime.
CREATE TABLE django_cutover (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    cutover_at BIGINT  NOT NULL
);
