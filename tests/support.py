"""Helpers the tests share: waiting on conditions with a deadline, and reading gRPC error details."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from chirp.user.v1 import user_service_pb2, user_service_pb2_grpc

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], *, timeout_s: float = 15.0, what: str = "condition") -> T:
    """Polls `check` until it returns a truthy value without raising; fails after the deadline."""
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while True:
        try:
            result = await check()
            if result:
                return result
        except Exception as exc:  # the condition is not met yet
            last_error = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout_s}s (last error: {last_error!r})")
        await asyncio.sleep(0.05)


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """The ErrorInfo detail of a failed call; fails the test if there is none."""
    status = rpc_status.from_call(error)
    assert status is not None, f"no google.rpc.Status in {error!r}"
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    raise AssertionError(f"no ErrorInfo in {status}")


async def refused(call: Awaitable[object], code: grpc.StatusCode, reason: str, domain: str) -> grpc.aio.AioRpcError:
    """The error a call fails with, checked to carry this code, ErrorInfo reason and domain."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error, info = caught.value, error_info(caught.value)
    assert (error.code(), info.reason, info.domain) == (code, reason, domain), error
    return error


@dataclass
class Account:
    """A signed-up account as servicer tests use it: its id, username and auth metadata."""

    id: int
    username: str
    metadata: list[tuple[str, str]]


_accounts = itertools.count()


async def account(users: user_service_pb2_grpc.UserServiceStub, *, private: bool = False,
                  prefix: str = "a") -> Account:
    """Signs up a fresh account (private if asked) through the user service."""
    name = f"{prefix}{next(_accounts)}"
    reply = await users.Signup(user_service_pb2.SignupRequest(
        email=f"{name}@example.com", username=name, password="s3cret-pass"))
    made = Account(reply.user_id, name, [("authorization", f"Bearer {reply.token}")])
    if private:
        await users.UpdatePrivacySettings(user_service_pb2.UpdatePrivacySettingsRequest(is_private=True),
                                          metadata=made.metadata)
    return made
