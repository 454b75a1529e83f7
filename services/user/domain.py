"""Account rules: what a valid username, email, password and profile look like. Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

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
URL_MAX = 2048
PROFILE_FIELDS = ("name", "bio", "location", "website", "avatar_url")


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
class NotificationPrefs:
    follows: bool = True
    likes: bool = True
    retweets: bool = True
    replies: bool = True
    mentions: bool = True
    direct_messages: bool = True
    email: bool = False


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


def _bounded_text(value: str, field: str, maximum: int, reason: str) -> str:
    value = unicodedata.normalize("NFC", value.strip())
    if len(value) > maximum:
        raise InvalidArgument(reason, f"{field} can have at most {maximum} characters.", {"field": field})
    if _has_control_chars(value.replace("\n", "")):
        raise InvalidArgument("INVALID_TEXT", f"{field} cannot contain control characters.", {"field": field})
    return value


def validate_url(value: str, field: str, reason: str) -> str:
    """An absolute http(s) URL with a host, or empty (which removes it)."""
    value = value.strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number
        valid = parts.scheme in {"http", "https"} and bool(parts.hostname)
    except ValueError:  # a malformed port or bracketed host
        valid = False
    if not valid or len(value) > URL_MAX or any(ch.isspace() for ch in value) or _has_control_chars(value):
        raise InvalidArgument(reason, f"{field} must be an http or https URL.", {"field": field})
    return value


def validate_profile_changes(changes: dict[str, str]) -> dict[str, str]:
    """Checks and normalises the profile fields a user asked to change."""
    checked: dict[str, str] = {}
    for field, value in changes.items():
        if field == "name":
            checked[field] = _bounded_text(value, "name", NAME_MAX, "NAME_TOO_LONG")
        elif field == "bio":
            checked[field] = _bounded_text(value, "bio", BIO_MAX, "BIO_TOO_LONG")
        elif field == "location":
            checked[field] = _bounded_text(value, "location", LOCATION_MAX, "LOCATION_TOO_LONG")
        elif field == "website":
            checked[field] = validate_url(value, "website", "INVALID_WEBSITE")
        elif field == "avatar_url":
            checked[field] = validate_url(value, "avatar_url", "INVALID_AVATAR_URL")
        else:
            raise InvalidArgument("UNKNOWN_FIELD", f"{field} is not a profile field that can be changed.",
                                  {"field": field})
    if "name" in checked and not checked["name"]:
        raise InvalidArgument("NAME_REQUIRED", "A name cannot be empty.", {"field": "name"})
    return checked
