from __future__ import annotations

import pytest

from services.runtime.cursors import CursorCodec, page_size
from services.runtime.errors import InvalidArgument

codec = CursorCodec(b"k" * 32)


def test_round_trip() -> None:
    cursor = codec.encode("followers:42", {"after": 123, "ts": 1.5})
    assert codec.decode("followers:42", cursor) == {"after": 123, "ts": 1.5}


def test_empty_cursor_is_the_first_page() -> None:
    assert codec.decode("followers:42", "") is None


@pytest.mark.parametrize("bad", ["x", "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "e30"])
def test_garbage_is_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        codec.decode("followers:42", bad)
    assert caught.value.reason == "INVALID_CURSOR"


def test_a_cursor_cannot_be_edited() -> None:
    cursor = codec.encode("s", {"after": 1})
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    with pytest.raises(InvalidArgument):
        codec.decode("s", tampered)


def test_a_cursor_of_one_list_is_refused_by_another() -> None:
    cursor = codec.encode("followers:42", {"after": 1})
    with pytest.raises(InvalidArgument):
        codec.decode("followers:43", cursor)


def test_another_secret_refuses_the_cursor() -> None:
    cursor = codec.encode("s", {"after": 1})
    with pytest.raises(InvalidArgument):
        CursorCodec(b"z" * 32).decode("s", cursor)


def test_page_size_defaults_caps_and_refuses_negative() -> None:
    assert page_size(0) == 20
    assert page_size(7) == 7
    assert page_size(1000) == 100
    with pytest.raises(InvalidArgument):
        page_size(-1)
