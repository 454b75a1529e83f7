"""The engagement store contract: one suite, written against the EngagementStore port, run over every
adapter.

An adapter joins the suite with one entry in ADAPTERS: a function of (request, tmp_path) that returns
an async context manager yielding a Harness (the store, and a way to read the events it has staged
in its outbox).

SQLite always runs. ScyllaDB runs when CHIRP_SCYLLA_HOSTS names a cluster (a keyspace of the
module's own is made and dropped, every data table truncated before each test, and
CHIRP_SCYLLA_REPLICATION_FACTOR defaults to 1 here, for a single test node); otherwise its tests are
reported skipped, with the reason. tests/unit/test_engagement_store_scylla_offline.py runs the same
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

from chirp.engagement.v1 import events_pb2
from services.engagement import events
from services.engagement.domain import ChildTweet, Counts, Entry, Kind, Mark, Page, TweetEngagement
from services.engagement.store.base import EngagementStore
from services.engagement.store.sqlite import SqliteEngagementStore
from services.runtime.events import OutgoingEvent
from services.runtime.outbox import OutboxSource, SqliteOutbox
from tests.scylla_keyspace import SCYLLA_SKIP_REASON, throwaway_keyspace



@dataclass
class Harness:
    store: EngagementStore
    staged: Callable[[], Awaitable[list[OutgoingEvent]]]  # the outbox, oldest first


def outbox_harness(store: EngagementStore, outbox: OutboxSource) -> Harness:
    """A Harness that reads what is staged through the relay's interface, without taking it out."""

    async def staged() -> list[OutgoingEvent]:
        return [entry.event for entry in await outbox.read(100_000)]

    return Harness(store, staged)


@contextlib.asynccontextmanager
async def sqlite_adapter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    store = SqliteEngagementStore(tmp_path / "engagement.db")
    yield outbox_harness(store, SqliteOutbox(store.database))
    await store.close()


@pytest.fixture(scope="module")
async def scylla_engagement_store() -> AsyncIterator[Any]:
    from services.engagement.store.scylla import ScyllaEngagementStore

    async with throwaway_keyspace("engagement", ScyllaEngagementStore.connect) as store:
        yield store


@contextlib.asynccontextmanager
async def scylla_adapter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    from services.engagement.store.scylla import SCHEMA

    if not os.environ.get("CHIRP_SCYLLA_HOSTS"):
        pytest.skip(SCYLLA_SKIP_REASON)
    store = request.getfixturevalue("scylla_engagement_store")
    # The keyspace is the module's: each test starts from empty tables (watermarks stay).
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
def store(harness: Harness) -> EngagementStore:
    return harness.store


_seqs = itertools.count(1_000_000)
AUTHOR = 7


def mark(kind: Kind, tweet_id: int, user_id: int) -> Mark:
    return Mark(kind, tweet_id, user_id, AUTHOR, next(_seqs))


async def put(store: EngagementStore, kind: Kind, tweet_id: int, user_id: int) -> tuple[Mark, bool]:
    added = await store.add(mark(kind, tweet_id, user_id), events.added)
    return added.mark, added.created


async def take(store: EngagementStore, kind: Kind, tweet_id: int, user_id: int) -> Mark | None:
    return await store.remove(kind, tweet_id, user_id, partial(events.removed, seq=next(_seqs)))


async def counts(store: EngagementStore, tweet_id: int) -> Counts:
    return (await store.engagement(0, [tweet_id]))[tweet_id].counts


async def every_page(read: Callable[[Entry | None], Awaitable[Page]], after: Entry | None = None) -> list[int]:
    """The ids of every page from `after` (the start when None) to the last."""
    ids: list[int] = []
    while True:
        page = await read(after)
        ids += [e.id for e in page.entries]
        if page.next is None:
            return ids
        after = page.next


# --- likes ----------------------------------------------------------------------------------------


