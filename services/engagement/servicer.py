"""EngagementService over gRPC: proto in, domain rules, store, proto out. No driver imports here."""

from __future__ import annotations

import asyncio
from functools import partial

import grpc

from chirp.engagement.v1 import engagement_pb2, engagement_service_pb2, engagement_service_pb2_grpc
from chirp.tweet.v1 import tweet_pb2
from services.engagement import domain, events
from services.engagement.domain import Kind, Mark
from services.engagement.peers import Graph, Tweets, Users
from services.engagement.store.base import EngagementStore
from services.runtime.auth import current_principal, optional_principal
from services.runtime.cursors import CursorCodec, page_size
from services.runtime.idempotency import idempotency_key
from services.runtime.ids import SnowflakeGenerator
from services.runtime.outbox import OutboxRelay

E = engagement_service_pb2


def counts_proto(counts: domain.Counts) -> engagement_pb2.EngagementCounts:
    return engagement_pb2.EngagementCounts(
        like_count=counts.likes, retweet_count=counts.retweets, reply_count=counts.replies,
        quote_count=counts.quotes, bookmark_count=counts.bookmarks)


class EngagementServicer(engagement_service_pb2_grpc.EngagementServiceServicer):
    """Likes, retweets, bookmarks and the counts of each tweet; every RPC of the contract."""

    def __init__(
        self,
        store: EngagementStore,
        tweets: Tweets,
        users: Users,
        graph: Graph,
        ids: SnowflakeGenerator,
        cursors: CursorCodec,
        relay: OutboxRelay,
    ) -> None:
        self._store = store
        self._tweets = tweets
        self._users = users
        self._graph = graph
        self._ids = ids
        self._cursors = cursors
        self._relay = relay

    # --- helpers ----------------------------------------------------------------------------------

    async def _seen(self, viewer_id: int, tweet_id: int) -> tweet_pb2.Tweet:
        """The tweet as viewer_id sees it; NOT_FOUND when it is unknown, deleted or hidden from them."""
        domain.require_tweet_id(tweet_id)
        found = (await self._tweets.visible(viewer_id, [tweet_id])).get(tweet_id)
        if found is None:
            raise domain.tweet_not_found(tweet_id)
        return found

    async def _mark(self, kind: Kind, tweet: tweet_pb2.Tweet, me: int) -> Mark:
        """Puts the caller's mark on a tweet it may see; the standing one when there is one."""
        mark = Mark(kind, tweet.id, me, tweet.author_id, self._ids.next_id())
        outcome = await self._store.add(mark, events.added)
        if outcome.created:
            self._relay.notify()
        return outcome.mark

    async def _unmark(self, kind: Kind, tweet_id: int) -> None:
        """Takes away the caller's mark; nothing to do when there is none (or no such tweet)."""
        me = current_principal().user_id
        removed = await self._store.remove(kind, tweet_id, me, partial(events.removed, seq=self._ids.next_id()))
        if removed is not None:
            self._relay.notify()

    def _after(self, scope: str, cursor: str) -> domain.Entry | None:
        return domain.entry_of(self._cursors.decode(scope, cursor))

    def _next_cursor(self, scope: str, page: domain.Page) -> str:
        return "" if page.next is None else self._cursors.encode(scope, domain.cursor_fields(page.next))

    # --- public RPCs ------------------------------------------------------------------------------

    async def LikeTweet(self, request: E.LikeTweetRequest, context: object) -> E.LikeTweetResponse:
        me = current_principal().user_id
        await self._mark(Kind.LIKE, await self._seen(me, request.id), me)
        return E.LikeTweetResponse(message="Tweet liked")

    async def UnlikeTweet(self, request: E.UnlikeTweetRequest, context: object) -> E.UnlikeTweetResponse:
        await self._unmark(Kind.LIKE, request.id)
        return E.UnlikeTweetResponse(message="Tweet unliked")

    async def Retweet(self, request: E.RetweetRequest, context: grpc.aio.ServicerContext) -> E.RetweetResponse:
        me = current_principal().user_id
        comment = domain.check_comment(request.comment)
        key = idempotency_key(context, request.request_id)
        if comment:
            domain.require_tweet_id(request.id)
            quote = await self._tweets.quote(me, request.id, comment, key)
            return E.RetweetResponse(message="Retweeted", retweet_id=quote.id)
        tweet = await self._seen(me, request.id)
        domain.check_retweet(me, tweet.author_id, author_private=tweet.visibility == tweet_pb2.VISIBILITY_FOLLOWERS)
        retweet = await self._mark(Kind.RETWEET, tweet, me)
        return E.RetweetResponse(message="Retweeted", retweet_id=retweet.seq)

    async def Unretweet(self, request: E.UnretweetRequest, context: object) -> E.UnretweetResponse:
        await self._unmark(Kind.RETWEET, request.id)
        return E.UnretweetResponse(message="Retweet undone")

    async def BookmarkTweet(self, request: E.BookmarkTweetRequest, context: object) -> E.BookmarkTweetResponse:
        me = current_principal().user_id
        await self._mark(Kind.BOOKMARK, await self._seen(me, request.id), me)
        return E.BookmarkTweetResponse(message="Tweet bookmarked")

    async def UnbookmarkTweet(
        self, request: E.UnbookmarkTweetRequest, context: object
    ) -> E.UnbookmarkTweetResponse:
        await self._unmark(Kind.BOOKMARK, request.id)
        return E.UnbookmarkTweetResponse(message="Bookmark removed")

    async def ListBookmarks(self, request: E.ListBookmarksRequest, context: object) -> E.ListBookmarksResponse:
        me = current_principal().user_id
        scope = f"bookmarks:{me}"
        after = self._after(scope, request.cursor)
        size = page_size(request.limit, default=domain.PAGE_DEFAULT, maximum=domain.PAGE_MAX)
        page = await self._store.bookmarks(me, after, size)
        shown = await self._tweets.visible(me, (entry.id for entry in page.entries))
        return E.ListBookmarksResponse(
            tweets=[engagement_pb2.Bookmark(tweet_id=entry.id, tweet=shown.get(entry.id),
                                            created_at=events.occurred_at(entry.seq)) for entry in page.entries],
            next_cursor=self._next_cursor(scope, page),
        )

    async def GetEngagementCounts(
        self, request: E.GetEngagementCountsRequest, context: object
    ) -> engagement_pb2.EngagementCounts:
        principal = optional_principal()
        tweet = await self._seen(principal.user_id if principal else 0, request.id)
        found = await self._store.engagement(0, [tweet.id])
        return counts_proto(found[tweet.id].counts)

    async def ListLikers(self, request: E.ListLikersRequest, context: object) -> E.ListLikersResponse:
        me = current_principal().user_id
        scope = f"likers:{request.id}"
        after = self._after(scope, request.cursor)
        size = page_size(request.limit, default=domain.PAGE_DEFAULT, maximum=domain.PAGE_MAX)
        _, page = await asyncio.gather(self._seen(me, request.id), self._store.likers(request.id, after, size))
        likers = [entry.id for entry in page.entries]
        profiles, blocked = await asyncio.gather(self._users.profiles(likers), self._graph.blocked_either_way(me, likers))
        return E.ListLikersResponse(
            users=[profiles[uid] for uid in likers if uid in profiles and uid not in blocked],
            next_cursor=self._next_cursor(scope, page),
        )

    # --- internal RPCs ----------------------------------------------------------------------------

    async def BatchGetEngagement(
        self, request: E.BatchGetEngagementRequest, context: object
    ) -> E.BatchGetEngagementResponse:
        ids = domain.batch_ids(request.tweet_ids)
        found = await self._store.engagement(max(request.viewer_id, 0), ids)
        return E.BatchGetEngagementResponse(engagements={
            tweet_id: engagement_pb2.TweetEngagement(
                counts=counts_proto(e.counts), liked=e.liked, retweeted=e.retweeted, bookmarked=e.bookmarked)
            for tweet_id, e in found.items()
        })
