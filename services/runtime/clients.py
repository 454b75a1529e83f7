"""Calling other services: their errors become ours, with the reason they gave.

A downstream INVALID_ARGUMENT or NOT_FOUND is the caller's mistake and passes through with the
downstream reason; a downstream that is down or slow becomes UNAVAILABLE with a reason of our own;
anything else stays unexpected and surfaces as INTERNAL.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services.runtime import errors

DEFAULT_DEADLINE_S = 3.0

_PASS_THROUGH: dict[grpc.StatusCode, type[errors.ChirpError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.ResourceExhausted,
}
_UNAVAILABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNIMPLEMENTED}


def _error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    try:
        status = rpc_status.from_call(error)
    except ValueError:
        return None
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


@contextlib.asynccontextmanager
async def downstream(service: str) -> AsyncIterator[None]:
    """Wraps calls to `service`, translating its failures as the module says."""
    try:
        yield
    except grpc.aio.AioRpcError as exc:
        code = exc.code()
        if code in _PASS_THROUGH:
            info = _error_info(exc)
            reason = info.reason if info else code.name
            raise _PASS_THROUGH[code](reason, exc.details() or "", dict(info.metadata) if info else {}) from exc
        if code in _UNAVAILABLE:
            raise errors.Unavailable(
                f"{service.upper()}_UNAVAILABLE", f"The {service} service is not answering; try again shortly."
            ) from exc
        raise
