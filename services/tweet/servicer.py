"""TweetService over gRPC: proto in, domain rules, store, proto out. No driver imports here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import grpc

from chirp.tweet.v1 import tweet_pb2, tweet_service_pb2, tweet_service_pb2_grpc
from services.runtime.auth import current_principal, optional_principal
from services.runtime.cursors import CursorCodec, page_size
from services.runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable
from services.runtime.idempotency import idempotency_key
from services.runtime.ids import SnowflakeGenerator, lowest_id_at
from services.runtime.logging import get_logger
from services.runtime.outbox import OutboxRelay
from services.tweet import domain
from services.tweet.domain import Draft, Engagement, Tweet, tweet_not_found
from services.tweet.language import detect_language
from services.tweet.messages import poll_proto, poll_voted, tweet_created, tweet_deleted
from services.tweet.peers import EngagementClient, UserClient
from services.tweet.reader import Audience, TweetReader, now_ms
from services.tweet.store.base import TweetStore

log = get_logger("chirp.tweet")



def _draft(request: Any) -> Draft:
    """The checked content of a CreateTweetRequest or CreateReplyRequest."""
    poll = (list(request.poll.options), request.poll.duration_minutes) if request.HasField("poll") else None
    return domain.validate_draft(request.text, list(request.media_urls), poll, request.location)


def _viewer() -> int:
    principal = optional_principal()
    return principal.user_id if principal else 0


def _position(fields: dict[str, Any] | None, name: str) -> int:
    """The id a decoded cursor holds under `name` (0 for the first page); INVALID_CURSOR otherwise."""
    if fields is None:
        return 0
    value = fields.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidArgument("INVALID_CURSOR", "The cursor is not valid for this list; start again without one.")
    return value


class TweetServicer(tweet_service_pb2_grpc.TweetServiceServicer):
    """Tweets, replies, quotes, polls and the entities parsed at write; every RPC of the contract."""

    def __init__(
        self,
        store: TweetStore,
        reader: TweetReader,
        users: UserClient,
        engagement: EngagementClient,
        ids: SnowflakeGenerator,
        cursors: CursorCodec,
        relay: OutboxRelay,
        *,
        popular_window_s: int,
        popular_candidates: int,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self._reader = reader
        self._users = users
        self._engagement = engagement
        self._ids = ids
        self._cursors = cursors
        self._relay = relay
        self._popular_window_ms = popular_window_s * 1000
        self._popular_candidates = popular_candidates
        self._clock_ms = clock_ms

    # --- helpers ----------------------------------------------------------------------------------

    async def _live(self, tweet_id: int) -> Tweet | None:
        return (await self._store.get_tweets([tweet_id])).get(tweet_id) if tweet_id > 0 else None

    async def _shown(self, viewer: int, tweet: Tweet, known: Audience | None = None) -> tweet_pb2.Tweet:
        """The tweet as the viewer sees it; NOT_FOUND when it is gone or hidden from the viewer."""
        if not tweet.live:
            raise tweet_not_found()
        shown = await self._reader.visible(viewer, [tweet], known)
        if tweet.id not in shown:
            raise tweet_not_found()
        return shown[tweet.id]

    async def _post(self, author_id: int, draft: Draft, *, reply_to: int = 0, quote_of: int = 0,
                    key: str = "") -> tweet_pb2.Tweet:
        """Posts a checked draft as author_id (a reply, a quote, or neither) and returns it as the
        author sees it. A key that an earlier post of the author's used returns that post instead."""
        if key:
            earlier = await self._store.tweet_for_key(author_id, key)
            if earlier is not None:
                return await self._shown(author_id, earlier)
        if reply_to < 0 or quote_of < 0:
            raise tweet_not_found()
        parsed = domain.parse_entities(draft.text)
        target_ids = [i for i in (reply_to, quote_of) if i]
        resolved, targets = await asyncio.gather(
            self._users.resolve(parsed.usernames) if parsed.usernames else _nothing(),
            self._store.get_tweets(target_ids) if target_ids else _nothing(),
        )
        if any(i not in targets for i in target_ids):
            raise tweet_not_found()
        audience = await self._reader.audience(
            author_id, [author_id, *(t.author_id for t in targets.values()), *resolved.values()])
        author = audience.authors.get(author_id)
        if author is None:
            raise NotFound("USER_NOT_FOUND", "No such user.", {"user_id": str(author_id)})
        parent = targets.get(reply_to)
        if parent is not None:
            domain.check_reply_target(audience.sees(parent.author_id), audience.relation(parent.author_id))
        quoted = targets.get(quote_of)
        if quoted is not None:
            domain.check_quote_target(audience.sees(quoted.author_id), author_id, quoted.author_id,
                                      audience.private(quoted.author_id))
        entities = domain.resolve_entities(
            parsed, resolved, excluded=(uid for uid in resolved.values() if audience.blocked_either_way(uid)))
        tweet_id = self._ids.next_id()
        spans = [(e.start, e.end) for e in (*parsed.mentions, *parsed.hashtags, *parsed.urls)]
        tweet = Tweet(
            id=tweet_id, author_id=author_id, text=draft.text,
            conversation_id=parent.conversation_id if parent else tweet_id,
            reply_to_id=reply_to, quote_id=quote_of, media_urls=draft.media_urls,
            poll=domain.poll_of(draft.poll, tweet_id), location=draft.location, entities=entities,
            language=detect_language(draft.text, spans),
        )
        outcome = await self._store.create_tweet(tweet, key, [tweet_created(tweet, author_private=author.is_private)])
        if outcome.created:
            self._relay.notify()
        return await self._shown(author_id, outcome.tweet, audience)

    # --- public RPCs ------------------------------------------------------------------------------

    async def _create(self, request: Any, context: grpc.aio.ServicerContext, *, reply_to: int,
                      quote_of: int = 0) -> tweet_pb2.Tweet:
        """CreateTweet and CreateReply: the caller posts the request's content."""
        me = current_principal().user_id
        draft = _draft(request)
        return await self._post(me, draft, reply_to=reply_to, quote_of=quote_of,
                                key=idempotency_key(context, request.request_id))

    async def CreateTweet(
        self, request: tweet_service_pb2.CreateTweetRequest, context: grpc.aio.ServicerContext
    ) -> tweet_service_pb2.CreateTweetResponse:
        tweet = await self._create(request, context, reply_to=request.reply_to_tweet_id,
                                   quote_of=request.quote_tweet_id)
        return tweet_service_pb2.CreateTweetResponse(tweet_id=tweet.id, created_at=tweet.created_at, tweet_data=tweet)

    async def CreateReply(
        self, request: tweet_service_pb2.CreateReplyRequest, context: grpc.aio.ServicerContext
    ) -> tweet_service_pb2.CreateReplyResponse:
        if request.id <= 0:
            raise tweet_not_found()
        tweet = await self._create(request, context, reply_to=request.id)
        return tweet_service_pb2.CreateReplyResponse(tweet_id=tweet.id, created_at=tweet.created_at, tweet_data=tweet)

    async def GetTweet(self, request: tweet_service_pb2.GetTweetRequest, context: object) -> tweet_pb2.Tweet:
        tweet = await self._live(request.id)
        if tweet is None:
            raise tweet_not_found()
        return await self._shown(_viewer(), tweet)

    async def DeleteTweet(
        self, request: tweet_service_pb2.DeleteTweetRequest, context: object
    ) -> tweet_service_pb2.DeleteTweetResponse:
        me = current_principal().user_id
        tweet = (await self._store.get_tweets([request.id], include_gone=True)).get(request.id) if request.id > 0 else None
        if tweet is None:
            raise tweet_not_found()
        if tweet.author_id != me:
            await self._shown(me, tweet)  # NOT_FOUND when the caller may not see it
            raise PermissionDenied("NOT_TWEET_AUTHOR", "You can only delete your own tweets.")
        deleted_at = self._clock_ms()
        if await self._store.delete_tweet(tweet.id, me, deleted_at, [tweet_deleted(tweet, deleted_at)]):
            self._relay.notify()
        return tweet_service_pb2.DeleteTweetResponse(message="Tweet deleted")

    async def ListReplies(
        self, request: tweet_service_pb2.ListRepliesRequest, context: object
    ) -> tweet_service_pb2.ListRepliesResponse:
        viewer = _viewer()
        scope = f"replies:{request.id}"
        after = _position(self._cursors.decode(scope, request.cursor), "after")
        size = page_size(request.limit, default=domain.PAGE_DEFAULT, maximum=domain.PAGE_MAX)
        parent = await self._live(request.id)
        if parent is None:
            raise tweet_not_found()
        page = await self._store.replies(parent.conversation_id, parent.id, after_id=after, limit=size + 1)
        shown = await self._reader.visible(viewer, [parent, *page[:size]])
        if parent.id not in shown:
            raise tweet_not_found()
        cursor = self._cursors.encode(scope, {"after": page[size - 1].id}) if len(page) > size else ""
        return tweet_service_pb2.ListRepliesResponse(
            replies=[shown[r.id] for r in page[:size] if r.id in shown], next_cursor=cursor)

    async def VotePoll(self, request: tweet_service_pb2.VotePollRequest, context: object) -> tweet_pb2.Poll:
        me = current_principal().user_id
        tweet = await self._live(request.id)
        if tweet is None:
            raise tweet_not_found()
        shown = await self._shown(me, tweet)
        poll = tweet.poll
        if poll is None:
            raise NotFound("POLL_NOT_FOUND", "This tweet has no poll.")
        index = request.option_index
        if not 0 <= index < len(poll.options):
            raise InvalidArgument("INVALID_POLL_OPTION", f"Choose an option from 0 to {len(poll.options) - 1}.",
                                  {"field": "option_index"})
        if shown.poll.HasField("viewer_option_index"):
            earlier = shown.poll.viewer_option_index
        else:
            if poll.closed(self._clock_ms()):
                raise FailedPrecondition("POLL_CLOSED", "Voting in this poll has ended.")
            voted_at = self._clock_ms()
            earlier = await self._store.vote(tweet.id, me, index, [poll_voted(tweet, me, index, voted_at)])
            if earlier == index:
                self._relay.notify()
        if earlier != index:
            raise FailedPrecondition("ALREADY_VOTED", "You have voted in this poll already.")
        counted = await self._live(tweet.id) or tweet
        return poll_proto(counted.poll or poll, self._clock_ms(), earlier)

    # --- internal RPCs ----------------------------------------------------------------------------

    async def BatchGetTweets(
        self, request: tweet_service_pb2.BatchGetTweetsRequest, context: object
    ) -> tweet_service_pb2.BatchGetTweetsResponse:
        ids = domain.batch_ids(request.ids)
        viewer = max(request.viewer_id, 0)
        if not request.include_accounts:
            tweets = await self._store.get_tweets(ids)
            return tweet_service_pb2.BatchGetTweetsResponse(
                tweets=await self._reader.visible(viewer, list(tweets.values())))
        accounts = list(dict.fromkeys(request.account_ids))
        if len(accounts) > domain.BATCH_LIMIT:
            raise InvalidArgument("TOO_MANY_IDS", f"Ask for at most {domain.BATCH_LIMIT} accounts at once.",
                                  {"field": "account_ids"})
        tweets = await self._store.get_tweets(ids)
        audience = Audience(viewer)
        shown = await self._reader.visible(viewer, list(tweets.values()), audience, also=accounts)
        return tweet_service_pb2.BatchGetTweetsResponse(
            tweets=shown, profiles={uid: author.profile for uid, author in audience.authors.items()},
            relationships=audience.relationships)

    async def ListUserTweets(
        self, request: tweet_service_pb2.ListUserTweetsRequest, context: object
    ) -> tweet_service_pb2.ListUserTweetsResponse:
        since, until = max(request.since_id, 0), max(request.until_id, 0)
        scope = f"user-tweets:{request.user_id}:{since}:{until}"
        before = _position(self._cursors.decode(scope, request.cursor), "before")
        size = page_size(request.limit, default=domain.PAGE_DEFAULT, maximum=domain.PAGE_MAX)
        if request.user_id <= 0:
            return tweet_service_pb2.ListUserTweetsResponse()
        upper = min(i for i in (until, before) if i) if until or before else 0
        page = await self._store.user_tweets(request.user_id, since_id=since, until_id=upper, limit=size + 1)
        viewer = max(request.viewer_id, 0)
        # The author is looked up even when nothing is listed, so that the answer can tell a
        # timeline whether the viewer may read the author at all.
        audience = Audience(viewer) if request.include_accounts else None
        shown = await self._reader.visible(viewer, page[:size], audience,
                                           also=[request.user_id] if audience is not None else ())
        reply = tweet_service_pb2.ListUserTweetsResponse()
        if audience is not None:
            for uid, author in audience.authors.items():
                reply.profiles[uid].CopyFrom(author.profile)
            for uid, relationship in audience.relationships.items():
                reply.relationships[uid].CopyFrom(relationship)
        if not shown:  # every tweet has the same author: an unknown or hidden one, or none
            return reply
        reply.tweets.extend(shown[t.id] for t in page[:size] if t.id in shown)
        reply.next_cursor = self._cursors.encode(scope, {"before": page[size - 1].id}) if len(page) > size else ""
        return reply

    async def ListRecentPopularTweets(
        self, request: tweet_service_pb2.ListRecentPopularTweetsRequest, context: object
    ) -> tweet_service_pb2.ListRecentPopularTweetsResponse:
        size = page_size(request.limit, default=domain.PAGE_DEFAULT, maximum=domain.PAGE_MAX)
        since = lowest_id_at(self._clock_ms() - self._popular_window_ms)
        candidates = await self._store.recent_tweets(since_id=since, limit=self._popular_candidates)
        shown = await self._reader.visible(0, candidates)  # as a signed-out reader: public tweets only
        try:
            counts = await self._engagement.counts(shown) if shown else {}
        except Unavailable:
            # Popular by what the tweet service knows (poll votes), then recent, beats nothing.
            log.warning("engagement counts unavailable; ranking without them")
            counts = {}
        polls = {t.id: sum(t.poll.counts) for t in candidates if t.poll is not None}
        ranked = sorted(shown, key=lambda i: (domain.popularity(counts.get(i, Engagement()), polls.get(i, 0)), i),
                        reverse=True)
        return tweet_service_pb2.ListRecentPopularTweetsResponse(tweets=[shown[i] for i in ranked[:size]])

    async def CreateQuote(self, request: tweet_service_pb2.CreateQuoteRequest, context: grpc.aio.ServicerContext
                          ) -> tweet_pb2.Tweet:
        if request.author_id <= 0:
            raise InvalidArgument("INVALID_USER_ID", "author_id must be an account id.", {"field": "author_id"})
        text = domain.validate_text(request.comment, required=True, field="comment")
        key = idempotency_key(context, request.request_id)
        if request.quote_tweet_id <= 0:
            raise tweet_not_found()
        return await self._post(request.author_id, Draft(text), quote_of=request.quote_tweet_id, key=key)

    async def BatchGetTweetCounts(
        self, request: tweet_service_pb2.BatchGetTweetCountsRequest, context: object
    ) -> tweet_service_pb2.BatchGetTweetCountsResponse:
        ids = domain.batch_ids(request.user_ids)
        return tweet_service_pb2.BatchGetTweetCountsResponse(tweet_counts=await self._store.tweet_counts(ids))


async def _nothing() -> dict[Any, Any]:
    return {}

