"""The services the tweet service asks, as it asks them: in batches (one call per 500 ids, run
concurrently, never one call per item), always with a deadline, their failures translated by
services.runtime.clients.downstream."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from chirp.engagement.v1 import engagement_service_pb2, engagement_service_pb2_grpc
from chirp.graph.v1 import graph_pb2, graph_service_pb2, graph_service_pb2_grpc
from chirp.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from services.runtime.clients import DEFAULT_DEADLINE_S, downstream
from services.tweet.domain import BATCH_LIMIT, Engagement

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


async def _batched(service: str, ids: Iterable[T], call: Callable[[list[T]], Awaitable[Mapping[K, V]]]) -> dict[K, V]:
    """Runs `call` on each chunk of BATCH_LIMIT distinct ids concurrently and merges the answers."""
    distinct = list(dict.fromkeys(ids))
    chunks = [distinct[start:start + BATCH_LIMIT] for start in range(0, len(distinct), BATCH_LIMIT)]
    async with downstream(service):
        answers = await asyncio.gather(*(call(chunk) for chunk in chunks))
    return {key: value for answer in answers for key, value in answer.items()}


@dataclass(frozen=True)
class Author:
    """What reads need of an account: whether it exists (it is answered at all) and is private.
    `profile` is the profile it was read from, which BatchGetTweets hands on to timelines."""

    id: int
    username: str
    is_private: bool
    profile: user_pb2.Profile = field(default_factory=user_pb2.Profile, compare=False, repr=False)


class UserClient:
    def __init__(self, stub: user_service_pb2_grpc.UserServiceStub, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self._stub = stub
        self._deadline_s = deadline_s

    async def authors(self, user_ids: Iterable[int]) -> dict[int, Author]:
        """The live accounts among user_ids, by id (BatchGetUsers)."""

        async def call(chunk: list[int]) -> dict[int, Author]:
            reply = await self._stub.BatchGetUsers(user_service_pb2.BatchGetUsersRequest(ids=chunk),
                                                   timeout=self._deadline_s)
            return {uid: Author(uid, p.username, p.is_private, p) for uid, p in reply.profiles.items()}

        return await _batched("user", (i for i in user_ids if i > 0), call)

    async def resolve(self, usernames: Iterable[str]) -> dict[str, int]:
        """Account ids by lowercased username (ResolveUsernames); unknown names are left out."""

        async def call(chunk: list[str]) -> Mapping[str, int]:
            reply = await self._stub.ResolveUsernames(
                user_service_pb2.ResolveUsernamesRequest(usernames=chunk), timeout=self._deadline_s)
            return reply.user_ids

        return await _batched("user", usernames, call)


class GraphClient:
    def __init__(self, stub: graph_service_pb2_grpc.GraphServiceStub, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self._stub = stub
        self._deadline_s = deadline_s

    async def relationships(self, viewer_id: int, user_ids: Iterable[int]) -> dict[int, graph_pb2.Relationship]:
        """How viewer_id stands towards each of user_ids, as the graph service answers it
        (BatchGetRelationships); {} for a signed-out viewer, who follows and blocks nobody."""
        if viewer_id <= 0:
            return {}

        async def call(chunk: list[int]) -> Mapping[int, graph_pb2.Relationship]:
            reply = await self._stub.BatchGetRelationships(
                graph_service_pb2.BatchGetRelationshipsRequest(viewer_id=viewer_id, target_ids=chunk),
                timeout=self._deadline_s)
            return reply.relationships

        return await _batched("graph", (i for i in user_ids if i > 0 and i != viewer_id), call)


class EngagementClient:
    def __init__(self, stub: engagement_service_pb2_grpc.EngagementServiceStub,
                 deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self._stub = stub
        self._deadline_s = deadline_s

    async def counts(self, tweet_ids: Iterable[int]) -> dict[int, Engagement]:
        """Each tweet's likes, retweets, replies and quotes (BatchGetEngagement, as a signed-out reader)."""

        async def call(chunk: list[int]) -> dict[int, Engagement]:
            reply = await self._stub.BatchGetEngagement(
                engagement_service_pb2.BatchGetEngagementRequest(tweet_ids=chunk), timeout=self._deadline_s)
            return {tid: Engagement(e.counts.like_count, e.counts.retweet_count, e.counts.reply_count,
                                    e.counts.quote_count) for tid, e in reply.engagements.items()}

        return await _batched("engagement", tweet_ids, call)
