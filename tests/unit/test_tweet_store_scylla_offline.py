"""The ScyllaDB tweet store without a cluster: its schema, buckets, statements, row mapping, paging,
counters and crash recovery, checked offline.

The whole tweet store contract suite (tests/services/test_tweet_store.py) runs over the adapter on
`FakeCql` (tests/scylla_fake.py), with both the ScyllaDB and the Cassandra shape of LWT results.
The fake checks one-partition reads, whole keys on writes, no LWT or counter in a logged batch,
types, and keeps write timestamps, so replays and late batches behave as on a server. Writers that
die, LWTs that time out, batches and counter updates that fail are simulated on it below. It
proves the adapter's logic, not its compatibility with a real server: the contract suite does that
when CHIRP_SCYLLA_HOSTS is set.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from typing import Any

import pytest
from cassandra import Unavailable as DriverUnavailable
from cassandra import WriteTimeout

from services.runtime.errors import Unavailable
from services.runtime.events import OutgoingEvent
from services.runtime.ids import SnowflakeGenerator, lowest_id_at, timestamp_ms
from services.runtime.scylla import LwtResult, Page, Statement, TimeUuids, bucket_of, uuid_unix_s
from services.runtime.settings import SettingsError
from services.tweet.domain import Entities, Hashtag, Mention, Poll, Tweet, Url
from services.tweet.settings import Settings
from services.tweet.store import scylla as adapter_module
from services.tweet.store.base import hour_bucket, month_bucket
from services.tweet.store.scylla import (
    BY_HOUR,
    BY_USER,
    CONTENT,
    KEY_TTL_S,
    RECENT_SHARDS,
    REPLIES,
    SCHEMA,
    PartitionReader,
    ScyllaTweetStore,
    change_intent,
    change_intent_of,
    claim_statement,
    content_of,
    create_intent,
    create_intent_of,
    create_writes,
    delete_statement,
    hide_statement,
    id_range,
    marker_insert,
    marker_key,
    merge_newest,
    months_down,
    newest_id,
    poll_count_update,
    recent_shard,
    removal_time_us,
    removal_writes,
    select_hour,
    select_replies,
    select_user_tweets,
    tweet_count_update,
    tweet_of,
    vote_statement,
    write_time_us,
)
from tests.scylla_fake import FakeCql, parse_table
from tests.services import test_tweet_store as contract


class Clock:
    """A wall clock the test moves (nanoseconds, as the store reads it). It starts in the middle of a
    five-minute bucket (markers' and the outbox's), so that "young" stays in the bucket it began in."""

    def __init__(self) -> None:
        bucket_ns = adapter_module.INTENT_BUCKET_S * 10**9
        self.ns = time.time_ns() // bucket_ns * bucket_ns + bucket_ns // 2

    def __call__(self) -> int:
        return self.ns

    def advance(self, seconds: float) -> None:
        self.ns += int(seconds * 1e9)


async def _store(fake: FakeCql | None = None, **kwargs: Any) -> tuple[ScyllaTweetStore, FakeCql]:
    fake = fake or FakeCql(SCHEMA)
    store = ScyllaTweetStore(fake, **kwargs)
    await store.outbox.init_watermarks()
    await store.init_sweeper()
    return store, fake


def _adapter(store: ScyllaTweetStore) -> contract.Adapter:
    return contract.Adapter(store, store.outbox)


def _table(statement: Statement) -> str:
    m = re.match(r"(?:SELECT .+? FROM|INSERT INTO|UPDATE|DELETE FROM) (\w+)", statement.cql)
    assert m, statement.cql
    return m.group(1)


def _subjects(events: Sequence[OutgoingEvent]) -> list[str]:
    return [e.subject for e in events]


def _rows(fake: FakeCql, table: str) -> int:
    return sum(len(p.rows) for p in fake.data[table].values())


def _values(insert: Statement) -> dict[str, Any]:
    """An INSERT's values by column."""
    m = re.search(r"\((.*?)\) VALUES", insert.cql)
    assert m, insert.cql
    return dict(zip(m.group(1).split(", "), insert.params))


def _created(tid: int) -> list[OutgoingEvent]:
    return [contract.event("created", tid)]


# The contract suite, over the adapter's logic ---------------------------------------------------

globals().update({name: fn for name, fn in vars(contract).items() if name.startswith("test_")})


@pytest.fixture(params=["scylla-lwt-returns", "cassandra-lwt-returns"])
async def adapter(request: pytest.FixtureRequest) -> contract.Adapter:
    style = "scylla" if request.param.startswith("scylla") else "cassandra"
    store, _ = await _store(FakeCql(SCHEMA, lwt_style=style))
    return _adapter(store)


@pytest.fixture
def store(adapter: contract.Adapter) -> Any:
    return adapter.store


# Schema ------------------------------------------------------------------------------------------

