"""The ScyllaDB timeline store without a cluster: its schema, statements, row mapping, paging,
retention and write shapes, checked offline.

The whole timeline store contract suite (tests/services/test_timeline_store.py) runs over the
adapter on `FakeCql` (tests/scylla_fake.py), which checks one-partition reads, whole keys on writes,
single-partition UNLOGGED batches, types and TTL values, and keeps write timestamps. It proves the
adapter's logic, not its compatibility with a real server: the contract suite does that when
CHIRP_SCYLLA_HOSTS is set.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from services.runtime.scylla import MAX_TTL_S, ScyllaSettings, Statement
from services.timeline.domain import Entry, retweet_entry, tweet_entry
from services.timeline.settings import Settings
from services.timeline.store import scylla as adapter_module
from services.timeline.store.scylla import (
    BATCH_ROWS,
    HOME,
    TABLES,
    USER,
    ScyllaTimelineStore,
    by_partition,
    chunked,
    entry_delete,
    entry_of,
    home_insert,
    is_live,
    page_statement,
    partition_delete,
    retention_ttl,
    schema,
    user_insert,
)
from tests.scylla_fake import FakeCql, parse_table
from tests.services import test_timeline_store as contract

RETENTION_S = contract.RETENTION_S
TTL = retention_ttl(RETENTION_S)


def _store(clock: Any = None, **kwargs: Any) -> tuple[ScyllaTimelineStore, FakeCql]:
    fake = FakeCql(schema(RETENTION_S))
    return ScyllaTimelineStore(fake, retention_s=RETENTION_S, clock=clock or contract.Clock(), **kwargs), fake


class InFlight:
    """Counts a fake session's statements in flight at once (each yields once while held)."""

    def __init__(self, fake: FakeCql) -> None:
        self.now = self.peak = 0
        self._execute = fake.execute
        fake.execute = self._counting  # type: ignore[method-assign]

    async def _counting(self, statement: Statement, **kwargs: Any) -> Any:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await asyncio.sleep(0)
            return await self._execute(statement, **kwargs)
        finally:
            self.now -= 1


# The contract suite, over the adapter's logic ---------------------------------------------------

globals().update({name: fn for name, fn in vars(contract).items() if name.startswith("test_")})
clock = contract.clock


@pytest.fixture
def store(clock: contract.Clock) -> ScyllaTimelineStore:
    return _store(clock)[0]


# Schema ------------------------------------------------------------------------------------------


def test_both_tables_are_partitioned_by_user_and_clustered_newest_first() -> None:
    tables = {t.name: t for t in map(parse_table, schema(RETENTION_S))}
    assert {name: (t.partition_key, t.clustering) for name, t in tables.items()} == {
        HOME: (["user_id"], ["entry_key"]), USER: (["user_id"], ["entry_key"])}
    assert set(tables) == set(TABLES)
    assert all(t.descending == {"entry_key"} for t in tables.values())
    assert all(t.columns["entry_key"] == "text" for t in tables.values())
    assert all(t.columns[c] == "bigint" for t in tables.values() for c in ("user_id", "tweet_id", "author_id",
                                                                          "retweeter_id"))
    assert tables[HOME].columns["created_at"] == "double" and "created_at" not in tables[USER].columns
    assert all(s.startswith("CREATE TABLE IF NOT EXISTS") for s in schema(RETENTION_S)), "idempotent DDL"


def test_home_entries_expire_by_the_tables_ttl_and_user_entries_never() -> None:
    tables = {t.name: t for t in map(parse_table, schema(30 * 24 * 3600))}
    assert tables[HOME].options == {"default_time_to_live": str(30 * 24 * 3600)}
    assert tables[USER].options == {}
    assert "default_time_to_live = 1001" in schema(1000.5)[0]  # whole seconds, never shorter


def test_the_default_ttl_is_the_default_retention_the_sqlite_purge_uses() -> None:
    settings = Settings.from_env({})
    table = parse_table(schema(settings.retention_s)[0])
    assert int(table.options["default_time_to_live"]) == settings.retention_s == 30 * 24 * 3600


