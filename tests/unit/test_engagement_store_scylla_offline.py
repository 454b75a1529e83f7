"""The ScyllaDB engagement store without a cluster: its schema, keys, statements, row mapping, paging,
write timestamps, counters and crash recovery, checked offline.

The whole engagement store contract suite (tests/services/test_engagement_store.py) runs over the
adapter on `FakeCql` (tests/scylla_fake.py), with both the ScyllaDB and the Cassandra shape of LWT
results. The fake checks one-partition reads, whole keys on writes, no LWT or counter in a logged
batch, counters only in statements marked not idempotent, types, and keeps write timestamps, so
replays and late batches behave as on a server. Writers that die, LWTs that time out, batches and
counter updates that fail are simulated on it below. It proves the adapter's logic, not its
compatibility with a real server: the contract suite does that when CHIRP_SCYLLA_HOSTS is set.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from cassandra import Unavailable as DriverUnavailable
from cassandra import WriteTimeout

from services.engagement.domain import ChildTweet, Counts, Entry, Kind, Mark, TweetEngagement
from services.engagement.settings import Settings
from services.engagement.store import scylla as adapter_module
from services.engagement.store.scylla import (
    ADD,
    BOOKMARKS,
    COUNTERS,
    IN_CHUNK,
    LIKERS,
    REMOVE,
    SCHEMA,
    Intent,
    ScyllaEngagementStore,
    child_deltas,
    child_writes,
    counted_insert,
    counted_uncount,
    counter_update,
    counts_of,
    derived_writes,
    events_json,
    events_of,
    flag_delete,
    flag_insert,
    intent_insert,
    intent_key,
    intent_of,
    page_statement,
    removed_at,
    select_flags,
    unix_ns,
    written_at,
)
from services.runtime.events import OutgoingEvent
from services.runtime.ids import SnowflakeGenerator, timestamp_ms
from services.runtime.scylla import LwtResult, Page, ScyllaSettings, Statement, TimeUuids, bucket_of
from services.runtime.settings import SettingsError
from tests.scylla_fake import FakeCql, parse_table
from tests.services import test_engagement_store as contract


def clock() -> tuple[list[int], Callable[[], int]]:
    """A wall clock (ns) the test moves: `now[0] += ...`."""
    now = [time.time_ns()]
    return now, lambda: now[0]


async def _store(fake: FakeCql | None = None, **kwargs: Any) -> tuple[ScyllaEngagementStore, FakeCql]:
    fake = fake or FakeCql(SCHEMA)
    store = ScyllaEngagementStore(fake, **kwargs)
    await store.outbox.init_watermarks()
    await store.init_sweeper()
    return store, fake


def _harness(store: ScyllaEngagementStore) -> contract.Harness:
    return contract.outbox_harness(store, store.outbox)


async def subjects(store: ScyllaEngagementStore) -> list[str]:
    return [e.subject.rsplit(".", 1)[1] for e in await _harness(store).staged()]


def _table(statement: Statement) -> str:
    m = re.match(r"(?:SELECT .+? FROM|INSERT INTO|UPDATE|DELETE FROM) (\w+)", statement.cql)
    assert m, statement.cql
    return m.group(1)


def _open_intents(fake: FakeCql) -> int:
    return sum(len(p.rows) for p in fake.data["open_intents"].values())


async def likers(store: ScyllaEngagementStore, tweet_id: int = 100) -> list[int]:
    return [e.id for e in (await store.likers(tweet_id, None, 10)).entries]


def ripen(now: list[int]) -> None:
    """Moves the clock past the age at which the sweeper takes a change's writer for dead."""
    now[0] += int((adapter_module.HELP_AFTER_S + 1) * 1e9)


# The contract suite, over the adapter's logic ---------------------------------------------------

globals().update({name: fn for name, fn in vars(contract).items() if name.startswith("test_")})


@pytest.fixture(params=["scylla-lwt-returns", "cassandra-lwt-returns"])
async def harness(request: pytest.FixtureRequest) -> contract.Harness:
    store, _ = await _store(FakeCql(SCHEMA, lwt_style="scylla" if request.param.startswith("scylla") else "cassandra"))
    return _harness(store)


@pytest.fixture
def store(harness: contract.Harness) -> Any:
    return harness.store


