"""The services the timeline service asks, as it asks them: in batches (one call per 500 ids, run
concurrently, never one call per item), always with a deadline, their failures translated by
services.runtime.clients.downstream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from chirp.engagement.v1 import engagement_pb2, engagement_service_pb2, engagement_service_pb2_grpc
from chirp.graph.v1 import graph_pb2, graph_service_pb2, graph_service_pb2_grpc
from chirp.tweet.v1 import tweet_pb2, tweet_service_pb2, tweet_service_pb2_grpc
from chirp.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from services.runtime.clients import DEFAULT_DEADLINE_S, downstream
from services.timeline.domain import Relation, chunks

K = TypeVar("K")
V = TypeVar("V")


async def _batched(service: str, ids: Iterable[int], call: Callable[[list[int]], Awaitable[Mapping[K, V]]]) -> dict[K, V]:
    """Runs `call` on each chunk of distinct positive ids concurrently and merges the answers."""
    distinct = [i for i in dict.fromkeys(ids) if i > 0]
    if not distinct:
        return {}
    async with downstream(service):
        answers = await asyncio.gather(*(call(chunk) for chunk in chunks(distinct)))
    return {key: value for answer in answers for key, value in answer.items()}


class UserClient:
    def __init__(self, stub: user_service_pb2_grpc.UserServiceStub, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self._stub = stub
        self._deadline_s = deadline_s

    async def profiles(self, user_ids: Iterable[int]) -> dict[int, user_pb2.Profile]:
        """The public profiles of the live accounts among user_ids (BatchGetUsers)."""

        async def call(chunk: list[int]) -> Mapping[int, user_pb2.Profile]:
            reply = await self._stub.BatchGetUsers(user_service_pb2.BatchGetUsersRequest(ids=chunk),
                                                   timeout=self._deadline_s)
            return reply.profiles

        return await _batched("user", user_ids, call)


def relation_of(relationship: graph_pb2.Relationship) -> Relation:
    return Relation(relationship.following, relationship.blocking, relationship.blocked_by, relationship.muting)


class GraphClient:
    def __init__(self, stub: graph_service_pb2_grpc.GraphServiceStub, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self._stub = stub
        self._deadline_s = deadline_s

    async def relations(self, viewer_id: int, user_ids: Iterable[int]) -> dict[int, Relation]:
        """How the viewer stands towards each of user_ids (BatchGetRelationships); the viewer is left out."""

        async def call(chunk: list[int]) -> Mapping[int, Relation]:
            reply = await self._stub.BatchGetRelationships(
                graph_service_pb2.BatchGetRelationshipsRequest(viewer_id=viewer_id, target_ids=chunk),
                timeout=self._deadline_s)
            return {uid: relation_of(r) for uid, r in reply.relationships.items()}

        return await _batched("graph", (i for i in user_ids if i != viewer_id), call)

    async def follower_counts(self, user_ids: Iterable[int]) -> dict[int, int]:
        """How many approved followers each account has (BatchGetFollowCounts)."""

        async def call(chunk: list[int]) -> Mapping[int, int]:
            reply = await self._stub.BatchGetFollowCounts(
                graph_service_pb2.BatchGetFollowCountsRequest(user_ids=chunk), timeout=self._deadline_s)
            return {uid: c.followers_count for uid, c in reply.counts.items()}

        return await _batched("graph", user_ids, call)

    async def following_ids(self, user_id: int) -> list[int]:
        """Every account user_id follows, the most recent follow first (ListFollowingIds, page after page)."""
        found: list[int] = []
        cursor = ""
        async with downstream("graph"):
            while True:
                reply = await self._stub.ListFollowingIds(
                    graph_service_pb2.ListFollowingIdsRequest(user_id=user_id, cursor=cursor, limit=5000),
                    timeout=self._deadline_s)
                found += reply.following_ids
                cursor = reply.next_cursor
                if not cursor:
                    return found

    async def follower_pages(self, user_id: int, page_size: int, *, timeout_s: float) -> AsyncIterator[list[int]]:
        """The ids of user_id's followers, a page at a time (StreamFollowerIds); the whole stream,
        consumed at the pace of its reader, has the deadline timeout_s. Read it inside
        contextlib.aclosing: a reader that stops early (or fails) then ends the call at once, in its
        own task, instead of leaving it to the garbage collector."""
        request = graph_service_pb2.StreamFollowerIdsRequest(user_id=user_id, page_size=page_size)
        call = self._stub.StreamFollowerIds(request, timeout=timeout_s)
        try:
            async with downstream("graph"):
                async for page in call:
                    yield list(page.follower_ids)
        finally:
            call.cancel()  # nothing once the stream has ended


@dataclass(frozen=True)
class Read:
    """Tweets as a viewer may see them, and what the tweet service learned of the accounts involved."""

    tweets: dict[int, tweet_pb2.Tweet]
    profiles: dict[int, user_pb2.Profile]  # the live accounts only
    relations: dict[int, Relation]  # the viewer left out


@dataclass(frozen=True)
class Listed:
    """An author's tweets as a viewer may see them, and what the tweet service learned of the
    author (and of the quoted authors) to decide that."""

    tweets: list[tweet_pb2.Tweet]
    more: bool
    profiles: dict[int, user_pb2.Profile]  # the live accounts only
    relations: dict[int, Relation]  # the viewer left out


class TweetClient:
    def __init__(self, stub: tweet_service_pb2_grpc.TweetServiceStub, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self._stub = stub
        self._deadline_s = deadline_s

    async def tweets_with_accounts(self, viewer_id: int, tweet_ids: Iterable[int], account_ids: Iterable[int]
                                   ) -> Read:
        """The tweets the viewer may see, with their quoted tweets, and the profiles of and the
        viewer's relations towards their authors and account_ids, which the tweet service reads to
        apply visibility anyway (BatchGetTweets with include_accounts). At most 500 account_ids:
        each batch of tweets carries them all."""
        accounts = list(dict.fromkeys(i for i in account_ids if i > 0))
        profiles: dict[int, user_pb2.Profile] = {}
        relations: dict[int, Relation] = {}

        async def call(chunk: list[int]) -> Mapping[int, tweet_pb2.Tweet]:
            reply = await self._stub.BatchGetTweets(
                tweet_service_pb2.BatchGetTweetsRequest(viewer_id=viewer_id, ids=chunk, include_accounts=True,
                                                        account_ids=accounts),
                timeout=self._deadline_s)
            profiles.update(reply.profiles)
            relations.update((uid, relation_of(r)) for uid, r in reply.relationships.items())
            return reply.tweets

        tweets = await _batched("tweet", tweet_ids, call)
        return Read(tweets, profiles, relations)

    async def user_tweets(self, user_id: int, viewer_id: int, *, until_id: int, limit: int
                          ) -> tuple[list[tweet_pb2.Tweet], bool]:
        """The newest `limit` tweets of user_id below until_id (0: none) that the viewer may see, and
        whether there are more (ListUserTweets)."""
        async with downstream("tweet"):
            reply = await self._stub.ListUserTweets(
                tweet_service_pb2.ListUserTweetsRequest(user_id=user_id, viewer_id=viewer_id, until_id=until_id,
                                                        limit=limit),
                timeout=self._deadline_s)
        return list(reply.tweets), bool(reply.next_cursor)

    async def user_tweets_with_accounts(self, user_id: int, viewer_id: int, *, until_id: int, limit: int) -> Listed:
        """As user_tweets, with the author's profile (absent: the account is gone) and the viewer's
        relation towards the author, which the tweet service reads to apply visibility anyway, even
        when it lists nothing (ListUserTweets with include_accounts)."""
        async with downstream("tweet"):
            reply = await self._stub.ListUserTweets(
                tweet_service_pb2.ListUserTweetsRequest(user_id=user_id, viewer_id=viewer_id, until_id=until_id,
                                                        limit=limit, include_accounts=True),
                timeout=self._deadline_s)
        return Listed(list(reply.tweets), bool(reply.next_cursor), dict(reply.profiles),
                      {uid: relation_of(r) for uid, r in reply.relationships.items()})

    async def tweet_counts(self, user_ids: Iterable[int]) -> dict[int, int]:
        """How many live tweets each account has posted (BatchGetTweetCounts: a counter read)."""

        async def call(chunk: list[int]) -> Mapping[int, int]:
            reply = await self._stub.BatchGetTweetCounts(
                tweet_service_pb2.BatchGetTweetCountsRequest(user_ids=chunk), timeout=self._deadline_s)
            return reply.tweet_counts

        return await _batched("tweet", user_ids, call)

    async def popular(self, limit: int) -> list[tweet_pb2.Tweet]:
        """The most engaged-with public tweets of the last day (ListRecentPopularTweets)."""
        async with downstream("tweet"):
            reply = await self._stub.ListRecentPopularTweets(
                tweet_service_pb2.ListRecentPopularTweetsRequest(limit=limit), timeout=self._deadline_s)
        return list(reply.tweets)


class EngagementClient:
    def __init__(self, stub: engagement_service_pb2_grpc.EngagementServiceStub,
                 deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self._stub = stub
        self._deadline_s = deadline_s

    async def engagement(self, viewer_id: int, tweet_ids: Iterable[int]) -> dict[int, engagement_pb2.TweetEngagement]:
        """Each tweet's counts and the viewer's likes, retweets and bookmarks (BatchGetEngagement)."""

        async def call(chunk: list[int]) -> Mapping[int, engagement_pb2.TweetEngagement]:
            reply = await self._stub.BatchGetEngagement(
                engagement_service_pb2.BatchGetEngagementRequest(viewer_id=viewer_id, tweet_ids=chunk),
                timeout=self._deadline_s)
            return reply.engagements

        return await _batched("engagement", tweet_ids, call)
