"""The tweet store contract: one suite, written against the TweetStore port (store/base.py), run over
every adapter.

An adapter joins with one entry in ADAPTERS: a function of (request, tmp_path) returning an async
context manager that yields an Adapter (the store, and the outbox the relay reads, behind the
adapter-neutral OutboxSource interface). SQLite always runs. ScyllaDB runs when CHIRP_SCYLLA_HOSTS
names a cluster (a keyspace of the module's own is made and dropped; CHIRP_SCYLLA_REPLICATION_FACTOR
defaults to 1 here, for a single test node) and is reported skipped otherwise.
tests/unit/test_tweet_store_scylla_offline.py runs the same tests over the Scylla adapter's logic on
an in-memory stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from services.runtime.events import OutgoingEvent
from services.runtime.ids import SnowflakeGenerator, lowest_id_at
from services.runtime.outbox import OutboxSource, SqliteOutbox
from services.tweet.domain import Entities, Hashtag, Mention, Poll, Tweet, Url
from services.tweet.store.base import TweetStore, hour_bucket, month_bucket
from services.tweet.store.sqlite import SqliteTweetStore
from tests.scylla_keyspace import SCYLLA_SKIP_REASON, throwaway_keyspace



@dataclass
class Adapter:
    store: TweetStore
    outbox: OutboxSource

    async def staged(self) -> list[OutgoingEvent]:
        """Every event staged since the last look, oldest first; taken out as a relay would."""
        taken: list[OutgoingEvent] = []
        while entries := await self.outbox.read(500):
            taken.extend(e.event for e in entries)
            await self.outbox.delete(entries)
        return taken


@contextlib.asynccontextmanager
async def sqlite_adapter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Adapter]:
    store = SqliteTweetStore(tmp_path / "tweet.db")
    yield Adapter(store, SqliteOutbox(store.database))
    await store.close()


@pytest.fixture(scope="module")
async def scylla_tweet_store() -> AsyncIterator[Any]:
    """One keyspace for the module's tests (made and dropped here): tests keep apart by author ids of
    their own, and each starts with the outbox drained."""
    from services.tweet.store.scylla import ScyllaTweetStore

    async with throwaway_keyspace("tweet", ScyllaTweetStore.connect) as store:
        yield store


@contextlib.asynccontextmanager
async def scylla_adapter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Adapter]:
    if not os.environ.get("CHIRP_SCYLLA_HOSTS"):
        pytest.skip(SCYLLA_SKIP_REASON)
    store = request.getfixturevalue("scylla_tweet_store")
    made = Adapter(store, store.outbox)
    await made.staged()  # what earlier tests staged
    yield made


ADAPTERS = [
    pytest.param(sqlite_adapter, id="sqlite"),
    pytest.param(scylla_adapter, id="scylla",
                 marks=pytest.mark.skipif(not os.environ.get("CHIRP_SCYLLA_HOSTS"), reason=SCYLLA_SKIP_REASON)),
]


@pytest.fixture(params=ADAPTERS)
async def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Adapter]:
    async with request.param(request, tmp_path) as made:
        yield made


@pytest.fixture
def store(adapter: Adapter) -> TweetStore:
    return adapter.store


# --- helpers --------------------------------------------------------------------------------------

# Unique across tests and runs, so a store shared by a run (ScyllaDB) never sees a clash by chance.
_authors = itertools.count(int(time.time() * 1000) % 10**12 * 1000)
_workers = itertools.count(1)
NOW_MS = int(time.time() * 1000)
DAY_MS = 24 * 3600 * 1000


def new_author() -> int:
    return next(_authors)


def ids_at(*unix_ms: int) -> list[int]:
    """One Snowflake id per instant, from a worker of this test's own."""
    worker = next(_workers) % 1000
    return [SnowflakeGenerator(worker, clock_ms=lambda at=at: at).next_id() for at in unix_ms]


def fresh_ids(count: int) -> list[int]:
    return ids_at(*(NOW_MS + i for i in range(count)))