# Schema ------------------------------------------------------------------------------------------

EXPECTED_KEYS = {
    # table: (partition key, clustering columns)
    "likes_by_user": (["user_id"], ["tweet_id"]),
    "retweets_by_user": (["user_id"], ["tweet_id"]),
    "bookmark_flags": (["user_id"], ["tweet_id"]),
    "likes_by_tweet": (["tweet_id"], ["seq", "user_id"]),
    "retweets_by_tweet": (["tweet_id"], ["seq", "user_id"]),
    "bookmarks_by_user": (["user_id"], ["seq", "tweet_id"]),
    "bookmarks_by_tweet": (["tweet_id"], ["seq", "user_id"]),
    "engagement_counts": (["tweet_id"], []),
    "counted_tweets": (["tweet_id"], []),
    "replies_by_parent": (["parent_id"], ["child_id"]),
    "quotes_by_parent": (["parent_id"], ["child_id"]),
    "open_intents": (["shard", "bucket"], ["id"]),
    "open_intents_watermark": (["shard"], []),
    "outbox": (["shard", "bucket"], ["id"]),
    "outbox_watermark": (["shard"], []),
}


def test_the_schema_has_one_table_per_query_with_the_expected_keys() -> None:
    tables = {t.name: t for t in map(parse_table, SCHEMA)}
    assert {name: (t.partition_key, t.clustering) for name, t in tables.items()} == EXPECTED_KEYS
    for name in ("likes_by_tweet", "retweets_by_tweet", "bookmarks_by_user", "bookmarks_by_tweet"):
        assert tables[name].descending == set(tables[name].clustering), f"{name} runs newest first"
    assert tables["engagement_counts"].counters == set(COUNTERS)
    for flags in ("likes_by_user", "retweets_by_user", "bookmark_flags"):
        assert {c: tables[flags].columns[c] for c in ("seq", "author_id", "intent")} == {
            "seq": "bigint", "author_id": "bigint", "intent": "timeuuid"}
    assert tables["counted_tweets"].columns["deleted"] == "boolean"
    assert all(s.startswith("CREATE TABLE IF NOT EXISTS") for s in SCHEMA), "schema application is idempotent"


# Statements, keys, rows: pure --------------------------------------------------------------------

MARK = Mark(Kind.LIKE, 100, 1, 7, 5_000_000_000)


def test_a_mark_is_put_and_taken_by_lwts_on_its_flag_row() -> None:
    intent_id = TimeUuids().next()
    put = flag_insert(MARK, intent_id)
    assert put.cql == ("INSERT INTO likes_by_user (user_id, tweet_id, seq, author_id, intent) VALUES (?, ?, ?, ?, ?)"
                       " IF NOT EXISTS")
    assert put.params == (1, 100, MARK.seq, 7, intent_id)
    taken = flag_delete(Mark(Kind.BOOKMARK, 100, 1, 7, 9))
    assert taken.cql == "DELETE FROM bookmark_flags WHERE user_id = ? AND tweet_id = ? IF seq = ?"
    assert taken.params == (1, 100, 9)
    for lwt in (put, taken, counted_insert(ChildTweet(5, 1), deleted=False), counted_uncount(5)):
        assert lwt.is_lwt and not lwt.idempotent and "USING TIMESTAMP" not in lwt.cql, lwt.cql


def test_listing_rows_are_written_at_their_marks_time_and_deleted_just_after() -> None:
    snowflake = SnowflakeGenerator(3).next_id()
    assert written_at(snowflake) == timestamp_ms(snowflake) * 1000
    assert removed_at(snowflake) == written_at(snowflake) + 1
    bookmark = Mark(Kind.BOOKMARK, 100, 1, 7, snowflake)
    put = derived_writes(ADD, bookmark)
    assert [_table(s) for s in put] == ["bookmarks_by_user", "bookmarks_by_tweet"]
    assert put[0].params == (1, snowflake, 100, written_at(snowflake))  # user 1's list: tweet 100
    assert put[1].params == (100, snowflake, 1, written_at(snowflake))  # tweet 100's: user 1
    taken = derived_writes(REMOVE, bookmark)
    assert taken[0].cql == ("DELETE FROM bookmarks_by_user USING TIMESTAMP ? WHERE user_id = ? AND seq = ?"
                            " AND tweet_id = ?")
    assert taken[0].params == (removed_at(snowflake), 1, snowflake, 100)
    assert [_table(s) for s in derived_writes(ADD, MARK)] == ["likes_by_tweet"]


