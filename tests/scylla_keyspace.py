"""A throwaway ScyllaDB keyspace for a store contract suite, when CHIRP_SCYLLA_HOSTS names a cluster."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest

from services.runtime.scylla import ScyllaSettings

SCYLLA_SKIP_REASON = "CHIRP_SCYLLA_HOSTS not set: no ScyllaDB to run against"

T = TypeVar("T")


@contextlib.asynccontextmanager
async def throwaway_keyspace(service: str, connect: Callable[[ScyllaSettings], Awaitable[T]]) -> AsyncIterator[T]:
    """Connects `service`'s store (or session) to a keyspace of its own, and drops it afterwards.

    Skips the test when no cluster is configured. Replication factor 1 unless the environment says.
    """
    keyspace = f"{service}_test_{uuid.uuid4().hex[:12]}"
    environ = {"CHIRP_SCYLLA_REPLICATION_FACTOR": "1", **os.environ,
               f"CHIRP_{service.upper()}_SCYLLA_KEYSPACE": keyspace}
    settings = ScyllaSettings.from_env(service, environ)
    if settings is None:
        pytest.skip(SCYLLA_SKIP_REASON)
    opened: Any = await connect(settings)
    try:
        yield opened
    finally:
        try:
            await getattr(opened, "session", opened).ddl(f'DROP KEYSPACE IF EXISTS "{keyspace}"')
        finally:
            await opened.close()