def test_retention_becomes_a_ttl_within_the_servers_range() -> None:
    assert retention_ttl(1) == 1 and retention_ttl(0.2) == 1 and retention_ttl(59.5) == 60
    assert retention_ttl(MAX_TTL_S) == MAX_TTL_S
    for bad in (0, -5, math.inf, math.nan, MAX_TTL_S + 1):
        with pytest.raises(ValueError):
            retention_ttl(bad)


# Statements and rows: pure -----------------------------------------------------------------------


def test_home_inserts_name_the_whole_key_and_carry_the_retention_ttl() -> None:
    entry = retweet_entry(30, 5, 8, 9)
    statement = home_insert(1, entry, 1234.5, 77)
    assert statement.cql == ("INSERT INTO home_timeline (user_id, entry_key, tweet_id, author_id, retweeter_id,"
                             " created_at) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?")
    assert statement.params == (1, entry.key, 5, 8, 9, 1234.5, 77)
    assert statement.idempotent and not statement.is_lwt  # the driver may retry it
    assert isinstance(home_insert(1, entry, 1234, 77).params[5], float)  # a double column


def test_user_entries_are_filed_under_their_owner_without_ttl() -> None:
    own, retweet = tweet_entry(10, 7), retweet_entry(30, 10, 9, 7)
    assert user_insert(own).params == (7, own.key, 10, 7, 0)
    assert user_insert(retweet).params == (7, retweet.key, 10, 9, 7)  # the retweeter's timeline
    assert "TTL" not in user_insert(own).cql and user_insert(own).idempotent


def test_deletes_name_a_row_or_a_whole_partition() -> None:
    assert entry_delete(HOME, 1, "k") == Statement("DELETE FROM home_timeline WHERE user_id = ? AND entry_key = ?",
                                                   (1, "k"))
    assert partition_delete(USER, 7) == Statement("DELETE FROM user_timeline WHERE user_id = ?", (7,))
    with pytest.raises(ValueError):
        entry_delete("home_timeline; DROP", 1, "k")
    with pytest.raises(ValueError):
        partition_delete("tweets", 1)


def test_pages_are_one_clustering_slice_of_one_partition_with_a_limit() -> None:
    top = page_statement(HOME, 1, None, 20)
    assert top.cql == "SELECT entry_key, author_id, created_at FROM home_timeline WHERE user_id = ? LIMIT ?"
    assert top.params == (1, 20)
    below = page_statement(USER, 7, "k", 5)
    assert below.cql == "SELECT entry_key, author_id FROM user_timeline WHERE user_id = ? AND entry_key < ? LIMIT ?"
    assert below.params == (7, "k", 5)
    assert "ORDER BY" not in top.cql and "ALLOW FILTERING" not in below.cql  # the clustering order serves
    for bad in (0, -1):
        with pytest.raises(ValueError):
            page_statement(HOME, 1, None, bad)


def test_rows_map_back_to_entries() -> None:
    entry = retweet_entry(30, 5, 8, 9)
    assert entry_of({"entry_key": entry.key, "author_id": 8}) == entry
    assert entry_of({"entry_key": entry.key, "author_id": None}) == Entry(30, 5, 9, 0)
    with pytest.raises(ValueError):
        entry_of({"entry_key": "garbage", "author_id": 1})


def test_a_home_row_is_live_from_the_cutoff_on() -> None:
    assert is_live({"created_at": 100.0}, 100.0) and not is_live({"created_at": 99.9}, 100.0)
    assert is_live({"created_at": None}, 100.0) and is_live({}, 100.0)


def test_rows_group_by_reader_each_key_once_in_order() -> None:
    a, b, c = tweet_entry(10, 7), tweet_entry(20, 7), retweet_entry(30, 10, 7, 8)
    grouped = by_partition([(1, a), (2, a), (1, b), (1, a), (1, c), (2, a)])
    assert grouped == {1: [a, b, c], 2: [a]}
    assert list(grouped) == [1, 2]
    assert by_partition([]) == {}


def test_statements_chunk_into_batches_of_batch_rows() -> None:
    statements = [Statement("X", (i,)) for i in range(2 * BATCH_ROWS + 1)]
    assert [len(c) for c in chunked(statements)] == [BATCH_ROWS, BATCH_ROWS, 1]
    assert [s for c in chunked(statements) for s in c] == statements
    assert chunked([]) == []


