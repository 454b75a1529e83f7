"""The graph store contract: one suite, written against the GraphStore port, run over every adapter.

An adapter joins the suite with one entry in ADAPTERS: a function of (request, tmp_path) that returns
an async context manager yielding a Harness (the store, and a way to read the events it has staged
in its outbox).

SQLite always runs. ScyllaDB runs when CHIRP_SCYLLA_HOSTS names a cluster (a keyspace of the
module's own is made and dropped, every data table truncated before each test, and
CHIRP_SCYLLA_REPLICATION_FACTOR defaults to 1 here, for a single test node); otherwise its tests are
reported skipped, with the reason. tests/unit/test_graph_store_scylla_offline.py runs the same
tests over the Scylla adapter's logic on an in-memory stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from chirp.graph.v1 import events_pb2
from services.graph import domain
from services.graph.domain import Change, Effect, FollowCounts, Plan, Position
from services.graph.events import events_for
from services.graph.store.base import GraphStore
from services.graph.store.sqlite import SqliteGraphStore
from services.runtime.errors import FailedPrecondition, NotFound
from services.runtime.events import OutgoingEvent
from services.runtime.outbox import OutboxSource
from tests.scylla_keyspace import SCYLLA_SKIP_REASON, throwaway_keyspace



@dataclass
class Harness:
    store: GraphStore
    staged: Callable[[], Awaitable[list[OutgoingEvent]]]  # the outbox, oldest first


def outbox_harness(store: GraphStore, outbox: OutboxSource) -> Harness:
    """A Harness that reads what is staged through the relay's interface, without taking it out."""

    async def staged() -> list[OutgoingEvent]:
        return [entry.event for entry in await outbox.read(100_000)]

    return Harness(store, staged)