def tweet(tweet_id: int, author: int, *, reply_to: Tweet | None = None, poll: Poll | None = None,
          **fields: Any) -> Tweet:
    conversation = reply_to.conversation_id if reply_to else tweet_id
    return Tweet(tweet_id, author, fields.pop("text", f"tweet {tweet_id}"), conversation,
                 reply_to_id=reply_to.id if reply_to else 0, poll=poll, **fields)


def event(kind: str, detail: int) -> OutgoingEvent:
    return OutgoingEvent(uuid.uuid4().hex, f"chirp.tweet.{kind}", f"chirp.test.{kind}", f"{kind}:{detail}".encode())


async def create(store: TweetStore, *tweets: Tweet, key: str = "") -> list[Tweet]:
    made = []
    for t in tweets:
        outcome = await store.create_tweet(t, key, [event("created", t.id)])
        assert outcome.created
        made.append(outcome.tweet)
    return made


def ids(tweets: list[Tweet]) -> list[int]:
    return [t.id for t in tweets]


# --- create and read ------------------------------------------------------------------------------


async def test_a_tweet_reads_back_as_it_was_written(adapter: Adapter) -> None:
    store, author = adapter.store, new_author()
    [tid, quoted_id] = fresh_ids(2)
    full = Tweet(
        tid, author, "Hi @Bob #Tag https://x.example é", tid, quote_id=quoted_id,
        media_urls=("https://m.example/1.png", "https://m.example/2.png"), location="Zürich",
        entities=Entities((Mention(7, "Bob", 3, 7),), (Hashtag("tag", "Tag", 8, 12),),
                          (Url("https://x.example", 13, 30),)),
        language="en", sensitive=True,
    )
    outcome = await store.create_tweet(full, "", [event("created", tid)])
    assert outcome.created and outcome.tweet == full
    assert await store.get_tweets([tid, 424242, tid]) == {tid: full}
    assert await store.get_tweets([]) == {}
    assert [e.subject for e in await adapter.staged()] == ["chirp.tweet.created"]


async def test_a_poll_starts_with_zero_counts(store: TweetStore) -> None:
    [tid] = fresh_ids(1)
    poll = Poll(("a", "b", "c"), NOW_MS + 60_000)
    [made] = await create(store, tweet(tid, new_author(), poll=poll))
    assert made.poll == replace(poll, counts=(0, 0, 0))
    assert (await store.get_tweets([tid]))[tid].poll == replace(poll, counts=(0, 0, 0))


# --- idempotency keys -----------------------------------------------------------------------------


async def test_a_key_makes_one_tweet_per_author(adapter: Adapter) -> None:
    store, author, other = adapter.store, new_author(), new_author()
    first_id, second_id, third_id = fresh_ids(3)
    first = await store.create_tweet(tweet(first_id, author), "key-1", [event("created", first_id)])
    again = await store.create_tweet(tweet(second_id, author, text="other"), "key-1", [event("created", second_id)])
    assert first.created and not again.created and again.tweet == first.tweet
    assert await store.get_tweets([second_id]) == {}
    assert (await store.tweet_for_key(author, "key-1")) == first.tweet
    assert await store.tweet_for_key(author, "key-2") is None and await store.tweet_for_key(other, "key-1") is None
    assert (await store.create_tweet(tweet(third_id, other), "key-1", [])).created
    assert len(await adapter.staged()) == 1  # the refused duplicate staged nothing


async def test_concurrent_creates_with_one_key_make_one_tweet(adapter: Adapter) -> None:
    store, author = adapter.store, new_author()
    candidates = [tweet(t, author) for t in fresh_ids(8)]
    outcomes = await asyncio.gather(*(store.create_tweet(t, "race", [event("created", t.id)]) for t in candidates))
    assert sum(o.created for o in outcomes) == 1
    assert len({o.tweet.id for o in outcomes}) == 1
    assert len(await store.user_tweets(author, since_id=0, until_id=0, limit=100)) == 1
    assert len(await adapter.staged()) == 1


async def test_a_key_still_names_its_tweet_once_deleted(store: TweetStore) -> None:
    author = new_author()
    [tid, later] = fresh_ids(2)
    await create(store, tweet(tid, author), key="k")
    assert await store.delete_tweet(tid, author, NOW_MS, [])
    outcome = await store.create_tweet(tweet(later, author), "k", [])
    assert not outcome.created and outcome.tweet.id == tid and outcome.tweet.deleted_at_ms == NOW_MS
    found = await store.tweet_for_key(author, "k")
    assert found is not None and not found.live


