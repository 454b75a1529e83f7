"""Where the CPU goes: py-spy sampling the mesh's Python services while one scenario runs at a fixed rate.

`python -m bench [--quick] --profile home_timeline@70` seeds and starts the mesh as a run does, warms
the active viewers, then offers that one scenario at that rate for `--profile-seconds` while
`py-spy record` samples every service process (100 Hz, idle threads left out, so a sample is the
process doing something). Each process's samples are then read back and summed up:

- by *layer*, from the file of the innermost frame that is not the standard library's (so a
  `sqlite3` call made by the store counts for the store, an `asyncio` callback for whoever it runs):
  gRPC machinery, protobuf, Chirp's own code (`services/`, by module), structlog, the rest; a sample
  with nothing but the entry point outside the standard library is the event loop or a thread pool
  polling or switching, charged to that standard module (`python: selectors`, `python: asyncio`);
- the functions with the most samples of their own (the leaf frame);
- Chirp's own functions with the most samples inside them (inclusive).

py-spy needs to read the other processes' memory: as root, or with `kernel.yama.ptrace_scope` 0 (or
CAP_SYS_PTRACE). It sees Python frames only: time inside a C extension is charged to the Python
frame that called it.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

SAMPLE_RATE_HZ = 100
TOP = 12
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
_LAYERS = {  # the top-level package of a frame's file -> its layer
    "grpc": "grpc", "grpc_status": "grpc", "google": "protobuf", "structlog": "structlog", "nats": "nats",
    "redis": "valkey", "jwt": "jwt/crypto", "cryptography": "jwt/crypto", "prometheus_client": "prometheus",
}
# Where a process starts: a sample whose only frames outside the standard library are these is the
# event loop or a thread pool waiting or switching, not anybody's work.
_ENTRIES = ("services/runtime/server.py", "__main__.py")


def py_spy() -> str | None:
    """The py-spy executable beside this interpreter, or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def record(pids: dict[str, int], seconds: float, out_dir: Path, *, delay_s: float = 0.0
                 ) -> dict[str, Path | str]:
    """Samples each process for `seconds` from `delay_s` on (when the load starts), all at once;
    returns each one's raw (collapsed) stacks file, or why there is none."""
    executable = py_spy()
    if executable is None:
        return {name: "py-spy is not installed (pip install -e '.[bench]')" for name in pids}
    out_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.sleep(delay_s)

    async def one(name: str, pid: int) -> Path | str:
        output = out_dir / f"{name}.txt"
        process = await asyncio.create_subprocess_exec(
            executable, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
            "--rate", str(SAMPLE_RATE_HZ), "--format", "raw", "--nonblocking", "--output", str(output),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        said, _ = await process.communicate()
        if process.returncode != 0 or not output.exists():
            return f"py-spy failed ({process.returncode}): {said.decode(errors='replace').strip()[-300:]}"
        return output

    found = await asyncio.gather(*(one(name, pid) for name, pid in pids.items()))
    return dict(zip(pids, found))


def _frames(stack: str) -> list[tuple[str, str]]:
    """(function, file) of each frame of one collapsed stack, outermost first."""
    frames = []
    for part in stack.split(";"):
        match = _FRAME.match(part.strip())
        frames.append((match["function"], match["file"]) if match else (part.strip(), ""))
    return frames


def _package(file: str) -> str:
    """The top-level package or module of a frame's file as py-spy names it ("asyncio/events.py",
    "grpc/aio/_call.py", "services/timeline/reader.py", "<frozen runpy>")."""
    if file.startswith("<frozen"):
        return file.strip("<>").split()[-1]
    return Path(file).parts[0].removesuffix(".py") if file else ""


def _standard_library(file: str) -> bool:
    return _package(file) in sys.stdlib_module_names


def _layer(file: str) -> str:
    package = _package(file)
    if package == "services":
        return "chirp: " + ".".join(Path(file).with_suffix("").parts[:3])
    if package in sys.stdlib_module_names:
        return "python: " + package
    return _LAYERS.get(package, "other")


def _charged(frames: list[tuple[str, str]]) -> tuple[str, str]:
    """The frame a sample is charged to: the innermost one outside the standard library, unless that
    is only the process's entry point (then the innermost frame: the loop or a pool idling)."""
    for frame in reversed(frames):
        if not _standard_library(frame[1]):
            return frames[-1] if frame[1].endswith(_ENTRIES) else frame
    return frames[-1]


def summarize(raw: Path) -> dict[str, Any]:
    """The samples of one process's raw py-spy output, summed by layer and by function."""
    total = 0
    layers: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = _frames(stack)
        if not frames:
            continue
        layers[_layer(_charged(frames)[1])] += count
        leaf = frames[-1]
        own[f"{leaf[0]} ({leaf[1]})"] += count
        for name in {f"{function} ({file})" for function, file in frames if _layer(file).startswith("chirp")}:
            inclusive[name] += count

    def share(counter: Counter[str], top: int = TOP) -> list[list[Any]]:
        return [[name, n, round(100 * n / total, 1)] for name, n in counter.most_common(top)] if total else []

    return {
        "samples": total,
        "busy_s": round(total / SAMPLE_RATE_HZ, 1),
        "by_layer": share(layers, len(layers)),
        "top_own": share(own),
        "top_chirp_inclusive": share(inclusive),
    }
