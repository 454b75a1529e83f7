"""CPU time and memory of processes, read from /proc: no sampling profiler, no psutil.

CPU-seconds are utime + stime of /proc/<pid>/stat (clock ticks), summed over a process and its
descendants (a wrapper that forks rather than execs still counts). Peak RSS is VmHWM of
/proc/<pid>/status, the kernel's own high-water mark; RssSampler adds the peak of VmRSS within a
window, which is what one scenario used rather than the whole run.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")

Pids = Callable[[], Mapping[str, int]]


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    return raw[raw.rfind(")") + 2:].split()


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _tree(pid: int, children: Mapping[int, list[int]]) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, ()))
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time of one process (user + system), 0 when it is gone."""
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    # After the name: state(0) ppid(1) ... utime(11) stime(12).
    return (int(fields[11]) + int(fields[12])) / _TICKS


def cpu_snapshot(pids: Mapping[str, int]) -> dict[str, tuple[int, float]]:
    """Per name: (pid, CPU-seconds of the process and its descendants)."""
    children = _children_map()
    return {name: (pid, sum(cpu_seconds(p) for p in _tree(pid, children))) for name, pid in pids.items()}


def cpu_delta(before: Mapping[str, tuple[int, float]], after: Mapping[str, tuple[int, float]]) -> dict[str, float]:
    """CPU-seconds each process spent between two snapshots; a restarted process counts from 0."""
    delta = {}
    for name, (pid, seconds) in after.items():
        old = before.get(name)
        delta[name] = max(seconds - old[1], 0.0) if old and old[0] == pid else seconds
    return delta


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mb(pids: Mapping[str, int]) -> dict[str, float]:
    """VmHWM (peak resident set since the process started) of each process, in MiB."""
    return {name: round(_status_kb(pid, "VmHWM") / 1024, 1) for name, pid in pids.items()}


def rss_mb(pids: Mapping[str, int]) -> dict[str, float]:
    return {name: _status_kb(pid, "VmRSS") / 1024 for name, pid in pids.items()}


class RssSampler:
    """Samples VmRSS of the processes every `interval_s` and keeps each one's peak in a window."""

    def __init__(self, pids: Pids, interval_s: float = 0.25) -> None:
        self._pids = pids
        self._interval_s = interval_s
        self._peaks: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def reset(self) -> None:
        self._peaks = {}

    def peaks(self) -> dict[str, float]:
        self._sample()
        return {name: round(mb, 1) for name, mb in sorted(self._peaks.items())}

    def _sample(self) -> None:
        for name, mb in rss_mb(self._pids()).items():
            if mb > self._peaks.get(name, 0.0):
                self._peaks[name] = mb

    async def _run(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self._interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rss-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


def machine() -> dict[str, object]:
    """What the run ran on: cores, CPU model, memory, kernel, Python, and how busy it was."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": mem_gib,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "loadavg_at_start": list(os.getloadavg()),
        "shared_and_noisy": True,
    }


def cpu_times_total() -> tuple[float, float]:
    """(busy, steal) seconds of the whole machine from /proc/stat, to tell how loaded it was."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    values = [int(v) / _TICKS for v in fields]
    user, nice, system, idle, iowait, irq, softirq, steal = (values + [0.0] * 8)[:8]
    return user + nice + system + irq + softirq, steal