# --- a user's tweets, by time ---------------------------------------------------------------------


async def test_user_tweets_newest_first_within_a_range_across_months(store: TweetStore) -> None:
    author, other = new_author(), new_author()
    # Tweets over five months, so a bucketed adapter has to walk several buckets (and skip an empty one).
    instants = [NOW_MS - 150 * DAY_MS, NOW_MS - 120 * DAY_MS, NOW_MS - 31 * DAY_MS, NOW_MS - DAY_MS, NOW_MS - 1000,
                NOW_MS]
    made = ids_at(*instants)
    assert len({month_bucket(t) for t in made}) >= 4
    await create(store, *(tweet(t, author) for t in made))
    await create(store, tweet(fresh_ids(1)[0], other))
    newest_first = made[::-1]
    assert ids(await store.user_tweets(author, since_id=0, until_id=0, limit=100)) == newest_first
    assert ids(await store.user_tweets(author, since_id=0, until_id=0, limit=2)) == newest_first[:2]
    assert ids(await store.user_tweets(author, since_id=made[0], until_id=made[4], limit=100)) == [
        made[3], made[2], made[1]]
    assert ids(await store.user_tweets(author, since_id=made[1], until_id=0, limit=2)) == [made[5], made[4]]
    assert ids(await store.user_tweets(author, since_id=0, until_id=made[2], limit=100)) == [made[1], made[0]]
    assert await store.user_tweets(author, since_id=made[5], until_id=0, limit=10) == []
    assert await store.user_tweets(new_author(), since_id=0, until_id=0, limit=10) == []


async def test_user_tweets_leave_out_the_gone_and_still_fill_the_page(store: TweetStore) -> None:
    author = new_author()
    made = fresh_ids(5)
    await create(store, *(tweet(t, author) for t in made))
    assert await store.delete_tweet(made[4], author, NOW_MS, [])
    assert await store.delete_tweet(made[2], author, NOW_MS, [])
    assert ids(await store.user_tweets(author, since_id=0, until_id=0, limit=2)) == [made[3], made[1]]


# --- replies --------------------------------------------------------------------------------------


async def test_replies_to_one_tweet_oldest_first(store: TweetStore) -> None:
    op, fan = new_author(), new_author()
    root_id, other_root_id, *reply_ids = fresh_ids(8)
    [root, other_root] = await create(store, tweet(root_id, op), tweet(other_root_id, op))
    direct = await create(store, *(tweet(r, fan, reply_to=root) for r in reply_ids[:4]))
    [nested] = await create(store, tweet(reply_ids[4], op, reply_to=direct[0]))
    [elsewhere] = await create(store, tweet(reply_ids[5], fan, reply_to=other_root))
    assert nested.conversation_id == root_id and elsewhere.conversation_id == other_root_id
    assert ids(await store.replies(root_id, root_id, after_id=0, limit=100)) == ids(direct)
    assert ids(await store.replies(root_id, root_id, after_id=direct[1].id, limit=1)) == [direct[2].id]
    assert ids(await store.replies(root_id, direct[0].id, after_id=0, limit=100)) == [nested.id]
    assert ids(await store.replies(other_root_id, other_root_id, after_id=0, limit=100)) == [elsewhere.id]
    assert await store.delete_tweet(direct[1].id, fan, NOW_MS, [])
    assert ids(await store.replies(root_id, root_id, after_id=0, limit=2)) == [direct[0].id, direct[2].id]
    assert await store.replies(root_id, nested.id, after_id=0, limit=10) == []


# --- recent tweets --------------------------------------------------------------------------------


