"""ErrorMappingInterceptor: what a servicer's exception answers with."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from redis import exceptions as redis_errors

from services.runtime.errors import NotFound
from services.runtime.interceptors import ErrorMappingInterceptor


class Aborted(Exception):
    pass


class Context:
    """Records what a real ServicerContext's abort would send (and raises, as that one does)."""

    _code: grpc.StatusCode
    _details: str
    _trailers: Any

    async def abort(self, code: grpc.StatusCode, details: str, trailing_metadata: Any) -> None:
        self._code, self._details, self._trailers = code, details, trailing_metadata
        raise Aborted

    # What rpc_status.from_call reads, as from a finished call.
    def trailing_metadata(self) -> Any:
        return self._trailers

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


async def answer(error: BaseException) -> tuple[grpc.StatusCode, str]:
    context = Context()
    with pytest.raises(Aborted):
        async with ErrorMappingInterceptor("timeline").scope("/chirp.timeline.v1.TimelineService/GetHomeTimeline",
                                                             context):  # type: ignore[arg-type]
            raise error
    [detail] = rpc_status.from_call(context).details  # type: ignore[arg-type]
    info = error_details_pb2.ErrorInfo()
    detail.Unpack(info)
    return context.code(), info.reason


@pytest.mark.parametrize("error", [
    redis_errors.ConnectionError("No connection available."),  # the pool stayed full past its wait
    redis_errors.TimeoutError("Timeout reading from socket"),
])
async def test_valkey_down_or_slow_is_unavailable_not_internal(error: BaseException) -> None:
    assert await answer(error) == (grpc.StatusCode.UNAVAILABLE, "HOT_STORE_UNAVAILABLE")


async def test_a_chirp_error_keeps_its_code_and_reason_and_a_bug_is_internal() -> None:
    assert await answer(NotFound("TWEET_NOT_FOUND", "No such tweet.")) == (grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    assert await answer(KeyError("oops")) == (grpc.StatusCode.INTERNAL, "INTERNAL")
    # A ConnectionError too, but a wrong Valkey password is a configuration bug, not worth a retry.
    assert await answer(redis_errors.AuthenticationError("WRONGPASS")) == (grpc.StatusCode.INTERNAL, "INTERNAL")
