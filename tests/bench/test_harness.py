"""The benchmark harness still works: its smallest setting (`--tiny`) end to end, on a mesh of its own.

No timing assertion anywhere (speed is bench/'s business, as ratios to a ceiling): only that a run
writes a well-formed result file in which every scenario is present, either with numbers or with
an explicit reason why it is not available yet.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.run import ALL_NAMES

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = ("p50_ms", "p95_ms", "p99_ms", "offered_rate", "achieved_rate", "error_rate", "cpu_s_total")


def _check_steps(scenario: dict[str, Any]) -> None:
    assert scenario["steps"], scenario["name"]
    for step in scenario["steps"]:
        assert step["scheduled"] > 0, step
        for key in NUMBERS:
            assert isinstance(step[key], int | float), (scenario["name"], key, step)
        assert isinstance(step["meets_bound"], bool)
        assert set(step["cpu_s"]) >= {"envoy"} or set(step["cpu_s"]) >= {"ceiling-envoy"}, step["cpu_s"]
    assert "max_rate_within_bound" in scenario and "ratio_to_ceiling" in scenario
    assert scenario["peak_rss_mb"] and all(mb > 0 for mb in scenario["peak_rss_mb"].values())


@pytest.mark.timeout(240)
def test_tiny_run_writes_every_scenario(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--out-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=230,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    [result_file] = tmp_path.glob("*-tiny.json")
    assert (tmp_path / result_file.name.replace(".json", ".md")).read_text().count("| Ceiling") == 2
    result = json.loads(result_file.read_text())

    assert result["schema"] == 1 and "aborted" not in result
    assert result["run"]["mode"] == "tiny" and result["run"]["commit"]
    assert result["run"]["machine"]["cpus"] >= 1
    assert result["seeding"]["users"]["count"] == 40 and result["seeding"]["follows"]["count"] > 0
    tweets = result["seeding"]["tweets"]
    assert tweets["tweets"] > 0 and tweets["replies"] > 0 and tweets["likes"] > 0
    assert tweets["stored"] == {"tweets_and_replies": tweets["tweets"] + tweets["replies"],
                                "marks": tweets["likes"] + tweets["retweets"], "replies_counted": tweets["replies"]}
    for protocol in ("json", "grpc"):
        assert result["ceiling"][protocol]["max_rate_within_bound"] > 0

    scenarios = {s["name"]: s for s in result["scenarios"]}
    assert list(scenarios) == ALL_NAMES
    for name, scenario in scenarios.items():
        if not scenario["available"]:
            assert scenario["reason"].startswith("not available: "), scenario
        elif name == "fanout":
            assert scenario["tiers"] and all("visible_p99_ms" in t for t in scenario["tiers"])
        else:
            _check_steps(scenario)
    assert scenarios["ceiling_json"]["available"] and scenarios["ceiling_grpc"]["available"]
    home = scenarios["home_timeline"]
    if home["available"]:
        # Measured warm: the active viewers' timelines were read once first, and those cold starts
        # are reported apart, with what they cost inside the mesh.
        cold = home["cold_start"]
        assert cold == result["cold_start"] and cold["viewers"] == 20 and cold["ok"] + sum(cold["errors"].values()) == 20
        assert cold["server_rpcs"] and all(isinstance(cold[k], float) for k in ("p50_ms", "p99_ms", "max_ms"))
        assert home["viewers"].startswith("20 active viewers")
        assert home["timeline_pages"]["home"]["pages"] > 0 and cold["timeline_pages"]["rebuilds"]["count"] > 0
        # The loaded corpus is what the pages show: rebuilt from the loaded user-timeline index.
        assert home["timeline_pages"]["home"]["candidates_per_page"].get("shown", 0) > 0
        assert "cold starts" in (tmp_path / result_file.name.replace(".json", ".md")).read_text()
    assert result["processes"]["peak_rss_mb"]["envoy"] > 0


@pytest.mark.timeout(240)
def test_tiny_profile_samples_every_service_or_says_why_not(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--profile", "home_timeline@10", "--profile-seconds", "2",
         "--out-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=230,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    [result_file] = tmp_path.glob("*-tiny-profile-home_timeline.json")
    result = json.loads(result_file.read_text())
    assert "aborted" not in result and result["scenarios"] == []  # one step, no sweep
    found = result["profile"]
    assert found["scenario"] == "home_timeline" and found["available"] and found["step"]["ok"] > 0
    assert set(found["processes"]) >= {"timeline", "tweet", "user", "graph", "engagement"}
    for name, summary in found["processes"].items():
        # Without py-spy (it comes with the bench extras) or the right to trace, each says why.
        assert isinstance(summary.get("error"), str) or isinstance(summary.get("samples"), int), (name, summary)
    sampled = [s for s in found["processes"].values() if "error" not in s]
    if sampled:
        timeline = found["processes"]["timeline"]
        assert timeline["samples"] > 0 and timeline["top_own"]
        assert sum(n for _, n, _ in timeline["by_layer"]) == timeline["samples"]  # every sample charged once
    assert "## Profile: home_timeline" in (tmp_path / result_file.name.replace(".json", ".md")).read_text()