EXPECTED_KEYS = {
    # table: (partition key, clustering columns)
    "tweets_by_id": (["id"], []),
    "tweets_by_user": (["author_id", "month"], ["id"]),
    "replies_by_conversation": (["conversation_id"], ["reply_to_id", "id"]),
    "tweets_by_hour": (["hour", "shard"], ["id"]),
    "tweet_idempotency": (["author_id", "request_key"], []),
    "poll_votes": (["tweet_id", "voter_id"], []),
    "poll_voters": (["tweet_id"], ["voter_id"]),
    "poll_counts": (["tweet_id"], ["option_index"]),
    "tweet_counts_by_author": (["author_id"], []),
    "open_intents": (["shard", "bucket"], ["txn"]),
    "open_intents_watermark": (["shard"], []),
    "outbox": (["shard", "bucket"], ["id"]),
    "outbox_watermark": (["shard"], []),
}


def test_the_schema_has_one_table_per_query_with_the_expected_keys() -> None:
    tables = {t.name: t for t in map(parse_table, SCHEMA)}
    assert {name: (t.partition_key, t.clustering) for name, t in tables.items()} == EXPECTED_KEYS
    assert tables["tweets_by_user"].descending == {"id"} and tables["tweets_by_hour"].descending == {"id"}
    assert tables["replies_by_conversation"].descending == set(), "a thread reads oldest first"
    assert tables["poll_counts"].counters == {"votes"} and tables["tweet_counts_by_author"].counters == {"live"}
    for name in ("tweets_by_id", "tweets_by_user", "replies_by_conversation", "tweets_by_hour"):
        assert {c: tables[name].columns[c] for c, _ in CONTENT} == dict(CONTENT), f"{name} holds the whole tweet"
    assert tables["tweets_by_id"].columns["delete_txn"] == "timeuuid"
    assert all(s.startswith("CREATE TABLE IF NOT EXISTS") for s in SCHEMA), "schema application is idempotent"


# Buckets, keys and rows: pure ------------------------------------------------------------------


def test_months_step_down_across_a_new_year() -> None:
    assert list(months_down(202602, 202511)) == [202602, 202601, 202512, 202511]
    assert list(months_down(202401, 202401)) == [202401]
    assert list(months_down(202401, 202402)) == []


def test_id_ranges_stop_at_the_epoch_and_a_little_past_the_clock() -> None:
    now = 1_800_000_000_000
    assert id_range(0, 0, now) == (1, newest_id(now))
    assert id_range(5, 10, now) == (6, 9)
    assert id_range(0, 2**63 - 1, now)[1] == newest_id(now)  # no id from far in the future
    assert newest_id(now) == lowest_id_at(now + adapter_module.CLOCK_SKEW_MS + 1) - 1
    assert timestamp_ms(newest_id(now)) == now + adapter_module.CLOCK_SKEW_MS


def test_one_workers_tweets_spread_over_every_recent_shard() -> None:
    ms = [1_800_000_000_000]

    def tick() -> int:
        ms[0] += 1
        return ms[0]

    generator = SnowflakeGenerator(3, clock_ms=tick)
    shards = [recent_shard(generator.next_id()) for _ in range(400)]
    assert set(shards) == set(range(RECENT_SHARDS))
    assert max(shards.count(s) for s in range(RECENT_SHARDS)) < 2 * 400 / RECENT_SHARDS


def test_rows_are_written_at_the_tweets_time_and_removed_after_it() -> None:
    [tid] = contract.ids_at(1_784_073_600_000)
    assert write_time_us(tid) == 1_784_073_600_000_000
    assert removal_time_us(tid, 0) == write_time_us(tid) + 1  # a clock behind the tweet's still removes it
    assert removal_time_us(tid, 1_900_000_000_000_000) == 1_900_000_000_000_000


FULL = Tweet(
    7 << 22, 42, "Hi @Bob #Tag https://x.example é", 5 << 22, reply_to_id=5 << 22, quote_id=3 << 22,
    media_urls=("https://m.example/1.png",), poll=Poll(("yes", "no"), 1_900_000_000_000, (0, 0)), location="Zürich",
    entities=Entities((Mention(7, "Bob", 3, 7),), (Hashtag("tag", "Tag", 8, 12),), (Url("https://x.example", 13, 30),)),
    language="en", sensitive=True,
)


def test_a_tweet_maps_to_columns_and_back() -> None:
    content = content_of(FULL)
    assert set(content) == {name for name, _ in CONTENT}
    assert tweet_of(content) == FULL
    assert tweet_of(content, {1: 4, 0: -2}).poll == Poll(("yes", "no"), 1_900_000_000_000, (0, 4))  # never below 0
    plain = dataclasses.replace(FULL, poll=None, media_urls=(), entities=Entities())
    assert content_of(plain)["poll_options"] is None and tweet_of(content_of(plain)) == plain
    gone = tweet_of({**content, "deleted_at_ms": 9, "hidden": True})
    assert gone.deleted_at_ms == 9 and gone.hidden and not gone.live
    assert tweet_of({**content, "hidden": None}).live


def test_intents_round_trip() -> None:
    events = [OutgoingEvent("tweet.created:1", "chirp.tweet.created", "t", b"\x00\xffpayload")]
    content = content_of(FULL)
    assert create_intent_of(create_intent(content, events)) == (content, tuple(events))
    assert change_intent_of(change_intent(events)) == tuple(events)
    assert change_intent_of(None) == ()
    with pytest.raises(ValueError):
        create_intent_of(None)