async def test_a_listing_row_deleted_stays_deleted_whatever_order_the_writes_arrive_in() -> None:
    fake = FakeCql(SCHEMA)
    other = Mark(Kind.LIKE, 100, 2, 7, MARK.seq - 1)
    await fake.batch(derived_writes(ADD, other))  # (FakeCql keeps no tombstone in a partition it lacks)
    await fake.batch(derived_writes(REMOVE, MARK))
    await fake.batch(derived_writes(ADD, MARK))  # the add's batch, replayed late
    assert [r["user_id"] for r in (await fake.execute(page_statement(LIKERS, 100, None, 10))).rows] == [2]


def test_pages_are_keyset_slices_newest_first() -> None:
    first = page_statement(LIKERS, 100, None, 20)
    assert first.cql == "SELECT seq, user_id FROM likes_by_tweet WHERE tweet_id = ? LIMIT ?"
    assert first.params == (100, 21)
    later = page_statement(BOOKMARKS, 1, Entry(900, 40), 20)
    assert later.cql == ("SELECT seq, tweet_id FROM bookmarks_by_user WHERE user_id = ? AND (seq, tweet_id) < (?, ?)"
                         " LIMIT ?")
    assert later.params == (1, 900, 40, 21)


def test_viewer_flags_are_read_within_scyllas_in_limit() -> None:
    assert IN_CHUNK == 100
    assert select_flags(Kind.RETWEET, 9, range(100)).params == (9, list(range(100)))
    assert select_flags(Kind.RETWEET, 9, [1]).cql == (
        "SELECT tweet_id FROM retweets_by_user WHERE user_id = ? AND tweet_id IN ?")
    for bad in ([], list(range(101))):
        with pytest.raises(ValueError):
            select_flags(Kind.LIKE, 9, bad)


def test_counter_updates_move_only_the_columns_asked_and_are_never_retried_by_the_driver() -> None:
    update = counter_update(100, {"quotes": -1, "likes": 2, "bookmarks": 0})
    assert update.cql == "UPDATE engagement_counts SET likes = likes + ?, quotes = quotes + ? WHERE tweet_id = ?"
    assert update.params == (2, -1, 100) and not update.idempotent and not update.is_lwt
    for bad in ({}, {"likes": 0}, {"views": 1}):
        with pytest.raises(ValueError):
            counter_update(100, bad)
    assert counts_of(None) == Counts()
    assert counts_of({"likes": -2, "retweets": 3, "replies": None}) == Counts(retweets=3)


def test_children_rows_and_counters_follow_the_parents_a_child_names() -> None:
    both = ChildTweet(501, reply_to_id=100, quote_id=100)
    assert child_deltas(both, 1) == {100: {"replies": 1, "quotes": 1}}  # one update for one parent
    assert child_deltas(ChildTweet(502, quote_id=200), -1) == {200: {"quotes": -1}}
    live = child_writes(ChildTweet(503, 100, 200), live=True)
    assert [(_table(s), s.params) for s in live] == [
        ("replies_by_parent", (100, 503, written_at(503))), ("quotes_by_parent", (200, 503, written_at(503)))]
    gone = child_writes(ChildTweet(503, 100, 200), live=False)
    assert [s.params for s in gone] == [(removed_at(503), 100, 503), (removed_at(503), 200, 503)]
    assert child_writes(ChildTweet(504), live=True) == []


def test_intents_round_trip_through_their_marker_row() -> None:
    event = OutgoingEvent("e1", "chirp.engagement.liked", "t", b"\x00\xffpayload")
    intent = Intent(TimeUuids().next(), ADD, MARK, (event,))
    statement = intent_insert(intent)
    names = re.search(r"\((.+?)\) VALUES", statement.cql).group(1).split(", ")  # type: ignore[union-attr]
    row = dict(zip(names, statement.params))
    assert (row["shard"], row["bucket"]) == intent_key(MARK.user_id, intent.id)
    assert intent_of(row) == intent
    assert events_of(events_json([])) == () and events_of(None) == ()
    assert intent_key(13, intent.id) == (13 % 8, bucket_of(unix_ns(intent.id) / 1e9, 300))