async def test_a_like_is_stored_counted_and_staged_once(harness: Harness) -> None:
    store = harness.store
    first, created = await put(store, Kind.LIKE, 100, 1)
    assert created
    again, created_again = await put(store, Kind.LIKE, 100, 1)
    assert not created_again and again == first
    assert await counts(store, 100) == Counts(likes=1)
    assert (await store.engagement(1, [100]))[100] == TweetEngagement(Counts(likes=1), liked=True)
    assert (await store.engagement(2, [100]))[100].liked is False
    staged = await harness.staged()
    assert [e.subject for e in staged] == ["chirp.engagement.liked"]
    liked = events_pb2.Liked.FromString(staged[0].payload)
    assert (liked.tweet_id, liked.user_id, liked.tweet_author_id) == (100, 1, AUTHOR)


async def test_an_unlike_removes_uncounts_and_stages_once(harness: Harness) -> None:
    store = harness.store
    liked, _ = await put(store, Kind.LIKE, 100, 1)
    removed = await take(store, Kind.LIKE, 100, 1)
    assert removed == liked
    assert await take(store, Kind.LIKE, 100, 1) is None
    assert await take(store, Kind.LIKE, 555, 1) is None  # never liked: nothing at all
    assert await counts(store, 100) == Counts()
    assert not (await store.engagement(1, [100]))[100].liked
    staged = await harness.staged()
    assert [e.subject for e in staged] == ["chirp.engagement.liked", "chirp.engagement.unliked"]
    unliked = events_pb2.Unliked.FromString(staged[1].payload)
    assert (unliked.tweet_id, unliked.user_id, unliked.tweet_author_id) == (100, 1, AUTHOR)
    assert len({e.event_id for e in staged}) == 2


async def test_concurrent_likes_and_unlikes_count_exactly_the_standing_likes(store: EngagementStore) -> None:
    users = range(1, 41)

    async def churn(user: int) -> None:
        for step in range(user % 4 + 1):
            await (put(store, Kind.LIKE, 100, user) if step % 2 == 0 else take(store, Kind.LIKE, 100, user))
        await put(store, Kind.LIKE, 100, user)  # a retry of the last like, racing the others

    await asyncio.gather(*(churn(u) for u in users), *(churn(u) for u in users))
    for user in users[::3]:
        await take(store, Kind.LIKE, 100, user)
    standing = [u for u in users if (await store.engagement(u, [100]))[100].liked]
    assert standing == [u for u in users if u not in users[::3]]
    assert (await counts(store, 100)).likes == len(standing)
    assert sorted(await every_page(lambda after: store.likers(100, after, 7))) == standing


async def test_a_like_taken_back_and_given_again_is_a_new_like(harness: Harness) -> None:
    store = harness.store
    first, _ = await put(store, Kind.LIKE, 100, 1)
    await put(store, Kind.LIKE, 100, 2)
    await take(store, Kind.LIKE, 100, 1)
    again, created = await put(store, Kind.LIKE, 100, 1)
    assert created and again.seq > first.seq
    assert await counts(store, 100) == Counts(likes=2)
    page = await store.likers(100, None, 10)
    assert [(e.id, e.seq) for e in page.entries] == [(1, again.seq), (2, page.entries[1].seq)]  # newest first
    assert await take(store, Kind.LIKE, 100, 1) == again
    staged = await harness.staged()
    assert [e.subject.rsplit(".", 1)[1] for e in staged] == ["liked", "liked", "unliked", "liked", "unliked"]
    assert len({e.event_id for e in staged}) == 5


async def test_a_publisher_that_raises_writes_nothing(harness: Harness) -> None:
    store = harness.store

    def broken(_: Mark) -> list[OutgoingEvent]:
        raise RuntimeError("no events today")

    with pytest.raises(RuntimeError):
        await store.add(mark(Kind.LIKE, 100, 1), broken)
    assert await store.engagement(1, [100]) == {100: TweetEngagement()}
    assert await store.likers(100, None, 10) == Page((), None)
    await put(store, Kind.LIKE, 100, 1)
    with pytest.raises(RuntimeError):
        await store.remove(Kind.LIKE, 100, 1, broken)
    assert (await store.engagement(1, [100]))[100] == TweetEngagement(Counts(likes=1), liked=True)
    assert [e.subject for e in await harness.staged()] == ["chirp.engagement.liked"]


