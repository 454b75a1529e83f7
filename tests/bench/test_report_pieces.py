"""Pieces of the bench's reporting that need no mesh: the timeline counters turned into per-page costs."""

from __future__ import annotations

from bench import report
from bench.metrics import parse
from bench.run import timeline_pages

BEFORE = """
chirp_timeline_pages_total{list="home"} 10.0
chirp_timeline_page_windows_total{list="home"} 12.0
chirp_timeline_candidates_total{list="home",outcome="shown"} 100.0
chirp_timeline_rebuilds_total 1.0
"""
AFTER = """
# HELP chirp_timeline_pages_total Pages served, by list (home, profile).
chirp_timeline_pages_total{list="home"} 30.0
chirp_timeline_pages_total{list="profile"} 5.0
chirp_timeline_pages_created{list="home"} 1.7e9
chirp_timeline_page_windows_total{list="home"} 42.0
chirp_timeline_page_windows_total{list="profile"} 5.0
chirp_timeline_candidates_total{list="home",outcome="shown"} 700.0
chirp_timeline_candidates_total{list="home",outcome="not_followed"} 40.0
chirp_timeline_candidates_total{list="profile",outcome="shown"} 25.0
chirp_timeline_rebuilds_total 5.0
chirp_timeline_rebuild_entries_total{source="persisted"} 40.0
chirp_timeline_rebuild_entries_total{source="index"} 120.0
chirp_timeline_rebuild_fallback_calls_total 2.0
"""


def test_timeline_pages_are_costs_per_page_and_per_rebuild() -> None:
    pages = timeline_pages({"timeline": parse(BEFORE)}, {"timeline": parse(AFTER)})
    assert pages["home"] == {"pages": 20, "windows_per_page": 1.5,
                             "candidates_per_page": {"not_followed": 2.0, "shown": 30.0}}
    assert pages["profile"] == {"pages": 5, "windows_per_page": 1.0, "candidates_per_page": {"shown": 5.0}}
    assert pages["rebuilds"] == {"count": 4, "entries_per_rebuild": {"persisted": 10.0, "index": 30.0},
                                 "fallback_calls_per_rebuild": 0.5}
    lines = "\n".join(report._timeline_pages(pages))
    assert "windows hydrated per page 1.50" in lines and "not_followed 2.00" in lines and "index 30.0" in lines


def test_no_timeline_counters_no_summary() -> None:
    assert timeline_pages({}, {"user": parse('chirp_rpc_started_total{method="/x"} 1.0')}) == {}
    assert report._timeline_pages({}) == []
