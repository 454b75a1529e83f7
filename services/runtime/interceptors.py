"""Server interceptors: request context and access log, metrics, error mapping, authentication.

Each interceptor is a scope entered around the whole RPC, for unary and streaming handlers alike,
so an error raised while a stream is being produced is logged, counted and mapped like any other.
"""

from __future__ import annotations

import contextlib
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from prometheus_client import Counter, Histogram
from redis import exceptions as redis_errors

from chirp.api.v1 import annotations_pb2
from services.runtime import auth
from services.runtime.errors import ChirpError, Code, Unauthenticated, Unavailable

log = structlog.get_logger("chirp.rpc")

Scope = Callable[[grpc.aio.ServicerContext], contextlib.AbstractAsyncContextManager[None]]


def _wrap_handler(handler: grpc.RpcMethodHandler, scope: Scope) -> grpc.RpcMethodHandler:
    def unary_response(behavior: Callable[..., Any]) -> Callable[..., Any]:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
            async with scope(context):
                result = behavior(request, context)
                if inspect.isawaitable(result):
                    result = await result
                return result

        return run

    def stream_response(behavior: Callable[..., Any]) -> Callable[..., Any]:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with scope(context):
                result = behavior(request, context)
                if inspect.isawaitable(result):  # a handler that writes with context.write()
                    await result
                    return
                async for item in result:
                    yield item

        return run

    kwargs = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(unary_response(handler.unary_unary), **kwargs)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(stream_response(handler.unary_stream), **kwargs)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(unary_response(handler.stream_unary), **kwargs)
    return grpc.stream_stream_rpc_method_handler(stream_response(handler.stream_stream), **kwargs)


class ScopedInterceptor(grpc.aio.ServerInterceptor):
    """Base: subclasses define `scope(method, context)`, an async context manager around the RPC."""

    def scope(self, method: str, context: grpc.aio.ServicerContext) -> contextlib.AbstractAsyncContextManager[None]:
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        return _wrap_handler(handler, lambda context: self.scope(method, context))


def _metadata(context: grpc.aio.ServicerContext, key: str) -> str | None:
    for item in context.invocation_metadata() or ():
        if item.key == key:
            return item.value if isinstance(item.value, str) else item.value.decode()
    return None


def _status_name(context: grpc.aio.ServicerContext, error: BaseException | None) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):
        return _CODE_NAMES.get(code, "UNKNOWN")
    return "UNKNOWN" if error is not None else "OK"


_CODE_NAMES = {c.value[0]: c.name for c in grpc.StatusCode}


class RequestContextInterceptor(ScopedInterceptor):
    """Binds a request id to the logs of the RPC and writes one access-log line when it ends."""

    @contextlib.asynccontextmanager
    async def scope(self, method: str, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        request_id = _metadata(context, "x-request-id") or uuid.uuid4().hex
        # Read now, not when the RPC ends: grpcio crashes (SIGSEGV) if peer() is called on a call it
        # has already released, which is where a cancelled stream's cleanup can run.
        peer = context.peer()
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id, rpc=method)
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            log.info(
                "rpc",
                code=_status_name(context, error),
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                peer=peer,
            )
            structlog.contextvars.reset_contextvars(**tokens)


RPC_LATENCY = Histogram(
    "chirp_rpc_duration_seconds",
    "Time to serve an RPC, by method and status code.",
    ["method", "code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
RPC_STARTED = Counter("chirp_rpc_started_total", "RPCs started, by method.", ["method"])


class MetricsInterceptor(ScopedInterceptor):
    """Prometheus histograms of RPC latency per method and status code."""

    @contextlib.asynccontextmanager
    async def scope(self, method: str, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        RPC_STARTED.labels(method).inc()
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            RPC_LATENCY.labels(method, _status_name(context, error)).observe(time.perf_counter() - started)


def status_for(error: ChirpError, domain: str) -> grpc.Status:
    """The gRPC status, with an ErrorInfo detail, that a ChirpError answers with."""
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=error.metadata)
    detail = any_pb2.Any()
    detail.Pack(info)
    return rpc_status.to_status(status_pb2.Status(code=int(error.code), message=error.message, details=[detail]))


class ErrorMappingInterceptor(ScopedInterceptor):
    """Turns ChirpError into a google.rpc.Status with ErrorInfo; hides anything unexpected.

    An unexpected exception becomes INTERNAL with a generic message, and its detail goes only to
    the log. NotImplementedError, which generated servicer bases raise, becomes UNIMPLEMENTED.
    Valkey that cannot be reached or answers too late (no free connection in time, a timeout) is
    a dependency that is down or slow, not a bug: UNAVAILABLE (503), worth retrying.
    """

    def __init__(self, service: str) -> None:
        self._domain = f"{service}.chirp"

    @contextlib.asynccontextmanager
    async def scope(self, method: str, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        try:
            yield
        except grpc.aio.AbortError:
            raise
        except ChirpError as exc:
            await self._abort(context, exc)
        except NotImplementedError:
            await self._abort(
                context,
                _Unimplemented("NOT_IMPLEMENTED", f"{method.rsplit('/', 1)[-1]} is not available yet."),
            )
        except Exception as exc:
            if _hot_store_unavailable(exc):
                log.warning("valkey unavailable", error=repr(exc))
                await self._abort(context, Unavailable("HOT_STORE_UNAVAILABLE",
                                                       "A data store is not answering right now; try again shortly."))
            else:
                log.exception("unhandled error")
                await self._abort(context, _Internal("INTERNAL", "Something went wrong on our side; please try again."))

    async def _abort(self, context: grpc.aio.ServicerContext, error: ChirpError) -> None:
        status = status_for(error, self._domain)
        await context.abort(status.code, status.details, status.trailing_metadata)


def _hot_store_unavailable(error: Exception) -> bool:
    """Valkey out of reach or too slow: no free pooled connection in time, a refused connection, a
    timeout. Not a wrong password (also a ConnectionError): no retry fixes that."""
    return (isinstance(error, redis_errors.ConnectionError | redis_errors.TimeoutError)
            and not isinstance(error, redis_errors.AuthenticationError))


class _Unimplemented(ChirpError):
    code = Code.UNIMPLEMENTED


class _Internal(ChirpError):
    code = Code.INTERNAL


class AuthInterceptor(ScopedInterceptor):
    """Verifies the bearer token in `authorization` metadata against the RPC's declared access."""

    def __init__(self, verifier: auth.TokenVerifier) -> None:
        self._verifier = verifier

    @contextlib.asynccontextmanager
    async def scope(self, method: str, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        access = auth.access_for(method)
        principal: auth.Principal | None = None
        if access not in (annotations_pb2.ACCESS_PUBLIC, annotations_pb2.ACCESS_INTERNAL):
            token = auth.bearer_token(_metadata(context, "authorization"))
            if token is not None:
                principal = await self._verifier.verify(token)
            elif access != annotations_pb2.ACCESS_OPTIONAL_USER:
                raise Unauthenticated("AUTHENTICATION_REQUIRED", "Authentication required: send a bearer access token.")
        reset = auth.set_principal(principal)
        if principal is not None:
            structlog.contextvars.bind_contextvars(user_id=principal.user_id)
        try:
            yield
        finally:
            auth.reset_principal(reset)
