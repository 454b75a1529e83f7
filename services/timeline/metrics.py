"""The timeline service's own Prometheus series, beside the RPC series every service exports: what a
page and a rebuild cost, and why hydrated candidates were not shown. Read by the bench (per request
of a scenario) and by whoever wonders why a page read ahead."""

from __future__ import annotations

from prometheus_client import Counter

PAGES = Counter("chirp_timeline_pages_total", "Pages served, by list (home, profile).", ["list"])
WINDOWS = Counter(
    "chirp_timeline_page_windows_total",
    "Candidate windows hydrated for pages (each one BatchGetTweets, which answers the accounts too, "
    "then one BatchGetEngagement), by list.", ["list"])
CANDIDATES = Counter(
    "chirp_timeline_candidates_total",
    "Hydrated candidates by outcome: shown, or why not (tweet_unavailable: deleted or hidden by the tweet "
    "service; account_gone; blocked_or_muted; not_followed; filter).", ["list", "outcome"])
REBUILDS = Counter("chirp_timeline_rebuilds_total", "Home timelines rebuilt (cold starts and RebuildHomeTimeline).")
REBUILD_ENTRIES = Counter(
    "chirp_timeline_rebuild_entries_total",
    "Entries rebuilds read, by source: persisted (home_timeline), index (followees' user timelines), "
    "fallback (ListUserTweets for followees with tweets but nothing indexed).", ["source"])
REBUILD_FALLBACK_CALLS = Counter(
    "chirp_timeline_rebuild_fallback_calls_total",
    "ListUserTweets calls rebuilds made for followees with tweets but an empty user timeline index.")
