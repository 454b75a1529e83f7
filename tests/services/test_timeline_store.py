"""The timeline store contract: one suite, written against the TimelineStore port, run over every adapter.

An adapter joins the suite with one entry in ADAPTERS: an async context manager that takes the test's
request, its directory and a clock (seconds) and yields the store.

SQLite always runs. ScyllaDB runs when CHIRP_SCYLLA_HOSTS names a cluster (a keyspace of the
module's own is made and dropped, both tables truncated before each test, and
CHIRP_SCYLLA_REPLICATION_FACTOR defaults to 1 here, for a single test node); otherwise its tests are
reported skipped, with the reason. tests/unit/test_timeline_store_scylla_offline.py runs the same
tests over the Scylla adapter's logic on an in-memory stand-in.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from services.timeline.domain import Entry, retweet_entry, tweet_entry
from services.timeline.store.base import TimelineStore
from services.timeline.store.sqlite import SqliteTimelineStore
from tests.scylla_keyspace import SCYLLA_SKIP_REASON, throwaway_keyspace

RETENTION_S = 1000.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def sqlite_adapter(request: pytest.FixtureRequest, tmp_path: Path,
                         clock: Callable[[], float]) -> AsyncIterator[TimelineStore]:
    store = SqliteTimelineStore(tmp_path / "timeline.db", retention_s=RETENTION_S, clock=clock)
    yield store
    await store.close()


@pytest.fixture(scope="module")
async def scylla_session() -> AsyncIterator[Any]:
    """One connection and one keyspace for the module (connecting and making tables per test is slow)."""
    from services.runtime.scylla import ScyllaSession
    from services.timeline.store.scylla import schema

    async with throwaway_keyspace("timeline", lambda settings: ScyllaSession.connect(settings, schema(RETENTION_S))) as session:
        yield session


@contextlib.asynccontextmanager
async def scylla_adapter(request: pytest.FixtureRequest, tmp_path: Path,
                         clock: Callable[[], float]) -> AsyncIterator[TimelineStore]:
    from services.timeline.store.scylla import TABLES, ScyllaTimelineStore

    if not os.environ.get("CHIRP_SCYLLA_HOSTS"):
        pytest.skip(SCYLLA_SKIP_REASON)
    session = request.getfixturevalue("scylla_session")
    for table in TABLES:  # the keyspace is the module's: each test starts from empty timelines
        await session.ddl(f"TRUNCATE {table}")
    store = ScyllaTimelineStore(session, retention_s=RETENTION_S, clock=clock)
    yield store
    await store.close()  # the session is the module's: closing the store leaves it open


ADAPTERS = [
    pytest.param(sqlite_adapter, id="sqlite"),
    pytest.param(scylla_adapter, id="scylla", marks=pytest.mark.skipif(
        not os.environ.get("CHIRP_SCYLLA_HOSTS"), reason=SCYLLA_SKIP_REASON)),
]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=ADAPTERS)
async def store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> AsyncIterator[TimelineStore]:
    async with request.param(request, tmp_path, clock) as made:
        yield made


async def everything(read: Callable[[int, str | None, int], object], user_id: int, page: int = 2) -> list[Entry]:
    """Every entry of one partition, page after page below the last key."""
    found: list[Entry] = []
    below = None
    while True:
        batch = await read(user_id, below, page)  # type: ignore[misc]
        found += batch
        if len(batch) < page:
            return found
        below = batch[-1].key


# --- home timelines -------------------------------------------------------------------------------


async def test_home_entries_come_newest_first_below_a_key(store: TimelineStore) -> None:
    entries = [tweet_entry(10, 7), retweet_entry(30, 5, 8, 9), tweet_entry(20, 7), tweet_entry(11, 8)]
    await store.add_home_entries([(1, e) for e in entries] + [(2, tweet_entry(99, 7))])
    assert await store.home_entries(1, None, 10) == [entries[1], entries[2], entries[3], entries[0]]
    assert await store.home_entries(1, tweet_entry(20, 7).key, 10) == [entries[3], entries[0]]
    assert await store.home_entries(1, None, 2) == [entries[1], entries[2]]
    assert await everything(store.home_entries, 1) == [entries[1], entries[2], entries[3], entries[0]]
    assert await store.home_entries(3, None, 10) == []


async def test_adding_home_entries_twice_keeps_one(store: TimelineStore) -> None:
    rows = [(1, tweet_entry(10, 7)), (2, tweet_entry(10, 7))]
    await store.add_home_entries(rows)
    await store.add_home_entries(rows)
    await store.add_home_entries([])
    assert await store.home_entries(1, None, 10) == [tweet_entry(10, 7)]
    assert await store.home_entries(2, None, 10) == [tweet_entry(10, 7)]


async def test_removing_home_entries_is_exact_and_idempotent(store: TimelineStore) -> None:
    kept, gone = tweet_entry(10, 7), retweet_entry(30, 10, 8, 7)
    await store.add_home_entries([(1, kept), (1, gone), (2, gone)])
    await store.remove_home_entries([(1, gone), (1, gone), (3, gone)])
    await store.remove_home_entries([])
    assert await store.home_entries(1, None, 10) == [kept]
    assert await store.home_entries(2, None, 10) == [gone]


async def test_expired_home_entries_are_purged(store: TimelineStore, clock: Clock) -> None:
    await store.add_home_entries([(1, tweet_entry(10, 7))])
    clock.now += RETENTION_S / 2
    await store.add_home_entries([(1, tweet_entry(20, 7))])
    assert await store.purge_expired() == 0  # nothing is old enough yet
    clock.now += RETENTION_S * 0.75
    await store.purge_expired()
    assert await store.home_entries(1, None, 10) == [tweet_entry(20, 7)]


# --- user timelines -------------------------------------------------------------------------------


async def test_user_entries_are_filed_under_their_owner(store: TimelineStore) -> None:
    own, retweet = tweet_entry(10, 7), retweet_entry(30, 5, 9, 7)  # 7 retweets a tweet of 9's
    for entry in (own, retweet, retweet):
        await store.add_user_entry(entry)
    assert await store.user_entries(7, None, 10) == [retweet, own]
    assert await store.user_entries(9, None, 10) == []
    assert await store.user_entries(7, retweet.key, 10) == [own]
    assert await everything(store.user_entries, 7, page=1) == [retweet, own]


async def test_a_batch_of_user_entries_files_each_under_its_owner_once(store: TimelineStore) -> None:
    own, retweet, other = tweet_entry(10, 7), retweet_entry(30, 5, 9, 7), tweet_entry(15, 8)
    corpus = [own, other, retweet, *(tweet_entry(100 + i, 6) for i in range(250))]  # a partition over a batch
    await store.add_user_entries(corpus)
    await store.add_user_entries([own, retweet])
    await store.add_user_entries([])
    assert await store.user_entries(7, None, 10) == [retweet, own]
    assert await store.user_entries(8, None, 10) == [other]
    assert await everything(store.user_entries, 6, page=100) == [tweet_entry(349 - i, 6) for i in range(250)]


async def test_latest_user_entries_reads_many_partitions_in_one_call(store: TimelineStore) -> None:
    older, newer, retweet = tweet_entry(10, 7), tweet_entry(20, 7), retweet_entry(30, 5, 9, 7)
    other = tweet_entry(15, 8)
    for entry in (older, newer, retweet, other):
        await store.add_user_entry(entry)
    assert await store.latest_user_entries([7, 8, 9, 7], 2) == {7: [retweet, newer], 8: [other], 9: []}
    assert await store.latest_user_entries([8], 10) == {8: [other]}
    assert await store.latest_user_entries([], 10) == {}
    many = await store.latest_user_entries(list(range(1, 1201)), 1)  # more partitions than a batch holds
    assert len(many) == 1200 and many[7] == [retweet] and many[8] == [other] and many[1] == []


async def test_removing_a_user_entry_is_exact_and_idempotent(store: TimelineStore) -> None:
    own, retweet = tweet_entry(10, 7), retweet_entry(30, 10, 9, 7)
    await store.add_user_entry(own)
    await store.add_user_entry(retweet)
    await store.remove_user_entry(own)
    await store.remove_user_entry(own)
    assert await store.user_entries(7, None, 10) == [retweet]


async def test_forgetting_a_user_drops_both_of_its_partitions_only(store: TimelineStore) -> None:
    await store.add_home_entries([(7, tweet_entry(10, 8)), (8, tweet_entry(11, 7))])
    await store.add_user_entry(tweet_entry(11, 7))
    await store.add_user_entry(tweet_entry(10, 8))
    await store.forget_user(7)
    await store.forget_user(7)
    assert await store.home_entries(7, None, 10) == []
    assert await store.user_entries(7, None, 10) == []
    assert await store.home_entries(8, None, 10) == [tweet_entry(11, 7)]
    assert await store.user_entries(8, None, 10) == [tweet_entry(10, 8)]


async def test_large_batches_are_written_whole(store: TimelineStore) -> None:
    entry = tweet_entry(10, 7)
    await store.add_home_entries([(reader, entry) for reader in range(1, 3001)])
    assert all([await store.home_entries(reader, None, 1) == [entry] for reader in (1, 1500, 3000)])
    await store.remove_home_entries([(reader, entry) for reader in range(1, 3001)])
    assert await store.home_entries(3000, None, 1) == []
