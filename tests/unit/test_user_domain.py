from __future__ import annotations

import pytest

from services.runtime.errors import InvalidArgument
from services.user import domain


@pytest.mark.parametrize("username", ["a", "Alice_1", "x" * 15, "___", "0123"])
def test_valid_usernames(username: str) -> None:
    assert domain.validate_username(username) == username


@pytest.mark.parametrize("username", ["", "x" * 16, "bad-name", "with space", "名前", "dot.name", "tab\t"])
def test_invalid_usernames(username: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_username(username)
    assert caught.value.reason == "INVALID_USERNAME"


def test_usernames_compare_without_case() -> None:
    assert domain.normalize_username("Alice_1") == domain.normalize_username("aLICE_1")


@pytest.mark.parametrize("email", ["a@example.com", "first.last+tag@sub.example.org", "X@Y.IO"])
def test_valid_emails(email: str) -> None:
    assert domain.validate_email(email) == email


@pytest.mark.parametrize(
    "email", ["", "plain", "a@b", "a@@b.com", "a b@c.com", "@example.com", "a@example.", "a@-x.com",
              "a\x00@example.com", "a@" + "x" * 250 + ".com"],
)
def test_invalid_emails(email: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_email(email)
    assert caught.value.reason == "INVALID_EMAIL"


def test_password_bounds() -> None:
    assert domain.validate_password("x" * 8)
    with pytest.raises(InvalidArgument, match="at least"):
        domain.validate_password("x" * 7)
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_password("x" * 129)
    assert caught.value.reason == "PASSWORD_TOO_LONG"


def test_name_defaults_to_username_and_is_bounded() -> None:
    assert domain.validate_signup("a@example.com", "alice", "password1", "  ").name == "alice"
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_signup("a@example.com", "alice", "password1", "n" * 51)
    assert caught.value.reason == "NAME_TOO_LONG"
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_signup("a@example.com", "alice", "password1", "bad\x07name")
    assert caught.value.reason == "INVALID_NAME"
