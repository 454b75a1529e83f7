"""One benchmark run: seed, start the mesh and the ceiling, run every scenario, write the results."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import random
import shutil
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from bench import metrics, procstats, profile, report
from bench.ceiling import Ceiling
from bench.dataset import build_graph
from bench.loadgen import StepSpec, WorkerPool
from bench.modes import Mode
from bench.probes import probe_all, stream_available
from bench.seed import Seeded, seed_stores
from bench.stats import BOUND_P99_MS, SEED_BOUND_P95_MS, best_rate, percentile, summarize
from services.runtime.mesh import Mesh, MeshPorts
from services.runtime.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    workload: str
    protocol: str  # "json" (HTTP/1.1 through Envoy's transcoder) or "grpc" (HTTP/2 through Envoy)
    request: str
    needs: tuple[str, ...] = ()
    kind: str = "read"


CEILING = {
    "json": Scenario("ceiling_json", "Ceiling, JSON", "echo", "json", "GET /bench/v1/echo?message=hello"),
    "grpc": Scenario("ceiling_grpc", "Ceiling, gRPC", "echo", "grpc", "bench.echo.v1.EchoService/Echo"),
}
SWEEPS = [
    Scenario("home_timeline", "Home timeline", "home", "json", "GET /api/v1/timeline/home?limit=20",
             ("timeline.GetHomeTimeline",)),
    Scenario("home_timeline_grpc", "Home timeline, gRPC", "home", "grpc", "TimelineService/GetHomeTimeline limit=20",
             ("timeline.GetHomeTimeline",)),
    Scenario("user_timeline", "User timeline", "user_tl", "json", "GET /api/v1/timeline/user/{id}?limit=20",
             ("timeline.GetUserTimeline",)),
    Scenario("compose", "Compose", "compose", "json",
             "POST /api/v1/tweets (256 chars, 2 mentions, 2 hashtags, 1 URL)", ("tweet.CreateTweet",), "write"),
    Scenario("like", "Like", "like", "json", "POST /api/v1/tweets/{id}/like",
             ("engagement.LikeTweet", "tweet.CreateTweet"), "write"),
    Scenario("follow", "Follow", "follow", "json", "POST /api/v1/users/{id}/follow", ("graph.FollowUser",), "write"),
    Scenario("mixed", "Mixed 60/30/10", "mixed", "json", "60% home, 30% user timeline, 10% compose",
             ("timeline.GetHomeTimeline", "timeline.GetUserTimeline", "tweet.CreateTweet"), "mixed"),
]
FANOUT = Scenario("fanout", "Fan-out", "compose", "json",
                  "compose-to-visible in followers' home timelines, under background compose load",
                  ("tweet.CreateTweet", "timeline.GetHomeTimeline"), "fanout")
CELEBRITY = Scenario("celebrity", "Celebrity", "home", "json",
                     "home timeline of a celebrity's followers, without and with it posting once a second",
                     ("tweet.CreateTweet", "timeline.GetHomeTimeline"), "read")
ALL_NAMES = [CEILING["json"].name, CEILING["grpc"].name, *(s.name for s in SWEEPS), FANOUT.name, CELEBRITY.name]
TIMELINE_WORKLOADS = {"home", "user_tl", "mixed"}  # read as the active viewers, whose timelines are warmed
WARM_CONCURRENCY = 4  # first reads in flight while warming


def timeline_pages(before: Mapping[str, metrics.Series], after: Mapping[str, metrics.Series]) -> dict[str, Any]:
    """What the timeline service's pages cost between two scrapes: pages, candidate windows hydrated
    (one round of batch calls each), candidates by outcome (shown, or why not) and rebuilds, from its
    chirp_timeline_* counters. Empty when the timeline exports none."""
    deltas = metrics.counter_deltas(before.get("timeline", {}), after.get("timeline", {}), r"^chirp_timeline_")
    if not deltas:
        return {}

    def by(name: str, label: str) -> dict[str, float]:
        found: dict[str, float] = {}
        for key, value in deltas.items():
            if key.startswith(name + "{") and value:
                labels = dict(part.split("=", 1) for part in key[len(name) + 1:-1].split(","))
                found[labels.get(label, "")] = found.get(labels.get(label, ""), 0.0) + value
        return found

    pages = by("chirp_timeline_pages_total", "list")
    windows = by("chirp_timeline_page_windows_total", "list")
    summary: dict[str, Any] = {}
    for kind, count in pages.items():
        outcomes: dict[str, float] = {}
        for key, value in deltas.items():
            if key.startswith("chirp_timeline_candidates_total{") and f"list={kind}" in key and value:
                outcome = key.split("outcome=", 1)[1].split(",", 1)[0].rstrip("}")
                outcomes[outcome] = outcomes.get(outcome, 0.0) + value
        summary[kind] = {
            "pages": int(count),
            "windows_per_page": round(windows.get(kind, 0.0) / count, 3),
            "candidates_per_page": {k: round(v / count, 2) for k, v in sorted(outcomes.items())},
        }
    rebuilds = deltas.get("chirp_timeline_rebuilds_total", 0.0)
    if rebuilds:
        summary["rebuilds"] = {
            "count": int(rebuilds),
            "entries_per_rebuild": {k: round(v / rebuilds, 1)
                                    for k, v in by("chirp_timeline_rebuild_entries_total", "source").items()},
            "fallback_calls_per_rebuild": round(deltas.get("chirp_timeline_rebuild_fallback_calls_total", 0.0)
                                                / rebuilds, 2),
        }
    return summary


def read_commit(root: Path = ROOT) -> str:
    """The checked-out commit, read from .git without running git (short form, or "unknown")."""
    git = root / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head[:12]
        ref = head.split(":", 1)[1].strip()
        common = git / "commondir"
        base = (git / common.read_text().strip()).resolve() if common.exists() else git
        for where in (git, base):
            if (where / ref).exists():
                return (where / ref).read_text().strip()[:12]
        for where in (git, base):
            packed = where / "packed-refs"
            if packed.exists():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split()[0][:12]
    except OSError:
        pass
    return "unknown"


def _seed_for(*parts: object) -> int:
    return zlib.crc32(":".join(map(str, parts)).encode())


class Runner:
    def __init__(self, mode: Mode, seed: int, *, out_dir: Path, only: set[str] | None, keep_data: bool,
                 workers: int | None, log_level: str, say: Callable[[str], None],
                 profile: tuple[str, float, float] | None = None) -> None:
        self.mode = mode
        self.profile = profile  # (scenario, rate, seconds): sample the services at one rate instead of sweeping
        self.seed = seed
        self.out_dir = out_dir
        self.only = only
        self.keep_data = keep_data
        self.workers = workers or mode.workers
        self.log_level = log_level
        self.say = say
        self.commit = read_commit()
        self.date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        suffix = ("" if mode.name == "full" else f"-{mode.name}") + (f"-profile-{profile[0]}" if profile else "")
        self.stem = f"{self.date}-{self.commit}{suffix}"
        self.tmp = RESULTS / "tmp" / f"{self.stem}-{os.getpid()}"
        self.results: dict[str, Any] = {}
        self.mesh: Mesh | None = None
        self.ceiling: Ceiling | None = None
        self.pool: WorkerPool | None = None
        self.sampler: procstats.RssSampler | None = None
        self.data_path = self.tmp / "workers-data-0.json"
        self.seeded: Seeded | None = None
        self.ceiling_rate: dict[str, float] = {}
        self.home_rate = 0.0
        self.active: list[int] = []  # indices of the active viewers the read scenarios read as
        self.cold_start: dict[str, Any] | None = None

    # --- processes ---

    def mesh_pids(self) -> dict[str, int]:
        if self.mesh is None:
            return {}
        names = ["nats", "valkey", *(s.name for s in SERVICES), "envoy"]
        return {n: p for n in names if (p := self.mesh.supervisor.pid(n)) is not None}

    def ceiling_pids(self) -> dict[str, int]:
        return self.ceiling.pids() if self.ceiling else {}

    def all_pids(self) -> dict[str, int]:
        return {**self.mesh_pids(), **self.ceiling_pids()}

    @property
    def lead_s(self) -> float:
        """How long before a step's load starts: time for the workers to get the spec, load the data
        and open their connections."""
        return 0.3 if self.mode.step_s <= 2 else 0.6

    def wanted(self, name: str) -> bool:
        return self.only is None or name in self.only

    # --- one step, one sweep ---

    async def step(self, scenario: Scenario, rate: float, *, port: int, procs: Callable[[], dict[str, int]],
                   params: Mapping[str, Any] | None = None, duration_s: float | None = None,
                   extra: Mapping[str, Any] | None = None, quiet: bool = False) -> dict[str, Any]:
        assert self.pool is not None
        duration = duration_s or min(max(self.mode.step_s, self.mode.min_requests / rate), self.mode.long_step_s)
        n = self.pool.size
        start_at = time.time() + self.lead_s
        specs = [
            StepSpec(
                workload=scenario.workload, protocol="http" if scenario.protocol == "json" else "grpc", port=port,
                rate=rate / n, duration_s=duration, start_at=start_at, timeout_s=self.mode.timeout_s,
                seed=_seed_for(self.seed, scenario.name, rate, k), data_path=str(self.data_path),
                params=dict(params or {}),
                echo_descriptor=str(self.ceiling.descriptor) if self.ceiling and scenario.workload == "echo" else "",
            )
            for k in range(n)
        ]
        running = asyncio.create_task(self.pool.run(specs))
        await asyncio.sleep(max(0.0, start_at - time.time()))
        before = procstats.cpu_snapshot(procs())
        outcomes = await running
        after = procstats.cpu_snapshot(procs())
        result = summarize(outcomes, offered=rate, duration_s=duration,
                           cpu_s=procstats.cpu_delta(before, after), extra=extra)
        if not quiet:
            self.say(f"    {rate:>8.0f}/s  ok {result['ok']:>6}  err {result['errors']:>5}  "
                     f"p50 {result['p50_ms']:>8.1f}  p95 {result['p95_ms']:>8.1f}  p99 {result['p99_ms']:>8.1f} ms"
                     f"{'' if result['meets_bound'] else '  (over bound)'}")
        return result

    async def sweep(self, scenario: Scenario, ladder: tuple[float, ...], *, port: int,
                    procs: Callable[[], dict[str, int]], params: Mapping[str, Any] | None = None,
                    max_steps: int | None = None, refine: bool = False) -> list[dict[str, Any]]:
        """Offered rates up the ladder until the bound and the seed's bound both fail (or clearly do).

        With `refine`, a coarse ladder (rungs twice apart or more) gets one more step between the
        last rate that met the bound and the first that did not."""
        steps: list[dict[str, Any]] = []
        failures = 0
        steps_down = 0
        for rate in ladder:
            if len(steps) >= (max_steps or self.mode.max_steps):
                break
            result = await self.step(scenario, rate, port=port, procs=procs, params=params)
            steps.append(result)
            passing = result["meets_bound"] or bool(result["meets_seed_bound"])
            failures = 0 if passing else failures + 1
            overloaded = result["error_rate"] > 0.05 or result["p50_ms"] > 1000 * self.mode.timeout_s / 4
            if failures and (overloaded or failures >= self.mode.failures_to_stop):
                break
            await asyncio.sleep(min(0.3, self.mode.step_s / 10))  # let queues empty between rates
        passed = [s["offered_rate"] for s in steps if s["meets_bound"]]
        failed = [s["offered_rate"] for s in steps if not s["meets_bound"] and passed and s["offered_rate"] > max(passed)]
        if refine and passed and failed and min(failed) / max(passed) >= 1.9:
            rate = float(round((max(passed) * min(failed)) ** 0.5, -1))
            await asyncio.sleep(min(0.3, self.mode.step_s / 10))
            steps.append(await self.step(scenario, rate, port=port, procs=procs, params=params))
            steps.sort(key=lambda s: s["offered_rate"])
        if len(ladder) > 1 and steps and not any(s["meets_bound"] or s["meets_seed_bound"] for s in steps):
            # Not even the lowest rung holds: go down the same ratio until a rate does (or 3 more steps).
            factor = ladder[1] / ladder[0]
            rate = ladder[0]
            while steps_down < 3 and len(steps) < (max_steps or self.mode.max_steps) + 3:
                steps_down += 1
                rate = max(1.0, float(round(rate / factor)))
                await asyncio.sleep(min(0.3, self.mode.step_s / 10))
                result = await self.step(scenario, rate, port=port, procs=procs, params=params)
                steps.insert(0, result)
                if result["meets_bound"] or result["meets_seed_bound"] or rate <= 1.0:
                    break
        return steps

    # --- scenario results ---

    def unavailable(self, scenario: Scenario, reason: str) -> dict[str, Any]:
        self.say(f"  {scenario.title}: {reason}")
        return {"name": scenario.name, "title": scenario.title, "protocol": scenario.protocol,
                "request": scenario.request, "kind": scenario.kind, "available": False, "reason": reason}

    def reason_missing(self, scenario: Scenario, availability: Mapping[str, str | None]) -> str | None:
        reasons = [availability[need] or "" for need in scenario.needs if availability.get(need)]
        if not reasons:
            return None
        prefix = "not available: "
        return prefix + ", ".join(dict.fromkeys(r.removeprefix(prefix) for r in reasons))

    def summarize_scenario(self, scenario: Scenario, steps: list[dict[str, Any]], *, ceiling: float | None,
                           rss: Mapping[str, float], rpcs: Mapping[str, Any] | None = None,
                           extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        ops = sorted({op for s in steps for op in s["by_op"]})
        best = best_rate(steps, "meets_bound")
        at = next((s for s in steps if s["offered_rate"] == best), steps[0] if steps else None)
        entry: dict[str, Any] = {
            "name": scenario.name, "title": scenario.title, "protocol": scenario.protocol,
            "request": scenario.request, "kind": scenario.kind, "available": True,
            "bound_p99_ms": {op: BOUND_P99_MS.get(op, 50.0) for op in ops},
            "seed_bound_p95_ms": {op: SEED_BOUND_P95_MS[op] for op in ops if op in SEED_BOUND_P95_MS},
            "max_rate_within_bound": best,
            "max_rate_within_seed_bound": best_rate(steps, "meets_seed_bound") if any(
                s["meets_seed_bound"] is not None for s in steps) else None,
            "ratio_to_ceiling": round(best / ceiling, 4) if ceiling else None,
            "saturated": bool(steps) and not steps[-1]["meets_bound"],
            "at_max_rate": {k: at[k] for k in ("offered_rate", "p50_ms", "p95_ms", "p99_ms", "cpu_ms_per_request",
                                               "errors")} if at else None,
            "cpu_ms_per_request": at["cpu_ms_per_request"] if at else None,
            "errors": sum(s["errors"] for s in steps),
            "requests": sum(s["scheduled"] for s in steps),
            "peak_rss_mb": dict(rss),
            "steps": steps,
        }
        if rpcs is not None:
            entry["server_rpcs"] = rpcs
        if extra:
            entry.update(extra)
        return entry

    async def scrape(self) -> dict[str, metrics.Series]:
        if self.mesh is None:
            return {}
        return await metrics.scrape({s.name: self.mesh.metrics_url(s.name) for s in SERVICES
                                     if self.mesh.ports.metrics.get(s.name)})

    def rpcs_per_request(self, before: Mapping[str, metrics.Series], after: Mapping[str, metrics.Series],
                         requests: int) -> dict[str, Any]:
        summary = metrics.rpc_summary(before, after)
        for values in summary.values():
            values["per_request"] = round(values["calls"] / requests, 3) if requests else None
        return summary

    # --- the run ---

    async def run(self) -> Path:
        mode = self.mode
        started = time.time()
        busy0, steal0 = procstats.cpu_times_total()
        self.results = {
            "schema": 1,
            "run": {
                "date": self.date, "commit": self.commit, "mode": mode.name, "seed": self.seed,
                "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": procstats.machine(),
                "load_generator": {
                    "kind": "open loop (bench/loadgen.py): requests due at start + i/rate, latency from the "
                            "intended send time; HTTP/1.1 keep-alive for JSON, generated stubs for gRPC",
                    "processes": self.workers,
                    "step_s": mode.step_s,
                    "timeout_s": mode.timeout_s,
                },
                "mode_settings": {k: v for k, v in vars(mode).items() if k != "name"},
                "note": "Shared, noisy 2-core machine: compare rates through their ratio to the ceiling "
                        "measured in the same run, not across runs.",
            },
            "seeding": {},
            "ceiling": {},
            "scenarios": [],
        }
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        data_dir = self.tmp / "mesh"
        error: BaseException | None = None
        try:
            await self._run(data_dir)
        except BaseException as exc:
            error = exc
            self.results["aborted"] = f"{type(exc).__name__}: {exc}"
            self.say(f"run aborted: {self.results['aborted']}")
        finally:
            await self._shutdown()
            busy1, steal1 = procstats.cpu_times_total()
            self.results["run"]["duration_s"] = round(time.time() - started, 1)
            self.results["run"]["machine"]["busy_cpu_s_during_run"] = round(busy1 - busy0, 1)
            self.results["run"]["machine"]["steal_cpu_s_during_run"] = round(steal1 - steal0, 1)
            self.results["run"]["machine"]["loadavg_at_end"] = list(os.getloadavg())
            paths = report.write(self.results, self.out_dir, self.stem)
            self.say(report.markdown_summary(self.results))
            self.say("wrote " + ", ".join(str(p) for p in paths))
            if not self.keep_data:
                shutil.rmtree(self.tmp, ignore_errors=True)
        if error is not None and not isinstance(error, Exception):
            raise error
        return paths[0]

    async def _shutdown(self) -> None:
        if self.sampler is not None:
            await self.sampler.stop()
        hwm = {k: v for k, v in procstats.peak_rss_mb(self.all_pids()).items() if v > 0}
        if self.mesh is not None:
            restarts = {n: self.mesh.supervisor.restarts(n) for n in self.mesh_pids()}
            self.results["processes"] = {"peak_rss_mb": hwm,
                                         "restarts": {n: r for n, r in restarts.items() if r}}
        if self.pool is not None:
            self.pool.close()
        if self.ceiling is not None:
            with contextlib.suppress(Exception):
                await self.ceiling.stop()
        if self.mesh is not None:
            with contextlib.suppress(Exception):
                await self.mesh.stop()

    async def _run(self, data_dir: Path) -> None:
        mode = self.mode
        say = self.say
        say(f"Chirp bench, {mode.name} mode, seed {self.seed}, commit {self.commit}")
        say("  (a shared, noisy 2-core machine: read the ratios to the ceiling, not the absolute rates)")

        # 1. The dataset, into the stores, before the mesh opens them.
        say(f"seeding {mode.users:,} users, their follows and ~{mode.tweets:,} tweets through the stores ...")
        self.pool = WorkerPool(self.workers)  # spawning overlaps the seeding
        graph = build_graph(mode, self.seed)
        started = time.monotonic()
        env = {"CHIRP_TIMELINE_CELEBRITY_THRESHOLD": str(mode.celebrity_threshold)}
        self.seeded = await seed_stores(data_dir, graph, self.seed, tweets=mode.tweets,
                                        jwt_issuer=os.environ.get("CHIRP_JWT_ISSUER", "chirp"),
                                        jwt_audience=os.environ.get("CHIRP_JWT_AUDIENCE", "chirp"))
        seeding = self.results["seeding"]
        seeding.update(self.seeded.report)
        seeding["total_seconds"] = round(time.monotonic() - started, 2)
        seeding["celebrity_threshold"] = mode.celebrity_threshold
        tweets = seeding["tweets"]
        say(f"  users {seeding['users']['seconds']} s, follows {seeding['follows']['seconds']} s "
            f"({graph.edges:,} follows, mean {graph.edges / graph.size:.1f} followers), corpus built in "
            f"{seeding['corpus_build_seconds']} s and loaded in {tweets['seconds']} s ({tweets['tweets']:,} tweets, "
            f"{tweets['replies']:,} replies, {tweets['likes']:,} likes, {tweets['retweets']:,} retweets); "
            f"{seeding['total_seconds']} s in all")

        # 2. The mesh, exactly as `make run` starts it, and the ceiling beside it.
        say("starting the mesh and the ceiling ...")
        self.mesh = Mesh(data_dir, MeshPorts.free(), log_level=self.log_level, extra_env=env)
        self.ceiling = Ceiling(self.tmp / "ceiling")
        started = time.monotonic()
        await self.mesh.start(timeout_s=120)
        await self.ceiling.start()
        self.results["run"]["mesh_start_s"] = round(time.monotonic() - started, 2)
        self.results["run"]["mesh_env"] = env
        self.sampler = procstats.RssSampler(self.all_pids)
        self.sampler.start()
        self.seeded.write_for_workers(self.data_path, self.mesh.ports.edge)
        await self._warm_up()

        # 3. The ceiling, both ways.
        for protocol in ("json", "grpc"):
            scenario = CEILING[protocol]
            if not self.wanted(scenario.name):
                continue
            say(f"{scenario.title} ({scenario.request})")
            self.sampler.reset()
            began = time.monotonic()
            steps = await self.sweep(scenario, mode.ceiling_ladder, port=self.ceiling.edge_port,
                                     procs=self.ceiling_pids, params={"token": self.ceiling.token},
                                     max_steps=mode.ceiling_max_steps, refine=True)
            rate = best_rate(steps, "meets_bound")
            self.ceiling_rate[protocol] = rate
            self.results["ceiling"][protocol] = {"max_rate_within_bound": rate,
                                                 "saturated": bool(steps) and not steps[-1]["meets_bound"]}
            rss = {k: v for k, v in self.sampler.peaks().items() if k in self.ceiling_pids()}
            self.results["scenarios"].append(self.summarize_scenario(scenario, steps, ceiling=rate or None, rss=rss))
            self.results["scenarios"][-1]["duration_s"] = round(time.monotonic() - began, 1)
        self.results["ceiling"]["peak_rss_mb"] = procstats.peak_rss_mb(self.ceiling_pids())
        await self.ceiling.stop()

        # 4. What is built.
        user = self.seeded.users[-1]
        availability = await probe_all(self.mesh.edge_url, user.token, user.id)
        self.results["availability"] = {k: v or "available" for k, v in availability.items()}
        say("available: " + ", ".join(f"{k} {'yes' if v is None else 'no'}" for k, v in availability.items()))
        await self._scenarios(availability)

    async def _scenarios(self, availability: Mapping[str, str | None]) -> None:
        assert self.seeded is not None
        say = self.say
        rng = random.Random(_seed_for(self.seed, "active viewers"))
        users = len(self.seeded.users)
        self.active = sorted(rng.sample(range(users), min(self.mode.active_viewers, users)))
        readers = [s for s in SWEEPS if s.workload in TIMELINE_WORKLOADS and self.wanted(s.name)
                   and self.reason_missing(s, availability) is None]
        if readers and availability.get("timeline.GetHomeTimeline") is None:
            say(f"warming the home timelines of {len(self.active):,} active viewers (their cold starts) ...")
            self.cold_start = await self._warm_home_timelines(self.active)
            self.results["cold_start"] = self.cold_start
            say(f"    cold start: p50 {self.cold_start['p50_ms']} p95 {self.cold_start['p95_ms']} "
                f"p99 {self.cold_start['p99_ms']} ms, {self.cold_start['errors'] or 'no'} errors")
        if self.profile is not None:
            await self._profile(availability)
            return
        for scenario in SWEEPS:
            if not self.wanted(scenario.name):
                continue
            reason = self.reason_missing(scenario, availability)
            if reason is None and scenario.workload == "like" and not self.seeded.tweet_ids:
                reason = "not available: no tweets were seeded"
            if reason:
                self.results["scenarios"].append(self.unavailable(scenario, reason))
                continue
            say(f"{scenario.title} ({scenario.request})")
            began = time.monotonic()
            await self._run_sweep(scenario)
            self.results["scenarios"][-1]["duration_s"] = round(time.monotonic() - began, 1)
        if self.wanted(FANOUT.name):
            reason = self.reason_missing(FANOUT, availability)
            self.results["scenarios"].append(self.unavailable(FANOUT, reason) if reason else await self._fanout())
        if self.wanted(CELEBRITY.name):
            reason = self.reason_missing(CELEBRITY, availability)
            began = time.monotonic()
            self.results["scenarios"].append(self.unavailable(CELEBRITY, reason) if reason else await self._celebrity())
            self.results["scenarios"][-1].setdefault("duration_s", round(time.monotonic() - began, 1))

    async def _warm_home_timelines(self, indices: list[int]) -> dict[str, Any]:
        """Reads each viewer's home timeline once, WARM_CONCURRENCY at a time, so that the measured
        reads find it built, as an active user's is. These first reads are the cold starts (each
        rebuilds a timeline): their latency and what they cost inside the mesh are reported as such."""
        from chirp.timeline.v1 import timeline_service_pb2 as tlpb
        from chirp.timeline.v1 import timeline_service_pb2_grpc as tlrpc

        assert self.mesh is not None and self.seeded is not None
        users = self.seeded.users
        latencies: list[float] = []
        errors: dict[str, int] = {}
        gate = asyncio.Semaphore(WARM_CONCURRENCY)
        before = await self.scrape()
        cpu_before = procstats.cpu_snapshot(self.mesh_pids())
        began = time.monotonic()
        async with grpc.aio.insecure_channel(self.mesh.edge_target) as channel:
            timeline = tlrpc.TimelineServiceStub(channel)

            async def read(index: int) -> None:
                async with gate:
                    sent = time.perf_counter()
                    try:
                        await timeline.GetHomeTimeline(
                            tlpb.GetHomeTimelineRequest(limit=20),
                            metadata=[("authorization", f"Bearer {users[index].token}")], timeout=4 * self.mode.timeout_s)
                        latencies.append(time.perf_counter() - sent)
                    except grpc.aio.AioRpcError as exc:
                        errors[exc.code().name] = errors.get(exc.code().name, 0) + 1

            await asyncio.gather(*(read(i) for i in indices))
        seconds = time.monotonic() - began
        cpu = procstats.cpu_delta(cpu_before, procstats.cpu_snapshot(self.mesh_pids()))
        after = await self.scrape()
        latencies.sort()
        return {
            "request": "TimelineService/GetHomeTimeline limit=20 (gRPC through Envoy), the first read of each viewer",
            "viewers": len(indices),
            "concurrency": WARM_CONCURRENCY,
            "ok": len(latencies),
            "errors": errors,
            "seconds": round(seconds, 2),
            **{f"p{q}_ms": round(1000 * percentile(latencies, q), 1) for q in (50, 95, 99)},
            "max_ms": round(1000 * latencies[-1], 1) if latencies else 0.0,
            "cpu_ms_per_request": round(1000 * sum(cpu.values()) / len(latencies), 2) if latencies else None,
            "server_rpcs": self.rpcs_per_request(before, after, len(latencies)),
            "timeline_pages": timeline_pages(before, after),
        }

    async def _warm_up(self) -> None:
        """One short step per protocol so that imports and first connections are not measured."""
        assert self.ceiling is not None
        for protocol in ("json", "grpc"):
            await self.step(CEILING[protocol], 20.0, port=self.ceiling.edge_port, procs=self.ceiling_pids,
                            params={"token": self.ceiling.token}, duration_s=0.5, quiet=True)

    def _ladder(self, scenario: Scenario) -> tuple[float, ...]:
        ceiling = self.ceiling_rate.get(scenario.protocol) or 0.0
        ladder = self.mode.scenario_ladder
        if ceiling:
            # Past twice the ceiling no service can keep up; stop there.
            ladder = tuple(r for r in ladder if r <= 2 * ceiling) or ladder[:1]
        return ladder

    async def _run_sweep(self, scenario: Scenario) -> None:
        assert self.mesh is not None and self.sampler is not None
        reads_timelines = scenario.workload in TIMELINE_WORKLOADS
        params = {"viewers": self.active} if reads_timelines and self.active else None
        self.sampler.reset()
        before = await self.scrape()
        steps = await self.sweep(scenario, self._ladder(scenario), port=self.mesh.ports.edge, procs=self.mesh_pids,
                                 params=params, refine=True)
        after = await self.scrape()
        requests = sum(s["ok"] for s in steps)
        extra: dict[str, Any] = {}
        if reads_timelines:
            extra["viewers"] = f"{len(self.active):,} active viewers, home timelines warmed first" if params else "all"
            extra["timeline_pages"] = timeline_pages(before, after)
            if scenario.workload == "home" and self.cold_start is not None:
                extra["cold_start"] = self.cold_start
        entry = self.summarize_scenario(
            scenario, steps, ceiling=self.ceiling_rate.get(scenario.protocol) or None,
            rss={k: v for k, v in self.sampler.peaks().items() if k in self.mesh_pids()},
            rpcs=self.rpcs_per_request(before, after, requests), extra=extra)
        if scenario.name == "home_timeline":
            # The celebrity scenario reads at fractions of this: the best rate, else the lowest tried.
            self.home_rate = entry["max_rate_within_bound"] or min((s["offered_rate"] for s in steps), default=0.0)
        self.results["scenarios"].append(entry)

    # --- profile ---

    async def _profile(self, availability: Mapping[str, str | None]) -> None:
        """One step of one scenario at a fixed rate while py-spy samples every service (bench/profile.py)."""
        assert self.mesh is not None and self.profile is not None
        name, rate, seconds = self.profile
        scenario = next(s for s in SWEEPS if s.name == name)
        reason = self.reason_missing(scenario, availability)
        if reason is not None:
            self.results["profile"] = {"scenario": name, "available": False, "reason": reason}
            self.say(f"  {scenario.title}: {reason}")
            return
        services = {s.name for s in SERVICES}
        pids = {n: p for n, p in self.mesh_pids().items() if n in services}
        self.say(f"profiling {scenario.title} at {rate:.0f}/s for {seconds:.0f} s (py-spy on {', '.join(pids)}) ...")
        params = {"viewers": self.active} if scenario.workload in TIMELINE_WORKLOADS and self.active else None
        recording = asyncio.create_task(profile.record(pids, seconds, self.tmp / "profile", delay_s=self.lead_s))
        step = await self.step(scenario, rate, port=self.mesh.ports.edge, procs=self.mesh_pids, params=params,
                               duration_s=seconds)
        raws = await recording
        answered = max(step["ok"], 1)
        self.results["profile"] = {
            "scenario": name, "rate": rate, "seconds": seconds, "available": True,
            "tool": f"py-spy record --rate {profile.SAMPLE_RATE_HZ} --format raw --nonblocking, on each service process",
            "step": {k: v for k, v in step.items() if k != "by_op"},
            "cpu_ms_per_request_by_process": {n: round(1000 * s / answered, 2) for n, s in step["cpu_s"].items()},
            "processes": {n: profile.summarize(r) if isinstance(r, Path) else {"error": r} for n, r in raws.items()},
        }

    # --- fan-out ---

    async def _fanout(self) -> dict[str, Any]:
        from chirp.tweet.v1 import tweet_service_pb2 as tpb
        from chirp.tweet.v1 import tweet_service_pb2_grpc as trpc

        assert self.mesh is not None and self.seeded is not None and self.sampler is not None and self.pool is not None
        mode, seeded, say = self.mode, self.seeded, self.say
        say(f"{FANOUT.title} ({FANOUT.request})")
        self.sampler.reset()
        rng = random.Random(_seed_for(self.seed, "fanout"))
        user0 = seeded.users[0]
        streaming = await stream_available(self.mesh.edge_target, user0.token)
        observe = "StreamHomeTimeline" if streaming else "GetHomeTimeline polled every 100 ms"
        before = await self.scrape()
        cpu_before = procstats.cpu_snapshot(self.mesh_pids())
        wall = time.monotonic()
        background_steps: list[dict[str, Any]] = []
        done = asyncio.Event()

        async def background() -> None:
            scenario = Scenario("fanout_background", "background compose", "compose", "json", "")
            while not done.is_set():
                background_steps.append(await self.step(
                    scenario, mode.background_compose_rate, port=self.mesh.ports.edge, procs=self.mesh_pids,
                    duration_s=2.0, quiet=True))

        tiers: list[dict[str, Any]] = []
        bg = asyncio.create_task(background())
        try:
            async with grpc.aio.insecure_channel(self.mesh.edge_target) as channel:
                tweets = trpc.TweetServiceStub(channel)
                for tier, author_index in seeded.graph.fanout_authors.items():
                    followers = seeded.graph.followers_of(author_index)
                    # The oldest and newest follows (first and last in any follow-ordered fan-out) and a sample.
                    picks = {followers[0], followers[-1]}
                    others = [f for f in followers if f not in picks]
                    picks.update(rng.sample(others, min(len(others), max(0, mode.fanout_observers - 2))))
                    observers = [seeded.users[i] for i in sorted(picks)]
                    author = seeded.users[author_index]
                    visible: list[float] = []
                    deliveries: list[float] = []
                    unseen = 0
                    for post in range(mode.fanout_posts):
                        seen = await self._observe_post(
                            tweets, tpb, author, observers, streaming, rng.getrandbits(64), channel)
                        if seen is None:
                            unseen += len(observers)
                            continue
                        latencies, missing = seen
                        unseen += missing
                        visible.extend(latencies)
                        if latencies and not missing:
                            deliveries.append(tier / max(max(latencies), 0.001))
                        await asyncio.sleep(0.3)
                    visible.sort()
                    deliveries.sort()
                    tiers.append({
                        "followers": seeded.graph.followers_count[author_index],
                        "posts": mode.fanout_posts,
                        "observers": len(observers),
                        "visible_p50_ms": round(1000 * percentile(visible, 50), 1) if visible else None,
                        "visible_p99_ms": round(1000 * percentile(visible, 99), 1) if visible else None,
                        "visible_max_ms": round(1000 * visible[-1], 1) if visible else None,
                        "not_visible_within_timeout": unseen,
                        "deliveries_per_s": round(percentile(deliveries, 50), 1) if deliveries else None,
                    })
                    say(f"    {tier:>6} followers: visible p50 {tiers[-1]['visible_p50_ms']} ms, "
                        f"p99 {tiers[-1]['visible_p99_ms']} ms, {tiers[-1]['deliveries_per_s']} deliveries/s, "
                        f"{unseen} not seen")
        finally:
            done.set()
            await bg
        elapsed = time.monotonic() - wall
        cpu = procstats.cpu_delta(cpu_before, procstats.cpu_snapshot(self.mesh_pids()))
        after = await self.scrape()
        timeline_counters = metrics.counter_deltas(before.get("timeline", {}), after.get("timeline", {}),
                                                   r"fan|deliver")
        best = max((t["deliveries_per_s"] or 0.0 for t in tiers), default=0.0)
        ceiling = self.ceiling_rate.get("grpc") or None
        composes = sum(s["ok"] for s in background_steps) + len(tiers) * mode.fanout_posts
        return {
            "name": FANOUT.name, "title": FANOUT.title, "protocol": "grpc", "request": FANOUT.request,
            "kind": "fanout", "available": True,
            "observed_by": observe,
            "tiers": tiers,
            "skipped_tiers": [t for t in (100, 1_000, 10_000) if t not in seeded.graph.fanout_authors],
            "background_compose_rate": mode.background_compose_rate,
            "background_steps": background_steps,
            "max_rate_within_bound": None,
            "deliveries_per_s": best,
            "ratio_to_ceiling": round(best / ceiling, 4) if ceiling and best else None,
            "ratio_note": "deliveries/s divided by the gRPC ceiling's requests/s",
            "cpu_s": {k: round(v, 3) for k, v in cpu.items()},
            "cpu_ms_per_request": round(1000 * sum(cpu.values()) / composes, 3) if composes else None,
            "cpu_note": "mesh CPU over the scenario divided by the composes it served (background and probes)",
            "errors": sum(s["errors"] for s in background_steps),
            "duration_s": round(elapsed, 1),
            "timeline_counters": timeline_counters,
            "server_rpcs": self.rpcs_per_request(before, after, composes),
            "peak_rss_mb": {k: v for k, v in self.sampler.peaks().items() if k in self.mesh_pids()},
        }

    async def _observe_post(self, tweets: Any, tpb: Any, author: Any, observers: list[Any], streaming: bool,
                            nonce: int, channel: grpc.aio.Channel) -> tuple[list[float], int] | None:
        """Posts one tweet as `author`; returns how long after CreateTweet returned each observer saw it,
        and how many never did within the timeout."""
        from chirp.timeline.v1 import timeline_service_pb2 as tlpb
        from chirp.timeline.v1 import timeline_service_pb2_grpc as tlrpc

        loop = asyncio.get_running_loop()
        timeline = tlrpc.TimelineServiceStub(channel)
        seen_at: dict[int, float] = {}
        wanted: dict[str, int] = {}  # the tweet id, once known
        stop = asyncio.Event()

        async def watch_stream(k: int, user: Any) -> None:
            call = timeline.StreamHomeTimeline(tlpb.StreamHomeTimelineRequest(),
                                               metadata=[("authorization", f"Bearer {user.token}")])
            try:
                async for update in call:
                    if "id" in wanted and wanted["id"] in update.tweet_ids:
                        seen_at.setdefault(k, loop.time())
                        return
                    if "id" not in wanted:
                        for tweet_id in update.tweet_ids:
                            pending.setdefault(k, {})[tweet_id] = loop.time()
            except grpc.aio.AioRpcError:
                return
            finally:
                call.cancel()

        async def poll(k: int, user: Any) -> None:
            md = [("authorization", f"Bearer {user.token}")]
            while not stop.is_set() and k not in seen_at:
                if "id" in wanted:
                    try:
                        page = await timeline.GetHomeTimeline(tlpb.GetHomeTimelineRequest(limit=20), metadata=md,
                                                              timeout=2)
                        if any(item.tweet.id == wanted["id"] for item in page.tweets):
                            seen_at[k] = loop.time()
                            return
                    except grpc.aio.AioRpcError:
                        pass
                await asyncio.sleep(0.1)

        pending: dict[int, dict[int, float]] = {}
        watchers = [asyncio.create_task(watch_stream(k, u) if streaming else poll(k, u)) for k, u in enumerate(observers)]
        if streaming:
            await asyncio.sleep(0.2)  # streams open before the post
        try:
            text = f"fan-out probe {nonce:x} " + "x" * 40
            try:
                reply = await tweets.CreateTweet(tpb.CreateTweetRequest(text=text),
                                                 metadata=[("authorization", f"Bearer {author.token}")], timeout=10)
            except grpc.aio.AioRpcError:
                return None
            returned = loop.time()
            wanted["id"] = reply.tweet_id
            for k, updates in pending.items():  # an update that raced the reply
                if reply.tweet_id in updates:
                    seen_at.setdefault(k, updates[reply.tweet_id])
            deadline = returned + self.mode.fanout_visible_timeout_s
            while len(seen_at) < len(observers) and loop.time() < deadline:
                await asyncio.sleep(0.01)
        finally:
            stop.set()
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
        latencies = [max(t - returned, 0.0) for t in seen_at.values()]
        return latencies, len(observers) - len(seen_at)

    # --- celebrity ---

    async def _celebrity(self) -> dict[str, Any]:
        from chirp.tweet.v1 import tweet_service_pb2 as tpb
        from chirp.tweet.v1 import tweet_service_pb2_grpc as trpc

        assert self.mesh is not None and self.seeded is not None and self.sampler is not None
        seeded, say, mode = self.seeded, self.say, self.mode
        say(f"{CELEBRITY.title} ({CELEBRITY.request})")
        self.sampler.reset()
        celebrity = seeded.graph.celebrities[0]
        followers = seeded.graph.followers_of(celebrity)
        # Active followers, warmed as the other read scenarios' viewers are, so the baseline step
        # does not pay for cold starts the posting step then finds done.
        rng = random.Random(_seed_for(self.seed, "celebrity viewers"))
        viewers = sorted(rng.sample(followers, min(mode.active_viewers, len(followers))))
        warmed = await self._warm_home_timelines(viewers)
        base = self.home_rate or mode.scenario_ladder[0]
        fractions = {1: (0.5,), 2: (0.25, 0.75)}.get(mode.celebrity_rates, (0.25, 0.5, 1.0))
        rates = sorted({max(1.0, round(base * f)) for f in fractions})
        before = await self.scrape()
        steps: list[dict[str, Any]] = []
        posted = 0
        async with grpc.aio.insecure_channel(self.mesh.edge_target) as channel:
            tweets = trpc.TweetServiceStub(channel)
            author = seeded.users[celebrity]

            async def post_every_second(stop: asyncio.Event) -> None:
                nonlocal posted
                k = 0
                while not stop.is_set():
                    k += 1
                    with contextlib.suppress(grpc.aio.AioRpcError):
                        await tweets.CreateTweet(tpb.CreateTweetRequest(text=f"celebrity post {k} " + "y" * 60),
                                                 metadata=[("authorization", f"Bearer {author.token}")], timeout=5)
                        posted += 1
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0)

            for rate in rates:
                steps.append(await self.step(CELEBRITY, rate, port=self.mesh.ports.edge, procs=self.mesh_pids,
                                             params={"viewers": viewers}, extra={"phase": "baseline"}))
                stop = asyncio.Event()
                poster = asyncio.create_task(post_every_second(stop))
                try:
                    steps.append(await self.step(CELEBRITY, rate, port=self.mesh.ports.edge, procs=self.mesh_pids,
                                                 params={"viewers": viewers}, extra={"phase": "posting"}))
                finally:
                    stop.set()
                    await poster
        after = await self.scrape()
        posting = [s for s in steps if s.get("phase") == "posting"]
        baseline = [s for s in steps if s.get("phase") == "baseline"]
        requests = sum(s["ok"] for s in steps)
        entry = self.summarize_scenario(
            CELEBRITY, posting, ceiling=self.ceiling_rate.get("json") or None,
            rss={k: v for k, v in self.sampler.peaks().items() if k in self.mesh_pids()},
            rpcs=self.rpcs_per_request(before, after, requests),
            extra={
                "celebrity_followers": seeded.graph.followers_count[celebrity],
                "viewers": len(viewers),
                "cold_start": warmed,
                "posts": posted,
                "p99_change": [{"offered_rate": b["offered_rate"], "baseline_p99_ms": b["p99_ms"],
                                "posting_p99_ms": p["p99_ms"], "delta_ms": round(p["p99_ms"] - b["p99_ms"], 2)}
                               for b, p in zip(baseline, posting)],
            })
        entry["steps"] = steps
        for change in entry["p99_change"]:
            say(f"    {change['offered_rate']:>6.0f}/s: p99 {change['baseline_p99_ms']} ms -> "
                f"{change['posting_p99_ms']} ms while posting")
        return entry