def test_a_reply_is_written_to_every_table_that_serves_it_at_its_time() -> None:
    content = content_of(FULL)
    writes = create_writes(content)
    assert [_table(s) for s in writes] == [
        "tweets_by_id", "tweets_by_user", "replies_by_conversation", "tweets_by_hour"]
    assert all(s.cql.endswith("USING TIMESTAMP ?") and s.params[-1] == write_time_us(FULL.id) for s in writes)
    assert "deleted_at_ms" not in writes[0].cql and "hidden" not in writes[0].cql  # a replay cannot undo a delete
    by_user = _values(writes[1])
    assert (by_user["author_id"], by_user["month"], by_user["id"]) == (42, month_bucket(FULL.id), FULL.id)
    by_hour = _values(writes[3])
    assert (by_hour["hour"], by_hour["shard"]) == (hour_bucket(FULL.id), recent_shard(FULL.id))
    plain = create_writes(content_of(dataclasses.replace(FULL, reply_to_id=0, poll=None)))
    assert [_table(s) for s in plain] == ["tweets_by_id", "tweets_by_user", "tweets_by_hour"]
    assert all("poll_" not in s.cql and None not in s.params for s in plain), "no null cells (tombstones)"


def test_a_gone_tweet_leaves_every_list_by_its_whole_key() -> None:
    removals = removal_writes(content_of(FULL), 1_900_000_000_000_000)
    assert [s.cql for s in removals] == [
        "DELETE FROM tweets_by_user USING TIMESTAMP ? WHERE author_id = ? AND month = ? AND id = ?",
        "DELETE FROM replies_by_conversation USING TIMESTAMP ? WHERE conversation_id = ? AND reply_to_id = ?"
        " AND id = ?",
        "DELETE FROM tweets_by_hour USING TIMESTAMP ? WHERE hour = ? AND shard = ? AND id = ?",
    ]
    assert removals[1].params == (1_900_000_000_000_000, 5 << 22, 5 << 22, FULL.id)
    assert {BY_USER.name, REPLIES.name, BY_HOUR.name} == {_table(s) for s in removals}


def test_the_commit_points_are_lwts_the_driver_never_retries() -> None:
    txn = TimeUuids().next()
    events = [contract.event("x", 1)]
    claim = claim_statement(content_of(FULL), "key", txn, events)
    assert claim.cql.endswith("IF NOT EXISTS USING TTL ?") and claim.params[-1] == KEY_TTL_S >= 24 * 3600
    delete = delete_statement(FULL.id, 42, 99, txn, events)
    assert delete.cql.endswith("IF author_id = ? AND deleted_at_ms = null AND hidden = null")
    assert delete.params == (99, txn, change_intent(events), FULL.id, 42)
    hide = hide_statement(FULL.id, 42)
    vote = vote_statement(FULL.id, 8, 1, txn, events)
    for lwt in (claim, delete, hide, vote):
        assert lwt.is_lwt and not lwt.idempotent and "USING TIMESTAMP" not in lwt.cql, lwt.cql


def test_counter_updates_are_never_retried_by_the_driver_and_never_lwts() -> None:
    for update in (poll_count_update(5, 1, 2), tweet_count_update(5, -1)):
        assert not update.idempotent and not update.is_lwt
    assert poll_count_update(5, 1, 2).params == (2, 5, 1)
    assert tweet_count_update(5, -1).cql == "UPDATE tweet_counts_by_author SET live = live + ? WHERE author_id = ?"


def test_pages_are_slices_of_one_partition() -> None:
    assert select_user_tweets(4, 202607, 10, 20, 5).cql.endswith(
        "FROM tweets_by_user WHERE author_id = ? AND month = ? AND id > ? AND id < ? LIMIT ?")
    assert select_replies(1, 2, 3, 4).params == (1, 2, 3, 4)
    assert select_hour(500_000, 3, 9, 10).cql.endswith(
        "FROM tweets_by_hour WHERE hour = ? AND shard = ? AND id > ? LIMIT ?")


def test_a_markers_place_follows_from_the_tweet_and_the_version() -> None:
    txn = TimeUuids().next()
    assert marker_key(13, txn) == (13 % 8, bucket_of(uuid_unix_s(txn), 300))
    assert marker_insert("delete", 13, 40, "", txn).params == (*marker_key(13, txn), txn, "delete", 13, 40, "")


# The flow of each change, as the fake saw it ---------------------------------------------------


def _steps(fake: FakeCql) -> list[tuple[str, str]]:
    return [(e.kind, _table(e.statements[0])) for e in fake.log]


async def test_a_create_without_a_key_is_one_logged_batch_then_its_counter() -> None:
    store, fake = await _store()
    [tid] = contract.fresh_ids(1)
    fake.log.clear()
    await store.create_tweet(contract.tweet(tid, contract.new_author()), "", _created(tid))
    assert _steps(fake) == [("batch", "tweets_by_id"), ("execute", "tweet_counts_by_author")]
    assert [_table(s) for s in fake.log[0].statements] == ["tweets_by_id", "tweets_by_user", "tweets_by_hour", "outbox"]


