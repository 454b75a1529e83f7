from __future__ import annotations

from dataclasses import dataclass

import pytest

from services.runtime.errors import InvalidArgument
from services.runtime.idempotency import idempotency_key, validate_key


@pytest.mark.parametrize("key", ["", "abc", "k" * 128, "a-b_c.d:1", "ключ"])
def test_keys_that_pass(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", ["k" * 129, "a\x00b", "line\nbreak", "zero\u200bwidth"])
def test_keys_that_are_refused(key: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_key(key)
    assert caught.value.reason == "INVALID_REQUEST_ID"


@dataclass
class _Item:
    key: str
    value: str | bytes


class _Context:
    def __init__(self, *items: _Item) -> None:
        self._items = items

    def invocation_metadata(self) -> tuple[_Item, ...]:
        return self._items


def test_the_header_wins_over_request_id_and_empty_header_is_ignored() -> None:
    assert idempotency_key(_Context(_Item("idempotency-key", "from-header")), "from-body") == "from-header"  # type: ignore[arg-type]
    assert idempotency_key(_Context(_Item("idempotency-key", b"bytes")), "") == "bytes"  # type: ignore[arg-type]
    assert idempotency_key(_Context(_Item("idempotency-key", "")), "from-body") == "from-body"  # type: ignore[arg-type]
    assert idempotency_key(_Context(), "") == ""  # type: ignore[arg-type]