def test_intent_ids_increase_and_a_removals_follow_its_adds_whatever_the_clock() -> None:
    now, clock_ns = clock()
    store = ScyllaEngagementStore(FakeCql(SCHEMA), clock_ns=clock_ns)
    first = store._intent_id(reserve=3)
    second = store._intent_id()
    assert unix_ns(second) >= unix_ns(first) + 300  # room for three event ids
    ahead = TimeUuids(lambda: now[0] + 5_000_000_000).next()  # an add made on a host 5 s ahead
    removal = store._intent_id(ahead)
    assert unix_ns(removal) >= unix_ns(ahead) + adapter_module.AFTER_ADD_NS
    assert unix_ns(store._intent_id()) > unix_ns(removal)  # later ids pass it, though our clock is behind
    now[0] -= 10**9  # the clock steps back
    assert unix_ns(store._intent_id()) > unix_ns(removal)


# The flow of each change, as the fake saw it ----------------------------------------------------


def _steps(fake: FakeCql) -> list[tuple[str, str]]:
    return [(e.kind, _table(e.statements[0])) for e in fake.log]


async def test_a_like_is_a_marker_one_lwt_one_logged_batch_then_its_counter() -> None:
    store, fake = await _store()
    fake.log.clear()
    await contract.put(store, Kind.LIKE, 100, 1)
    assert _steps(fake) == [("execute", "open_intents"), ("lwt", "likes_by_user"), ("batch", "likes_by_tweet"),
                            ("execute", "engagement_counts")]
    assert [_table(s) for s in fake.log[2].statements] == ["likes_by_tweet", "outbox", "open_intents"]
    assert fake.log[2].statements[-1].cql.startswith("DELETE FROM open_intents")
    assert _open_intents(fake) == 0


async def test_a_repeated_like_writes_nothing_but_its_dropped_marker() -> None:
    store, fake = await _store()
    await contract.put(store, Kind.LIKE, 100, 1)
    fake.log.clear()
    await contract.put(store, Kind.LIKE, 100, 1)
    assert _steps(fake) == [("execute", "open_intents"), ("lwt", "likes_by_user"), ("execute", "open_intents"),
                            ("execute", "open_intents")]  # marker, LWT, marker dropped, the add's marker looked up
    assert fake.log[2].statements[0].cql.startswith("DELETE") and fake.log[3].statements[0].cql.startswith("SELECT")


async def test_an_unlike_reads_its_mark_then_is_a_marker_one_lwt_one_logged_batch_then_its_counter() -> None:
    store, fake = await _store()
    await contract.put(store, Kind.LIKE, 100, 1)
    fake.log.clear()
    await contract.take(store, Kind.LIKE, 100, 1)
    assert _steps(fake) == [("execute", "likes_by_user"), ("execute", "open_intents"), ("execute", "open_intents"),
                            ("lwt", "likes_by_user"), ("batch", "likes_by_tweet"), ("execute", "engagement_counts")]
    assert [_table(s) for s in fake.log[4].statements] == ["likes_by_tweet", "outbox", "open_intents"]


async def test_a_bookmark_writes_both_listings_and_no_outbox_row() -> None:
    store, fake = await _store()
    fake.log.clear()
    await contract.put(store, Kind.BOOKMARK, 100, 1)
    batch = [e for e in fake.log if e.kind == "batch"][0].statements
    assert [_table(s) for s in batch] == ["bookmarks_by_user", "bookmarks_by_tweet", "open_intents"]


async def test_engagement_reads_one_counter_partition_per_tweet_and_the_viewers_flags_by_hundreds() -> None:
    store, fake = await _store()
    fake.log.clear()
    await store.engagement(9, range(1, 251))
    reads = fake.statements("execute")
    assert sum(_table(s) == "engagement_counts" for s in reads) == 250
    flags = [(_table(s), len(s.params[1])) for s in reads if _table(s) != "engagement_counts"]
    assert sorted(flags) == sorted((t, n) for t in ("likes_by_user", "retweets_by_user", "bookmark_flags")
                                   for n in (100, 100, 50))
    fake.log.clear()
    await store.engagement(0, range(1, 251))
    assert all(_table(s) == "engagement_counts" for s in fake.statements("execute"))