async def test_a_keyed_create_is_a_read_a_marker_an_lwt_one_batch_then_its_counter() -> None:
    store, fake = await _store()
    [tid] = contract.fresh_ids(1)
    fake.log.clear()
    await store.create_tweet(contract.tweet(tid, contract.new_author()), "k", _created(tid))
    assert _steps(fake) == [("execute", "tweet_idempotency"), ("execute", "open_intents"), ("lwt", "tweet_idempotency"),
                            ("batch", "tweets_by_id"), ("execute", "tweet_counts_by_author")]
    assert [_table(s) for s in fake.log[3].statements][-2:] == ["outbox", "open_intents"]
    assert fake.log[3].statements[-1].cql.startswith("DELETE FROM open_intents")
    assert fake.ttls == [("tweet_idempotency", KEY_TTL_S)]


async def test_a_delete_is_a_read_a_marker_an_lwt_one_batch_then_its_counter() -> None:
    store, fake = await _store()
    author = contract.new_author()
    [tid] = contract.fresh_ids(1)
    await contract.create(store, contract.tweet(tid, author))
    fake.log.clear()
    assert await store.delete_tweet(tid, author, 5, [contract.event("deleted", tid)])
    assert _steps(fake) == [("execute", "tweets_by_id"), ("execute", "open_intents"), ("lwt", "tweets_by_id"),
                            ("batch", "tweets_by_user"), ("execute", "tweet_counts_by_author")]
    assert [_table(s) for s in fake.log[3].statements] == ["tweets_by_user", "tweets_by_hour", "outbox", "open_intents"]
    fake.log.clear()
    assert not await store.delete_tweet(tid, author, 6, [])  # gone already: one read, nothing written
    assert _steps(fake) == [("execute", "tweets_by_id")]


async def test_a_vote_is_a_read_a_marker_an_lwt_one_batch_then_its_counter() -> None:
    store, fake = await _store()
    [tid] = contract.fresh_ids(1)
    await contract.create(store, contract.tweet(tid, contract.new_author(), poll=Poll(("a", "b"), 1)))
    fake.log.clear()
    assert await store.vote(tid, 9, 1, [contract.event("poll_voted", 9)]) == 1
    assert _steps(fake) == [("execute", "poll_votes"), ("execute", "open_intents"), ("lwt", "poll_votes"),
                            ("batch", "poll_voters"), ("execute", "poll_counts")]
    fake.log.clear()
    assert await store.vote(tid, 9, 0, []) == 1
    assert _steps(fake) == [("execute", "poll_votes")]


async def test_list_rows_are_written_only_in_batches_and_only_at_their_tweets_time() -> None:
    store, fake = await _store()
    author, fan = contract.new_author(), contract.new_author()
    root_id, reply_id = contract.fresh_ids(2)
    [root] = await contract.create(store, contract.tweet(root_id, author), key="a")
    await contract.create(store, contract.tweet(reply_id, fan, reply_to=root))
    await store.delete_tweet(reply_id, fan, 1, [])
    await store.hide_author_tweets(author, 10)
    lists = {BY_USER.name, REPLIES.name, BY_HOUR.name}
    for entry in fake.log:
        for statement in entry.statements:
            if _table(statement) in lists and not statement.cql.startswith("SELECT"):
                assert entry.kind == "batch" and "USING TIMESTAMP ?" in statement.cql, statement.cql
            if _table(statement) == "tweets_by_id" and statement.cql.startswith("UPDATE"):
                assert entry.kind == "lwt", statement.cql
    assert all(_rows(fake, name) == 0 for name in lists)
    assert _rows(fake, "tweets_by_id") == 2


# Reads ------------------------------------------------------------------------------------------


async def test_user_tweets_read_the_newest_month_first_and_stop_once_the_page_is_full() -> None:
    store, fake = await _store()
    author = contract.new_author()
    old, new = contract.ids_at(contract.NOW_MS - 70 * contract.DAY_MS), contract.fresh_ids(3)
    await contract.create(store, *(contract.tweet(t, author) for t in [*old, *new]))
    fake.log.clear()
    assert contract.ids(await store.user_tweets(author, since_id=0, until_id=0, limit=2)) == new[:0:-1]
    months = [s.params[1] for s in fake.statements("execute") if _table(s) == "tweets_by_user"]
    assert months[-1] == month_bucket(new[0]) and len(months) <= 2  # (the clock skew may reach into next month)
    fake.log.clear()
    assert contract.ids(await store.user_tweets(author, since_id=0, until_id=new[0], limit=10)) == old
    months = [s.params[1] for s in fake.statements("execute") if _table(s) == "tweets_by_user"]
    assert months == list(months_down(month_bucket(new[0]), 202401)), "walks back to the epoch's month"


