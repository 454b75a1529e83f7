"""The grpc.aio server every service runs in: interceptors, health, reflection, graceful shutdown.

A service's app.py builds an `App` (its servicers and background loops) from its settings; `serve`
starts it on the configured port (0 picks a free one, which tests use) and `main` runs it as a
process until SIGTERM or SIGINT, then drains in-flight RPCs for the grace period.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from services.runtime.auth import TokenVerifier
from services.runtime.interceptors import (
    AuthInterceptor,
    ErrorMappingInterceptor,
    MetricsInterceptor,
    RequestContextInterceptor,
)
from services.runtime.logging import configure_logging, get_logger
from services.runtime.settings import CommonSettings

log = get_logger("chirp.server")

AddServicer = Callable[[Any, grpc.aio.Server], None]


@dataclass
class App:
    """What a service's composition root hands to the server."""

    servicers: Sequence[tuple[AddServicer, Any]]
    service_names: Sequence[str]
    verifier: TokenVerifier
    # Long-running loops (outbox relay, event consumers). If one dies, the process exits non-zero
    # so that its supervisor restarts it, rather than serving on with a silent hole.
    background: Sequence[Callable[[], Awaitable[None]]] = ()
    closers: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=list)


@dataclass
class RunningService:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    app: App
    tasks: list[asyncio.Task[None]]
    failed: asyncio.Event

    async def stop(self, grace_s: float) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for close in self.app.closers:
            try:
                await close()
            except Exception:
                log.exception("error while closing")


async def serve(settings: CommonSettings, app: App, *, port: int | None = None) -> RunningService:
    server = grpc.aio.server(
        interceptors=[
            RequestContextInterceptor(),
            MetricsInterceptor(),
            ErrorMappingInterceptor(settings.service),
            AuthInterceptor(app.verifier),
        ],
        # Two processes must never share a port by accident.
        options=[("grpc.so_reuseport", 0)],
    )
    for add, servicer in app.servicers:
        add(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*app.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    bound = server.add_insecure_port(f"{settings.host}:{settings.port if port is None else port}")
    if bound == 0:
        raise RuntimeError(f"could not bind {settings.host}:{settings.port}")
    await server.start()
    for name in [*app.service_names, ""]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    failed = asyncio.Event()

    def _watch(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", task=task.get_name(), error=repr(task.exception()))
            failed.set()

    tasks = []
    for loop_fn in app.background:
        task = asyncio.create_task(loop_fn(), name=getattr(loop_fn, "__qualname__", "background"))
        task.add_done_callback(_watch)
        tasks.append(task)
    log.info("serving", port=bound)
    return RunningService(server, bound, health_servicer, app, tasks, failed)


def main(load_settings: Callable[[], Any], build: Callable[[Any], Awaitable[App]]) -> None:
    """Runs a service as a process. `load_settings()` returns an object with a `.common` CommonSettings."""
    settings = load_settings()
    common: CommonSettings = settings.common
    configure_logging(common.service, common.log_level)
    raise SystemExit(asyncio.run(_run(settings, common, build)))


async def _run(settings: Any, common: CommonSettings, build: Callable[[Any], Awaitable[App]]) -> int:
    if common.metrics_port:
        start_http_server(common.metrics_port, addr=common.host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = await build(settings)
    running = await serve(common, app)
    stop_wait = asyncio.create_task(stop.wait())
    failed_wait = asyncio.create_task(running.failed.wait())
    await asyncio.wait({stop_wait, failed_wait}, return_when=asyncio.FIRST_COMPLETED)
    code = 1 if running.failed.is_set() else 0
    log.info("stopping", grace_s=common.shutdown_grace_s)
    await running.stop(common.shutdown_grace_s)
    stop_wait.cancel()
    failed_wait.cancel()
    return code


def run_servicer(name: str, add: AddServicer, servicer: Any) -> None:
    """Runs a service that needs nothing but its servicer: common settings, remote JWKS, no store."""
    from services.runtime.jwks import user_service_verifier
    from services.runtime.topology import service

    @dataclass(frozen=True)
    class _Settings:
        common: CommonSettings

    async def build(settings: _Settings) -> App:
        return App(
            servicers=[(add, servicer)],
            service_names=[service(name).proto_service],
            verifier=user_service_verifier(settings.common),
        )

    main(lambda: _Settings(CommonSettings.from_env(name)), build)
