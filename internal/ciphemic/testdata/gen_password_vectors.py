"""Writes password_vectors.json: Django 3.2's default password validators' messages for
a set of passwords and users, so that password_policy_test.go holds ciphemic's policy to
Django's own answers. Run with Debian's python3-django:

    /usr/bin/python3 gen_password_vectors.py > password_vectors.json
"""
import json
from difflib import SequenceMatcher

from django.conf import settings

settings.configure(
    AUTH_PASSWORD_VALIDATORS=[
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ],
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
    USE_I18N=False,
)
import django  # noqa: E402

django.setup()
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.auth.password_validation import validate_password  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402

USERS = [
    {"username": "quentin", "email": "quentin.lavoisier@example.com", "first_name": "Quentin", "last_name": "Lavoisier"},
    {"username": "testuser", "email": "", "first_name": "", "last_name": ""},
    {"username": "marie_curie", "email": "mcurie@sorbonne.fr", "first_name": "Marie", "last_name": "Skłodowska-Curie"},
    {"username": "İstanbul", "email": "", "first_name": "Zoë", "last_name": "Ægir"},
]
PASSWORDS = [
    "password", "password123", "qwertyui", "iloveyou", "PassWord123", "  iloveyou  ",
    "lavoisier2024", "quentin1", "Quentin.Lavoisier", "nq2x-Lv7p-93kd", "12345678",
    "31415926535", "２０２４１２３４", "¹²³⁴⁵⁶⁷⁸", "short", "a", "", "testuser", "testuser1",
    "tsetuser", "password", "mcurie@sorbonne", "curie1867", "sklodowska", "skłodowska",
    "marie_curie!", "i̇stanbul", "istanbul99", "zoeaegir", "correct horse battery staple",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Ægir2024!",
    "\u00e9l\u00e8ve-mod\u00e8le", "qwerty", "monkey12",
]

vectors = []
for attrs in USERS:
    user = User(**attrs)
    for pw in PASSWORDS:
        try:
            validate_password(pw, user)
            msgs = []
        except ValidationError as e:
            msgs = list(e.messages)
        vectors.append({"user": attrs, "password": pw, "messages": msgs})

ratios = []
for a, b in [("lavoisier2024", "lavoisier"), ("abcd", "bcde"), ("", ""), ("a", ""),
             ("password", "drowssap"), ("ééa", "éa"), ("aab", "abb"), ("x", "xxxxxxxxxx")]:
    ratios.append({"a": a, "b": b, "ratio": SequenceMatcher(a=a, b=b).quick_ratio()})

print(json.dumps({"validators": vectors, "quick_ratios": ratios}, ensure_ascii=False, indent=1))
