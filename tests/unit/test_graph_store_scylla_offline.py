"""The ScyllaDB graph store without a cluster: its schema, keys, statements, row mapping, paging,
versions, counters and crash recovery, checked offline.

The whole graph store contract suite (tests/services/test_graph_store.py) runs over the adapter on
`FakeCql` (tests/scylla_fake.py), with both the ScyllaDB and the Cassandra shape of LWT results.
The fake checks one-partition reads, whole keys on writes, no LWT or counter in a logged batch,
types, and keeps write timestamps, so replays and late batches behave as on a server. Writers that
die, LWTs that time out and batches that fail are simulated on it below. It proves the adapter's
logic, not its compatibility with a real server: the contract suite does that when
CHIRP_SCYLLA_HOSTS is set.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Sequence
from functools import partial
from typing import Any

import pytest
from cassandra import Unavailable as DriverUnavailable
from cassandra import WriteTimeout

from services.graph import domain
from services.graph.domain import Change, Effect, FollowCounts, Position, Relationship
from services.graph.events import events_for
from services.graph.settings import Settings
from services.graph.store import scylla as adapter_module
from services.graph.store.scylla import (
    BLOCKS,
    EDGES,
    FOLLOWERS,
    FOLLOWING,
    IN_CHUNK,
    REQUESTS_FROM,
    SCHEMA,
    Edges,
    Intent,
    ScyllaGraphStore,
    TxnClock,
    View,
    changed,
    commit_statement,
    counter_deltas,
    counter_update,
    counts_of,
    derived_writes,
    group_changes,
    marker_insert,
    marker_key,
    page_statement,
    pair_of,
    select_views,
    unix_ns,
    write_time_us,
)
from services.runtime.errors import Unavailable
from services.runtime.events import OutgoingEvent
from services.runtime.scylla import LwtResult, Page, ScyllaSettings, Statement, bucket_of
from services.runtime.settings import SettingsError
from tests.scylla_fake import FakeCql, parse_table
from tests.services import test_graph_store as contract


class Clock:
    """A wall clock the test moves (nanoseconds, as the store reads it)."""

    def __init__(self) -> None:
        self.ns = time.time_ns()

    def __call__(self) -> int:
        return self.ns

    def advance(self, seconds: float) -> None:
        self.ns += int(seconds * 1e9)


async def _store(fake: FakeCql | None = None, **kwargs: Any) -> tuple[ScyllaGraphStore, FakeCql]:
    fake = fake or FakeCql(SCHEMA)
    store = ScyllaGraphStore(fake, **kwargs)
    await store.outbox.init_watermarks()
    await store.init_sweeper()
    return store, fake


def _harness(store: ScyllaGraphStore) -> contract.Harness:
    return contract.outbox_harness(store, store.outbox)


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
    "pairs": (["low_id", "high_id"], []),
    "relationships_by_user": (["user_id"], ["other_id"]),
    "follows_by_follower": (["follower_id"], ["seq", "followee_id"]),
    "follows_by_followee": (["followee_id"], ["seq", "follower_id"]),
    "requests_by_target": (["target_id"], ["seq", "requester_id"]),
    "requests_by_requester": (["requester_id"], ["target_id"]),
    "blocks_by_blocker": (["blocker_id"], ["seq", "blocked_id"]),
    "mutes_by_muter": (["muter_id"], ["seq", "muted_id"]),
    "follow_counts": (["user_id"], []),
    "open_intents": (["shard", "bucket"], ["txn"]),
    "open_intents_watermark": (["shard"], []),
    "outbox": (["shard", "bucket"], ["id"]),
    "outbox_watermark": (["shard"], []),
}


def test_the_schema_has_one_table_per_query_with_the_expected_keys() -> None:
    tables = {t.name: t for t in map(parse_table, SCHEMA)}
    assert {name: (t.partition_key, t.clustering) for name, t in tables.items()} == EXPECTED_KEYS
    for name in ("follows_by_follower", "follows_by_followee", "requests_by_target", "blocks_by_blocker",
                 "mutes_by_muter"):
        assert tables[name].descending == set(tables[name].clustering), f"{name} runs newest first"
    assert tables["follow_counts"].counters == {"followers", "following"}
    assert tables["pairs"].columns["txn"] == tables["relationships_by_user"].columns["txn"] == "timeuuid"
    assert all(tables[t].columns[c] == "bigint" for t in ("pairs", "relationships_by_user") for c in EDGES)
    assert all(s.startswith("CREATE TABLE IF NOT EXISTS") for s in SCHEMA), "schema application is idempotent"


# Keys, edges and statements: pure ---------------------------------------------------------------


def test_pairs_are_keyed_low_then_high_and_changes_group_by_pair() -> None:
    assert pair_of(9, 3) == pair_of(3, 9) == (3, 9)
    with pytest.raises(ValueError):
        pair_of(4, 4)
    changes = [Change(Effect.UNFOLLOWED, 1, 2, 5), Change(Effect.UNFOLLOWED, 2, 1, 5), Change(Effect.BLOCKED, 1, 3, 5),
               Change(Effect.BLOCKED, 1, 2, 5)]
    assert group_changes(changes) == {(1, 2): [changes[0], changes[1], changes[3]], (1, 3): [changes[2]]}


def test_edges_mirror_and_map_to_relationships_without_showing_who_mutes_whom() -> None:
    edges = Edges(following=1, pending=2, blocked_by=3, muting=4, muted_by=5)
    assert edges.mirrored() == Edges(followed_by=1, requested_by=2, blocking=3, muted_by=4, muting=5)
    assert edges.mirrored().mirrored() == edges
    assert edges.relationship(7) == Relationship(7, following=True, pending=True, blocked_by=True, muting=True)
    assert Edges.of_row({"following": 9, "unrelated": 1}) == Edges(following=9)
    assert View(edges, None).from_side(False).edges == edges.mirrored()


def test_changes_apply_from_either_side_and_repeats_change_nothing() -> None:
    low = 1
    follow = Change(Effect.FOLLOWED, 2, 1, 10)  # high follows low
    after = changed(low, Edges(), [follow, Change(Effect.FOLLOWED, 2, 1, 11)])
    assert after == Edges(followed_by=10)  # the first seq stays
    assert changed(low, after, [Change(Effect.UNFOLLOWED, 2, 1, 12), Change(Effect.UNFOLLOWED, 2, 1, 13)]) == Edges()
    approved = changed(low, Edges(pending=5), [Change(Effect.REQUEST_APPROVED, 1, 2, 20),
                                              Change(Effect.FOLLOWED, 1, 2, 20, from_request=True)])
    assert approved == Edges(following=20)
    assert changed(low, Edges(), [Change(Effect.MUTED, 1, 2, 3), Change(Effect.BLOCKED, 2, 1, 4)]) == Edges(
        muting=3, blocked_by=4)


def test_counters_move_only_when_a_follow_appears_or_goes() -> None:
    deltas = counter_deltas(1, 2, Edges(following=3), Edges(followed_by=4))
    assert deltas == {(1, "following"): -1, (2, "followers"): -1, (2, "following"): 1, (1, "followers"): 1}
    assert not any(counter_deltas(1, 2, Edges(following=3, pending=4), Edges(following=3, blocking=5)).values())


def test_a_follow_derives_both_relationship_rows_and_both_lists_at_the_versions_time() -> None:
    txn = TxnClock().next()
    stamp = write_time_us(txn)
    statements = derived_writes(1, 2, Edges(), Edges(followed_by=77), txn)
    tables = [s.cql.split()[2] for s in statements]
    assert tables == ["relationships_by_user", "relationships_by_user", "follows_by_follower", "follows_by_followee"]
    assert statements[0].params == (1, 2, None, 77, None, None, None, None, None, None, txn, stamp)
    assert statements[1].params == (2, 1, 77, None, None, None, None, None, None, None, txn, stamp)
    assert statements[2].params == (2, 1, 77, stamp)  # follower 2, followee 1
    assert statements[3].params == (1, 2, 77, stamp)  # followee 1, follower 2
    assert all(s.cql.endswith("USING TIMESTAMP ?") or "USING TIMESTAMP ?" in s.cql for s in statements)
    unfollow = derived_writes(1, 2, Edges(followed_by=77), Edges(), txn)
    assert [s.cql.split()[0] for s in unfollow[2:]] == ["DELETE", "DELETE"]
    assert unfollow[2].cql == ("DELETE FROM follows_by_follower USING TIMESTAMP ? WHERE follower_id = ? AND seq = ?"
                               " AND followee_id = ?")
    assert unfollow[2].params == (stamp, 2, 77, 1)


def test_requests_are_listed_by_target_and_by_requester() -> None:
    txn = TxnClock().next()
    made = derived_writes(3, 8, Edges(), Edges(pending=5), txn)[2:]  # 3 asks to follow 8
    assert [(s.cql.split()[2], s.params[:3]) for s in made] == [
        ("requests_by_target", (8, 3, 5)), ("requests_by_requester", (3, 8, 5))]
    ended = derived_writes(3, 8, Edges(pending=5), Edges(), txn)[2:]
    assert [s.cql.split()[2] for s in ended] == ["requests_by_target", "requests_by_requester"]
    assert ended[1].params == (write_time_us(txn), 3, 8)  # keyed without seq


def test_the_commit_is_an_lwt_on_the_version_read() -> None:
    clock = TxnClock()
    old, new = clock.next(), clock.next()
    intent = Intent(Edges(), ())
    first = commit_statement(1, 2, Edges(following=3), new, intent, None)
    later = commit_statement(1, 2, Edges(following=3), new, intent, old)
    assert first.is_lwt and later.is_lwt and not first.idempotent and not later.idempotent
    assert first.cql.endswith("WHERE low_id = ? AND high_id = ? IF txn = null")
    assert later.cql.endswith("IF txn = ?") and later.params[-1] == old
    assert "USING TIMESTAMP" not in first.cql  # an LWT's timestamp is its ballot's


def test_counter_updates_are_never_retried_by_the_driver_and_never_lwts() -> None:
    update = counter_update(5, 2, -1)
    assert not update.idempotent and not update.is_lwt
    assert update.cql == "UPDATE follow_counts SET followers = followers + ?, following = following + ? WHERE user_id = ?"
    assert update.params == (2, -1, 5)
    assert counts_of(None) == FollowCounts() and counts_of({"followers": -2, "following": 3}) == FollowCounts(0, 3)


def test_pages_are_keyset_slices_newest_first() -> None:
    first = page_statement(FOLLOWERS, 7, None, 20)
    assert first.cql == "SELECT follower_id, seq FROM follows_by_followee WHERE followee_id = ? LIMIT ?"
    assert first.params == (7, 21)
    later = page_statement(FOLLOWING, 7, Position(900, 4), 20)
    assert later.cql == ("SELECT followee_id, seq FROM follows_by_follower WHERE follower_id = ?"
                         " AND (seq, followee_id) < (?, ?) LIMIT ?")
    assert later.params == (7, 900, 4, 21)
    with pytest.raises(ValueError):
        page_statement(REQUESTS_FROM, 7, None, 20)


def test_relationship_reads_stay_within_scyllas_in_limit() -> None:
    assert IN_CHUNK == 100
    assert select_views(1, list(range(100))).params == (1, list(range(100)))
    for bad in ([], list(range(101))):
        with pytest.raises(ValueError):
            select_views(1, bad)


def test_intents_round_trip() -> None:
    events = (OutgoingEvent("e1", "chirp.graph.followed", "t", b"\x00\xffpayload"),)
    intent = Intent(Edges(following=4, muted_by=9), events)
    assert Intent.from_json(intent.to_json()) == intent
    with pytest.raises(ValueError):
        Intent.from_json(None)


def test_versions_increase_and_pass_the_version_they_replace() -> None:
    now = [1_800_000_000_000_000_000]
    clock = TxnClock(lambda: now[0])
    a = clock.next()
    b = clock.next()
    assert write_time_us(b) > write_time_us(a) and b.version == 1
    ahead = TxnClock(lambda: now[0] + 5_000_000_000).next()  # another host, 5 s ahead
    c = clock.next(after=ahead)
    assert write_time_us(c) > write_time_us(ahead)
    reserved = clock.next(reserve=50)
    assert unix_ns(clock.next()) >= unix_ns(reserved) + 50 * 100  # room for 50 event ids
    now[0] -= 10**9  # the clock steps back
    assert clock.next().time > reserved.time


def test_a_markers_place_follows_from_the_pair_and_the_version() -> None:
    txn = TxnClock().next()
    assert marker_key(13, txn) == (13 % 8, bucket_of(unix_ns(txn) / 1e9, 300))
    assert marker_insert(13, 40, txn).params == (*marker_key(13, txn), txn, 13, 40)


# The flow of one change, as the fake saw it -----------------------------------------------------


def _table(statement: Statement) -> str:
    m = re.match(r"(?:SELECT .+? FROM|INSERT INTO|UPDATE|DELETE FROM) (\w+)", statement.cql)
    assert m, statement.cql
    return m.group(1)


async def test_a_follow_is_one_read_a_marker_one_lwt_one_logged_batch_then_its_counters() -> None:
    store, fake = await _store()
    fake.log.clear()
    await contract.follow(store, 1, 2)
    steps = [(e.kind, _table(e.statements[0])) for e in fake.log]
    assert steps == [
        ("execute", "relationships_by_user"), ("execute", "open_intents"), ("lwt", "pairs"),
        ("batch", "relationships_by_user"), ("execute", "follow_counts"), ("execute", "follow_counts")]
    batch = fake.log[3].statements
    assert [_table(s) for s in batch] == [
        "relationships_by_user", "relationships_by_user", "follows_by_follower", "follows_by_followee", "outbox",
        "open_intents"]
    assert batch[-1].cql.startswith("DELETE FROM open_intents")


async def test_pairs_are_written_only_by_lwt_and_derived_rows_only_at_their_versions_time() -> None:
    store, fake = await _store()
    harness = _harness(store)
    await contract.follow(store, 1, 2, private=True)
    await contract.approve(store, 2, 1)
    await contract.block(store, 3, 1)
    await store.apply(1, [4], contract._one(domain.plan_mute, 4, muter=1), events_for)
    assert len(await harness.staged()) == 5
    derived = {"relationships_by_user", "follows_by_follower", "follows_by_followee", "requests_by_target",
               "requests_by_requester", "blocks_by_blocker", "mutes_by_muter"}
    for entry in fake.log:
        for statement in entry.statements:
            table = _table(statement)
            if statement.cql.startswith("SELECT"):
                continue
            if table == "pairs":
                assert entry.kind == "lwt", statement.cql
            if table in derived:
                assert entry.kind == "batch" and "USING TIMESTAMP ?" in statement.cql, statement.cql
            if table == "follow_counts":
                assert entry.kind == "execute", statement.cql


async def test_relationships_of_many_accounts_are_read_in_chunks_of_the_in_limit() -> None:
    store, fake = await _store()
    fake.log.clear()
    rels = await store.relationships(1, range(2, 252))
    assert len(rels) == 250
    reads = fake.statements("execute")
    assert [len(s.params[1]) for s in reads] == [100, 100, 50]


async def test_concurrent_follows_make_one_change_and_two_counter_updates() -> None:
    store, fake = await _store()
    await asyncio.gather(*(contract.follow(store, 1, 2) for _ in range(4)))
    assert len([e for e in fake.log if e.kind == "batch"]) == 1
    assert len([s for s in fake.statements("execute") if _table(s) == "follow_counts"]) == 2
    assert [s.params for s in fake.statements("execute") if _table(s) == "follow_counts"] == [(0, 1, 1), (1, 0, 2)]


async def test_counters_of_a_wide_plan_are_summed_per_account() -> None:
    store, fake = await _store()
    for requester in range(10, 20):
        await contract.follow(store, requester, 2, private=True)
    fake.log.clear()
    ids = [e.user_id for e in (await store.follow_requests(2, None, 100)).entries]
    await store.apply(2, ids, partial(domain.plan_approve_all, target=2, seq=next(contract._seqs)), events_for)
    counter_writes = [s.params for s in fake.statements("execute") if _table(s) == "follow_counts"]
    assert sorted(counter_writes) == sorted([(10, 0, 2)] + [(0, 1, r) for r in range(10, 20)])


# A change planned on a version that moves on before it commits --------------------------------


class PausesBeforeCommit(FakeCql):
    """Holds the first writer at its first statement after the read it planned on, until `go` is set,
    so that another change of the same pair can land between its plan and its commit."""

    def __init__(self, schema: Sequence[str]) -> None:
        super().__init__(schema)
        self.paused, self.go, self._held = asyncio.Event(), asyncio.Event(), False

    async def execute(self, statement: Statement, *, paging_state: bytes | None = None,
                      page_size: int | None = None) -> Page:
        if not self._held and not statement.cql.startswith("SELECT other_id"):
            self._held = True
            self.paused.set()
            await self.go.wait()
        return await super().execute(statement, paging_state=paging_state, page_size=page_size)


async def test_a_follow_planned_before_another_follow_landed_is_planned_again_and_counts_nothing() -> None:
    fake = PausesBeforeCommit(SCHEMA)
    store, _ = await _store(fake)
    first = asyncio.create_task(contract.follow(store, 1, 2))
    await fake.paused.wait()  # planned FOLLOWED on "not following", not committed yet
    assert [c.effect for c in (await contract.follow(store, 1, 2)).changes] == [Effect.FOLLOWED]
    fake.go.set()
    assert (await first).changes == ()
    assert await store.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    assert contract.subjects(await _harness(store).staged()) == ["chirp.graph.followed"]


async def test_a_block_planned_before_a_follow_landed_ends_that_follow() -> None:
    fake = PausesBeforeCommit(SCHEMA)
    store, _ = await _store(fake)
    blocking = asyncio.create_task(contract.block(store, 2, 1))
    await fake.paused.wait()  # planned BLOCKED alone: 1 did not follow 2 yet
    await contract.follow(store, 1, 2)
    fake.go.set()
    assert [c.effect for c in (await blocking).changes] == [Effect.UNFOLLOWED, Effect.BLOCKED]
    rel = (await store.relationships(2, [1]))[1]
    assert rel.blocking and not rel.followed_by
    assert await store.counts([1, 2]) == {1: FollowCounts(), 2: FollowCounts()}
    assert (await store.followers(2, None, 10)).entries == ()


# A late batch never undoes a newer change ------------------------------------------------------


async def test_a_batch_replayed_late_cannot_resurrect_what_a_newer_change_removed() -> None:
    store, fake = await _store()
    await contract.follow(store, 1, 2)
    follow_batch = [e for e in fake.log if e.kind == "batch"][-1].statements
    await contract.unfollow(store, 1, 2)
    await fake.batch(follow_batch)  # the batchlog replays the follow's batch after the unfollow
    assert not (await store.relationships(1, [2]))[2].following
    assert (await store.following(1, None, 10)).entries == () and (await store.followers(2, None, 10)).entries == ()
    await contract.follow(store, 1, 2)  # and a new follow still lands
    assert [e.user_id for e in (await store.following(1, None, 10)).entries] == [2]


# Writers that die, LWTs that time out, batches that fail ---------------------------------------


class WriterDied(Exception):
    """Everything a writer sends after it died (its process is gone)."""


class DiesAfterCommit(FakeCql):
    """A session whose writer dies the moment its first LWT on `pairs` has applied."""

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
        self.dead = result.applied and statement.cql.startswith("UPDATE pairs")
        return result

    async def batch(self, statements: Sequence[Statement], *, logged: bool = True) -> None:
        self._check()
        await super().batch(statements, logged=logged)


async def _dead_follow(clock: Clock) -> tuple[DiesAfterCommit, ScyllaGraphStore]:
    """1 follows 2; the writer dies after the LWT. Returns the session and a store of another process."""
    fake = DiesAfterCommit(SCHEMA)
    writer, _ = await _store(fake, clock_ns=clock)
    with pytest.raises(WriterDied):
        await contract.follow(writer, 1, 2)
    fake.dead = False
    survivor, _ = await _store(fake, clock_ns=clock, conflict_wait_s=0.05)
    return fake, survivor


async def test_a_change_left_by_a_dead_writer_waits_then_is_finished_by_whoever_meets_it() -> None:
    clock = Clock()
    fake, survivor = await _dead_follow(clock)
    harness = _harness(survivor)
    assert not (await survivor.relationships(1, [2]))[2].following  # committed, not derived yet
    assert await harness.staged() == []
    with pytest.raises(Unavailable) as busy:  # maybe still in flight: wait, then ask to retry
        await contract.follow(survivor, 1, 2)
    assert busy.value.reason == "RELATIONSHIP_BUSY"
    clock.advance(adapter_module.HELP_AFTER_S + 1)
    again = await contract.follow(survivor, 1, 2)
    assert again.changes == () and again.state is domain.FollowState.FOLLOWING
    assert (await survivor.relationships(2, [1]))[1].followed_by
    assert [e.user_id for e in (await survivor.followers(2, None, 10)).entries] == [1]
    assert contract.subjects(await harness.staged()) == ["chirp.graph.followed"]  # the dead writer's event
    # Its counters died with it (at most once); the repair path counts the lists.
    assert await survivor.counts([1, 2]) == {1: FollowCounts(), 2: FollowCounts()}
    assert await survivor.recount([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    assert await survivor.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    assert await survivor.sweep() == 0 and not any(p.rows for p in fake.data["open_intents"].values())


async def test_the_sweeper_finishes_what_nobody_touches_and_leaves_young_changes_alone() -> None:
    clock = Clock()
    fake, survivor = await _dead_follow(clock)
    harness = _harness(survivor)
    assert await survivor.sweep() == 0  # too young: its writer may be alive
    assert any(p.rows for p in fake.data["open_intents"].values())
    clock.advance(adapter_module.HELP_AFTER_S + 1)
    assert await survivor.sweep() == 1
    assert (await survivor.relationships(1, [2]))[2].following
    assert contract.subjects(await harness.staged()) == ["chirp.graph.followed"]
    assert not any(p.rows for p in fake.data["open_intents"].values())
    assert await survivor.sweep() == 0
    assert contract.subjects(await harness.staged()) == ["chirp.graph.followed"]  # staged once
    # Old, drained buckets are left behind; the watermark is kept for the next process.
    start = survivor._sweep_marks[1]
    clock.advance(3600)
    await survivor.sweep()
    assert survivor._sweep_marks[1] > start
    fresh, _ = await _store(fake, clock_ns=clock)
    assert await fresh._sweep_mark(1) == survivor._sweep_marks[1]


async def test_finishing_a_finished_change_writes_nothing() -> None:
    store, fake = await _store()
    await contract.follow(store, 1, 2)
    writes = len(fake.log)
    assert await store._finish(1, 2) is False
    assert all(e.kind == "execute" and e.statements[0].cql.startswith("SELECT") for e in fake.log[writes:])


async def test_a_batch_that_fails_after_the_commit_still_counts_once_and_is_finished_later() -> None:
    clock = Clock()
    store, fake = await _store(clock_ns=clock)
    fake.fail_batches.append(DriverUnavailable("not enough replicas"))
    with pytest.raises(DriverUnavailable):
        await contract.follow(store, 1, 2)
    assert await store.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}  # counted by its writer
    clock.advance(adapter_module.HELP_AFTER_S + 1)
    assert await store.sweep() == 1
    assert (await contract.follow(store, 1, 2)).changes == ()
    assert await store.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    assert contract.subjects(await _harness(store).staged()) == ["chirp.graph.followed"]


class LwtTimesOut(FakeCql):
    """The next LWT on `pairs` times out; `lands` says whether it applied all the same."""

    lands: bool | None = None

    async def lwt(self, statement: Statement) -> LwtResult:
        result = await super().lwt(statement) if self.lands is not False else None
        if self.lands is not None and statement.cql.startswith("UPDATE pairs"):
            self.lands = None
            raise WriteTimeout("CAS timed out", write_type=5)
        assert result is not None
        return result


async def test_an_lwt_that_timed_out_but_landed_is_read_back_and_carried_through() -> None:
    fake = LwtTimesOut(SCHEMA)
    store, _ = await _store(fake)
    fake.lands = True
    plan = await contract.follow(store, 1, 2)
    assert [c.effect for c in plan.changes] == [Effect.FOLLOWED]
    assert await store.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    assert [e.user_id for e in (await store.following(1, None, 10)).entries] == [2]
    assert contract.subjects(await _harness(store).staged()) == ["chirp.graph.followed"]


async def test_an_lwt_that_timed_out_and_did_not_land_changes_nothing() -> None:
    clock = Clock()
    fake = LwtTimesOut(SCHEMA)
    store, _ = await _store(fake, clock_ns=clock)
    fake.lands = False
    with pytest.raises(WriteTimeout):
        await contract.follow(store, 1, 2)
    assert not (await store.relationships(1, [2]))[2].following
    assert any(p.rows for p in fake.data["open_intents"].values())  # its marker: left for the sweeper
    clock.advance(adapter_module.HELP_AFTER_S + 1)
    assert await store.sweep() == 0
    assert not any(p.rows for p in fake.data["open_intents"].values())
    assert await store.counts([1, 2]) == {1: FollowCounts(), 2: FollowCounts()}


class CounterUpdatesFail(FakeCql):
    async def execute(self, statement: Statement, *, paging_state: bytes | None = None,
                      page_size: int | None = None) -> Page:
        if statement.cql.startswith("UPDATE follow_counts") and not getattr(self, "healed", False):
            raise WriteTimeout("counter write timed out", write_type=6)
        return await super().execute(statement, paging_state=paging_state, page_size=page_size)


async def test_a_failed_counter_update_is_not_retried_and_recount_repairs_it() -> None:
    fake = CounterUpdatesFail(SCHEMA)
    store, _ = await _store(fake)
    plan = await contract.follow(store, 1, 2)  # the change stands: only the count is short
    assert [c.effect for c in plan.changes] == [Effect.FOLLOWED]
    assert [s for s in fake.statements("execute") if s.cql.startswith("UPDATE follow_counts")] == []
    assert await store.counts([1, 2]) == {1: FollowCounts(), 2: FollowCounts()}
    fake.healed = True  # type: ignore[attr-defined]
    assert await store.recount([2, 1]) == {2: FollowCounts(1, 0), 1: FollowCounts(0, 1)}
    assert await store.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    fake.log.clear()
    await store.recount([1, 2])  # nothing to repair: no counter write
    assert not [s for s in fake.statements("execute") if s.cql.startswith("UPDATE")]


async def test_recount_pages_through_long_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter_module, "COUNT_PAGE_SIZE", 3)
    store, fake = await _store()
    for follower in range(1, 11):
        await contract.follow(store, follower, 100)
    fake.log.clear()
    assert await store.recount([100]) == {100: FollowCounts(followers=10)}
    sizes = [len(s.params) for s in fake.statements("execute") if "follows_by_followee" in s.cql]
    assert len(sizes) == 4  # 3 + 3 + 3 + 1
    assert await store.counts([100]) == {100: FollowCounts(followers=10)}


async def test_a_missing_pairs_row_under_existing_relationship_rows_is_reported_not_looped() -> None:
    store, fake = await _store()
    await contract.follow(store, 1, 2)
    fake.data["pairs"].clear()
    with pytest.raises(RuntimeError, match="pairs row"):
        await contract.unfollow(store, 1, 2)


# Lists -----------------------------------------------------------------------------------------


async def test_blocks_and_mutes_read_their_whole_partition_page_by_page() -> None:
    store, fake = await _store()
    wanted = list(range(10, 1510))
    await store.apply(1, wanted, partial(domain.plan_replace_blocks, owner=1, wanted=wanted, seq=next(contract._seqs)),
                      lambda changes: [])
    fake.log.clear()
    assert await store.blocked_ids(1) == sorted(wanted, reverse=True)
    assert len(fake.statements("execute")) == 2  # pages of 1000
    assert all(_table(s) == BLOCKS.name for s in fake.statements("execute"))


async def test_counterparties_read_follows_and_requests_both_ways_but_not_blocks() -> None:
    store, _ = await _store()
    await contract.follow(store, 1, 2)
    await contract.follow(store, 3, 1)
    await contract.follow(store, 1, 4, private=True)
    await contract.follow(store, 5, 1, private=True)
    await contract.block(store, 1, 6)
    assert sorted(await store.counterparties(1, 10)) == [2, 3, 4, 5]
    assert len(await store.counterparties(1, 2)) == 2 and await store.counterparties(1, 0) == []


# Settings and wiring ---------------------------------------------------------------------------


def test_the_store_is_chosen_by_chirp_graph_store() -> None:
    assert Settings.from_env({}).store == "sqlite" and Settings.from_env({}).scylla is None
    chosen = Settings.from_env({"CHIRP_GRAPH_STORE": "scylla", "CHIRP_SCYLLA_HOSTS": "db1,db2:9043",
                                "CHIRP_GRAPH_SCYLLA_KEYSPACE": "chirp_graph"})
    assert chosen.store == "scylla" and chosen.scylla is not None
    assert chosen.scylla.keyspace == "chirp_graph" and chosen.scylla.hosts == (("db1", 9042), ("db2", 9043))
    assert Settings.from_env({"CHIRP_GRAPH_STORE": "scylla", "CHIRP_SCYLLA_HOSTS": "db"}).scylla.keyspace == "graph"  # type: ignore[union-attr]
    with pytest.raises(SettingsError, match="CHIRP_SCYLLA_HOSTS"):
        Settings.from_env({"CHIRP_GRAPH_STORE": "scylla"})
    with pytest.raises(SettingsError, match="CHIRP_GRAPH_STORE"):
        Settings.from_env({"CHIRP_GRAPH_STORE": "cassandra"})


async def test_the_app_opens_the_sqlite_store_with_its_outbox_by_default(tmp_path: Any) -> None:
    from services.graph.app import open_store
    from services.graph.store.sqlite import SqliteGraphStore
    from services.runtime.outbox import SqliteOutbox

    store, outbox, loops = await open_store(Settings.from_env({"CHIRP_DATA_DIR": str(tmp_path)}))
    try:
        assert isinstance(store, SqliteGraphStore) and isinstance(outbox, SqliteOutbox) and loops == []
    finally:
        await store.close()


async def test_connecting_to_no_server_fails_fast_and_names_the_host() -> None:
    from cassandra.cluster import NoHostAvailable

    from services.runtime.mesh import free_port

    port = free_port()
    settings = ScyllaSettings(hosts=(("127.0.0.1", port),), keyspace="graph", connect_timeout_s=2)
    with pytest.raises(NoHostAvailable, match=str(port)):
        await asyncio.wait_for(ScyllaGraphStore.connect(settings), 30)


def test_version_ids_are_timeuuids() -> None:
    assert isinstance(TxnClock().next(), uuid.UUID)
