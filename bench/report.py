"""The run's outputs: <stem>.json (everything), <stem>.md (tables) and <stem>.png (latency against
offered load, one panel per scenario; needs matplotlib, which `make bench` installs)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def write(results: Mapping[str, Any], out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stem}.json"
    md_path = out_dir / f"{stem}.md"
    png_path = out_dir / f"{stem}.png"
    written = [json_path, md_path]
    try:
        if plot(results, png_path):
            written.append(png_path)
    except Exception as exc:  # a plot must never cost the numbers
        results = {**results, "plot_error": repr(exc)}
    json_path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    md_path.write_text(markdown(results))
    return written


# --- markdown ------------------------------------------------------------------------------------


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def _rss(peaks: Mapping[str, float], top: int = 3) -> str:
    largest = sorted(peaks.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {mb:.0f}" for name, mb in largest) or "—"


def _row(s: Mapping[str, Any]) -> str:
    title = s["title"]
    if not s.get("available"):
        return f"| {title} | {s['request']} | {s['reason']} | | | | | | |"
    if s["kind"] == "fanout":
        tiers = "; ".join(f"{t['followers']:,}: {_num(t['visible_p50_ms'])}/{_num(t['visible_p99_ms'])}"
                          + (f" ({t['not_visible_within_timeout']} unseen)" if t["not_visible_within_timeout"] else "")
                          for t in s["tiers"])
        ratio = _num(s.get("ratio_to_ceiling"), 3) + " (deliveries/s ÷ gRPC ceiling req/s)" if s.get("ratio_to_ceiling") else "—"
        return (f"| {title} | compose-to-visible p50/p99 ms by followers: {tiers} | "
                f"{_num(s['deliveries_per_s'])} deliveries/s | {ratio} | | | {s['errors']:,} | "
                f"{_num(s.get('cpu_ms_per_request'), 2)} | {_rss(s['peak_rss_mb'])} |")
    at = s.get("at_max_rate") or {}
    latency = f"{_num(at.get('p50_ms'), 1)} / {_num(at.get('p95_ms'), 1)} / {_num(at.get('p99_ms'), 1)}" if at else "—"
    best = s["max_rate_within_bound"]
    rate = _num(best) if best else "none met it"
    seed = s.get("max_rate_within_seed_bound")
    seed_cell = "—" if seed is None else (_num(seed) if seed else "none met it")
    request = s["request"]
    if s["name"] == "celebrity" and s.get("p99_change"):
        request += "; p99 " + ", ".join(f"{c['baseline_p99_ms']}→{c['posting_p99_ms']} ms at {c['offered_rate']:.0f}/s"
                                        for c in s["p99_change"])
    return (f"| {title} | {request} | {rate} | {_num(s.get('ratio_to_ceiling'), 3)} | {latency} | {seed_cell} | "
            f"{s['errors']:,} of {s['requests']:,} | {_num(s.get('cpu_ms_per_request'), 2)} | {_rss(s['peak_rss_mb'])} |")


def _seeding(seeding: Mapping[str, Any]) -> list[str]:
    lines = []
    if "users" in seeding:
        u = seeding["users"]
        lines.append(f"- users: {u['count']:,} in {u['seconds']} s via {u['via']}")
    if "follows" in seeding:
        f = seeding["follows"]
        lines.append(f"- follows: {f['count']:,} (mean {f['mean_followers']} followers; celebrities "
                     f"{', '.join(f'{c:,}' for c in f['celebrity_followers'])} followers, above the threshold of "
                     f"{seeding.get('celebrity_threshold', 0):,}; fan-out authors "
                     f"{', '.join(f'{int(v):,}' for v in f['fanout_author_followers'].values())}) in {f['seconds']} s "
                     f"via {f['via']}")
    tweets = seeding.get("tweets")
    if tweets is not None:
        lines.append(f"- a simulated {tweets['span_days']} days of activity: {tweets['tweets']:,} tweets, "
                     f"{tweets['replies']:,} replies, {tweets['likes']:,} likes, {tweets['retweets']:,} retweets "
                     f"({tweets['user_timeline_entries']:,} user-timeline entries), built in "
                     f"{seeding.get('corpus_build_seconds', '?')} s and loaded in {tweets['seconds']} s via {tweets['via']}")
    if "total_seconds" in seeding:
        lines.append(f"- seeding took {seeding['total_seconds']} s in all")
    return lines


SUMMARY_HEADER = (
    "| Scenario | Request | Max rate at bound (req/s) | × ceiling | p50 / p95 / p99 at that rate (ms) | "
    "Max rate at seed's p95 bound | Errors | CPU-ms / req | Peak RSS MiB (largest 3) |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def markdown_summary(results: Mapping[str, Any]) -> str:
    run = results.get("run", {})
    machine = run.get("machine", {})
    ceiling = results.get("ceiling", {})
    lines = [
        f"## Chirp bench: {run.get('mode')} run, {run.get('date')}, commit {run.get('commit')}, seed {run.get('seed')}",
        "",
        f"Machine: {machine.get('cpus')} CPUs ({machine.get('cpu_model')}), {machine.get('memory_gib')} GiB, "
        f"Linux {machine.get('kernel')}, Python {machine.get('python')}. **Shared and noisy**: load average "
        f"{_load(machine.get('loadavg_at_start'))} at the start, {_load(machine.get('loadavg_at_end'))} at the end; "
        "compare rates through their ratio to the ceiling measured in the same run.",
        "",
        f"Bounds: p99 ≤ 50 ms for reads, ≤ 100 ms for writes, errors ≤ 1%. Seed's p95 bounds: timeline 200 ms, "
        f"post 500 ms, like/retweet 150 ms, follow 100 ms. Ceiling (bare grpc.aio echo behind the same Envoy): "
        f"JSON {_num(ceiling.get('json', {}).get('max_rate_within_bound'))} req/s, "
        f"gRPC {_num(ceiling.get('grpc', {}).get('max_rate_within_bound'))} req/s.",
        "",
        SUMMARY_HEADER,
        *(_row(s) for s in results.get("scenarios", [])),
        "",
        *_cold_start_summary(results.get("cold_start")),
        "Seeding:",
        *_seeding(results.get("seeding", {})),
    ]
    restarts = results.get("processes", {}).get("restarts")
    if restarts:
        lines += ["", f"**Processes that crashed and were restarted during the run**: "
                      f"{', '.join(f'{n} ×{c}' for n, c in restarts.items())} (see their logs; numbers after a "
                      "crash are suspect)."]
    if results.get("aborted"):
        lines += ["", f"**The run was aborted**: {results['aborted']}"]
    return "\n".join(lines) + "\n"


def _profile(found: Mapping[str, Any] | None) -> list[str]:
    if not found:
        return []
    if not found.get("available"):
        return [f"## Profile: {found['scenario']}", "", found["reason"], ""]
    step = found.get("step") or {}
    lines = [f"## Profile: {found['scenario']} at {_num(found['rate'])}/s for {_num(found['seconds'])} s", "",
             f"{found['tool']}. The step: p50 / p95 / p99 {_num(step.get('p50_ms'), 1)} / {_num(step.get('p95_ms'), 1)} / "
             f"{_num(step.get('p99_ms'), 1)} ms, {step.get('errors', 0)} errors, "
             f"{_num(step.get('cpu_ms_per_request'), 2)} CPU-ms per request; CPU-ms per request by process: "
             + ", ".join(f"{n} {_num(v, 2)}" for n, v in (found.get("cpu_ms_per_request_by_process") or {}).items()),
             ""]
    for name, summary in found["processes"].items():
        if "error" in summary:
            lines += [f"### {name}: {summary['error']}", ""]
            continue
        lines += [f"### {name}: {summary['samples']:,} busy samples ({summary['busy_s']} s)", "",
                  "By layer (the innermost frame outside the standard library): "
                  + ", ".join(f"{layer} {pct} %" for layer, _, pct in summary["by_layer"]), "",
                  "| own samples (leaf frame) | % | Chirp's functions, inclusive | % |", "|---|---|---|---|"]
        own, mine = summary["top_own"], summary["top_chirp_inclusive"]
        for k in range(max(len(own), len(mine))):
            left = own[k] if k < len(own) else ["", None, None]
            right = mine[k] if k < len(mine) else ["", None, None]
            lines.append(f"| `{left[0]}` | {_num(left[2], 1)} | `{right[0]}` | {_num(right[2], 1)} |")
        lines.append("")
    return lines


def _cold_start_summary(cold: Mapping[str, Any] | None) -> list[str]:
    if not cold:
        return [""]
    rpcs = cold.get("server_rpcs") or {}
    per = ", ".join(f"{m.rsplit('/', 1)[-1]} {_num(v.get('per_request'), 1)}" for m, v in rpcs.items()
                    if not m.endswith("/GetHomeTimeline"))
    return ["", f"Read scenarios read as {cold['viewers']:,} active viewers whose home timelines were warmed first "
                f"(read once each, {cold['concurrency']} in flight). Those first reads are the **cold starts** "
                f"(a rebuild each): p50 / p95 / p99 / max {_num(cold['p50_ms'], 1)} / {_num(cold['p95_ms'], 1)} / "
                f"{_num(cold['p99_ms'], 1)} / {_num(cold['max_ms'], 1)} ms, {_num(cold.get('cpu_ms_per_request'), 2)} "
                f"CPU-ms each; RPCs per cold read: {per or '—'}.", ""]


def _timeline_pages(pages: Mapping[str, Any] | None) -> list[str]:
    if not pages:
        return []
    lines = []
    for kind, v in pages.items():
        if kind == "rebuilds":
            read = ", ".join(f"{k} {_num(n, 1)}" for k, n in v["entries_per_rebuild"].items()) or "none"
            lines.append(f"- rebuilds: {v['count']:,}; entries read per rebuild: {read}; "
                         f"ListUserTweets fallback calls per rebuild {v['fallback_calls_per_rebuild']}")
            continue
        outcomes = ", ".join(f"{k} {_num(n, 2)}" for k, n in v["candidates_per_page"].items()) or "—"
        lines.append(f"- {kind} pages: {v['pages']:,}; candidate windows hydrated per page "
                     f"{_num(v['windows_per_page'], 2)} (one round of batch calls each); candidates per page: {outcomes}")
    return ["Timeline service counters (chirp_timeline_*):", "", *lines, ""]


def _rpc_table(rpcs: Mapping[str, Any]) -> list[str]:
    return ["| RPC | calls | per request | mean ms |", "|---|---|---|---|",
            *(f"| {m} | {v['calls']:,} | {_num(v.get('per_request'), 2)} | {v['mean_ms']} |" for m, v in rpcs.items()),
            ""]


def _load(values: Any) -> str:
    return "/".join(f"{v:.1f}" for v in values) if values else "?"


def _steps_table(s: Mapping[str, Any]) -> list[str]:
    lines = [
        "| offered/s | phase | achieved/s | ok | errors | p50 ms | p95 ms | p99 ms | max ms | CPU-ms/req | "
        "loadgen CPU-s | loadgen lag ms | bound | seed bound |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for st in s.get("steps", []):
        seed = st.get("meets_seed_bound")
        lines.append(
            f"| {_num(st['offered_rate'])} | {st.get('phase', '')} | {_num(st['achieved_rate'], 1)} | {st['ok']:,} | "
            f"{st['errors']:,} | {_num(st['p50_ms'], 1)} | {_num(st['p95_ms'], 1)} | {_num(st['p99_ms'], 1)} | "
            f"{_num(st['max_ms'], 1)} | {_num(st.get('cpu_ms_per_request'), 2)} | {_num(st['loadgen_cpu_s'], 2)} | "
            f"{_num(st['loadgen_max_lag_ms'], 1)} | "
            f"{'yes' if st['meets_bound'] else 'no'} | {'—' if seed is None else ('yes' if seed else 'no')} |")
    return lines


def markdown(results: Mapping[str, Any]) -> str:
    lines = [markdown_summary(results), "## Scenarios, step by step", ""]
    for s in results.get("scenarios", []):
        lines.append(f"### {s['title']} — {s['request']}")
        lines.append("")
        if not s.get("available"):
            lines += [s["reason"], ""]
            continue
        if s["kind"] == "fanout":
            lines += [
                f"Observed by {s['observed_by']}, under {s['background_compose_rate']} composes/s of background load; "
                f"{_num(s['deliveries_per_s'])} deliveries/s at best.",
                "",
                "| followers | posts | observers | visible p50 ms | p99 ms | max ms | not seen | deliveries/s |",
                "|---|---|---|---|---|---|---|---|",
                *(f"| {t['followers']:,} | {t['posts']} | {t['observers']} | {_num(t['visible_p50_ms'], 1)} | "
                  f"{_num(t['visible_p99_ms'], 1)} | {_num(t['visible_max_ms'], 1)} | {t['not_visible_within_timeout']} | "
                  f"{_num(t['deliveries_per_s'])} |" for t in s["tiers"]),
                "",
            ]
            if s.get("skipped_tiers"):
                lines += [f"Tiers not in this mode's dataset: {', '.join(f'{t:,}' for t in s['skipped_tiers'])} "
                          "followers (the full run has them).", ""]
            continue
        errors = {k: v for st in s.get("steps", []) for k, v in st.get("error_kinds", {}).items()}
        lines += _steps_table(s) + [""]
        if errors:
            lines += ["Errors: " + ", ".join(f"{k} ×{v}" for k, v in sorted(errors.items())), ""]
        if s.get("viewers"):
            lines += [f"Viewers: {s['viewers']}.", ""]
        rpcs = s.get("server_rpcs")
        if rpcs:
            lines += ["RPCs served inside the mesh per request (mean server time):", "", *_rpc_table(rpcs)]
        lines += _timeline_pages(s.get("timeline_pages"))
        cold = s.get("cold_start")
        if cold:
            lines += [f"Cold starts, measured apart: the first read of each of {cold['viewers']:,} viewers "
                      f"({cold['concurrency']} in flight, {cold['ok']:,} answered, errors {cold['errors'] or 'none'}): "
                      f"p50 / p95 / p99 / max {_num(cold['p50_ms'], 1)} / {_num(cold['p95_ms'], 1)} / "
                      f"{_num(cold['p99_ms'], 1)} / {_num(cold['max_ms'], 1)} ms, "
                      f"{_num(cold.get('cpu_ms_per_request'), 2)} CPU-ms each. RPCs per cold read:", "",
                      *_rpc_table(cold.get("server_rpcs") or {}), *_timeline_pages(cold.get("timeline_pages"))]
    lines += _profile(results.get("profile"))
    procs = results.get("processes", {})
    if procs.get("peak_rss_mb"):
        lines += ["## Peak RSS of each process (VmHWM, MiB)", "",
                  "| process | MiB |", "|---|---|",
                  *(f"| {n} | {mb} |" for n, mb in sorted(procs["peak_rss_mb"].items())), ""]
    if procs.get("restarts"):
        lines += [f"Processes restarted by the supervisor during the run: {procs['restarts']}", ""]
    return "\n".join(lines)


# --- the plot ------------------------------------------------------------------------------------


def plot(results: Mapping[str, Any], path: Path) -> bool:
    """Latency against offered load, one panel per scenario. False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    scenarios = list(results.get("scenarios", []))
    if not scenarios:
        return False
    cols = 3
    rows = (len(scenarios) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    run = results.get("run", {})
    fig.suptitle(f"Chirp bench {run.get('mode')} {run.get('date')} {run.get('commit')} — latency vs offered load "
                 "(shared, noisy 2-core machine)", fontsize=12)
    for ax, s in zip(axes.flat, scenarios):
        ax.set_title(s["title"], fontsize=10)
        if not s.get("available"):
            ax.text(0.5, 0.5, s["reason"].replace(": ", ":\n", 1), ha="center", va="center", fontsize=9,
                    transform=ax.transAxes, wrap=True)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        if s["kind"] == "fanout":
            tiers = s["tiers"]
            labels = [f"{t['followers']:,}" for t in tiers]
            xs = range(len(tiers))
            ax.bar([x - 0.2 for x in xs], [t["visible_p50_ms"] or 0 for t in tiers], width=0.4, label="p50")
            ax.bar([x + 0.2 for x in xs], [t["visible_p99_ms"] or 0 for t in tiers], width=0.4, label="p99")
            ax.set_xticks(list(xs), labels)
            ax.set_xlabel("followers of the author")
            ax.set_ylabel("compose → visible (ms)")
            ax.legend(fontsize=8)
            continue
        for phase in sorted({st.get("phase", "") for st in s["steps"]}):
            steps = [st for st in s["steps"] if st.get("phase", "") == phase]
            xs = [st["offered_rate"] for st in steps]
            suffix = f" ({phase})" if phase else ""
            line = "--" if phase == "posting" else "-"
            for key, marker in (("p50_ms", "o"), ("p95_ms", "s"), ("p99_ms", "^")):
                ax.plot(xs, [max(st[key], 0.01) for st in steps], marker + line, markersize=4 if line == "-" else 6,
                        fillstyle="full" if line == "-" else "none", label=key[:3] + suffix)
        bound = max((s.get("bound_p99_ms") or {"": 50.0}).values())
        ax.axhline(bound, color="red", linestyle="--", linewidth=0.8, label=f"p99 bound {bound:.0f} ms")
        seed = s.get("seed_bound_p95_ms") or {}
        if seed:
            ax.axhline(max(seed.values()), color="gray", linestyle=":", linewidth=0.8,
                       label=f"seed p95 {max(seed.values()):.0f} ms")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("offered rate (req/s)")
        ax.set_ylabel("latency (ms)")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.2)
    for ax in list(axes.flat)[len(scenarios):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)
    return True
