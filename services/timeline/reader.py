"""Reading timelines: candidates from several sources merged newest first, hydrated a window at a
time, filtered, and cut into pages by position; and rebuilding a home timeline that is not cached.

A home timeline's candidates come from three places, merged by entry key so the result is what
fan-out on write alone would have produced:
- the cached timeline (what fan-out delivered), rebuilt first if it is not cached;
- the viewer's own tweets from the tweet service, so a tweet is there the moment it is posted
  (read-your-writes), before fan-out has run;
- the user timelines (tweets and retweets) of the celebrities the viewer follows: they are not
  fanned out, so their entries are merged in here.
A user timeline's candidates are the account's entries in the user timeline index (tweets and
retweets) merged with its tweets from the tweet service (so a fresh tweet shows at once there too).
That listing also answers the owner's profile and the viewer's relationship, which decide access,
and its tweets need no second read to be hydrated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from chirp.timeline.v1 import timeline_pb2
from chirp.user.v1 import user_pb2
from services.timeline import domain, metrics
from services.timeline.cache import Followees, TimelineCache
from services.timeline.domain import Batch, Entry, Policy, Position, Relation
from services.timeline.hydration import Hydrator
from services.timeline.peers import GraphClient, Read, TweetClient, UserClient
from services.timeline.store.base import TimelineStore

Items = list[timeline_pb2.TimelineItem]


class Source(Protocol):
    async def below(self, key: str | None, limit: int) -> Batch:
        """Up to `limit` entries newest first with keys strictly below `key` (None: from the top)."""


class PartitionSource:
    """One account's entries in the cache or the store, read by `read(user_id, below, limit)`."""

    def __init__(self, read: Callable[[int, str | None, int], Awaitable[list[Entry]]], user_id: int) -> None:
        self._read = read
        self._user_id = user_id

    async def below(self, key: str | None, limit: int) -> Batch:
        entries = await self._read(self._user_id, key, limit)
        return Batch(entries, len(entries) == limit)


class TweetsSource:
    """An author's tweets as the tweet service lists them for a viewer. Entry ids are unique across
    tweets and retweets, so "below a key" is "with an id below the key's entry id"."""

    def __init__(self, tweets: TweetClient, user_id: int, viewer_id: int) -> None:
        self._tweets = tweets
        self._user_id = user_id
        self._viewer_id = viewer_id

    async def below(self, key: str | None, limit: int) -> Batch:
        tweets, more = await self._tweets.user_tweets(self._user_id, self._viewer_id, until_id=_until(key),
                                                      limit=min(limit, domain.PAGE_MAX))
        return Batch([domain.tweet_entry(t.id, t.author_id) for t in tweets], more)


class OwnerTweetsSource:
    """A user timeline owner's tweets as the tweet service lists them for the viewer, asked with the
    accounts it reads to apply visibility (include_accounts). `first` answers whether the viewer may
    read the timeline at all; `read` keeps the tweets and accounts answered, so that hydration asks
    only for the rest (the tweets the owner retweeted)."""

    def __init__(self, tweets: TweetClient, owner_id: int, viewer_id: int) -> None:
        self._tweets = tweets
        self._owner_id = owner_id
        self._viewer_id = viewer_id
        self.read = Read({}, {}, {})
        self._first: tuple[str | None, int, Batch] | None = None  # for the `below` that asks for it next

    async def first(self, key: str | None, limit: int) -> tuple[user_pb2.Profile | None, Relation]:
        """The owner's profile (None: the account is gone) and the viewer's relation towards the owner,
        from reading the first batch below `key`."""
        self._first = (key, limit, await self._list(key, limit))
        return self.read.profiles.get(self._owner_id), self.read.relations.get(self._owner_id, domain.NO_RELATION)

    async def below(self, key: str | None, limit: int) -> Batch:
        first, self._first = self._first, None
        if first is not None and first[:2] == (key, limit):
            return first[2]
        return await self._list(key, limit)

    async def _list(self, key: str | None, limit: int) -> Batch:
        listed = await self._tweets.user_tweets_with_accounts(self._owner_id, self._viewer_id, until_id=_until(key),
                                                              limit=min(limit, domain.PAGE_MAX))
        self.read.tweets.update((t.id, t) for t in listed.tweets)
        self.read.profiles.update(listed.profiles)
        self.read.relations.update(listed.relations)
        return Batch([domain.tweet_entry(t.id, t.author_id) for t in listed.tweets], listed.more)


