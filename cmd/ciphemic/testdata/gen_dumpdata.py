#!/usr/bin/python3
"""Regenerates django_users.json with the real Django (Debian bookworm packages).

    apt-get install -y python3-django python3-bcrypt
    /usr/bin/python3 gen_dumpdata.py > django_users.json

It configures a Django project on an in-memory SQLite database, migrates auth, creates the
users below with their passwords through Django's own API, checks each password with
Django's check_password, and prints `manage.py dumpdata auth.user` exactly as Django writes
it. The pks have gaps on purpose, so a test can tell a kept id from a renumbered one. Salts
are random, so a rerun gives different (equally valid) hashes; importusers_test.go holds the
same usernames and passwords.
"""
import datetime
import sys

import django
from django.conf import settings

settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
    USE_TZ=True,
    TIME_ZONE="UTC",
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    ],
)
django.setup()

from django.contrib.auth import hashers  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402


class FastPBKDF2(hashers.PBKDF2PasswordHasher):
    """Django's pbkdf2_sha256 encoding at a low cost, so tests log in quickly."""
    iterations = 1000


class FastBCryptSHA256(hashers.BCryptSHA256PasswordHasher):
    rounds = 5


# (pk, username, password, hasher, superuser, staff, active)
USERS = [
    (3, "root", "root-Pa55word!", FastPBKDF2(), True, True, True),
    (7, "mrs.teach", "teach-Pa55word!", FastBCryptSHA256(), False, True, True),
    (12, "alice", "alice-Pa55wörd", FastPBKDF2(), False, False, True),
    (40, "gone", "gone-Pa55word!", FastPBKDF2(), False, False, False),
    (41, "nopass", None, None, False, False, True),
]
JOINED = datetime.datetime(2023, 9, 1, 8, 30, 15, 123456, tzinfo=datetime.timezone.utc)
LAST_LOGIN = datetime.datetime(2024, 2, 29, 23, 59, 58, 250000, tzinfo=datetime.timezone.utc)


def create(pk, username, password, hasher, superuser, staff, active):
    user = User(id=pk, username=username, email=username + "@school.example",
                first_name=username.split(".")[-1].title(), last_name="Django",
                is_superuser=superuser, is_staff=staff, is_active=active,
                date_joined=JOINED + datetime.timedelta(days=pk))
    if password is None:
        user.set_unusable_password()
    else:
        user.password = hashers.make_password(password, hasher=hasher)
        assert hashers.check_password(password, user.password), username
        assert not hashers.check_password("wrong", user.password), username
    if superuser:
        user.last_login = LAST_LOGIN
    user.save()


def main():
    call_command("migrate", verbosity=0)
    for row in USERS:
        create(*row)
    call_command("dumpdata", "auth.user", indent=2, stdout=sys.stdout)
    print()


main()
