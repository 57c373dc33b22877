#!/usr/bin/python3
"""Regenerates django_vectors.json with the real Django (Debian bookworm packages).

    apt-get install -y python3-django python3-argon2 python3-bcrypt
    /usr/bin/python3 gen_django_vectors.py > django_vectors.json

Each vector is made by Django's own hashers (make_password or a hasher subclass with other
cost parameters) and checked with Django's check_password for the right and the wrong
password before it is written. Only the argon2 v=16 vectors are made by argon2-cffi directly,
because Django never asks for that version; Django still verifies them. Salts are random,
so a rerun gives different (equally valid) vectors.
"""
import json
import sys

import argon2
import django
from django.conf import settings

settings.configure(PASSWORD_HASHERS=[
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
])
from django.contrib.auth import hashers  # noqa: E402

WRONG = "letmein"


class FastPBKDF2(hashers.PBKDF2PasswordHasher):
    iterations = 1000


class FastPBKDF2SHA1(hashers.PBKDF2SHA1PasswordHasher):
    iterations = 1000


class OWASPArgon2(hashers.Argon2PasswordHasher):
    """argon2id at ciphemic's DefaultParams: m=19456, t=2, p=1, 32-byte hash."""
    memory_cost = 19456
    time_cost = 2
    parallelism = 1

    def params(self):
        p = super().params()
        p.hash_len = 32
        return p


class SmallArgon2i(hashers.Argon2PasswordHasher):
    memory_cost = 512
    time_cost = 2
    parallelism = 2

    def params(self):
        p = super().params()
        p.type = argon2.low_level.Type.I
        return p


class SmallArgon2id(hashers.Argon2PasswordHasher):
    memory_cost = 256
    time_cost = 1
    parallelism = 2


class FastBCryptSHA256(hashers.BCryptSHA256PasswordHasher):
    rounds = 5


class FastBCrypt(hashers.BCryptPasswordHasher):
    rounds = 5


def argon2_v16(password, variety):
    typ = {"argon2i": argon2.low_level.Type.I, "argon2id": argon2.low_level.Type.ID}[variety]
    raw = argon2.low_level.hash_secret(
        password.encode(), b"seasaltseasalt", time_cost=1, memory_cost=64,
        parallelism=1, hash_len=16, type=typ, version=16)
    return "argon2" + raw.decode("ascii")


def vector(name, encoded, password, ok=True, rehash=True, err=""):
    # Django accepts every vector but the unusable one, even those ciphemic cannot verify.
    if ok or err:
        assert hashers.check_password(password, encoded), name
    assert not hashers.check_password(WRONG, encoded), name
    return {"name": name, "encoded": encoded, "password": password, "wrong": WRONG,
            "ok": ok, "needs_rehash": rehash and ok, "err": err}


def main():
    pw = "lètmein"
    intl = "пароль密码🔑"
    long72 = "x" * 72
    old = argon2_v16(pw, "argon2i")
    vectors = [
        vector("pbkdf2_sha256 Django 3.2 default",
               hashers.make_password(pw, salt="seasalt", hasher="pbkdf2_sha256"), pw),
        vector("pbkdf2_sha256 1000", hashers.make_password(pw, hasher=FastPBKDF2()), pw),
        vector("pbkdf2_sha256 non-ASCII", hashers.make_password(intl, hasher=FastPBKDF2()), intl),
        vector("pbkdf2_sha1 1000", hashers.make_password(pw, hasher=FastPBKDF2SHA1()), pw),
        vector("argon2id Django 3.2 default", hashers.make_password(pw, hasher="argon2"), pw),
        vector("argon2id OWASP params", hashers.make_password(pw, hasher=OWASPArgon2()), pw,
               rehash=False),
        vector("argon2id small", hashers.make_password(intl, hasher=SmallArgon2id()), intl),
        vector("argon2i", hashers.make_password(pw, hasher=SmallArgon2i()), pw),
        vector("argon2i v=16", old, pw, ok=False, err="unsupported"),
        vector("argon2i without v=", old.replace("$v=16$", "$", 1), pw, ok=False,
               err="unsupported"),
        vector("argon2id v=16", argon2_v16(pw, "argon2id"), pw, ok=False, err="unsupported"),
        vector("bcrypt_sha256 Django default", hashers.make_password(pw, hasher="bcrypt_sha256"), pw),
        vector("bcrypt_sha256 5", hashers.make_password(pw, hasher=FastBCryptSHA256()), pw),
        vector("bcrypt_sha256 non-ASCII",
               hashers.make_password(intl, hasher=FastBCryptSHA256()), intl),
        vector("bcrypt 5", hashers.make_password(pw, hasher=FastBCrypt()), pw),
        vector("bcrypt non-ASCII", hashers.make_password(intl, hasher=FastBCrypt()), intl),
        vector("bcrypt 72 bytes", hashers.make_password(long72, hasher=FastBCrypt()), long72),
        vector("unusable", hashers.make_password(None), pw, ok=False),
    ]
    # bcrypt (like Django with it) reads only the first 72 bytes of the password.
    vectors.append(dict(vectors[-2], name="bcrypt over 72 bytes", password=long72 + "tail"))
    assert hashers.check_password(long72 + "tail", vectors[-1]["encoded"])
    json.dump({"django": django.get_version(), "argon2_cffi": argon2.__version__,
               "vectors": vectors}, sys.stdout, ensure_ascii=False, indent=1)
    print()


main()