async def test_writes_touch_flag_rows_only_by_lwt_listings_only_at_their_marks_time_and_counters_alone() -> None:
    store, fake = await _store()
    for kind in Kind:
        await contract.put(store, kind, 100, 1)
        await contract.take(store, kind, 100, 1)
    await store.count_created(ChildTweet(501, 100, 100))
    await store.count_deleted(ChildTweet(501, 100, 100))
    timed = {"likes_by_tweet", "retweets_by_tweet", "bookmarks_by_user", "bookmarks_by_tweet", "replies_by_parent",
             "quotes_by_parent"}
    for entry in fake.log:
        for statement in entry.statements:
            if statement.cql.startswith("SELECT"):
                continue
            table = _table(statement)
            if table in ("likes_by_user", "retweets_by_user", "bookmark_flags", "counted_tweets"):
                assert entry.kind == "lwt", statement.cql
            if table in timed:
                assert entry.kind == "batch" and "USING TIMESTAMP ?" in statement.cql, statement.cql
            if table == "engagement_counts":
                assert entry.kind == "execute" and not statement.idempotent, statement.cql


# A late batch never undoes a newer change ------------------------------------------------------


async def test_a_like_batch_replayed_after_the_unlike_cannot_bring_the_liker_back() -> None:
    store, fake = await _store()
    await contract.put(store, Kind.LIKE, 100, 1)
    like_batch = [e for e in fake.log if e.kind == "batch"][-1].statements
    await contract.take(store, Kind.LIKE, 100, 1)
    await fake.batch(like_batch)  # the batchlog replays the like's batch after the unlike
    assert await likers(store) == []
    again, _ = await contract.put(store, Kind.LIKE, 100, 1)  # and a new like still lands
    assert [(e.id, e.seq) for e in (await store.likers(100, None, 10)).entries] == [(1, again.seq)]


# Writers that die, LWTs that time out, batches and counter updates that fail --------------------


class WriterDied(Exception):
    """Everything a writer sends after it died (its process is gone)."""


class Faulty(FakeCql):
    """FakeCql with faults to order:
    - die_after: the writer dies the moment an LWT whose text starts with this has applied (every
      later call fails, until the test revives the session for another writer: `dead = False`);
    - time_out: the next LWT whose text starts with this times out; `lands` says if it applied;
    - counters_fail: counter updates time out."""

    die_after: str | None = None
    dead = False
    time_out: str | None = None
    lands = True
    counters_fail = False

    def _alive(self) -> None:
        if self.dead:
            raise WriterDied()

    async def execute(self, statement: Statement, *, paging_state: bytes | None = None,
                      page_size: int | None = None) -> Page:
        self._alive()
        if self.counters_fail and statement.cql.startswith("UPDATE engagement_counts"):
            raise WriteTimeout("counter write timed out", write_type=6)
        return await super().execute(statement, paging_state=paging_state, page_size=page_size)

    async def lwt(self, statement: Statement) -> LwtResult:
        self._alive()
        if self.time_out and statement.cql.startswith(self.time_out):
            self.time_out = None
            if self.lands:
                await super().lwt(statement)
            raise WriteTimeout("CAS timed out", write_type=5)
        result = await super().lwt(statement)
        self.dead = bool(self.die_after and result.applied and statement.cql.startswith(self.die_after))
        return result

    async def batch(self, statements: Sequence[Statement], *, logged: bool = True) -> None:
        self._alive()
        await super().batch(statements, logged=logged)


async def _dead_writer(die_after: str, then: Callable[[ScyllaEngagementStore], Any], clock_ns: Callable[[], int],
                       ) -> tuple[Faulty, ScyllaEngagementStore]:
    """Runs `then(writer)`, whose writer dies after its LWT; returns the session and another process's store."""
    fake = Faulty(SCHEMA)
    writer, _ = await _store(fake, clock_ns=clock_ns)
    fake.die_after = die_after
    with pytest.raises(WriterDied):
        await then(writer)
    fake.die_after, fake.dead = None, False
    survivor, _ = await _store(fake, clock_ns=clock_ns)
    return fake, survivor


