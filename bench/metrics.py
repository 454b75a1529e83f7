"""The services' own Prometheus endpoints, read before and after a scenario.

Every service exports chirp_rpc_started_total and chirp_rpc_duration_seconds per method (see
services/runtime/interceptors.py). The difference over a scenario says which RPCs one edge request
cost inside the mesh and how long each took on the server, which is where a profile starts.
"""

from __future__ import annotations

import asyncio
import re
import urllib.request
from collections.abc import Mapping

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Series:
    series: Series = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if not match:
            continue
        name, labels, value = match.groups()
        try:
            number = float(value)
        except ValueError:
            continue
        series[(name, tuple(sorted(_LABEL.findall(labels or ""))))] = number
    return series


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2.0) as response:
        return response.read().decode()


async def scrape(urls: Mapping[str, str]) -> dict[str, Series]:
    """Every service's metrics, by service; a service that does not answer is left out."""

    async def one(url: str) -> Series | None:
        try:
            return parse(await asyncio.to_thread(_fetch, url))
        except Exception:
            return None

    results = await asyncio.gather(*(one(url) for url in urls.values()))
    return {name: series for name, series in zip(urls, results) if series is not None}


def rpc_summary(before: Mapping[str, Series], after: Mapping[str, Series]) -> dict[str, dict[str, float]]:
    """Per RPC method: calls served and mean server time (ms) between two scrapes."""
    summary: dict[str, dict[str, float]] = {}
    for service, series in after.items():
        old = before.get(service, {})
        counts: dict[str, float] = {}
        sums: dict[str, float] = {}
        for (name, labels), value in series.items():
            if name not in ("chirp_rpc_duration_seconds_count", "chirp_rpc_duration_seconds_sum"):
                continue
            method = dict(labels).get("method", "")
            if not method or method.startswith("/grpc."):
                continue
            delta = value - old.get((name, labels), 0.0)
            target = counts if name.endswith("_count") else sums
            target[method] = target.get(method, 0.0) + delta
        for method, count in counts.items():
            if count > 0:
                summary[method] = {"calls": int(count), "mean_ms": round(1000 * sums.get(method, 0.0) / count, 2)}
    return dict(sorted(summary.items()))


def counter_deltas(before: Series, after: Series, pattern: str) -> dict[str, float]:
    """Differences of the series whose name matches `pattern` (e.g. a service's fan-out counters)."""
    wanted = re.compile(pattern)
    deltas = {}
    for (name, labels), value in after.items():
        if wanted.search(name) and not name.endswith(("_created", "_bucket")):
            key = name + ("{" + ",".join(f"{k}={v}" for k, v in labels) + "}" if labels else "")
            deltas[key] = value - before.get((name, labels), 0.0)
    return deltas