@contextlib.asynccontextmanager
async def sqlite_adapter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    store = SqliteGraphStore(tmp_path / "graph.db")

    async def staged() -> list[OutgoingEvent]:
        rows = await store.database.read(lambda c: c.execute(
            "SELECT event_id, subject, event_type, payload FROM outbox ORDER BY seq").fetchall())
        return [OutgoingEvent(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    yield Harness(store, staged)
    await store.close()


@pytest.fixture(scope="module")
async def scylla_graph_store() -> AsyncIterator[Any]:
    from services.graph.store.scylla import ScyllaGraphStore

    async with throwaway_keyspace("graph", ScyllaGraphStore.connect) as store:
        yield store


@contextlib.asynccontextmanager
async def scylla_adapter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    from services.graph.store.scylla import SCHEMA

    if not os.environ.get("CHIRP_SCYLLA_HOSTS"):
        pytest.skip(SCYLLA_SKIP_REASON)
    store = request.getfixturevalue("scylla_graph_store")
    # The keyspace is the module's: each test starts from an empty graph (watermarks stay).
    for table in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", "\n".join(SCHEMA)):
        if not table.endswith("_watermark"):
            await store.session.ddl(f"TRUNCATE {table}")
    yield outbox_harness(store, store.outbox)


ADAPTERS = [
    pytest.param(sqlite_adapter, id="sqlite"),
    pytest.param(scylla_adapter, id="scylla", marks=pytest.mark.skipif(
        not os.environ.get("CHIRP_SCYLLA_HOSTS"), reason=SCYLLA_SKIP_REASON)),
]


@pytest.fixture(params=ADAPTERS)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    async with request.param(request, tmp_path) as made:
        yield made


@pytest.fixture
def store(harness: Harness) -> GraphStore:
    return harness.store


_seqs = itertools.count(1_000_000)


def _one(plan: Callable[..., Plan], other: int, **kwargs: object) -> domain.Planner:
    seq = next(_seqs)
    return lambda rels: plan(rels[other], **kwargs, seq=seq)


async def follow(store: GraphStore, follower: int, target: int, *, private: bool = False) -> Plan:
    return await store.apply(
        follower, [target], _one(domain.plan_follow, target, follower=follower, target_private=private), events_for)


async def unfollow(store: GraphStore, follower: int, target: int) -> Plan:
    return await store.apply(follower, [target], _one(domain.plan_unfollow, target, follower=follower), events_for)


async def block(store: GraphStore, blocker: int, target: int) -> Plan:
    return await store.apply(blocker, [target], _one(domain.plan_block, target, blocker=blocker), events_for)


async def approve(store: GraphStore, target: int, requester: int) -> Plan:
    return await store.apply(target, [requester], _one(domain.plan_approve, requester, target=target), events_for)


async def all_pages(read: Callable[[Position | None], Awaitable[domain.Page]]) -> list[int]:
    ids, after = [], None
    while True:
        page = await read(after)
        ids += [e.user_id for e in page.entries]
        if page.next is None:
            return ids
        after = page.next


def subjects(events: list[OutgoingEvent]) -> list[str]:
    return [e.subject for e in events]


# --- follows and counters -------------------------------------------------------------------------


async def test_a_follow_is_stored_both_ways_counted_and_staged_with_its_event(harness: Harness) -> None:
    store = harness.store
    plan = await follow(store, 1, 2)
    assert plan.state is domain.FollowState.FOLLOWING
    rels = await store.relationships(1, [2])
    assert rels[2].following and not rels[2].followed_by
    assert (await store.relationships(2, [1]))[1].followed_by
    assert [e.user_id for e in (await store.following(1, None, 10)).entries] == [2]
    assert [e.user_id for e in (await store.followers(2, None, 10)).entries] == [1]
    assert await store.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    staged = await harness.staged()
    assert subjects(staged) == ["chirp.graph.followed"]
    event = events_pb2.Followed.FromString(staged[0].payload)
    assert (event.follower_id, event.followed_id, event.from_request) == (1, 2, False)
    assert staged[0].event_type == "chirp.graph.v1.Followed"


async def test_repeating_a_follow_changes_nothing_and_stages_nothing(harness: Harness) -> None:
    store = harness.store
    await follow(store, 1, 2)
    again = await follow(store, 1, 2)
    assert again.changes == () and again.state is domain.FollowState.FOLLOWING
    assert await store.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    assert subjects(await harness.staged()) == ["chirp.graph.followed"]


async def test_writing_what_exists_or_removing_what_does_not_keeps_counters_exact(store: GraphStore) -> None:
    twice = Plan((Change(Effect.FOLLOWED, 1, 2, 5), Change(Effect.FOLLOWED, 1, 2, 6)))
    await store.apply(1, [2], lambda rels: twice, events_for)
    assert await store.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    gone = Plan((Change(Effect.UNFOLLOWED, 1, 2, 7), Change(Effect.UNFOLLOWED, 1, 2, 8),
                 Change(Effect.UNFOLLOWED, 3, 4, 9)))
    await store.apply(1, [2], lambda rels: gone, events_for)
    assert await store.counts([1, 2, 3, 4]) == {u: FollowCounts(0, 0) for u in (1, 2, 3, 4)}


async def test_unfollow_lowers_the_counters_and_unfollowing_twice_is_harmless(harness: Harness) -> None:
    store = harness.store
    await follow(store, 1, 2)
    await follow(store, 3, 2)
    await unfollow(store, 1, 2)
    assert (await unfollow(store, 1, 2)).changes == ()
    assert await store.counts([1, 2, 3]) == {1: FollowCounts(0, 0), 2: FollowCounts(1, 0), 3: FollowCounts(0, 1)}
    assert not (await store.relationships(1, [2]))[2].following
    assert subjects(await harness.staged()) == ["chirp.graph.followed"] * 2 + ["chirp.graph.unfollowed"]


async def test_unknown_accounts_have_zero_counts_and_no_relationship(store: GraphStore) -> None:
    assert await store.counts([404, 405]) == {404: FollowCounts(), 405: FollowCounts()}
    assert await store.relationships(404, [405, 406]) == {405: domain.Relationship(405), 406: domain.Relationship(406)}
    assert await store.counts([]) == {} and await store.relationships(1, []) == {}


async def test_a_refused_plan_writes_nothing(harness: Harness) -> None:
    store = harness.store

    def refuse(rels: object) -> Plan:
        raise FailedPrecondition("NOPE", "no")

    def follows(rels: object) -> Plan:
        return Plan((Change(Effect.FOLLOWED, 1, 2, 5),))

    def broken_publisher(changes: object) -> list[OutgoingEvent]:
        raise RuntimeError("publisher failed")

    with pytest.raises(FailedPrecondition):
        await store.apply(1, [2], refuse, events_for)
    with pytest.raises(RuntimeError):
        await store.apply(1, [2], follows, broken_publisher)  # the rows were written before it failed
    assert not (await store.relationships(1, [2]))[2].following
    assert await store.counts([1, 2]) == {1: FollowCounts(), 2: FollowCounts()}
    assert await harness.staged() == []


# --- requests -------------------------------------------------------------------------------------


async def test_a_private_follow_is_a_request_until_approved(harness: Harness) -> None:
    store = harness.store
    plan = await follow(store, 1, 2, private=True)
    assert plan.state is domain.FollowState.PENDING
    assert (await store.relationships(1, [2]))[2].pending
    assert (await store.relationships(2, [1]))[1].requested_by
    assert [e.user_id for e in (await store.follow_requests(2, None, 10)).entries] == [1]
    assert await store.counts([1, 2]) == {1: FollowCounts(), 2: FollowCounts()}
    await approve(store, 2, 1)
    rel = (await store.relationships(1, [2]))[2]
    assert rel.following and not rel.pending
    assert (await store.follow_requests(2, None, 10)).entries == ()
    assert await store.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    assert (await approve(store, 2, 1)).changes == ()
    staged = await harness.staged()
    assert subjects(staged) == [
        "chirp.graph.follow_requested", "chirp.graph.follow_request_approved", "chirp.graph.followed"]
    assert events_pb2.Followed.FromString(staged[2].payload).from_request


async def test_approve_all_in_one_atomic_step(harness: Harness) -> None:
    store = harness.store
    for requester in (11, 12, 13):
        await follow(store, requester, 2, private=True)
    page = await store.follow_requests(2, None, 100)
    plan = await store.apply(2, [e.user_id for e in page.entries],
                             partial(domain.plan_approve_all, target=2, seq=next(_seqs)), events_for)
    assert sum(c.effect is Effect.REQUEST_APPROVED for c in plan.changes) == 3
    assert (await store.counts([2]))[2] == FollowCounts(followers=3)
    assert sorted(await all_pages(lambda after: store.followers(2, after, 2))) == [11, 12, 13]
    assert subjects(await harness.staged()).count("chirp.graph.followed") == 3


# --- ordering and positions -----------------------------------------------------------------------


async def test_lists_run_newest_first(store: GraphStore) -> None:
    for follower in (5, 3, 9, 1):
        await follow(store, follower, 100)
        await follow(store, 100, follower)
    assert [e.user_id for e in (await store.followers(100, None, 10)).entries] == [1, 9, 3, 5]
    assert [e.user_id for e in (await store.following(100, None, 10)).entries] == [1, 9, 3, 5]
    seqs = [e.seq for e in (await store.followers(100, None, 10)).entries]
    assert seqs == sorted(seqs, reverse=True)


async def test_positions_page_without_overlap_or_skip_while_follows_change(store: GraphStore) -> None:
    for follower in range(1, 11):
        await follow(store, follower, 100)
    first = await store.followers(100, None, 4)
    assert [e.user_id for e in first.entries] == [10, 9, 8, 7] and first.next is not None
    # Between pages: new follows arrive, one listed follower leaves, one unlisted one leaves and returns.
    await follow(store, 50, 100)
    await unfollow(store, 9, 100)
    await unfollow(store, 3, 100)
    await follow(store, 3, 100)
    rest = await all_pages(lambda after: store.followers(100, after or first.next, 4))
    assert rest == [6, 5, 4, 2, 1]  # 3 moved to the front (a new follow); 50 too; nothing repeats
    assert set(rest).isdisjoint(e.user_id for e in first.entries)


async def test_a_page_ends_exactly_at_the_last_entry(store: GraphStore) -> None:
    for follower in range(1, 5):
        await follow(store, follower, 100)
    page = await store.followers(100, None, 4)
    assert len(page.entries) == 4 and page.next is None
    page = await store.followers(100, None, 3)
    assert page.next == page.entries[-1].position
    last = await store.followers(100, page.next, 3)
    assert [e.user_id for e in last.entries] == [1] and last.next is None
    assert (await store.followers(100, Position(1, 1), 3)).entries == ()


async def test_ties_in_seq_are_broken_by_account_id(store: GraphStore) -> None:
    seq = next(_seqs)
    plan = Plan(tuple(Change(Effect.FOLLOWED, f, 100, seq) for f in (4, 7, 2, 9)))
    await store.apply(100, [4, 7, 2, 9], lambda rels: plan, events_for)
    assert await all_pages(lambda after: store.followers(100, after, 3)) == [9, 7, 4, 2]


# --- blocks and mutes -----------------------------------------------------------------------------


async def test_a_block_ends_follows_and_requests_both_ways(harness: Harness) -> None:
    store = harness.store
    await follow(store, 1, 2)
    await follow(store, 2, 1)
    await follow(store, 3, 1, private=True)
    await follow(store, 1, 3, private=True)
    await follow(store, 4, 1)
    await block(store, 1, 2)
    await block(store, 1, 3)
    rel = (await store.relationships(1, [2, 3]))
    assert rel[2].blocking and not (rel[2].following or rel[2].followed_by)
    assert rel[3].blocking and not (rel[3].pending or rel[3].requested_by)
    assert (await store.relationships(2, [1]))[1].blocked_by
    assert await store.counts([1, 2]) == {1: FollowCounts(followers=1), 2: FollowCounts()}
    assert await store.blocked_ids(1) == [3, 2]
    assert (await store.follow_requests(1, None, 10)).entries == ()
    assert (await block(store, 1, 2)).changes == ()
    assert subjects(await harness.staged()) == [
        "chirp.graph.followed", "chirp.graph.followed", "chirp.graph.follow_requested",
        "chirp.graph.follow_requested", "chirp.graph.followed",
        "chirp.graph.unfollowed", "chirp.graph.unfollowed", "chirp.graph.blocked",  # 1 blocks 2
        "chirp.graph.blocked",  # 1 blocks 3: the requests it withdraws publish nothing
    ]


async def test_unblock_and_mutes(harness: Harness) -> None:
    store = harness.store
    await block(store, 1, 2)
    plan = await store.apply(1, [2], _one(domain.plan_unblock, 2, blocker=1), events_for)
    assert [c.effect for c in plan.changes] == [Effect.UNBLOCKED]
    assert await store.blocked_ids(1) == []
    for muted in (7, 5, 6):
        await store.apply(1, [muted], _one(domain.plan_mute, muted, muter=1), events_for)
    await store.apply(1, [5], _one(domain.plan_mute, 5, muter=1), events_for)
    assert await store.muted_ids(1) == [6, 5, 7]
    assert (await store.relationships(1, [5]))[5].muting
    assert not (await store.relationships(5, [1]))[1].muting  # only the muter sees it
    await store.apply(1, [5], _one(domain.plan_unmute, 5, muter=1), events_for)
    assert await store.muted_ids(1) == [6, 7]
    assert subjects(await harness.staged()) == [
        "chirp.graph.blocked", "chirp.graph.unblocked", *["chirp.graph.muted"] * 3, "chirp.graph.unmuted"]


# --- a deleted account ----------------------------------------------------------------------------


async def test_counterparties_then_forget_remove_every_edge_and_fix_counters(store: GraphStore) -> None:
    gone = 1
    for other in (2, 3, 4):
        await follow(store, gone, other)
    for other in (3, 5):
        await follow(store, other, gone)
    await follow(store, 6, gone, private=True)
    await follow(store, gone, 7, private=True)
    await block(store, 8, gone)
    seen = set()
    while others := await store.counterparties(gone, 2):
        assert len(others) <= 2
        seen.update(others)
        await store.apply(gone, others, partial(domain.plan_forget, user=gone, seq=next(_seqs)), lambda c: [])
    assert seen == {2, 3, 4, 5, 6, 7}
    assert await store.counts([gone, 2, 3, 4, 5]) == {u: FollowCounts() for u in (gone, 2, 3, 4, 5)}
    assert (await store.follow_requests(7, None, 10)).entries == ()
    assert (await store.relationships(8, [gone]))[gone].blocking  # blocks outlive the account


# --- concurrency: every adapter serializes the changes of one pair ----------------------------------


async def test_concurrent_follows_of_one_pair_count_once(harness: Harness) -> None:
    store = harness.store
    plans = await asyncio.gather(*(follow(store, 1, 2) for _ in range(5)))
    assert sum(len(plan.changes) for plan in plans) == 1
    assert all(plan.state is domain.FollowState.FOLLOWING for plan in plans)
    assert await store.counts([1, 2]) == {1: FollowCounts(0, 1), 2: FollowCounts(1, 0)}
    assert [e.user_id for e in (await store.followers(2, None, 10)).entries] == [1]
    assert subjects(await harness.staged()) == ["chirp.graph.followed"]


async def test_concurrent_follows_of_one_account_each_count(store: GraphStore) -> None:
    await asyncio.gather(*(follow(store, follower, 100) for follower in range(1, 21)))
    assert (await store.counts([100]))[100] == FollowCounts(followers=20)
    assert sorted(await all_pages(lambda after: store.followers(100, after, 7))) == list(range(1, 21))


async def test_a_follow_racing_a_block_never_outlives_it(store: GraphStore) -> None:
    for a, b in ((10, 50), (61, 11), (12, 52), (63, 13)):
        results = await asyncio.gather(follow(store, a, b), block(store, b, a), return_exceptions=True)
        assert all(not isinstance(r, BaseException) or isinstance(r, NotFound) for r in results), results
        rel = (await store.relationships(b, [a]))[a]
        assert rel.blocking and not (rel.followed_by or rel.following)
        assert await store.counts([a, b]) == {a: FollowCounts(), b: FollowCounts()}
        assert (await store.followers(b, None, 10)).entries == ()


async def test_a_plan_over_many_accounts_reads_and_writes_them_all(store: GraphStore) -> None:
    others = list(range(1000, 1250))
    for other in others[::50]:
        await follow(store, 1, other)
    rels = await store.relationships(1, others)
    assert [o for o in others if rels[o].following] == others[::50]
    wanted = others[:120]
    await store.apply(1, others, partial(domain.plan_replace_blocks, owner=1, wanted=wanted, seq=next(_seqs)),
                      events_for)
    assert await store.blocked_ids(1) == sorted(wanted, reverse=True)  # one seq: ties go by id, newest first
    rels = await store.relationships(1, others)
    assert {o for o in others if rels[o].blocking} == set(wanted)
    assert [o for o in others if rels[o].following] == [o for o in others[::50] if o not in wanted]
    assert (await store.counts([1]))[1] == FollowCounts(following=len([o for o in others[::50] if o not in wanted]))


async def test_an_edge_made_again_is_the_newest(store: GraphStore) -> None:
    for other in (2, 3, 4):
        await block(store, 1, other)
    await store.apply(1, [3], _one(domain.plan_unblock, 3, blocker=1), events_for)
    await block(store, 1, 3)
    assert await store.blocked_ids(1) == [3, 4, 2]
    await follow(store, 5, 9)
    await follow(store, 6, 9)
    await unfollow(store, 5, 9)
    await follow(store, 5, 9)
    assert [e.user_id for e in (await store.followers(9, None, 10)).entries] == [5, 6]
    assert (await store.counts([9]))[9] == FollowCounts(followers=2)