def _like(store: ScyllaEngagementStore) -> Any:
    return contract.put(store, Kind.LIKE, 100, 1)


async def test_a_like_left_by_a_dead_writer_is_finished_by_the_sweeper_once_old_and_counted_by_recount() -> None:
    now, clock_ns = clock()
    fake, survivor = await _dead_writer("INSERT INTO likes_by_user", _like, clock_ns)
    assert (await survivor.engagement(1, [100]))[100] == TweetEngagement(liked=True)  # decided, not derived
    assert await likers(survivor) == [] and await subjects(survivor) == []
    assert await survivor.sweep() == 0  # too young: its writer may be alive
    ripen(now)
    assert await survivor.sweep() == 1
    assert await likers(survivor) == [1]
    assert await subjects(survivor) == ["liked"]
    assert await survivor.sweep() == 0 and await subjects(survivor) == ["liked"]  # finished once
    assert _open_intents(fake) == 0
    # Its counter died with it (at most once); the repair path counts the listing.
    assert await contract.counts(survivor, 100) == Counts()
    assert await survivor.recount([100]) == {100: Counts(likes=1)}
    assert await contract.counts(survivor, 100) == Counts(likes=1)


async def test_an_unlike_finishes_the_like_its_writer_left_before_taking_it_away() -> None:
    _, clock_ns = clock()
    fake, survivor = await _dead_writer("INSERT INTO likes_by_user", _like, clock_ns)
    assert await contract.take(survivor, Kind.LIKE, 100, 1) is not None
    assert await subjects(survivor) == ["liked", "unliked"]  # nothing lost, in order
    assert await likers(survivor) == [] and _open_intents(fake) == 0
    assert await contract.counts(survivor, 100) == Counts()  # -1 shows as 0 ...
    assert await survivor.recount([100]) == {100: Counts()}  # ... and recount sets it right
    assert fake.data["engagement_counts"][(100,)].rows[()]["likes"] == 0


async def test_a_repeated_like_finishes_the_like_its_writer_left() -> None:
    _, clock_ns = clock()
    fake, survivor = await _dead_writer("INSERT INTO likes_by_user", _like, clock_ns)
    _, created = await _like(survivor)
    assert not created
    assert await likers(survivor) == [1]
    assert await subjects(survivor) == ["liked"] and _open_intents(fake) == 0


async def test_an_unlike_left_by_a_dead_writer_is_finished_by_the_sweeper() -> None:
    now, clock_ns = clock()

    async def like_then_unlike(writer: ScyllaEngagementStore) -> None:
        await _like(writer)
        await contract.take(writer, Kind.LIKE, 100, 1)

    _, store = await _dead_writer("DELETE FROM likes_by_user", like_then_unlike, clock_ns)
    assert not (await store.engagement(1, [100]))[100].liked
    assert await likers(store) == [1]  # not derived yet
    ripen(now)
    assert await store.sweep() == 1
    assert await likers(store) == []
    assert await subjects(store) == ["liked", "unliked"]
    assert await contract.counts(store, 100) == Counts(likes=1)  # the unlike's -1 died with its writer
    assert await store.recount([100]) == {100: Counts()}


async def test_a_like_whose_lwt_timed_out_but_landed_is_read_back_and_carried_through() -> None:
    fake = Faulty(SCHEMA)
    store, _ = await _store(fake)
    fake.time_out, fake.lands = "INSERT INTO likes_by_user", True
    _, created = await _like(store)
    assert created
    assert await contract.counts(store, 100) == Counts(likes=1)
    assert await likers(store) == [1]
    assert await subjects(store) == ["liked"] and _open_intents(fake) == 0


async def test_a_like_whose_lwt_timed_out_and_did_not_land_changes_nothing() -> None:
    now, clock_ns = clock()
    fake = Faulty(SCHEMA)
    store, _ = await _store(fake, clock_ns=clock_ns)
    fake.time_out, fake.lands = "INSERT INTO likes_by_user", False
    with pytest.raises(WriteTimeout):
        await _like(store)
    assert _open_intents(fake) == 1  # its marker: left for the sweeper
    ripen(now)
    assert await store.sweep() == 0 and _open_intents(fake) == 0
    assert await store.engagement(1, [100]) == {100: TweetEngagement()} and await subjects(store) == []


