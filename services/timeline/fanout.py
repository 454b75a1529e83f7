"""Fan-out on write: an entry goes to its owner's user timeline, to the owner's own home timeline and,
unless the owner is a celebrity, to the home timeline of every follower, a page of followers at a
time: one batched store write, one Valkey pipeline of the add script and one push per follower per
page. Retracting an entry walks the same way removing it.

Everything here is idempotent (adding an entry twice keeps one, removing a missing one is no error),
so an event redelivered after a crash halfway simply runs again to the end.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from services.runtime.logging import get_logger
from services.timeline import domain
from services.timeline.cache import TimelineCache
from services.timeline.domain import Entry
from services.timeline.peers import GraphClient
from services.timeline.store.base import TimelineStore
from services.timeline.updates import Updates

log = get_logger("chirp.timeline.fanout")

BACKFILL_ENTRIES = 20  # entries of a newly followed account copied into the follower's home timeline


class Fanout:
    def __init__(
        self,
        store: TimelineStore,
        cache: TimelineCache,
        graph: GraphClient,
        updates: Updates,
        *,
        celebrity_threshold: int,
        page_size: int,
        stream_timeout_s: float,
    ) -> None:
        self._store = store
        self._cache = cache
        self._graph = graph
        self._updates = updates
        self._threshold = celebrity_threshold
        self._page_size = page_size
        self._stream_timeout_s = stream_timeout_s

    async def _is_celebrity(self, user_id: int) -> bool:
        followers = (await self._graph.follower_counts([user_id])).get(user_id, 0)
        return domain.is_celebrity(followers, self._threshold)

    def _followers(self, owner: int) -> contextlib.aclosing[AsyncIterator[list[int]]]:
        """The owner's followers a page at a time; a failed page ends the stream there and then."""
        return contextlib.aclosing(
            self._graph.follower_pages(owner, self._page_size, timeout_s=self._stream_timeout_s))

    async def _add(self, readers: Sequence[int], entry: Entry) -> None:
        await self._store.add_home_entries([(reader, entry) for reader in readers])
        await self._cache.add(readers, [entry])
        await self._updates.publish(readers, [entry.tweet_id])

    async def _remove(self, readers: Sequence[int], entry: Entry) -> None:
        await self._store.remove_home_entries([(reader, entry) for reader in readers])
        await self._cache.remove(readers, entry)

    async def deliver(self, entry: Entry) -> int:
        """Adds a new tweet or retweet everywhere it belongs; returns how many followers it reached."""
        owner = entry.owner_id
        await self._store.add_user_entry(entry)
        await self._add([owner], entry)
        if await self._is_celebrity(owner):
            log.info("celebrity entry not fanned out", owner=owner, entry=entry.key)
            return 0
        reached = 0
        async with self._followers(owner) as pages:
            async for followers in pages:
                await self._add(followers, entry)
                reached += len(followers)
        log.info("entry fanned out", owner=owner, entry=entry.key, followers=reached)
        return reached

    async def retract(self, entry: Entry) -> None:
        """Takes a deleted tweet or an undone retweet out of where delivery put it. A celebrity's entry
        was never fanned out: reads stop merging it once it leaves the user timeline."""
        owner = entry.owner_id
        await self._store.remove_user_entry(entry)
        await self._remove([owner], entry)
        if await self._is_celebrity(owner):
            return
        async with self._followers(owner) as pages:
            async for followers in pages:
                await self._remove(followers, entry)

    async def backfill(self, follower: int, followee: int) -> None:
        """A new follow: the followee's recent entries join the follower's home timeline, and the
        follower's cached list of celebrities is dropped so the next read sees the follow."""
        entries = await self._store.user_entries(followee, None, BACKFILL_ENTRIES)
        await self._store.add_home_entries([(follower, e) for e in entries])
        await self._cache.add([follower], entries)
        await self._cache.forget_followees(follower)

    async def forget(self, user_id: int) -> None:
        """A deleted account: its home timeline and user timeline go, in the store and the cache."""
        await self._store.forget_user(user_id)
        await self._cache.forget(user_id)
