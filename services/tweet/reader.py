"""Reading tweets as one viewer may see them: hydration with the visibility rules, in batches.

However many tweets a read covers, it costs one store read for the quoted tweets, one for the
viewer's poll votes, one BatchGetUsers (the authors: whether each exists and is private) and one
BatchGetRelationships (the viewer's follows and blocks), the last three concurrently; never a
call per tweet. The profiles and relationships read are kept as answered, so that BatchGetTweets
can hand them to a timeline instead of the timeline asking for them again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from chirp.graph.v1 import graph_pb2
from chirp.tweet.v1 import tweet_pb2
from services.tweet.domain import NO_RELATION, Relation, Tweet, can_see
from services.tweet.messages import tweet_proto
from services.tweet.peers import Author, GraphClient, UserClient
from services.tweet.store.base import TweetStore


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Audience:
    """What one viewer's reads need to know of a set of authors."""

    viewer_id: int  # 0: signed out
    authors: dict[int, Author] = field(default_factory=dict)  # the live accounts only
    relations: dict[int, Relation] = field(default_factory=dict)
    relationships: dict[int, graph_pb2.Relationship] = field(default_factory=dict)  # as the graph answered
    asked: set[int] = field(default_factory=set)  # every author id looked up, live or not

    def relation(self, author_id: int) -> Relation:
        return self.relations.get(author_id, NO_RELATION)

    def private(self, author_id: int) -> bool:
        author = self.authors.get(author_id)
        return bool(author and author.is_private)

    def sees(self, author_id: int) -> bool:
        return can_see(self.viewer_id, author_id, author_exists=author_id in self.authors,
                       author_private=self.private(author_id), relation=self.relation(author_id))

    def blocked_either_way(self, user_id: int) -> bool:
        relation = self.relation(user_id)
        return relation.blocking or relation.blocked_by


class TweetReader:
    def __init__(self, store: TweetStore, users: UserClient, graph: GraphClient,
                 clock_ms: Callable[[], int] = now_ms) -> None:
        self._store = store
        self._users = users
        self._graph = graph
        self._clock_ms = clock_ms

    async def audience(self, viewer_id: int, author_ids: Iterable[int], known: Audience | None = None) -> Audience:
        """The viewer's audience for author_ids, asking only about the ones `known` has not."""
        audience = known or Audience(viewer_id)
        missing = [i for i in dict.fromkeys(author_ids) if i not in audience.asked]
        if missing:
            authors, relationships = await asyncio.gather(
                self._users.authors(missing), self._graph.relationships(viewer_id, missing))
            audience.authors.update(authors)
            audience.relationships.update(relationships)
            audience.relations.update(
                (uid, Relation(r.following, r.blocking, r.blocked_by)) for uid, r in relationships.items())
            audience.asked.update(missing)
        return audience

    async def visible(self, viewer_id: int, tweets: Sequence[Tweet], known: Audience | None = None,
                      *, also: Iterable[int] = ()) -> dict[int, tweet_pb2.Tweet]:
        """The given live tweets the viewer may see, as messages by id in the given order, each with
        its quoted tweet when that is live and visible too, and the viewer's poll votes. The
        accounts in `also` are looked up with the authors, into `known`."""
        if not tweets:
            if known is not None:
                await self.audience(viewer_id, also, known)
            return {}
        given = {t.id: t for t in tweets}
        quoted_ids = [t.quote_id for t in tweets if t.quote_id and t.quote_id not in given]
        quoted = await self._store.get_tweets(quoted_ids) if quoted_ids else {}
        pool = {**quoted, **given}
        polled = [t.id for t in pool.values() if t.poll is not None]
        audience, votes = await asyncio.gather(
            self.audience(viewer_id, [*(t.author_id for t in pool.values()), *also], known),
            self._store.viewer_votes(viewer_id, polled) if viewer_id > 0 and polled else _no_votes(),
        )
        now = self._clock_ms()

        def message(tweet: Tweet, quoted: tweet_pb2.Tweet | None = None) -> tweet_pb2.Tweet:
            return tweet_proto(tweet, author_private=audience.private(tweet.author_id), now_ms=now,
                               viewer_option=votes.get(tweet.id), quoted=quoted)

        shown: dict[int, tweet_pb2.Tweet] = {}
        for tweet in tweets:
            if not audience.sees(tweet.author_id):
                continue
            inner = pool.get(tweet.quote_id) if tweet.quote_id else None
            embedded = message(inner) if inner is not None and audience.sees(inner.author_id) else None
            shown[tweet.id] = message(tweet, embedded)
        return shown


async def _no_votes() -> dict[int, int]:
    return {}