async def test_concurrent_likes_by_one_account_make_one_like(harness: Harness) -> None:
    store = harness.store
    results = await asyncio.gather(*(store.add(mark(Kind.LIKE, 100, 1), events.added) for _ in range(6)))
    assert sum(r.created for r in results) == 1
    assert len({r.mark for r in results}) == 1
    assert await counts(store, 100) == Counts(likes=1)
    assert [e.id for e in (await store.likers(100, None, 10)).entries] == [1]
    assert len({e.event_id for e in await harness.staged()}) == 1


# --- retweets and bookmarks -----------------------------------------------------------------------


async def test_a_retweet_keeps_its_first_id_and_publishes_retweeted_and_unretweeted(harness: Harness) -> None:
    store = harness.store
    first, created = await put(store, Kind.RETWEET, 100, 1)
    again, created_again = await put(store, Kind.RETWEET, 100, 1)
    assert created and not created_again and again.seq == first.seq
    assert await counts(store, 100) == Counts(retweets=1)
    assert (await store.engagement(1, [100]))[100].retweeted
    assert await take(store, Kind.RETWEET, 100, 1) == first
    assert await counts(store, 100) == Counts()
    staged = await harness.staged()
    assert [e.subject for e in staged] == ["chirp.engagement.retweeted", "chirp.engagement.unretweeted"]
    retweeted = events_pb2.Retweeted.FromString(staged[0].payload)
    unretweeted = events_pb2.Unretweeted.FromString(staged[1].payload)
    assert retweeted.retweet_id == unretweeted.retweet_id == first.seq
    assert (retweeted.tweet_id, retweeted.user_id, retweeted.tweet_author_id) == (100, 1, AUTHOR)


async def test_bookmarks_are_counted_listed_newest_first_and_publish_nothing(harness: Harness) -> None:
    store = harness.store
    for tweet in (10, 20, 30, 40, 50):
        await put(store, Kind.BOOKMARK, tweet, 1)
    await put(store, Kind.BOOKMARK, 30, 1)  # again: stays where it was
    await put(store, Kind.BOOKMARK, 30, 2)
    first = await store.bookmarks(1, None, 2)
    assert [e.id for e in first.entries] == [50, 40] and first.next == first.entries[-1]
    await take(store, Kind.BOOKMARK, 40, 1)  # between pages: one listed goes, one comes
    await put(store, Kind.BOOKMARK, 60, 1)
    assert await every_page(lambda after: store.bookmarks(1, after, 2), first.next) == [30, 20, 10]
    assert await every_page(lambda after: store.bookmarks(1, after, 100)) == [60, 50, 30, 20, 10]
    assert await counts(store, 30) == Counts(bookmarks=2)
    assert (await store.engagement(2, [30, 40]))[30].bookmarked
    assert await harness.staged() == []
    assert (await store.bookmarks(3, None, 10)) == Page((), None)


async def test_kinds_are_independent(store: EngagementStore) -> None:
    for kind in Kind:
        await put(store, kind, 100, 1)
    await take(store, Kind.LIKE, 100, 1)
    found = (await store.engagement(1, [100]))[100]
    assert found == TweetEngagement(Counts(retweets=1, bookmarks=1), liked=False, retweeted=True, bookmarked=True)


# --- batches --------------------------------------------------------------------------------------


async def test_engagement_answers_every_id_in_one_batch(store: EngagementStore) -> None:
    await put(store, Kind.LIKE, 1, 9)
    await put(store, Kind.LIKE, 2, 8)
    await put(store, Kind.RETWEET, 2, 9)
    ids = list(range(1, 1201))  # more than one statement's worth of parameters
    found = await store.engagement(9, [*ids, 1, 2])
    assert list(found) == ids
    assert found[1] == TweetEngagement(Counts(likes=1), liked=True)
    assert found[2] == TweetEngagement(Counts(likes=1, retweets=1), retweeted=True)
    assert found[1200] == TweetEngagement()
    signed_out = await store.engagement(0, [1, 2])
    assert not any(e.liked or e.retweeted or e.bookmarked for e in signed_out.values())
    assert await store.engagement(9, []) == {}


