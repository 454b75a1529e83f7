"""The counts a profile shows, owned by other services: followers and following (graph), tweets
(tweet). Each is read in one batch call; a service that does not answer leaves its counts at 0
rather than failing the profile, and says so in the log."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from chirp.tweet.v1 import tweet_service_pb2, tweet_service_pb2_grpc
from services.runtime.clients import DEFAULT_DEADLINE_S, downstream
from services.runtime.errors import Unavailable
from services.runtime.logging import get_logger
from services.user.graph_client import GraphClient

log = get_logger("chirp.user.counts")


@dataclass(frozen=True)
class Counts:
    followers: int = 0
    following: int = 0
    tweets: int = 0


class ProfileCounts:
    def __init__(self, graph: GraphClient, tweets: tweet_service_pb2_grpc.TweetServiceStub,
                 deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self._graph = graph
        self._tweets = tweets
        self._deadline_s = deadline_s

    async def _tweet_counts(self, user_ids: Sequence[int]) -> dict[int, int]:
        async with downstream("tweet"):
            reply = await self._tweets.BatchGetTweetCounts(
                tweet_service_pb2.BatchGetTweetCountsRequest(user_ids=list(user_ids)), timeout=self._deadline_s)
        return dict(reply.tweet_counts)

    async def for_users(self, user_ids: Sequence[int]) -> dict[int, Counts]:
        follows, tweets = await asyncio.gather(
            self._graph.follow_counts(user_ids), self._tweet_counts(user_ids), return_exceptions=True)
        if isinstance(follows, BaseException):
            if not isinstance(follows, Unavailable):
                raise follows
            log.warning("follow counts unavailable", user_ids=list(user_ids))
            follows = {}
        if isinstance(tweets, BaseException):
            if not isinstance(tweets, Unavailable):
                raise tweets
            log.warning("tweet counts unavailable", user_ids=list(user_ids))
            tweets = {}
        return {uid: Counts(*follows.get(uid, (0, 0)), tweets.get(uid, 0)) for uid in user_ids}
