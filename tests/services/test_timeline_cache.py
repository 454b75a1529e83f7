"""The Valkey layout of cached home timelines, against a real Valkey: the add script, trimming, the
built marker, TTLs and pages by key."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from services.runtime import valkey
from services.timeline.cache import Followees, TimelineCache, built_key, home_key
from services.timeline.domain import Entry, retweet_entry, tweet_entry

CAP = 5
TTL_S = 600
_users = itertools.count(10_000_000)


@pytest.fixture
async def client(valkey_url: str) -> AsyncIterator[redis.Redis]:
    made = valkey.connect(valkey_url)
    yield made
    await made.aclose()


@pytest.fixture
def cache(client: redis.Redis) -> TimelineCache:
    return TimelineCache(client, cap=CAP, ttl_s=TTL_S, celebs_ttl_s=60)


def user() -> int:
    return next(_users)


async def test_adds_reach_built_timelines_only(cache: TimelineCache, client: redis.Redis) -> None:
    built, never = user(), user()
    await cache.replace(built, [])
    assert await cache.touch(built) and not await cache.touch(never)
    assert await cache.add([built, never], [tweet_entry(10, 7)]) == 1
    assert await cache.page(built, None, 10) == [Entry(10, 10)]
    assert not await client.exists(home_key(never))  # never a partial timeline


async def test_adding_twice_keeps_one_and_the_newest_cap_stay(cache: TimelineCache) -> None:
    reader = user()
    await cache.replace(reader, [])
    for tweet_id in (3, 1, 7, 5, 9, 2, 8):
        await cache.add([reader], [tweet_entry(tweet_id, 7)])
        await cache.add([reader], [tweet_entry(tweet_id, 7)])
    assert [e.entry_id for e in await cache.page(reader, None, 10)] == [9, 8, 7, 5, 3]


async def test_pages_run_newest_first_strictly_below_a_key(cache: TimelineCache) -> None:
    reader = user()
    entries = [tweet_entry(4, 7), retweet_entry(6, 4, 7, 9), tweet_entry(5, 7)]
    await cache.replace(reader, entries)
    assert await cache.page(reader, None, 2) == [Entry(6, 4, 9), Entry(5, 5)]
    assert await cache.page(reader, Entry(5, 5).key, 10) == [Entry(4, 4)]
    assert await cache.page(reader, Entry(4, 4).key, 10) == []


async def test_replace_makes_the_timeline_exactly_the_newest_entries(cache: TimelineCache, client: redis.Redis) -> None:
    reader = user()
    await cache.replace(reader, [tweet_entry(i, 7) for i in range(1, 4)])
    await cache.replace(reader, [tweet_entry(i, 7) for i in range(10, 20)])
    assert [e.entry_id for e in await cache.page(reader, None, 10)] == [19, 18, 17, 16, 15]
    assert 0 < await client.ttl(home_key(reader)) <= TTL_S
    assert 0 < await client.ttl(built_key(reader)) <= TTL_S


async def test_removal_and_forgetting(cache: TimelineCache, client: redis.Redis) -> None:
    reader = user()
    await cache.replace(reader, [tweet_entry(1, 7), tweet_entry(2, 7)])
    await cache.remove([reader, user()], tweet_entry(1, 7))
    assert await cache.page(reader, None, 10) == [Entry(2, 2)]
    await cache.set_followees(reader, Followees(3, (5, 6)))
    assert await cache.followees(reader) == Followees(3, (5, 6))
    await cache.forget(reader)
    assert not await client.exists(home_key(reader), built_key(reader))
    assert await cache.followees(reader) is None
