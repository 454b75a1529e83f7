"""Fixtures that start real infrastructure on free loopback ports: never mocks."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.runtime.mesh import Mesh, MeshPorts, free_port, nats_argv, tcp_open, valkey_argv, wait_for
from services.runtime.supervisor import ProcessSpec, Supervisor


def _log_tails(log_dir: Path, lines: int = 30) -> str:
    out = []
    for path in sorted(log_dir.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        out.append(f"--- {path.name}\n" + "\n".join(tail))
    return "\n".join(out)


@pytest.fixture(scope="session")
async def nats_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A NATS server with JetStream of the tests' own, for runtime and servicer tests."""
    root = tmp_path_factory.mktemp("nats")
    port = free_port()
    supervisor = Supervisor()
    await supervisor.start(ProcessSpec("nats", nats_argv(port, root / "store"), dict(os.environ), root / "nats.log"))
    await wait_for("NATS", lambda: tcp_open(port), 30)
    yield f"nats://127.0.0.1:{port}"
    await supervisor.stop_all()


@pytest.fixture(scope="session")
async def valkey_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A Valkey server of the tests' own, for runtime and servicer tests."""
    root = tmp_path_factory.mktemp("valkey")
    port = free_port()
    supervisor = Supervisor()
    await supervisor.start(ProcessSpec("valkey", valkey_argv(port, root), dict(os.environ), root / "valkey.log"))
    await wait_for("Valkey", lambda: tcp_open(port), 30)
    yield f"redis://127.0.0.1:{port}/0"
    await supervisor.stop_all()


# The celebrity threshold is low in tests so that both timeline paths (fan-out on write for
# ordinary authors, merge on read for celebrities) run.
TEST_MESH_ENV = {"CHIRP_TIMELINE_CELEBRITY_THRESHOLD": "3"}


async def start_mesh(data_dir: Path, **extra_env: str) -> Mesh:
    """The whole mesh on free ports (metrics endpoints included), with settings overridden by extra_env."""
    mesh = Mesh(data_dir, MeshPorts.free(), log_level="info", extra_env={**TEST_MESH_ENV, **extra_env})
    try:
        await mesh.start(timeout_s=90)
    except BaseException:
        logs = _log_tails(mesh.log_dir)
        await mesh.stop()
        raise RuntimeError(f"the mesh did not start; process logs:\n{logs}") from None
    return mesh


@pytest.fixture(scope="session")
async def mesh(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    """The whole mesh (NATS, Valkey, ten services, Envoy) on free ports, shared by the e2e tests."""
    started = await start_mesh(tmp_path_factory.mktemp("mesh"))
    yield started
    await started.stop()