async def test_an_unlike_whose_lwt_timed_out_is_not_counted_but_is_finished() -> None:
    now, clock_ns = clock()
    fake = Faulty(SCHEMA)
    store, _ = await _store(fake, clock_ns=clock_ns)
    await _like(store)
    fake.time_out, fake.lands = "DELETE FROM likes_by_user", True
    with pytest.raises(WriteTimeout):
        await contract.take(store, Kind.LIKE, 100, 1)
    ripen(now)
    assert await store.sweep() == 1
    assert await subjects(store) == ["liked", "unliked"]
    assert await contract.counts(store, 100) == Counts(likes=1)  # at most once: it could not tell it was ours
    assert await store.recount([100]) == {100: Counts()}


async def test_a_batch_that_fails_after_the_lwt_still_counts_once_and_is_finished_later() -> None:
    now, clock_ns = clock()
    store, fake = await _store(clock_ns=clock_ns)
    fake.fail_batches.append(DriverUnavailable("not enough replicas"))
    with pytest.raises(DriverUnavailable):
        await _like(store)
    assert await contract.counts(store, 100) == Counts(likes=1)  # counted by its writer
    ripen(now)
    assert await store.sweep() == 1
    assert await likers(store) == [1]
    assert await contract.counts(store, 100) == Counts(likes=1)
    assert await subjects(store) == ["liked"]


async def test_a_failed_counter_update_is_not_retried_and_recount_repairs_every_counter() -> None:
    fake = Faulty(SCHEMA)
    store, _ = await _store(fake)
    fake.counters_fail = True
    for kind in Kind:
        await contract.put(store, kind, 100, 1)  # the marks stand: only the counts are short
    assert await store.count_created(ChildTweet(501, reply_to_id=100, quote_id=100))
    assert await store.count_created(ChildTweet(502, quote_id=100))
    assert [s for s in fake.statements("execute") if s.cql.startswith("UPDATE engagement_counts")] == []
    assert await contract.counts(store, 100) == Counts()
    fake.counters_fail = False
    expected = Counts(likes=1, retweets=1, replies=1, quotes=2, bookmarks=1)
    assert await store.recount([100]) == {100: expected}
    assert await contract.counts(store, 100) == expected
    fake.log.clear()
    assert await store.recount([100]) == {100: expected}  # nothing to repair: no counter write
    assert not [s for s in fake.statements("execute") if s.cql.startswith("UPDATE")]


async def test_recount_pages_through_long_listings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter_module, "COUNT_PAGE_SIZE", 3)
    store, fake = await _store()
    for user in range(1, 11):
        await contract.put(store, Kind.LIKE, 100, user)
    fake.log.clear()
    assert await store.recount([100]) == {100: Counts(likes=10)}
    assert sum(_table(s) == "likes_by_tweet" for s in fake.statements("execute")) == 4  # 3 + 3 + 3 + 1


# Replies and quotes under redelivery -------------------------------------------------------------


async def test_a_creation_whose_writer_died_after_its_lwt_is_finished_by_the_redelivery_and_recounted() -> None:
    _, clock_ns = clock()
    child = ChildTweet(501, reply_to_id=100, quote_id=200)
    fake, survivor = await _dead_writer("INSERT INTO counted_tweets", lambda s: s.count_created(child), clock_ns)
    assert not fake.data["replies_by_parent"]
    assert not await survivor.count_created(child)  # the redelivery: recorded already, counts nothing
    assert (100,) in fake.data["replies_by_parent"] and (200,) in fake.data["quotes_by_parent"]
    assert await survivor.recount([100, 200]) == {100: Counts(replies=1), 200: Counts(quotes=1)}
    assert await survivor.count_deleted(child)
    assert await contract.counts(survivor, 100) == Counts() and await contract.counts(survivor, 200) == Counts()
    assert await survivor.recount([100, 200]) == {100: Counts(), 200: Counts()}