# Write shapes ------------------------------------------------------------------------------------


async def test_a_fan_out_page_writes_each_readers_partition_alone() -> None:
    store, fake = _store()
    entry = tweet_entry(10, 7)
    await store.add_home_entries([(reader, entry) for reader in (1, 2, 3)])
    assert [e.kind for e in fake.log] == ["execute"] * 3
    assert sorted(s.params[0] for s in fake.statements()) == [1, 2, 3]
    assert fake.ttls == [(HOME, TTL)] * 3


async def test_many_entries_of_one_reader_go_in_unlogged_single_partition_batches() -> None:
    store, fake = _store()
    entries = [tweet_entry(i, 7) for i in range(1, 2 * BATCH_ROWS + 51)]
    await store.add_home_entries([(1, e) for e in entries] + [(2, entries[0])])
    batches = [e for e in fake.log if e.kind == "batch"]
    assert sorted(len(b.statements) for b in batches) == [50, BATCH_ROWS, BATCH_ROWS]
    assert not any(b.logged for b in batches)  # no batchlog: one partition is one mutation anyway
    assert {s.params[0] for b in batches for s in b.statements} == {1}
    assert [s.params[0] for e in fake.log if e.kind == "execute" for s in e.statements] == [2]
    assert await contract.everything(store.home_entries, 1, page=64) == entries[::-1]


async def test_removals_are_row_deletes_per_partition() -> None:
    store, fake = _store()
    entries = [tweet_entry(i, 7) for i in range(1, 4)]
    await store.add_home_entries([(1, e) for e in entries] + [(2, entries[0])])
    fake.log.clear()
    await store.remove_home_entries([(1, entries[0]), (1, entries[1]), (2, entries[0]), (1, entries[0])])
    [batch] = [e for e in fake.log if e.kind == "batch"]
    assert not batch.logged and len(batch.statements) == 2  # reader 1's two rows, once each
    assert all(s.cql.startswith("DELETE FROM home_timeline WHERE user_id = ? AND entry_key = ?")
               for s in fake.statements())
    assert await store.home_entries(1, None, 10) == [entries[2]]


async def test_forgetting_a_user_is_one_logged_batch_of_two_partition_deletes() -> None:
    store, fake = _store()
    await store.forget_user(7)
    [executed] = fake.log
    assert executed.kind == "batch" and executed.logged
    assert executed.statements == [partition_delete(HOME, 7), partition_delete(USER, 7)]
    # A partition delete shadows only what was written before it: a later entry shows.
    await store.add_user_entry(tweet_entry(12, 7))
    assert await store.user_entries(7, None, 10) == [tweet_entry(12, 7)]


async def test_user_entries_are_single_statements() -> None:
    store, fake = _store()
    entry = retweet_entry(30, 10, 9, 7)
    await store.add_user_entry(entry)
    await store.remove_user_entry(entry)
    assert [e.kind for e in fake.log] == ["execute", "execute"]
    assert fake.statements() == [user_insert(entry), entry_delete(USER, 7, entry.key)]
    assert fake.ttls == []


async def test_writes_to_many_partitions_run_concurrently_but_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter_module, "WRITE_CONCURRENCY", 4)
    store, fake = _store()
    probe = InFlight(fake)
    await store.add_home_entries([(reader, tweet_entry(10, 7)) for reader in range(1, 21)])
    assert probe.peak == 4


# Reads, paging and retention ---------------------------------------------------------------------


async def test_expired_rows_are_skipped_and_the_read_goes_on_below_them() -> None:
    clock = contract.Clock()
    store, fake = _store(clock)
    old = [tweet_entry(i, 7) for i in (10, 30, 50)]
    await store.add_home_entries([(1, e) for e in old])
    clock.now += RETENTION_S * 0.6
    new = [tweet_entry(i, 7) for i in (20, 40)]
    await store.add_home_entries([(1, e) for e in new])
    clock.now += RETENTION_S * 0.6  # the old ones are past the retention, the new ones are not
    fake.log.clear()
    assert await store.home_entries(1, None, 2) == [new[1], new[0]]
    selects = fake.statements("execute")
    assert [s.params for s in selects] == [(1, 2), (1, new[1].key, 2)]  # [50, 40], then [30, 20]
    assert await store.purge_expired() == 0  # nothing to purge: TTLs drop the rows
    assert await store.home_entries(1, None, 10) == [new[1], new[0]]


