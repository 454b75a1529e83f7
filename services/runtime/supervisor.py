"""Starts child processes, restarts the ones that crash, and stops them all by PID.

Each child writes stdout and stderr to its own log file. A child that exits while the supervisor
is running is restarted after a delay that doubles on each quick crash (0.5 s up to 10 s) and
resets once the child has stayed up for a while.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.runtime.logging import get_logger

log = get_logger("chirp.supervisor")

STABLE_AFTER_S = 30.0


@dataclass
class ProcessSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    cwd: Path | None = None


@dataclass
class _Child:
    spec: ProcessSpec
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    restarts: int = 0
    watcher: asyncio.Task[None] | None = None
    exited: asyncio.Event = field(default_factory=asyncio.Event)


class Supervisor:
    def __init__(self, on_event: Callable[[str], None] | None = None) -> None:
        self._children: dict[str, _Child] = {}
        self._stopping = False
        self._on_event = on_event or (lambda message: None)

    def pid(self, name: str) -> int | None:
        child = self._children.get(name)
        return child.process.pid if child and child.process else None

    def restarts(self, name: str) -> int:
        return self._children[name].restarts

    async def start(self, spec: ProcessSpec) -> None:
        child = _Child(spec)
        self._children[spec.name] = child
        await self._spawn(child)
        child.watcher = asyncio.create_task(self._watch(child), name=f"watch-{spec.name}")

    async def _spawn(self, child: _Child) -> None:
        spec = child.spec
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(spec.log_path, "ab") as log_file:
            child.process = await asyncio.create_subprocess_exec(
                *spec.argv,
                env=dict(spec.env),
                cwd=spec.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                # Own process group: a Ctrl-C in the terminal reaches the supervisor only, which
                # then stops the children in order.
                start_new_session=True,
            )
        child.started_at = time.monotonic()
        child.exited.clear()

    async def _watch(self, child: _Child) -> None:
        delay = 0.5
        while True:
            assert child.process is not None
            code = await child.process.wait()
            child.exited.set()
            if self._stopping:
                return
            uptime = time.monotonic() - child.started_at
            delay = 0.5 if uptime > STABLE_AFTER_S else min(delay * 2, 10.0)
            self._on_event(f"{child.spec.name} exited with code {code}; restarting in {delay:.1f}s "
                           f"(log: {child.spec.log_path})")
            log.warning("child exited", child=child.spec.name, code=code, restart_in_s=delay)
            await asyncio.sleep(delay)
            if self._stopping:
                return
            child.restarts += 1
            await self._spawn(child)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Sends a signal to one child (tests use it to prove restarts)."""
        pid = self.pid(name)
        if pid is not None:
            os.kill(pid, sig)

    async def wait_restarted(self, name: str, previous_pid: int, timeout_s: float = 30.0) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pid = self.pid(name)
            if pid is not None and pid != previous_pid:
                return pid
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{name} was not restarted within {timeout_s}s")

    async def stop_all(self, order: Sequence[str] | None = None, grace_s: float = 10.0) -> None:
        """SIGTERM each child (in `order`, else reverse start order), SIGKILL what outlives the grace."""
        self._stopping = True
        names = list(order) if order is not None else list(reversed(self._children))
        for name in names:
            child = self._children.get(name)
            if child is None or child.process is None or child.process.returncode is not None:
                continue
            try:
                child.process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                await asyncio.wait_for(child.process.wait(), timeout=grace_s)
            except asyncio.TimeoutError:
                log.warning("child ignored SIGTERM; killing", child=name)
                try:
                    child.process.kill()
                except ProcessLookupError:
                    pass
                await child.process.wait()
        for child in self._children.values():
            if child.watcher is not None:
                child.watcher.cancel()
        await asyncio.gather(*(c.watcher for c in self._children.values() if c.watcher), return_exceptions=True)