def _until(key: str | None) -> int:
    return Entry.from_key(key).entry_id if key is not None else 0


class TimelineReader:
    def __init__(
        self,
        store: TimelineStore,
        cache: TimelineCache,
        hydrator: Hydrator,
        tweets: TweetClient,
        graph: GraphClient,
        users: UserClient,
        *,
        celebrity_threshold: int,
        rebuild_followees: int,
        rebuild_tweets_per_followee: int,
        rebuild_fallback_followees: int = 50,
        rebuild_concurrency: int = 8,
    ) -> None:
        self._store = store
        self._cache = cache
        self._hydrator = hydrator
        self._tweets = tweets
        self._graph = graph
        self._users = users
        self._threshold = celebrity_threshold
        self._rebuild_followees = rebuild_followees
        self._per_followee = rebuild_tweets_per_followee
        self._fallback_followees = rebuild_fallback_followees
        self._rebuild_concurrency = rebuild_concurrency

    # --- who the viewer follows -------------------------------------------------------------------

    async def _fresh_followees(self, viewer: int) -> tuple[list[int], Followees]:
        following = await self._graph.following_ids(viewer)
        counts = await self._graph.follower_counts(following)
        celebrities = tuple(u for u in following if domain.is_celebrity(counts.get(u, 0), self._threshold))
        followees = Followees(len(following), celebrities)
        await self._cache.set_followees(viewer, followees)
        return following, followees

    async def followees(self, viewer: int) -> Followees:
        """How many accounts the viewer follows and the celebrities among them, cached for a while."""
        cached = await self._cache.followees(viewer)
        if cached is not None:
            return cached
        return (await self._fresh_followees(viewer))[1]

    # --- rebuilding -------------------------------------------------------------------------------

    async def rebuild(self, viewer: int) -> int:
        """Replaces the viewer's cached home timeline with its persisted entries and the recent entries
        (tweets and retweets) of the viewer and of the non-celebrity accounts the viewer follows, read
        from the user timeline index this service keeps from tweet and retweet events: one local read
        for every followee, no call per followee. Returns how many entries the timeline holds."""
        following, followees = await self._fresh_followees(viewer)
        celebrities = set(followees.celebrities)
        authors = list(dict.fromkeys([viewer, *(u for u in following if u not in celebrities)]))
        authors = authors[: self._rebuild_followees + 1]
        persisted, indexed = await asyncio.gather(
            self._store.home_entries(viewer, None, self._cache.cap),
            self._store.latest_user_entries(authors, self._per_followee))
        unindexed = await self._unindexed_recent(viewer, [a for a in authors if not indexed.get(a)])
        from_index = [e for found in indexed.values() for e in found]
        metrics.REBUILDS.inc()
        metrics.REBUILD_ENTRIES.labels("persisted").inc(len(persisted))
        metrics.REBUILD_ENTRIES.labels("index").inc(len(from_index))
        metrics.REBUILD_ENTRIES.labels("fallback").inc(len(unindexed))
        entries = domain.newest_first([*persisted, *from_index, *unindexed])[: self._cache.cap]
        await self._cache.replace(viewer, entries)
        # A fan-out that ran while the snapshot was taken persisted its entry but found no timeline
        # built, so it skipped the cache: what is persisted now goes in on top.
        late = await self._store.home_entries(viewer, None, self._cache.cap)
        await self._cache.add([viewer], late)
        return min(len(domain.newest_first([*entries, *late])), self._cache.cap)

    async def _unindexed_recent(self, viewer: int, authors: Sequence[int]) -> list[Entry]:
        """The fallback for followees with nothing in the user timeline index: those that have tweets
        (one BatchGetTweetCounts for all of them) are asked for their recent tweets (ListUserTweets),
        at most `rebuild_fallback_followees` of them. Once the index holds everything the events
        said (the normal case), an empty partition means no tweets and this asks nothing more."""
        if not authors or self._fallback_followees <= 0:
            return []
        counts = await self._tweets.tweet_counts(authors)
        posting = [a for a in authors if counts.get(a, 0) > 0][: self._fallback_followees]
        limit = asyncio.Semaphore(self._rebuild_concurrency)

        async def recent(author: int) -> list[Entry]:
            async with limit:
                tweets, _ = await self._tweets.user_tweets(author, viewer, until_id=0, limit=self._per_followee)
            return [domain.tweet_entry(t.id, t.author_id) for t in tweets]

        metrics.REBUILD_FALLBACK_CALLS.inc(len(posting))
        found = await asyncio.gather(*(recent(a) for a in posting))
        return [e for entries in found for e in entries]

    async def ensure_built(self, viewer: int) -> None:
        if not await self._cache.touch(viewer):
            await self.rebuild(viewer)

    # --- pages ------------------------------------------------------------------------------------

    async def _page(self, viewer: int, sources: Sequence[Source], position: Position | None, limit: int,
                    filter_: str, policy: Policy, read: Read | None = None) -> tuple[Items, Position | None]:
        """A page of `limit` items below `position`. Windows of candidates are hydrated one after the
        other while filtering leaves the page short, up to SCAN_WINDOWS of them. The next position is
        the last candidate consumed, so pages never overlap or skip, whatever arrives meanwhile.
        `read` holds tweets and accounts a source has already read for the viewer."""
        size = domain.window_size(limit)
        seen = set(position.seen) if position else set()
        below = position.key if position else None
        items: Items = []
        metrics.PAGES.labels(policy.value).inc()
        for _ in range(domain.SCAN_WINDOWS):
            batches = await asyncio.gather(*(source.below(below, size) for source in sources))
            window = domain.merge_window(batches, size)
            if not window.entries:
                return items, None
            metrics.WINDOWS.labels(policy.value).inc()
            shown = await self._hydrator.shown(viewer, window.entries, policy=policy, filter_=filter_, read=read)
            taken = domain.take(window.entries, shown.kept, limit - len(items), seen)
            items += await self._hydrator.items(viewer, taken.entries, shown)
            below = taken.last_key
            if not taken.more_in_window and window.exhausted:
                return items, None
            if len(items) == limit:
                break
        assert below is not None
        return items, Position(below, domain.carried_seen(seen, below))

    async def home(self, viewer: int, position: Position | None, limit: int, filter_: str
                   ) -> tuple[Items, Position | None]:
        await self.ensure_built(viewer)
        followees = await self.followees(viewer)
        sources: list[Source] = [
            PartitionSource(self._cache.page, viewer),
            TweetsSource(self._tweets, viewer, viewer),
            *(PartitionSource(self._store.user_entries, celebrity) for celebrity in followees.celebrities),
        ]
        items, after = await self._page(viewer, sources, position, limit, filter_, Policy.HOME)
        if not items and after is None and position is None and not filter_ and followees.count == 0:
            return await self.suggestions(viewer, limit), None
        return items, after

    async def suggestions(self, viewer: int, limit: int) -> Items:
        """Popular public tweets, most popular first, for a viewer who follows nobody and has nothing."""
        tweets = await self._tweets.popular(limit)
        entries = [domain.tweet_entry(t.id, t.author_id) for t in tweets]
        shown = await self._hydrator.shown(viewer, entries, policy=Policy.SUGGESTION, known={t.id: t for t in tweets})
        return await self._hydrator.items(viewer, [e for e in entries if e.key in shown.tweets], shown)

    async def profile(self, viewer: int, owner: int, position: Position | None, limit: int, filter_: str
                      ) -> tuple[Items, Position | None]:
        # The tweet service looks the owner up to list the owner's tweets for the viewer anyway, so
        # its answer for the first window decides access too: asking the user and graph services
        # first would cost two more calls a page for the same answers. Nothing is hydrated before
        # the check, and the tweet service lists nothing the viewer may not see.
        owned = OwnerTweetsSource(self._tweets, owner, viewer)
        found, relation = await owned.first(position.key if position else None, domain.window_size(limit))
        domain.check_profile_access(viewer, owner, exists=found is not None, private=bool(found and found.is_private),
                                    relation=relation)
        sources = [PartitionSource(self._store.user_entries, owner), owned]
        return await self._page(viewer, sources, position, limit, filter_, Policy.PROFILE, read=owned.read)

    async def require_user(self, user_id: int) -> None:
        if user_id not in await self._users.profiles([user_id]):
            raise domain.user_not_found(user_id)