async def test_a_re_added_entry_restarts_its_retention() -> None:
    clock = contract.Clock()
    store, _ = _store(clock)
    entry = tweet_entry(10, 7)
    await store.add_home_entries([(1, entry)])
    clock.now += RETENTION_S * 0.75
    await store.add_home_entries([(1, entry)])  # a rebuild, or a redelivered fan-out
    clock.now += RETENTION_S * 0.75
    assert await store.home_entries(1, None, 10) == [entry]


async def test_user_timelines_do_not_expire() -> None:
    clock = contract.Clock()
    store, _ = _store(clock)
    await store.add_user_entry(tweet_entry(10, 7))
    clock.now += RETENTION_S * 10
    assert await store.user_entries(7, None, 10) == [tweet_entry(10, 7)]


async def test_large_reads_follow_the_drivers_paging_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter_module, "READ_PAGE_SIZE", 3)
    store, fake = _store()
    entries = [tweet_entry(i, 7) for i in range(1, 11)]
    await store.add_home_entries([(1, e) for e in entries])
    fake.log.clear()
    assert await store.home_entries(1, None, 8) == entries[::-1][:8]
    assert len(fake.statements("execute")) == 3  # 3 + 3 + 2 rows of one LIMIT 8 query


async def test_latest_user_entries_read_each_partition_once_concurrently_but_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter_module, "READ_CONCURRENCY", 3)
    store, fake = _store()
    for author in (1, 2, 3):
        for tweet in range(author * 10, author * 10 + 4):
            await store.add_user_entry(tweet_entry(tweet, author))
    fake.log.clear()
    probe = InFlight(fake)
    found = await store.latest_user_entries([3, 1, 9, 1, 2, 8, 7], 2)
    assert list(found) == [3, 1, 9, 2, 8, 7]
    assert found[1] == [tweet_entry(13, 1), tweet_entry(12, 1)] and found[9] == []
    selects = fake.statements("execute")
    assert sorted(s.params[0] for s in selects) == [1, 2, 3, 7, 8, 9]  # one partition each, once
    assert all(s.cql.startswith("SELECT entry_key, author_id FROM user_timeline WHERE user_id = ? LIMIT ?")
               for s in selects)
    assert probe.peak == 3


async def test_a_limit_of_zero_or_less_reads_nothing() -> None:
    store, fake = _store()
    await store.add_home_entries([(1, tweet_entry(10, 7))])
    fake.log.clear()
    assert await store.home_entries(1, None, 0) == [] and await store.user_entries(1, None, -1) == []
    assert fake.log == []


# Wiring ------------------------------------------------------------------------------------------


async def test_closing_leaves_a_session_the_store_does_not_own_open() -> None:
    store, fake = _store()
    await store.close()
    await store.add_user_entry(tweet_entry(10, 7))  # the fake session still answers
    assert store.session is fake


async def test_the_app_opens_the_sqlite_store_with_its_purge_by_default(tmp_path: Any) -> None:
    from services.timeline.app import open_store
    from services.timeline.store.sqlite import SqliteTimelineStore

    store, loops = await open_store(Settings.from_env({"CHIRP_DATA_DIR": str(tmp_path)}))
    try:
        assert isinstance(store, SqliteTimelineStore) and len(loops) == 1
    finally:
        await store.close()


async def test_connecting_to_no_server_fails_fast_and_names_the_host() -> None:
    from cassandra.cluster import NoHostAvailable

    from services.runtime.mesh import free_port

    port = free_port()
    settings = ScyllaSettings(hosts=(("127.0.0.1", port),), keyspace="timeline", connect_timeout_s=2)
    with pytest.raises(NoHostAvailable, match=str(port)):
        await asyncio.wait_for(ScyllaTimelineStore.connect(settings, retention_s=RETENTION_S), 30)