async def test_recent_tweets_newest_first_across_hours(store: TweetStore) -> None:
    authors = [new_author() for _ in range(3)]
    made = ids_at(NOW_MS - 5 * 3600_000, NOW_MS - 3 * 3600_000, NOW_MS - 3600_000, NOW_MS)
    assert len({hour_bucket(t) for t in made}) == 4
    await create(store, *(tweet(t, authors[i % 3]) for i, t in enumerate(made)))
    await store.delete_tweet(made[2], authors[2], NOW_MS, [])
    since = lowest_id_at(NOW_MS - 4 * 3600_000)
    recent = ids(await store.recent_tweets(since_id=since, limit=100))
    assert [t for t in recent if t in made] == [made[3], made[1]]
    assert ids(await store.recent_tweets(since_id=made[0] - 1, limit=1)) == [max(recent)]


# --- deleting -------------------------------------------------------------------------------------


async def test_delete_once_by_the_author_only(adapter: Adapter) -> None:
    store, author, other = adapter.store, new_author(), new_author()
    [tid] = fresh_ids(1)
    await create(store, tweet(tid, author))
    await adapter.staged()
    assert not await store.delete_tweet(tid, other, NOW_MS, [event("deleted", tid)])
    assert not await store.delete_tweet(424242, author, NOW_MS, [event("deleted", 424242)])
    assert await store.delete_tweet(tid, author, NOW_MS + 5, [event("deleted", tid)])
    assert not await store.delete_tweet(tid, author, NOW_MS + 9, [event("deleted", tid)])
    assert [e.subject for e in await adapter.staged()] == ["chirp.tweet.deleted"]
    assert await store.get_tweets([tid]) == {}
    gone = (await store.get_tweets([tid], include_gone=True))[tid]
    assert gone.deleted_at_ms == NOW_MS + 5 and not gone.live and gone.text == f"tweet {tid}"


async def test_tweet_counts_follow_creates_and_deletes_and_ignore_repeats(store: TweetStore) -> None:
    author, quiet = new_author(), new_author()
    first, second, third, retried = fresh_ids(4)
    await create(store, tweet(first, author), tweet(second, author))
    await create(store, tweet(third, author), key="same-key")
    repeat = await store.create_tweet(tweet(retried, author), "same-key", [event("created", retried)])
    assert not repeat.created  # a retried create counts once
    assert await store.tweet_counts([author, quiet]) == {author: 3, quiet: 0}
    assert await store.delete_tweet(second, author, NOW_MS, [event("deleted", second)])
    assert not await store.delete_tweet(second, author, NOW_MS, [event("deleted", second)])
    assert await store.tweet_counts([author]) == {author: 2}


# --- bulk load ------------------------------------------------------------------------------------


async def test_a_loaded_corpus_reads_as_created_tweets_do_and_loads_once(adapter: Adapter) -> None:
    store, author, replier = adapter.store, new_author(), new_author()
    day_old, hour_old, now = ids_at(NOW_MS - DAY_MS, NOW_MS - 3_600_000, NOW_MS)
    root = tweet(day_old, author, text="Hi @Bob #Tag", language="en",
                 entities=Entities((Mention(7, "Bob", 3, 7),), (Hashtag("tag", "Tag", 8, 12),), ()))
    reply = tweet(hour_old, replier, reply_to=root)
    polled = tweet(now, author, poll=Poll(("yes", "no"), NOW_MS + 60_000))
    assert await store.load_tweets([root, reply, polled]) == 3
    assert await store.get_tweets([day_old, hour_old, now]) == {
        day_old: root, hour_old: reply, now: replace(polled, poll=replace(polled.poll, counts=(0, 0)))}
    assert ids(await store.user_tweets(author, since_id=0, until_id=0, limit=10)) == [now, day_old]
    assert ids(await store.replies(day_old, day_old, after_id=0, limit=10)) == [hour_old]
    assert await store.tweet_counts([author, replier]) == {author: 2, replier: 1}
    assert await adapter.staged() == []  # a load tells nobody: derived data has bulk paths of its own

    [later] = fresh_ids(1)
    assert await store.load_tweets([root, reply, tweet(later, replier)]) == 1  # stored ones are skipped
    assert await store.tweet_counts([author, replier]) == {author: 2, replier: 2}
    assert await store.load_tweets([]) == 0


async def test_loading_never_undoes_a_delete(store: TweetStore) -> None:
    author = new_author()
    [tid] = fresh_ids(1)
    [made] = await create(store, tweet(tid, author))
    assert await store.delete_tweet(tid, author, NOW_MS, [])
    assert await store.load_tweets([made]) == 0
    assert await store.get_tweets([tid]) == {} and await store.tweet_counts([author]) == {author: 0}


