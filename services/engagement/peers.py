"""The services the engagement service asks, as it asks them: one call per batch (pages are at most
100 long, under every batch limit), always with a deadline, their failures translated by
services.runtime.clients.downstream."""

from __future__ import annotations

from collections.abc import Iterable

from chirp.graph.v1 import graph_service_pb2, graph_service_pb2_grpc
from chirp.tweet.v1 import tweet_pb2, tweet_service_pb2, tweet_service_pb2_grpc
from chirp.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from services.runtime.clients import downstream


class Tweets:
    def __init__(self, stub: tweet_service_pb2_grpc.TweetServiceStub, *, timeout_s: float) -> None:
        self._stub = stub
        self._timeout_s = timeout_s

    async def visible(self, viewer_id: int, tweet_ids: Iterable[int]) -> dict[int, tweet_pb2.Tweet]:
        """The tweets among tweet_ids that exist and viewer_id (0: signed out) may see, by id
        (BatchGetTweets); deleted and hidden ones are left out."""
        ids = [i for i in dict.fromkeys(tweet_ids) if i > 0]
        if not ids:
            return {}
        async with downstream("tweet"):
            reply = await self._stub.BatchGetTweets(
                tweet_service_pb2.BatchGetTweetsRequest(viewer_id=max(viewer_id, 0), ids=ids), timeout=self._timeout_s)
        return dict(reply.tweets)

    async def quote(self, author_id: int, tweet_id: int, comment: str, request_id: str) -> tweet_pb2.Tweet:
        """Posts author_id's quote of tweet_id (CreateQuote); the tweet service checks the comment and
        whether the author may quote the tweet, and returns the first quote again for a repeated
        request_id."""
        async with downstream("tweet"):
            return await self._stub.CreateQuote(tweet_service_pb2.CreateQuoteRequest(
                author_id=author_id, quote_tweet_id=tweet_id, comment=comment, request_id=request_id),
                timeout=self._timeout_s)


class Users:
    def __init__(self, stub: user_service_pb2_grpc.UserServiceStub, *, timeout_s: float) -> None:
        self._stub = stub
        self._timeout_s = timeout_s

    async def profiles(self, user_ids: Iterable[int]) -> dict[int, user_pb2.Profile]:
        """The live accounts among user_ids, by id (BatchGetUsers); deleted ones are left out."""
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return {}
        async with downstream("user"):
            reply = await self._stub.BatchGetUsers(user_service_pb2.BatchGetUsersRequest(ids=ids),
                                                   timeout=self._timeout_s)
        return dict(reply.profiles)


class Graph:
    def __init__(self, stub: graph_service_pb2_grpc.GraphServiceStub, *, timeout_s: float) -> None:
        self._stub = stub
        self._timeout_s = timeout_s

    async def blocked_either_way(self, viewer_id: int, user_ids: Iterable[int]) -> set[int]:
        """The accounts among user_ids that viewer_id blocks or is blocked by (BatchGetRelationships)."""
        ids = [i for i in dict.fromkeys(user_ids) if i != viewer_id]
        if viewer_id <= 0 or not ids:
            return set()
        async with downstream("graph"):
            reply = await self._stub.BatchGetRelationships(
                graph_service_pb2.BatchGetRelationshipsRequest(viewer_id=viewer_id, target_ids=ids),
                timeout=self._timeout_s)
        return {uid for uid, rel in reply.relationships.items() if rel.blocking or rel.blocked_by}
