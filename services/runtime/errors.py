"""The one root error type that domain code raises, with the canonical code and a reason.

Domain modules raise these without importing grpc; the error-mapping interceptor turns them into a
google.rpc.Status with an ErrorInfo detail. `message` is a sentence a user can read; `reason` is an
UPPER_SNAKE code a program can branch on.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Code(enum.IntEnum):
    """The canonical codes of google.rpc.Code that Chirp answers with."""

    INVALID_ARGUMENT = 3
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    UNAUTHENTICATED = 16


class ChirpError(Exception):
    """An expected failure that the caller should see, with its code, reason and message."""

    code: Code = Code.INTERNAL

    def __init__(self, reason: str, message: str, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, {self.message!r})"


class InvalidArgument(ChirpError):
    code = Code.INVALID_ARGUMENT


class NotFound(ChirpError):
    code = Code.NOT_FOUND


class AlreadyExists(ChirpError):
    code = Code.ALREADY_EXISTS


class PermissionDenied(ChirpError):
    code = Code.PERMISSION_DENIED


class Unauthenticated(ChirpError):
    code = Code.UNAUTHENTICATED


class FailedPrecondition(ChirpError):
    code = Code.FAILED_PRECONDITION


class ResourceExhausted(ChirpError):
    code = Code.RESOURCE_EXHAUSTED


class Unavailable(ChirpError):
    code = Code.UNAVAILABLE