# --- polls ----------------------------------------------------------------------------------------


async def test_one_vote_per_voter_counted(adapter: Adapter) -> None:
    store, author = adapter.store, new_author()
    voters = [new_author() for _ in range(3)]
    [tid, plain] = fresh_ids(2)
    await create(store, tweet(tid, author, poll=Poll(("a", "b"), NOW_MS + 60_000)), tweet(plain, author))
    await adapter.staged()
    assert await store.vote(tid, voters[0], 1, [event("poll_voted", voters[0])]) == 1
    assert await store.vote(tid, voters[0], 0, [event("poll_voted", voters[0])]) == 1  # the earlier vote stands
    assert await store.vote(tid, voters[0], 1, [event("poll_voted", voters[0])]) == 1
    assert await store.vote(tid, voters[1], 0, [event("poll_voted", voters[1])]) == 0
    assert len(await adapter.staged()) == 2
    assert (await store.get_tweets([tid]))[tid].poll.counts == (1, 1)  # type: ignore[union-attr]
    assert await store.viewer_votes(voters[0], [tid, plain, 424242]) == {tid: 1}
    assert await store.viewer_votes(voters[2], [tid]) == {}
    assert await store.viewer_votes(voters[2], []) == {}


async def test_concurrent_votes_count_each_voter_once(store: TweetStore) -> None:
    author = new_author()
    voters = [new_author() for _ in range(30)]
    [tid] = fresh_ids(1)
    await create(store, tweet(tid, author, poll=Poll(("a", "b", "c"), NOW_MS + 60_000)))
    attempts = [store.vote(tid, v, (i + twice) % 3, []) for i, v in enumerate(voters) for twice in range(2)]
    outcomes = await asyncio.gather(*attempts)
    stood = {voters[i // 2]: outcomes[i] for i in range(0, len(outcomes), 2)}
    assert all(outcomes[i] == outcomes[i + 1] for i in range(0, len(outcomes), 2))
    counts = (await store.get_tweets([tid]))[tid].poll.counts  # type: ignore[union-attr]
    assert sum(counts) == 30
    assert counts == tuple(sum(1 for option in stood.values() if option == i) for i in range(3))


# --- a deleted account's tweets -------------------------------------------------------------------


async def test_hiding_an_authors_tweets_in_chunks_is_idempotent(adapter: Adapter) -> None:
    store, gone, other = adapter.store, new_author(), new_author()
    made = fresh_ids(6)
    await create(store, *(tweet(t, gone) for t in made[:5]), tweet(made[5], other))
    await store.delete_tweet(made[0], gone, NOW_MS, [])
    await adapter.staged()
    hidden_counts = []
    while done := await store.hide_author_tweets(gone, 3):
        hidden_counts.append(done)
    assert hidden_counts == [3, 1]
    assert await store.hide_author_tweets(gone, 3) == 0
    assert await adapter.staged() == []
    assert await store.get_tweets(made) == {made[5]: (await store.get_tweets([made[5]]))[made[5]]}
    assert await store.user_tweets(gone, since_id=0, until_id=0, limit=10) == []
    everything = await store.get_tweets(made, include_gone=True)
    assert all(everything[t].hidden for t in made[1:5]) and everything[made[0]].deleted_at_ms == NOW_MS
    assert not await store.delete_tweet(made[1], gone, NOW_MS, [])  # hidden: nothing left to delete


# --- the buckets every adapter shares -------------------------------------------------------------


def test_buckets_come_from_the_snowflake_time() -> None:
    july = 1_784_073_600_000  # 2026-07-15T00:00:00Z
    [mid_july, new_year_eve, new_year] = ids_at(july, 1_798_761_599_999, 1_798_761_600_000)
    assert month_bucket(mid_july) == 202607
    assert (month_bucket(new_year_eve), month_bucket(new_year)) == (202612, 202701)
    assert hour_bucket(mid_july) == july // 3_600_000
    assert hour_bucket(new_year) - hour_bucket(new_year_eve) == 1
