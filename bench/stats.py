"""Percentiles, bounds and the summary of one step (one offered rate) from the workers' outcomes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.loadgen import StepOutcome

# The latency bound: p99 at most 50 ms for reads, 100 ms for writes.
BOUND_P99_MS = {"home": 50.0, "user_tl": 50.0, "echo": 50.0, "compose": 100.0, "like": 100.0, "follow": 100.0}
# The seed's own targets (p95): timeline loading 200 ms, tweet posting 500 ms, like/retweet 150 ms,
# follow/unfollow 100 ms.
SEED_BOUND_P95_MS = {"home": 200.0, "user_tl": 200.0, "compose": 500.0, "like": 150.0, "follow": 100.0}
MAX_ERROR_RATE = 0.01


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (q in 0..100); 0 for an empty one."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _dist(values: list[float]) -> dict[str, float]:
    values.sort()
    return {
        "count": len(values),
        "p50_ms": _ms(percentile(values, 50)),
        "p95_ms": _ms(percentile(values, 95)),
        "p99_ms": _ms(percentile(values, 99)),
        "max_ms": _ms(values[-1]) if values else 0.0,
    }


def summarize(
    outcomes: Sequence[StepOutcome], *, offered: float, duration_s: float, cpu_s: Mapping[str, float],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One step: latency from the intended send time over answered requests and timeouts alike
    (a timeout counts with the time it waited, so an overloaded step cannot look fast)."""
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    samples: dict[str, str] = {}
    scheduled = ok = 0
    failures = [o.failure for o in outcomes if o.failure]
    for outcome in outcomes:
        scheduled += outcome.scheduled
        for op, values in outcome.latencies.items():
            ok += len(values)
            latencies.setdefault(op, []).extend(values)
        for op, values in outcome.timeouts.items():
            latencies.setdefault(op, []).extend(values)
        for key, count in outcome.errors.items():
            errors[key] = errors.get(key, 0) + count
        for key, text in outcome.error_samples.items():
            samples.setdefault(key, text)
    all_values = [v for values in latencies.values() for v in values]
    overall = _dist(all_values)
    by_op = {op: _dist(list(values)) for op, values in sorted(latencies.items())}
    error_count = sum(errors.values())
    error_rate = error_count / scheduled if scheduled else 1.0
    total_cpu = sum(cpu_s.values())
    meets = bool(scheduled) and not failures and error_rate <= MAX_ERROR_RATE and all(
        d["p99_ms"] <= BOUND_P99_MS.get(op, 50.0) for op, d in by_op.items())
    seeded = [op for op in by_op if op in SEED_BOUND_P95_MS]
    meets_seed: bool | None = None
    if seeded:
        meets_seed = bool(scheduled) and not failures and error_rate <= MAX_ERROR_RATE and all(
            by_op[op]["p95_ms"] <= SEED_BOUND_P95_MS[op] for op in seeded)
    result: dict[str, Any] = {
        "offered_rate": offered,
        "duration_s": duration_s,
        "scheduled": scheduled,
        "ok": ok,
        "errors": error_count,
        "error_rate": round(error_rate, 4),
        "achieved_rate": round(ok / duration_s, 1) if duration_s else 0.0,
        **{k: v for k, v in overall.items() if k != "count"},
        "by_op": by_op,
        "meets_bound": meets,
        "meets_seed_bound": meets_seed,
        "cpu_s": {name: round(v, 3) for name, v in sorted(cpu_s.items())},
        "cpu_s_total": round(total_cpu, 3),
        "cpu_ms_per_request": round(1000 * total_cpu / ok, 3) if ok else None,
        "loadgen_cpu_s": round(sum(o.cpu_s for o in outcomes), 3),
        "loadgen_max_lag_ms": _ms(max((o.max_lag_s for o in outcomes), default=0.0)),
    }
    if errors:
        result["error_kinds"] = dict(sorted(errors.items()))
        result["error_samples"] = samples
    if failures:
        result["worker_failures"] = failures
    if extra:
        result.update(extra)
    return result


def best_rate(steps: Sequence[Mapping[str, Any]], key: str) -> float:
    """The highest offered rate whose step met the bound named by `key` (0 when none did)."""
    return max((s["offered_rate"] for s in steps if s.get(key)), default=0.0)
