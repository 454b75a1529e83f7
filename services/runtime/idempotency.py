"""Idempotency keys: how a client makes a retried create safe.

A client sends the Idempotency-Key HTTP header (Envoy passes HTTP headers on as gRPC metadata) or
the request's `request_id` field; the header wins. The owning service stores the key with what
the first request made, in the same transaction, and answers a retry with that.
"""

from __future__ import annotations

import unicodedata

import grpc

from services.runtime.errors import InvalidArgument

IDEMPOTENCY_HEADER = "idempotency-key"
KEY_MAX = 128


def validate_key(key: str) -> str:
    """A key of at most 128 characters, none of them control characters; "" means none."""
    if len(key) > KEY_MAX or any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in key):
        raise InvalidArgument(
            "INVALID_REQUEST_ID",
            f"An idempotency key is at most {KEY_MAX} characters, without control characters.",
            {"field": "request_id"},
        )
    return key


def idempotency_key(context: grpc.aio.ServicerContext, request_id: str) -> str:
    """The request's key: the Idempotency-Key header when sent, else `request_id`; "" for none."""
    for item in context.invocation_metadata() or ():
        if item.key == IDEMPOTENCY_HEADER:
            value = item.value if isinstance(item.value, str) else item.value.decode(errors="replace")
            if value:
                return validate_key(value)
    return validate_key(request_id)
