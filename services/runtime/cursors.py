"""Signed opaque cursors.

A cursor is the position after the last item of a page, serialised as compact JSON, tagged with the
list it belongs to, and signed with HMAC-SHA256. Clients cannot forge or edit one, nor reuse a
cursor of one list on another; a cursor is a position, never an authorisation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from services.runtime.errors import InvalidArgument

_TAG_BYTES = 16


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("cursor secret must be at least 16 bytes")
        self._secret = secret

    def _tag(self, scope: str, body: bytes) -> bytes:
        return hmac.new(self._secret, scope.encode() + b"\x00" + body, hashlib.sha256).digest()[:_TAG_BYTES]

    def encode(self, scope: str, position: dict[str, Any]) -> str:
        body = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(self._tag(scope, body) + body).rstrip(b"=").decode()

    def decode(self, scope: str, cursor: str) -> dict[str, Any] | None:
        """The position a cursor names, or None for an empty cursor (the first page)."""
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise _invalid() from None
        tag, body = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
        if len(tag) != _TAG_BYTES or not hmac.compare_digest(tag, self._tag(scope, body)):
            raise _invalid()
        try:
            position = json.loads(body)
        except ValueError:
            raise _invalid() from None
        if not isinstance(position, dict):
            raise _invalid()
        return position


def _invalid() -> InvalidArgument:
    return InvalidArgument("INVALID_CURSOR", "The cursor is not valid for this list; start again without one.")


DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def page_size(requested: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """The page size to serve: the default for 0, refused when negative, capped at the maximum."""
    if requested < 0:
        raise InvalidArgument("INVALID_LIMIT", f"limit must be between 1 and {maximum}.")
    return min(requested or default, maximum)
