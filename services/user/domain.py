"""Account rules: what a valid username, email, password and profile look like. Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from services.runtime.errors import InvalidArgument

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
# Deliberately plain: one @, a dotted domain, no spaces or control characters. Deliverability is
# proven by the mail that password reset sends, not by a clever pattern.
EMAIL_RE = re.compile(r"^[^\s@\x00-\x1f\x7f]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
EMAIL_MAX = 254
PASSWORD_MIN = 8
PASSWORD_MAX = 128
NAME_MAX = 50
BIO_MAX = 160
LOCATION_MAX = 30


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    name: str
    bio: str
    location: str
    website: str
    avatar_url: str
    is_private: bool
    created_at: datetime


@dataclass(frozen=True)
class SignupForm:
    email: str
    username: str
    password: str
    name: str


def _has_control_chars(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text)


def normalize_username(username: str) -> str:
    """The form uniqueness is checked in: usernames are unique regardless of case."""
    return username.lower()


def normalize_email(email: str) -> str:
    return email.strip().lower()


def validate_username(username: str) -> str:
    if not USERNAME_RE.fullmatch(username):
        raise InvalidArgument(
            "INVALID_USERNAME",
            "A username is 1 to 15 letters, digits or underscores.",
            {"field": "username"},
        )
    return username


def validate_email(email: str) -> str:
    email = email.strip()
    if len(email) > EMAIL_MAX or not EMAIL_RE.fullmatch(email):
        raise InvalidArgument("INVALID_EMAIL", "That is not a valid email address.", {"field": "email"})
    return email


def validate_password(password: str, field: str = "password") -> str:
    if len(password) < PASSWORD_MIN:
        raise InvalidArgument(
            "PASSWORD_TOO_SHORT", f"A password needs at least {PASSWORD_MIN} characters.", {"field": field}
        )
    if len(password) > PASSWORD_MAX:
        raise InvalidArgument(
            "PASSWORD_TOO_LONG", f"A password can have at most {PASSWORD_MAX} characters.", {"field": field}
        )
    return password


def validate_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name.strip())
    if len(name) > NAME_MAX:
        raise InvalidArgument("NAME_TOO_LONG", f"A name can have at most {NAME_MAX} characters.", {"field": "name"})
    if _has_control_chars(name):
        raise InvalidArgument("INVALID_NAME", "A name cannot contain control characters.", {"field": "name"})
    return name


def validate_signup(email: str, username: str, password: str, name: str) -> SignupForm:
    username = validate_username(username)
    return SignupForm(
        email=validate_email(email),
        username=username,
        password=validate_password(password),
        name=validate_name(name) or username,
    )