async def test_likers_pages_never_overlap_or_skip(store: EngagementStore) -> None:
    for user in range(1, 8):
        await put(store, Kind.LIKE, 100, user)
    first = await store.likers(100, None, 3)
    assert [e.id for e in first.entries] == [7, 6, 5]
    await put(store, Kind.LIKE, 100, 8)  # newer than the cursor: on no later page
    await take(store, Kind.LIKE, 100, 2)
    assert await every_page(lambda after: store.likers(100, after, 3), first.next) == [4, 3, 1]
    exact = await store.likers(100, None, 7)
    assert len(exact.entries) == 7 and exact.next is None
    assert await store.likers(999, None, 5) == Page((), None)


# --- bulk load ------------------------------------------------------------------------------------


async def test_loaded_marks_count_and_list_as_added_ones_do_and_load_once(harness: Harness) -> None:
    store = harness.store
    standing, _ = await put(store, Kind.LIKE, 100, 1)
    before = await harness.staged()
    corpus = [mark(Kind.LIKE, 100, user) for user in (1, 2, 3)] + [mark(Kind.RETWEET, 100, 2),
                                                                    mark(Kind.LIKE, 200, 2)]
    assert await store.load_marks(corpus) == 4  # user 1's like stood already
    assert await store.load_marks(corpus) == 0
    assert await store.load_marks([]) == 0
    assert await counts(store, 100) == Counts(likes=3, retweets=1)
    assert (await store.engagement(2, [100, 200])) == {
        100: TweetEngagement(Counts(likes=3, retweets=1), liked=True, retweeted=True),
        200: TweetEngagement(Counts(likes=1), liked=True)}
    assert await every_page(lambda after: store.likers(100, after, 2)) == [3, 2, 1]
    assert (await store.add(mark(Kind.LIKE, 100, 1), events.added)).mark == standing  # the standing seq
    assert await harness.staged() == before  # a load tells nobody


async def test_loaded_children_count_once_and_delete_as_counted_ones_do(store: EngagementStore) -> None:
    reply, quote = ChildTweet(801, reply_to_id=300), ChildTweet(802, 300, 400)
    assert await store.load_children([reply, quote, reply]) == 2
    assert await store.load_children([quote]) == 0
    assert not await store.count_created(reply)
    assert await counts(store, 300) == Counts(replies=2) and await counts(store, 400) == Counts(quotes=1)
    assert await store.count_deleted(quote)
    assert await counts(store, 300) == Counts(replies=1) and await counts(store, 400) == Counts()


# --- replies and quotes ---------------------------------------------------------------------------


async def test_replies_and_quotes_are_counted_once_per_child(store: EngagementStore) -> None:
    reply, quote, both = ChildTweet(501, reply_to_id=100), ChildTweet(502, quote_id=100), ChildTweet(503, 100, 200)
    for child in (reply, quote, both, reply, both):
        await store.count_created(child)
    assert await counts(store, 100) == Counts(replies=2, quotes=1)
    assert await counts(store, 200) == Counts(quotes=1)
    assert await store.count_deleted(both)
    assert not await store.count_deleted(both)
    assert not await store.count_created(both)  # a redelivered creation after the deletion
    assert await counts(store, 100) == Counts(replies=1, quotes=1)
    assert await counts(store, 200) == Counts()


async def test_a_deletion_reported_before_the_creation_counts_nothing(store: EngagementStore) -> None:
    child = ChildTweet(600, reply_to_id=100)
    assert not await store.count_deleted(child)
    assert not await store.count_created(child)
    assert await counts(store, 100) == Counts()


async def test_concurrent_deliveries_of_one_child_count_it_once(store: EngagementStore) -> None:
    child = ChildTweet(700, reply_to_id=100, quote_id=100)
    assert sum(await asyncio.gather(*(store.count_created(child) for _ in range(5)))) == 1
    assert await counts(store, 100) == Counts(replies=1, quotes=1)
    assert sum(await asyncio.gather(*(store.count_deleted(child) for _ in range(5)))) == 1
    assert await counts(store, 100) == Counts()
