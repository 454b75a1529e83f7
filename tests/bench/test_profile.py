"""bench/profile.py's reading of py-spy's raw output: which layer and function each sample is charged to."""

from __future__ import annotations

from pathlib import Path

from bench.profile import summarize

ENTRY = "_run_module_as_main (<frozen runpy>:198);<module> (services/timeline/__main__.py:5);main (services/runtime/server.py:118)"
LOOP = f"{ENTRY};run (asyncio/runners.py:190);BaseEventLoop._run_once (asyncio/base_events.py:1922)"
RAW = "\n".join([
    # Polling with nothing to do: the loop's, not the entry point's.
    f"{LOOP};EpollSelector.select (selectors.py:468) 4",
    # Chirp's code calling into the standard library (sqlite3 on a pool thread): Chirp's.
    "Thread._bootstrap (threading.py:1002);_worker (concurrent/futures/thread.py:83);"
    "_page (services/timeline/store/sqlite.py:58);Connection.execute (sqlite3/dbapi2.py:1) 3",
    # Chirp's code calling gRPC, which calls asyncio: gRPC's.
    f"{LOOP};Handle._run (asyncio/events.py:80);TimelineReader.home (services/timeline/reader.py:120);"
    "UnaryUnaryCall._invoke (grpc/aio/_call.py:577);Future.result (asyncio/futures.py:1) 2",
    f"{LOOP};Handle._run (asyncio/events.py:80);tweet_proto (services/tweet/messages.py:40);"
    "Message.CopyFrom (google/protobuf/message.py:10) 1",
    "not a stack line",
])


def test_samples_are_charged_to_the_innermost_frame_outside_the_standard_library(tmp_path: Path) -> None:
    raw = tmp_path / "timeline.txt"
    raw.write_text(RAW)
    found = summarize(raw)
    assert found["samples"] == 10 and found["busy_s"] == 0.1
    assert found["by_layer"] == [["python: selectors", 4, 40.0], ["chirp: services.timeline.store", 3, 30.0],
                                 ["grpc", 2, 20.0], ["protobuf", 1, 10.0]]
    assert found["top_own"][0] == ["EpollSelector.select (selectors.py)", 4, 40.0]
    inclusive = dict((name, n) for name, n, _ in found["top_chirp_inclusive"])
    assert inclusive["main (services/runtime/server.py)"] == 7  # the pool thread's 3 never pass through it
    assert inclusive["_page (services/timeline/store/sqlite.py)"] == 3
    assert inclusive["TimelineReader.home (services/timeline/reader.py)"] == 2
