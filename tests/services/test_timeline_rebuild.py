"""Rebuilding a home timeline (cold start) from what the timeline service owns: the persisted home
timeline and the user timeline index, over the real SQLite store and a real Valkey. The graph and
tweet services are stand-ins that record every call, because what is under test is which calls a
rebuild makes: one ListFollowingIds and one BatchGetFollowCounts for the graph, and, for the tweet
service, nothing per followee while the index has their entries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from chirp.tweet.v1 import tweet_pb2
from services.runtime import valkey
from services.timeline.cache import TimelineCache
from services.timeline.domain import Entry, retweet_entry, tweet_entry
from services.timeline.reader import TimelineReader
from services.timeline.store.sqlite import SqliteTimelineStore

VIEWER = 1
THRESHOLD = 100


class Graph:
    """The viewer follows `following`; `followers` says how many followers an account has."""

    def __init__(self, following: list[int], followers: dict[int, int] | None = None) -> None:
        self.following = following
        self.followers = followers or {}
        self.calls: list[str] = []

    async def following_ids(self, user_id: int) -> list[int]:
        self.calls.append("ListFollowingIds")
        return list(self.following) if user_id == VIEWER else []

    async def follower_counts(self, user_ids: Iterable[int]) -> dict[int, int]:
        self.calls.append("BatchGetFollowCounts")
        return {u: self.followers.get(u, 1) for u in user_ids}


class Tweets:
    """The tweet service's view: every tweet each account posted, newest first."""

    def __init__(self, posted: dict[int, list[int]]) -> None:
        self.posted = posted
        self.calls: list[tuple[str, object]] = []

    async def tweet_counts(self, user_ids: Iterable[int]) -> dict[int, int]:
        ids = list(user_ids)
        self.calls.append(("BatchGetTweetCounts", sorted(ids)))
        return {u: len(self.posted.get(u, [])) for u in ids}

    async def user_tweets(self, user_id: int, viewer_id: int, *, until_id: int, limit: int
                          ) -> tuple[list[tweet_pb2.Tweet], bool]:
        self.calls.append(("ListUserTweets", user_id))
        ids = self.posted.get(user_id, [])
        return [tweet_pb2.Tweet(id=i, author_id=user_id) for i in ids[:limit]], len(ids) > limit


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteTimelineStore]:
    made = SqliteTimelineStore(tmp_path / "timeline.db", retention_s=3600)
    yield made
    await made.close()


@pytest.fixture
async def cache(valkey_url: str) -> AsyncIterator[TimelineCache]:
    client = valkey.connect(valkey_url)
    await client.delete(f"home:{VIEWER}", f"homebuilt:{VIEWER}", f"celebs:{VIEWER}")
    yield TimelineCache(client, cap=800, ttl_s=600, celebs_ttl_s=60)
    await client.aclose()


def reader_of(store: SqliteTimelineStore, cache: TimelineCache, graph: Graph, tweets: Tweets, *,
              fallback: int = 50, per_followee: int = 20) -> TimelineReader:
    return TimelineReader(store, cache, None, tweets, graph, None,  # type: ignore[arg-type]
                          celebrity_threshold=THRESHOLD, rebuild_followees=500,
                          rebuild_tweets_per_followee=per_followee, rebuild_fallback_followees=fallback)


async def cached(cache: TimelineCache) -> list[Entry]:
    return await cache.page(VIEWER, None, 1000)


async def index(store: SqliteTimelineStore, *entries: Entry) -> None:
    for entry in entries:
        await store.add_user_entry(entry)


async def test_a_rebuild_reads_every_followee_from_the_index_with_no_call_per_followee(
        store: SqliteTimelineStore, cache: TimelineCache) -> None:
    followees = list(range(10, 40))  # 30 accounts, each with two tweets; one of them retweeted too
    entries = [tweet_entry(1000 + 10 * f + k, f) for f in followees for k in range(2)]
    shared = retweet_entry(5000, 1000 + 10 * 12, 12, 13)  # 13 retweets a tweet of 12's
    own = tweet_entry(4000, VIEWER)
    await index(store, *entries, shared, own)
    delivered = tweet_entry(900, 99)  # persisted home entry of an account followed no longer
    await store.add_home_entries([(VIEWER, delivered)])
    graph = Graph(followees)
    tweets = Tweets({f: [e.tweet_id for e in entries if e.author_id == f] for f in followees})

    count = await reader_of(store, cache, graph, tweets).rebuild(VIEWER)

    expected = sorted([*entries, shared, own, delivered], key=lambda e: e.key, reverse=True)
    assert [e.key for e in await cached(cache)] == [e.key for e in expected] and count == len(expected)
    assert graph.calls == ["ListFollowingIds", "BatchGetFollowCounts"]
    assert tweets.calls == []  # everybody is indexed: the tweet service is not asked at all


async def test_followees_with_nothing_indexed_fall_back_to_the_tweet_service_only_if_they_post(
        store: SqliteTimelineStore, cache: TimelineCache) -> None:
    indexed, silent, unindexed = 10, [11, 12, 13], 14  # 14 posted before the index was fed
    await index(store, tweet_entry(100, indexed))
    tweets = Tweets({indexed: [100], unindexed: [150, 140]})

    await reader_of(store, cache, Graph([indexed, *silent, unindexed]), tweets).rebuild(VIEWER)

    assert [e.key for e in await cached(cache)] == [tweet_entry(i, a).key for i, a in
                                                     ((150, unindexed), (140, unindexed), (100, indexed))]
    assert tweets.calls == [("BatchGetTweetCounts", [VIEWER, *silent, unindexed]), ("ListUserTweets", unindexed)]


async def test_the_fallback_is_bounded(store: SqliteTimelineStore, cache: TimelineCache) -> None:
    unindexed = list(range(10, 30))
    tweets = Tweets({u: [1000 + u] for u in unindexed})

    await reader_of(store, cache, Graph(unindexed), tweets, fallback=3).rebuild(VIEWER)
    asked = [who for what, who in tweets.calls if what == "ListUserTweets"]
    assert len(asked) == 3 and len(await cached(cache)) == 3

    await reader_of(store, cache, Graph(unindexed), Tweets(tweets.posted), fallback=0).rebuild(VIEWER)
    assert await cached(cache) == []  # built, and empty: nothing indexed, nothing asked


async def test_celebrities_are_left_to_the_read_and_each_followee_gives_its_newest(
        store: SqliteTimelineStore, cache: TimelineCache) -> None:
    star, friend = 10, 11
    await index(store, *(tweet_entry(100 + k, star) for k in range(3)), *(tweet_entry(200 + k, friend) for k in range(5)))
    graph = Graph([star, friend], followers={star: THRESHOLD + 1})

    await reader_of(store, cache, graph, Tweets({}), per_followee=2).rebuild(VIEWER)

    assert [e.tweet_id for e in await cached(cache)] == [204, 203]