async def test_a_deletion_whose_writer_died_after_its_lwt_is_finished_by_the_redelivery() -> None:
    _, clock_ns = clock()
    child = ChildTweet(501, reply_to_id=100)

    async def create_then_delete(store: ScyllaEngagementStore) -> None:
        assert await store.count_created(child)
        await store.count_deleted(child)

    fake, survivor = await _dead_writer("UPDATE counted_tweets", create_then_delete, clock_ns)
    assert not await survivor.count_deleted(child)
    assert not any(p.rows for p in fake.data["replies_by_parent"].values())
    assert await contract.counts(survivor, 100) == Counts(replies=1)  # its -1 died with its writer
    assert await survivor.recount([100]) == {100: Counts()}
    assert not await survivor.count_created(child)  # and a late creation counts nothing


# The sweeper's watermark -------------------------------------------------------------------------


async def test_the_sweeper_leaves_old_drained_buckets_behind_and_keeps_its_watermark() -> None:
    now, clock_ns = clock()
    store, fake = await _store(clock_ns=clock_ns)
    start = await store._sweep_mark(1)
    now[0] += 3600 * 10**9
    await store.sweep()
    assert store._sweep_marks[1] > start
    fresh, _ = await _store(fake, clock_ns=clock_ns)
    assert await fresh._sweep_mark(1) == store._sweep_marks[1]


async def test_a_marker_that_cannot_be_settled_holds_the_watermark_until_it_is() -> None:
    now, clock_ns = clock()
    fake, survivor = await _dead_writer("INSERT INTO likes_by_user", _like, clock_ns)
    ((shard, bucket),) = [key for key, p in fake.data["open_intents"].items() if p.rows]
    now[0] += 3600 * 10**9
    fake.fail_batches.append(DriverUnavailable("not enough replicas"))
    assert await survivor.sweep() == 0
    assert survivor._sweep_marks[shard] <= bucket < survivor._sweep_marks[(shard + 1) % 8]
    assert await survivor.sweep() == 1
    assert survivor._sweep_marks[shard] > bucket and _open_intents(fake) == 0
    assert await subjects(survivor) == ["liked"]


# Settings and wiring ---------------------------------------------------------------------------


def test_the_store_is_chosen_by_chirp_engagement_store() -> None:
    assert Settings.from_env({}).store == "sqlite" and Settings.from_env({}).scylla is None
    chosen = Settings.from_env({"CHIRP_ENGAGEMENT_STORE": "scylla", "CHIRP_SCYLLA_HOSTS": "db1,db2:9043",
                                "CHIRP_ENGAGEMENT_SCYLLA_KEYSPACE": "chirp_engagement"})
    assert chosen.store == "scylla" and chosen.scylla is not None
    assert chosen.scylla.keyspace == "chirp_engagement" and chosen.scylla.hosts == (("db1", 9042), ("db2", 9043))
    default = Settings.from_env({"CHIRP_ENGAGEMENT_STORE": "scylla", "CHIRP_SCYLLA_HOSTS": "db"})
    assert default.scylla is not None and default.scylla.keyspace == "engagement"
    with pytest.raises(SettingsError, match="CHIRP_SCYLLA_HOSTS"):
        Settings.from_env({"CHIRP_ENGAGEMENT_STORE": "scylla"})
    with pytest.raises(SettingsError, match="CHIRP_ENGAGEMENT_STORE"):
        Settings.from_env({"CHIRP_ENGAGEMENT_STORE": "cassandra"})


async def test_the_app_opens_the_sqlite_store_with_its_outbox_by_default(tmp_path: Any) -> None:
    from services.engagement.app import open_store
    from services.engagement.store.sqlite import SqliteEngagementStore
    from services.runtime.outbox import SqliteOutbox

    store, outbox, loops = await open_store(Settings.from_env({"CHIRP_DATA_DIR": str(tmp_path)}))
    try:
        assert isinstance(store, SqliteEngagementStore) and isinstance(outbox, SqliteOutbox) and loops == []
    finally:
        await store.close()


async def test_connecting_to_no_server_fails_fast_and_names_the_host() -> None:
    from cassandra.cluster import NoHostAvailable

    from services.runtime.mesh import free_port

    port = free_port()
    settings = ScyllaSettings(hosts=(("127.0.0.1", port),), keyspace="engagement", connect_timeout_s=2)
    with pytest.raises(NoHostAvailable, match=str(port)):
        await asyncio.wait_for(ScyllaEngagementStore.connect(settings), 30)