async def test_recent_tweets_merge_the_shards_of_each_hour_newest_first() -> None:
    store, fake = await _store()
    authors = [contract.new_author() for _ in range(4)]
    made = contract.fresh_ids(60)
    await contract.create(store, *(contract.tweet(t, authors[i % 4]) for i, t in enumerate(made)))
    assert len({recent_shard(t) for t in made}) > 1
    fake.log.clear()
    since = lowest_id_at(contract.NOW_MS - 1)
    assert contract.ids(await store.recent_tweets(since_id=since, limit=25)) == sorted(made, reverse=True)[:25]
    reads = [s for s in fake.statements("execute") if _table(s) == "tweets_by_hour"]
    assert {s.params[1] for s in reads} == set(range(RECENT_SHARDS))  # every shard of the hour
    # The walk starts at the newest hour the store's (real) clock allows and stops at the page's
    # oldest tweet: never an hour outside that span, whenever the suite happens to run.
    newest_hour = hour_bucket(newest_id(time.time_ns() // 1_000_000))
    assert {s.params[0] for s in reads} <= set(range(hour_bucket(made[0]), newest_hour + 1))
    assert contract.ids(await store.recent_tweets(since_id=made[-1], limit=5)) == []


async def test_a_partition_reader_fetches_the_next_page_only_when_its_rows_are_taken() -> None:
    store, fake = await _store()
    author = contract.new_author()
    made = contract.fresh_ids(7)
    await contract.create(store, *(contract.tweet(t, author) for t in made))
    fake.log.clear()
    reader = PartitionReader(fake, select_user_tweets(author, month_bucket(made[0]), 0, 2**62, 100), page_size=3)
    assert [r["id"] for r in await merge_newest([reader], 4)] == made[:2:-1]
    assert len(fake.log) == 2  # pages of 3: the second one is read for the fourth row
    empty = PartitionReader(fake, select_user_tweets(author + 1, month_bucket(made[0]), 0, 2**62, 100), page_size=3)
    assert [r["id"] for r in await merge_newest([empty, reader], 10)] == made[2::-1]


async def test_a_page_of_polls_reads_each_polls_counters_once() -> None:
    store, fake = await _store()
    author = contract.new_author()
    polled, plain = contract.fresh_ids(2)
    await contract.create(store, contract.tweet(polled, author, poll=Poll(("a", "b"), 1)),
                          contract.tweet(plain, author))
    fake.log.clear()
    await store.user_tweets(author, since_id=polled - 1, until_id=0, limit=10)
    assert [s.params for s in fake.statements("execute") if _table(s) == "poll_counts"] == [(polled,)]


# A writer that dies after its LWT ---------------------------------------------------------------


class WriterDied(Exception):
    """Everything a writer sends after it died (its process is gone)."""


class DiesAfterLwt(FakeCql):
    """A session whose writer dies the moment an LWT on `table` has applied, until revived."""

    table = ""
    dead = False

    def _check(self) -> None:
        if self.dead:
            raise WriterDied()

    async def execute(self, statement: Statement, *, paging_state: bytes | None = None,
                      page_size: int | None = None) -> Page:
        self._check()
        return await super().execute(statement, paging_state=paging_state, page_size=page_size)

    async def lwt(self, statement: Statement) -> LwtResult:
        self._check()
        result = await super().lwt(statement)
        self.dead = result.applied and bool(self.table) and _table(statement) == self.table
        return result

    async def batch(self, statements: Sequence[Statement], *, logged: bool = True) -> None:
        self._check()
        await super().batch(statements, logged=logged)

    def revive(self) -> None:
        self.dead, self.table = False, ""


async def _dying(table: str, clock: Clock) -> tuple[DiesAfterLwt, ScyllaTweetStore]:
    fake = DiesAfterLwt(SCHEMA)
    store, _ = await _store(fake, clock_ns=clock, conflict_wait_s=0.05)
    fake.table = table
    return fake, store


async def _dead_create(clock: Clock) -> tuple[DiesAfterLwt, ScyllaTweetStore, int, int]:
    """A create with key "k" whose writer died once its claim applied: (session, store, author, tweet id)."""
    fake, store = await _dying("tweet_idempotency", clock)
    author = contract.new_author()
    [tid] = contract.fresh_ids(1)
    with pytest.raises(WriterDied):
        await store.create_tweet(contract.tweet(tid, author), "k", _created(tid))
    fake.revive()
    return fake, store, author, tid


async def test_a_create_left_after_its_claim_waits_then_is_written_by_the_retry() -> None:
    clock = Clock()
    fake, store, author, first = await _dead_create(clock)
    [retry] = contract.fresh_ids(1)
    assert await store.tweet_for_key(author, "k") is None  # committed, not written yet
    with pytest.raises(Unavailable) as busy:  # its writer may still be at it
        await store.create_tweet(contract.tweet(retry, author), "k", _created(retry))
    assert busy.value.reason == "TWEET_CREATE_IN_PROGRESS"
    clock.advance(adapter_module.HELP_AFTER_S + 1)
    outcome = await store.create_tweet(contract.tweet(retry, author), "k", _created(retry))
    assert not outcome.created and outcome.tweet.id == first
    assert contract.ids(await store.user_tweets(author, since_id=0, until_id=0, limit=10)) == [first]
    assert _subjects(await _adapter(store).staged()) == ["chirp.tweet.created"]
    assert await store.tweet_counts([author]) == {author: 0}  # its writer died before counting
    assert await store.recount_tweet_counts([author]) == {author: 1}
    assert await store.tweet_counts([author]) == {author: 1}
    assert await store.sweep() == 0 and _rows(fake, "open_intents") == 0


async def test_the_sweeper_writes_a_create_nobody_retried_and_leaves_young_ones_alone() -> None:
    clock = Clock()
    fake, store, author, tid = await _dead_create(clock)
    assert await store.sweep() == 0 and _rows(fake, "open_intents") == 1
    clock.advance(adapter_module.HELP_AFTER_S + 1)
    assert await store.sweep() == 1
    assert (await store.tweet_for_key(author, "k")).id == tid  # type: ignore[union-attr]
    assert _subjects(await _adapter(store).staged()) == ["chirp.tweet.created"]
    assert await store.sweep() == 0 and _rows(fake, "open_intents") == 0


async def test_the_sweeper_finishes_a_delete_whose_writer_died() -> None:
    clock = Clock()
    fake, store = await _dying("", clock)
    author = contract.new_author()
    [tid] = contract.fresh_ids(1)
    await contract.create(store, contract.tweet(tid, author))
    await _adapter(store).staged()
    fake.table = "tweets_by_id"
    with pytest.raises(WriterDied):
        await store.delete_tweet(tid, author, 7, [contract.event("deleted", tid)])
    fake.revive()
    assert await store.get_tweets([tid]) == {}  # the authority says deleted at once
    assert not await store.delete_tweet(tid, author, 8, [contract.event("deleted", tid)])
    assert await _adapter(store).staged() == []
    clock.advance(adapter_module.HELP_AFTER_S + 1)
    assert await store.sweep() == 1
    assert _subjects(await _adapter(store).staged()) == ["chirp.tweet.deleted"]
    assert await store.user_tweets(author, since_id=0, until_id=0, limit=10) == []
    assert await store.recent_tweets(since_id=tid - 1, limit=10) == []
    assert await store.tweet_counts([author]) == {author: 1}  # not counted down: the repair path does it
    assert await store.recount_tweet_counts([author]) == {author: 0}
    assert await store.tweet_counts([author]) == {author: 0}


async def test_the_sweeper_finishes_a_vote_whose_writer_died_and_recount_counts_it() -> None:
    clock = Clock()
    fake, store = await _dying("", clock)
    [tid] = contract.fresh_ids(1)
    await contract.create(store, contract.tweet(tid, contract.new_author(), poll=Poll(("a", "b"), 1)))
    await _adapter(store).staged()
    fake.table = "poll_votes"
    with pytest.raises(WriterDied):
        await store.vote(tid, 77, 1, [contract.event("poll_voted", 77)])
    fake.revive()
    assert await store.viewer_votes(77, [tid]) == {tid: 1}
    assert await store.vote(tid, 77, 0, []) == 1  # the vote stands
    clock.advance(adapter_module.HELP_AFTER_S + 1)
    assert await store.sweep() == 1
    assert _subjects(await _adapter(store).staged()) == ["chirp.tweet.poll_voted"]
    assert (await store.get_tweets([tid]))[tid].poll.counts == (0, 0)  # type: ignore[union-attr]
    assert await store.recount_polls([tid]) == {tid: {1: 1}}
    assert (await store.get_tweets([tid]))[tid].poll.counts == (0, 1)  # type: ignore[union-attr]
    fake.log.clear()
    await store.recount_polls([tid])  # nothing to repair: no counter write
    assert not [s for s in fake.statements("execute") if s.cql.startswith("UPDATE")]


async def test_the_sweeper_moves_its_watermark_past_old_drained_buckets() -> None:
    clock = Clock()
    fake, store = await _dying("", clock)
    start = await store._sweep_mark(1)
    clock.advance(3600)
    await store.sweep()
    assert store._sweep_marks[1] > start
    fresh, _ = await _store(fake, clock_ns=clock)
    assert await fresh._sweep_mark(1) == store._sweep_marks[1]


# LWTs that time out, batches and counter updates that fail --------------------------------------


class LwtTimesOut(FakeCql):
    """The next LWT on `table` times out; `lands` says whether it applied all the same."""

    table = ""
    lands = True

    async def lwt(self, statement: Statement) -> LwtResult:
        if _table(statement) != self.table:
            return await super().lwt(statement)
        self.table = ""
        if self.lands:
            await super().lwt(statement)
        raise WriteTimeout("CAS timed out", write_type=5)


@pytest.mark.parametrize("table", ["tweet_idempotency", "tweets_by_id", "poll_votes"])
async def test_an_lwt_that_timed_out_but_landed_is_read_back_and_carried_through(table: str) -> None:
    fake = LwtTimesOut(SCHEMA)
    store, _ = await _store(fake)
    author = contract.new_author()
    [tid] = contract.fresh_ids(1)
    fake.table = table
    outcome = await store.create_tweet(contract.tweet(tid, author, poll=Poll(("a", "b"), 1)), "k", _created(tid))
    fake.table = table
    assert outcome.created and await store.vote(tid, 5, 0, [contract.event("poll_voted", 5)]) == 0
    fake.table = table
    assert await store.delete_tweet(tid, author, 3, [contract.event("deleted", tid)])
    assert _subjects(await _adapter(store).staged()) == [
        "chirp.tweet.created", "chirp.tweet.poll_voted", "chirp.tweet.deleted"]
    assert await store.tweet_counts([author]) == {author: 0}
    assert (await store.get_tweets([tid], include_gone=True))[tid].poll.counts == (1, 0)  # type: ignore[union-attr]
    assert _rows(fake, "open_intents") == 0


async def test_an_lwt_that_timed_out_and_did_not_land_changes_nothing_and_its_marker_is_dropped() -> None:
    clock = Clock()
    fake = LwtTimesOut(SCHEMA)
    store, _ = await _store(fake, clock_ns=clock)
    author = contract.new_author()
    [tid] = contract.fresh_ids(1)
    await contract.create(store, contract.tweet(tid, author))
    fake.table, fake.lands = "tweets_by_id", False
    with pytest.raises(WriteTimeout):
        await store.delete_tweet(tid, author, 3, [contract.event("deleted", tid)])
    assert tid in await store.get_tweets([tid]) and _rows(fake, "open_intents") == 1
    clock.advance(adapter_module.HELP_AFTER_S + 1)
    assert await store.sweep() == 0 and _rows(fake, "open_intents") == 0
    assert _subjects(await _adapter(store).staged()) == ["chirp.tweet.created"]


async def test_a_losing_duplicate_whose_lwt_timed_out_returns_the_winners_tweet() -> None:
    fake = LwtTimesOut(SCHEMA)
    store, _ = await _store(fake)
    author = contract.new_author()
    first, second = contract.fresh_ids(2)
    await contract.create(store, contract.tweet(first, author), key="k")
    fake.table, fake.lands = "tweet_idempotency", False
    original = fake.execute

    async def hide_claim_once(statement: Statement, **kwargs: Any) -> Page:
        if statement.cql.startswith("SELECT tweet_id, txn, intent FROM tweet_idempotency") and fake.table:
            return Page([])
        return await original(statement, **kwargs)

    fake.execute = hide_claim_once  # type: ignore[method-assign]  # the pre-read misses the winner's claim
    outcome = await store.create_tweet(contract.tweet(second, author), "k", _created(second))
    assert not outcome.created and outcome.tweet.id == first
    assert _rows(fake, "open_intents") == 0


async def test_a_batch_that_fails_after_the_commit_still_counts_once_and_is_finished_later() -> None:
    clock = Clock()
    store, fake = await _store(clock_ns=clock)
    author = contract.new_author()
    [tid] = contract.fresh_ids(1)
    await contract.create(store, contract.tweet(tid, author))
    await _adapter(store).staged()
    fake.fail_batches.append(DriverUnavailable("not enough replicas"))
    with pytest.raises(DriverUnavailable):
        await store.delete_tweet(tid, author, 3, [contract.event("deleted", tid)])
    assert await store.tweet_counts([author]) == {author: 0}  # counted by its writer
    clock.advance(adapter_module.HELP_AFTER_S + 1)
    assert await store.sweep() == 1
    assert _subjects(await _adapter(store).staged()) == ["chirp.tweet.deleted"]
    assert await store.user_tweets(author, since_id=0, until_id=0, limit=10) == []
    assert await store.tweet_counts([author]) == {author: 0}


async def test_an_unkeyed_create_whose_batch_failed_counts_nothing() -> None:
    store, fake = await _store()
    author = contract.new_author()
    [tid] = contract.fresh_ids(1)
    fake.fail_batches.append(DriverUnavailable("not enough replicas"))
    with pytest.raises(DriverUnavailable):
        await store.create_tweet(contract.tweet(tid, author), "", _created(tid))
    assert await store.tweet_counts([author]) == {author: 0} and await store.get_tweets([tid]) == {}


class CounterUpdatesFail(FakeCql):
    healed = False

    async def execute(self, statement: Statement, *, paging_state: bytes | None = None,
                      page_size: int | None = None) -> Page:
        if statement.cql.startswith("UPDATE") and _table(statement) in ("poll_counts", "tweet_counts_by_author") \
                and not self.healed:
            raise WriteTimeout("counter write timed out", write_type=6)
        return await super().execute(statement, paging_state=paging_state, page_size=page_size)


async def test_failed_counter_updates_are_not_retried_and_the_recounts_repair_them() -> None:
    fake = CounterUpdatesFail(SCHEMA)
    store, _ = await _store(fake)
    author = contract.new_author()
    made = contract.fresh_ids(3)
    await contract.create(store, *(contract.tweet(t, author, poll=Poll(("a", "b"), 1)) for t in made))
    assert await store.vote(made[0], 5, 1, []) == 1  # the changes stand: only the counts are short
    assert await store.delete_tweet(made[2], author, 3, [])
    assert not [s for s in fake.statements("execute") if s.cql.startswith("UPDATE")]
    assert await store.tweet_counts([author]) == {author: 0}
    fake.healed = True
    assert await store.recount_tweet_counts([author]) == {author: 2}
    assert await store.recount_polls([made[0], made[1]]) == {made[0]: {1: 1}, made[1]: {}}
    assert await store.tweet_counts([author]) == {author: 2}
    assert (await store.get_tweets([made[0]]))[made[0]].poll.counts == (0, 1)  # type: ignore[union-attr]


async def test_recount_pages_through_every_month(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter_module, "PAGE_SIZE", 3)
    store, fake = await _store()
    author = contract.new_author()
    made = [*contract.ids_at(contract.NOW_MS - 40 * contract.DAY_MS), *contract.fresh_ids(7)]
    await contract.create(store, *(contract.tweet(t, author) for t in made))
    fake.data["tweet_counts_by_author"].clear()
    fake.log.clear()
    assert await store.recount_tweet_counts([author]) == {author: 8}
    pages = [s for e in fake.log for s in e.statements if s.cql.startswith("SELECT") and _table(s) == "tweets_by_user"]
    assert len(pages) >= len(list(months_down(month_bucket(made[-1]), 202401))) + 2  # 7 rows: pages of 3 + 3 + 1
    assert await store.tweet_counts([author]) == {author: 8}


# A late batch never undoes a delete -------------------------------------------------------------


async def test_a_create_batch_replayed_late_cannot_bring_a_deleted_tweet_back() -> None:
    store, fake = await _store()
    author = contract.new_author()
    [tid] = contract.fresh_ids(1)
    await contract.create(store, contract.tweet(tid, author))
    create_batch = [e for e in fake.log if e.kind == "batch"][-1].statements
    assert await store.delete_tweet(tid, author, 3, [])
    await fake.batch(create_batch)  # the batchlog replays the create's batch after the delete
    assert await store.user_tweets(author, since_id=0, until_id=0, limit=10) == []
    assert await store.recent_tweets(since_id=tid - 1, limit=10) == []
    assert (await store.get_tweets([tid], include_gone=True))[tid].deleted_at_ms == 3


# Hiding -----------------------------------------------------------------------------------------


async def test_hiding_clears_the_list_rows_a_dead_delete_left_without_counting_them() -> None:
    fake = DiesAfterLwt(SCHEMA)
    store, _ = await _store(fake)
    author = contract.new_author()
    made = contract.fresh_ids(3)
    await contract.create(store, *(contract.tweet(t, author) for t in made))
    fake.table = "tweets_by_id"
    with pytest.raises(WriterDied):
        await store.delete_tweet(made[2], author, 3, [])
    fake.revive()
    assert await store.hide_author_tweets(author, 10) == 2
    assert await store.hide_author_tweets(author, 10) == 0
    assert _rows(fake, BY_USER.name) == 0 and _rows(fake, BY_HOUR.name) == 0


async def test_hiding_in_chunks_reads_only_what_a_chunk_needs() -> None:
    store, fake = await _store()
    author = contract.new_author()
    made = contract.fresh_ids(5)
    await contract.create(store, *(contract.tweet(t, author) for t in made))
    fake.log.clear()
    assert await store.hide_author_tweets(author, 2) == 2
    limits = [s.params[-1] for s in fake.statements("execute") if _table(s) == BY_USER.name]
    assert limits[-1] == 2 and len(fake.statements("lwt")) == 2
    assert contract.ids(await store.user_tweets(author, since_id=0, until_id=0, limit=10)) == made[2::-1]


# Settings and wiring ---------------------------------------------------------------------------


def test_the_store_is_chosen_by_chirp_tweet_store() -> None:
    assert Settings.from_env({}).store == "sqlite" and Settings.from_env({}).scylla is None
    chosen = Settings.from_env({"CHIRP_TWEET_STORE": "scylla", "CHIRP_SCYLLA_HOSTS": "db1,db2:9043",
                                "CHIRP_TWEET_SCYLLA_KEYSPACE": "chirp_tweet"})
    assert chosen.store == "scylla" and chosen.scylla is not None
    assert chosen.scylla.keyspace == "chirp_tweet" and chosen.scylla.hosts == (("db1", 9042), ("db2", 9043))
    default = Settings.from_env({"CHIRP_TWEET_STORE": "scylla", "CHIRP_SCYLLA_HOSTS": "db"}).scylla
    assert default is not None and default.keyspace == "tweet"
    with pytest.raises(SettingsError, match="CHIRP_SCYLLA_HOSTS"):
        Settings.from_env({"CHIRP_TWEET_STORE": "scylla"})
    with pytest.raises(SettingsError, match="CHIRP_TWEET_STORE"):
        Settings.from_env({"CHIRP_TWEET_STORE": "cassandra"})


async def test_the_app_opens_the_sqlite_store_with_its_outbox_by_default(tmp_path: Any) -> None:
    from services.runtime.outbox import SqliteOutbox
    from services.tweet.app import open_store
    from services.tweet.store.sqlite import SqliteTweetStore

    store, outbox, loops = await open_store(Settings.from_env({"CHIRP_DATA_DIR": str(tmp_path)}))
    try:
        assert isinstance(store, SqliteTweetStore) and isinstance(outbox, SqliteOutbox) and loops == []
    finally:
        await store.close()
