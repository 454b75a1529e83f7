"""The engagement service over a real grpc.aio server on port 0, beside real user, graph and tweet
services, NATS and Valkey."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from functools import partial

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from nats.js import JetStreamContext

from chirp.engagement.v1 import engagement_pb2, engagement_service_pb2, engagement_service_pb2_grpc, events_pb2
from chirp.graph.v1 import graph_service_pb2, graph_service_pb2_grpc
from chirp.tweet.v1 import events_pb2 as tweet_events_pb2
from chirp.tweet.v1 import tweet_pb2, tweet_service_pb2, tweet_service_pb2_grpc
from chirp.user.v1 import user_service_pb2_grpc
from services.engagement.app import build as build_engagement
from services.engagement.settings import Settings as EngagementSettings
from services.graph.app import build as build_graph
from services.graph.settings import Settings as GraphSettings
from services.runtime import events
from services.runtime.mesh import free_port
from services.runtime.server import RunningService, serve
from services.runtime.settings import SettingsError
from services.tweet.app import build as build_tweet
from services.tweet.settings import Settings as TweetSettings
from services.user.app import build as build_user
from services.user.settings import Settings as UserSettings
from tests import support
from tests.services.test_graph_service import account  # signs up through mesh.users
from tests.support import Account, eventually

E = engagement_service_pb2
T = tweet_service_pb2
G = graph_service_pb2
_names = itertools.count()
UNKNOWN = 987654321
STREAM = "CHIRP_ENGAGEMENT"


@dataclass
class Mesh:
    engagement: engagement_service_pb2_grpc.EngagementServiceStub
    tweets: tweet_service_pb2_grpc.TweetServiceStub
    users: user_service_pb2_grpc.UserServiceStub
    graph: graph_service_pb2_grpc.GraphServiceStub
    js: JetStreamContext
    engagement_env: dict[str, str]  # what a further engagement instance needs, but its data dir


@pytest.fixture(scope="module")
async def mesh(nats_url: str, valkey_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    """The user, graph, tweet and engagement services, each asking the others where the mesh would."""
    data = tmp_path_factory.mktemp("engagement-svc")
    ports = {name: free_port() for name in ("user", "graph", "tweet", "engagement")}
    env = {"CHIRP_DATA_DIR": str(data), "CHIRP_NATS_URL": nats_url, "CHIRP_VALKEY_URL": valkey_url,
           **{f"CHIRP_{name.upper()}_ADDR": f"127.0.0.1:{port}" for name, port in ports.items()}}
    running: list[RunningService] = []
    for name, settings_type, build in (("user", UserSettings, build_user), ("graph", GraphSettings, build_graph),
                                       ("tweet", TweetSettings, build_tweet),
                                       ("engagement", EngagementSettings, build_engagement)):
        settings = settings_type.from_env(env)
        running.append(await serve(settings.common, await build(settings), port=ports[name]))
    nc = await events.connect(nats_url, "engagement-tests")
    channels = {name: grpc.aio.insecure_channel(f"127.0.0.1:{port}") for name, port in ports.items()}
    yield Mesh(
        engagement_service_pb2_grpc.EngagementServiceStub(channels["engagement"]),
        tweet_service_pb2_grpc.TweetServiceStub(channels["tweet"]),
        user_service_pb2_grpc.UserServiceStub(channels["user"]),
        graph_service_pb2_grpc.GraphServiceStub(channels["graph"]),
        nc.jetstream(), env,
    )
    for channel in channels.values():
        await channel.close()
    await nc.drain()
    for service in reversed(running):
        await service.stop(1.0)


# --- helpers --------------------------------------------------------------------------------------


async def post(mesh: Mesh, who: Account, text: str = "hello", **fields: object) -> int:
    reply = await mesh.tweets.CreateTweet(T.CreateTweetRequest(text=text, **fields), metadata=who.metadata)
    return reply.tweet_id


async def delete(mesh: Mesh, who: Account, tweet_id: int) -> None:
    await mesh.tweets.DeleteTweet(T.DeleteTweetRequest(id=tweet_id), metadata=who.metadata)


refused = partial(support.refused, domain="engagement.chirp")


async def like(mesh: Mesh, who: Account, tweet_id: int) -> E.LikeTweetResponse:
    return await mesh.engagement.LikeTweet(E.LikeTweetRequest(id=tweet_id), metadata=who.metadata)


async def unlike(mesh: Mesh, who: Account, tweet_id: int) -> E.UnlikeTweetResponse:
    return await mesh.engagement.UnlikeTweet(E.UnlikeTweetRequest(id=tweet_id), metadata=who.metadata)


async def retweet(mesh: Mesh, who: Account, tweet_id: int, comment: str = "", request_id: str = "",
                  key: str | None = None) -> E.RetweetResponse:
    metadata = who.metadata + ([("idempotency-key", key)] if key is not None else [])
    return await mesh.engagement.Retweet(E.RetweetRequest(id=tweet_id, comment=comment, request_id=request_id),
                                         metadata=metadata)


async def counts(mesh: Mesh, tweet_id: int, viewer: Account | None = None) -> engagement_pb2.EngagementCounts:
    return await mesh.engagement.GetEngagementCounts(E.GetEngagementCountsRequest(id=tweet_id),
                                                     metadata=viewer.metadata if viewer else None)


async def state(mesh: Mesh, viewer: Account, *tweet_ids: int) -> dict[int, engagement_pb2.TweetEngagement]:
    reply = await mesh.engagement.BatchGetEngagement(E.BatchGetEngagementRequest(viewer_id=viewer.id,
                                                                                 tweet_ids=tweet_ids))
    return dict(reply.engagements)


async def follow(mesh: Mesh, fan: Account, star: Account, *, approve: bool = False) -> None:
    await mesh.graph.FollowUser(G.FollowUserRequest(id=star.id), metadata=fan.metadata)
    if approve:
        await mesh.graph.ApproveFollowRequest(G.ApproveFollowRequestRequest(requester_id=fan.id),
                                              metadata=star.metadata)


_EVENT_TYPES: dict[str, type[Message]] = {m.DESCRIPTOR.full_name: m for m in (
    events_pb2.Liked, events_pb2.Unliked, events_pb2.Retweeted, events_pb2.Unretweeted)}


async def published(js: JetStreamContext, *tweet_ids: int) -> list[tuple[str, Message]]:
    """Every event on CHIRP_ENGAGEMENT so far about tweet_ids, decoded, in stream order."""
    state = (await js.stream_info(STREAM)).state
    found = []
    for seq in range(state.first_seq, state.last_seq + 1):
        msg = await js.get_msg(STREAM, seq)
        assert msg.headers and msg.headers[events.MSG_ID_HEADER]
        event = _EVENT_TYPES[msg.headers[events.EVENT_TYPE_HEADER]].FromString(msg.data)
        if event.tweet_id in tweet_ids:  # type: ignore[attr-defined]
            found.append((msg.subject, event))
    return found


@contextlib.asynccontextmanager
async def durable_consumer(js: JetStreamContext, handle: events.Handler) -> AsyncIterator[str]:
    """A durable consumer of every engagement event, running until the block ends; yields its name."""
    durable = f"engagement-outbox-test-{next(_names)}"
    running = asyncio.create_task(events.DurableConsumer(js, STREAM, durable, "chirp.engagement.>", handle).run())
    try:
        yield durable
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await js.delete_consumer(STREAM, durable)


async def settled(mesh: Mesh, *tweet_ids: int) -> list[tuple[str, Message]]:
    """The events about tweet_ids once everything staged so far is on the stream: the relay publishes
    in commit order, so a fresh like's event comes after all of them."""
    fan, author = await account(mesh), await account(mesh)
    sentinel = await post(mesh, author, "sentinel")
    await like(mesh, fan, sentinel)

    async def sentinel_seen() -> list[tuple[str, Message]]:
        found = await published(mesh.js, sentinel, *tweet_ids)
        return found if found and found[-1][1].tweet_id == sentinel else []  # type: ignore[attr-defined]

    return (await eventually(sentinel_seen, what="the sentinel Liked on CHIRP_ENGAGEMENT"))[:-1]


# --- likes ----------------------------------------------------------------------------------------


async def test_like_and_unlike_are_idempotent_counted_and_published_once(mesh: Mesh) -> None:
    author, fan = await account(mesh), await account(mesh)
    tweet = await post(mesh, author)
    for _ in range(3):
        assert (await like(mesh, fan, tweet)).message == "Tweet liked"
    assert (await counts(mesh, tweet, fan)).like_count == 1
    assert (await state(mesh, fan, tweet))[tweet].liked
    for _ in range(2):
        assert (await unlike(mesh, fan, tweet)).message == "Tweet unliked"
    assert (await counts(mesh, tweet, fan)).like_count == 0
    assert not (await state(mesh, fan, tweet))[tweet].liked
    found = await settled(mesh, tweet)
    assert [s for s, _ in found] == ["chirp.engagement.liked", "chirp.engagement.unliked"]
    for _, event in found:
        assert (event.tweet_id, event.user_id, event.tweet_author_id) == (tweet, fan.id, author.id)  # type: ignore[attr-defined]
        assert event.occurred_at.seconds > 0  # type: ignore[attr-defined]


async def test_what_the_caller_cannot_see_cannot_be_liked(mesh: Mesh) -> None:
    author, private, fan, blocker = (await account(mesh), await account(mesh, private=True), await account(mesh),
                                     await account(mesh))
    gone, hidden, blocked = await post(mesh, author), await post(mesh, private), await post(mesh, blocker)
    await delete(mesh, author, gone)
    await mesh.graph.BlockUser(G.BlockUserRequest(id=fan.id), metadata=blocker.metadata)
    missing = await refused(like(mesh, fan, UNKNOWN), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    for tweet_id in (gone, hidden, blocked, 0, -4):
        error = await refused(like(mesh, fan, tweet_id), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
        assert error.details() == missing.details()
        await refused(mesh.engagement.BookmarkTweet(E.BookmarkTweetRequest(id=tweet_id), metadata=fan.metadata),
                      grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
        await refused(retweet(mesh, fan, tweet_id), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mesh.engagement.LikeTweet(E.LikeTweetRequest(id=gone))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await settled(mesh, gone, hidden, blocked) == []


async def test_an_approved_follower_likes_a_private_tweet_and_anyone_unlikes_a_deleted_one(mesh: Mesh) -> None:
    private, fan = await account(mesh, private=True), await account(mesh)
    await follow(mesh, fan, private, approve=True)
    tweet = await post(mesh, private)
    await like(mesh, fan, tweet)
    await like(mesh, private, tweet)
    assert (await counts(mesh, tweet, fan)).like_count == 2
    await refused(counts(mesh, tweet), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")  # signed out
    await delete(mesh, private, tweet)
    await unlike(mesh, fan, tweet)  # the tweet is gone; the like goes all the same
    await unlike(mesh, fan, UNKNOWN)
    assert (await state(mesh, fan, tweet))[tweet].counts.like_count == 1
    await refused(counts(mesh, tweet, private), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    unliked = (await settled(mesh, tweet))[-1][1]
    assert isinstance(unliked, events_pb2.Unliked) and unliked.tweet_author_id == private.id


async def test_concurrent_likes_and_unlikes_end_at_the_truth(mesh: Mesh) -> None:
    author = await account(mesh)
    tweet = await post(mesh, author)
    fans = [await account(mesh) for _ in range(20)]

    async def churn(index: int, fan: Account) -> None:
        for step in range(index % 3 + 2):
            await (like(mesh, fan, tweet) if step % 2 == 0 else unlike(mesh, fan, tweet))

    await asyncio.gather(*(churn(i, f) for i, f in enumerate(fans)), *(churn(i, f) for i, f in enumerate(fans)))
    liking = {f.id for i, f in enumerate(fans) if (i % 3 + 2) % 2 == 1}  # an odd number of steps ends on a like
    assert (await counts(mesh, tweet, author)).like_count == len(liking)
    likers = await mesh.engagement.ListLikers(E.ListLikersRequest(id=tweet, limit=100), metadata=author.metadata)
    assert {p.id for p in likers.users} == liking


# --- retweets -------------------------------------------------------------------------------------


async def test_a_plain_retweet_keeps_its_snowflake_id_and_is_published_once(mesh: Mesh) -> None:
    author, fan = await account(mesh), await account(mesh)
    tweet = await post(mesh, author)
    first = await retweet(mesh, fan, tweet)
    again = await retweet(mesh, fan, tweet, request_id="ignored")
    assert first.message == "Retweeted" and first.retweet_id == again.retweet_id > tweet
    own = await retweet(mesh, author, tweet)
    assert own.retweet_id != first.retweet_id
    assert (await counts(mesh, tweet, fan)).retweet_count == 2
    assert (await state(mesh, fan, tweet))[tweet].retweeted
    for _ in range(2):
        assert (await mesh.engagement.Unretweet(E.UnretweetRequest(id=tweet), metadata=fan.metadata)).message == (
            "Retweet undone")
    assert (await counts(mesh, tweet, fan)).retweet_count == 1
    found = [(s, e) for s, e in await settled(mesh, tweet) if e.user_id == fan.id]  # type: ignore[attr-defined]
    assert [s for s, _ in found] == ["chirp.engagement.retweeted", "chirp.engagement.unretweeted"]
    assert [e.retweet_id for _, e in found] == [first.retweet_id] * 2  # type: ignore[attr-defined]
    assert found[0][1].tweet_author_id == author.id  # type: ignore[attr-defined]


async def test_a_private_accounts_tweets_are_retweeted_by_the_account_only(mesh: Mesh) -> None:
    private, fan = await account(mesh, private=True), await account(mesh)
    await follow(mesh, fan, private, approve=True)
    tweet = await post(mesh, private)
    await refused(retweet(mesh, fan, tweet), grpc.StatusCode.PERMISSION_DENIED, "PROTECTED_TWEET")
    await refused(retweet(mesh, fan, tweet, comment="look"), grpc.StatusCode.PERMISSION_DENIED, "PROTECTED_TWEET")
    assert (await retweet(mesh, private, tweet)).retweet_id > 0
    assert (await counts(mesh, tweet, fan)).retweet_count == 1


async def test_a_retweet_with_a_comment_is_a_quote_counted_from_its_event(mesh: Mesh) -> None:
    author, fan = await account(mesh), await account(mesh)
    tweet = await post(mesh, author)
    quote = await retweet(mesh, fan, tweet, comment="so true", request_id="q-1")
    assert quote.message == "Retweeted"
    assert (await retweet(mesh, fan, tweet, comment="so true", request_id="q-1")).retweet_id == quote.retweet_id
    # The Idempotency-Key header wins over the body's request_id.
    keyed = await retweet(mesh, fan, tweet, comment="again", request_id="q-1", key="h-1")
    assert keyed.retweet_id != quote.retweet_id
    assert (await retweet(mesh, fan, tweet, comment="again", request_id="q-9", key="h-1")).retweet_id == keyed.retweet_id
    made = await mesh.tweets.GetTweet(T.GetTweetRequest(id=quote.retweet_id), metadata=fan.metadata)
    assert (made.author_id, made.quote_tweet_id, made.text) == (fan.id, tweet, "so true")
    assert made.quoted_tweet.id == tweet

    async def quoted_twice() -> bool:
        return (await counts(mesh, tweet, fan)).quote_count == 2

    await eventually(quoted_twice, what="both quotes counted")
    assert (await counts(mesh, tweet, fan)).retweet_count == 0
    assert not (await state(mesh, fan, tweet))[tweet].retweeted  # a quote is no plain retweet
    await delete(mesh, fan, keyed.retweet_id)

    async def quoted_once() -> bool:
        return (await counts(mesh, tweet, fan)).quote_count == 1

    await eventually(quoted_once, what="the deleted quote uncounted")
    await refused(retweet(mesh, fan, tweet, comment="x" * 281), grpc.StatusCode.INVALID_ARGUMENT, "COMMENT_TOO_LONG")
    await refused(retweet(mesh, fan, tweet, comment="   "), grpc.StatusCode.INVALID_ARGUMENT, "TWEET_EMPTY")
    await refused(retweet(mesh, fan, tweet, comment="ok", key="k" * 129), grpc.StatusCode.INVALID_ARGUMENT,
                  "INVALID_REQUEST_ID")
    await refused(retweet(mesh, fan, UNKNOWN, comment="ok"), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    assert await settled(mesh, tweet) == []  # quotes are the tweet service's to publish


# --- replies --------------------------------------------------------------------------------------


async def test_replies_are_counted_from_tweet_events_once(mesh: Mesh) -> None:
    author, fan = await account(mesh), await account(mesh)
    tweet = await post(mesh, author)
    replies = [await post(mesh, fan, f"re {i}", reply_to_tweet_id=tweet) for i in range(3)]

    async def replied(n: int) -> bool:
        return (await counts(mesh, tweet)).reply_count == n

    await eventually(lambda: replied(3), what="three replies counted")
    await delete(mesh, fan, replies[0])
    await eventually(lambda: replied(2), what="the deleted reply uncounted")
    # Redeliveries of both events, under new message ids, change nothing.
    created = tweet_pb2.Tweet(id=replies[1], author_id=fan.id, reply_to_tweet_id=tweet, conversation_id=tweet)
    at = timestamp_pb2.Timestamp(seconds=1)
    await events.EventPublisher(mesh.js).publish([
        events.OutgoingEvent.of(events.subject("tweet", "created"), tweet_events_pb2.TweetCreated(tweet=created,
                                                                                                  occurred_at=at)),
        events.OutgoingEvent.of(events.subject("tweet", "deleted"), tweet_events_pb2.TweetDeleted(
            tweet_id=replies[0], author_id=fan.id, reply_to_tweet_id=tweet, occurred_at=at)),
    ])

    async def all_handled() -> bool:
        info = await mesh.js.consumer_info("CHIRP_TWEET", "engagement-tweets")
        return info.num_pending == 0 and info.num_ack_pending == 0

    await eventually(all_handled, what="the engagement service to ack every tweet event")
    assert (await counts(mesh, tweet)).reply_count == 2


# --- bookmarks ------------------------------------------------------------------------------------


async def test_bookmarks_are_private_listed_newest_first_and_hydrated(mesh: Mesh) -> None:
    me, author, other = await account(mesh), await account(mesh), await account(mesh)
    tweets = [await post(mesh, author, f"t{i}") for i in range(5)]
    for tweet in tweets:
        for _ in range(2):
            reply = await mesh.engagement.BookmarkTweet(E.BookmarkTweetRequest(id=tweet), metadata=me.metadata)
            assert reply.message == "Tweet bookmarked"
    await delete(mesh, author, tweets[3])
    removed = await mesh.engagement.UnbookmarkTweet(E.UnbookmarkTweetRequest(id=tweets[1]), metadata=me.metadata)
    assert removed.message == "Bookmark removed"
    await mesh.engagement.UnbookmarkTweet(E.UnbookmarkTweetRequest(id=tweets[1]), metadata=me.metadata)
    first = await mesh.engagement.ListBookmarks(E.ListBookmarksRequest(limit=2), metadata=me.metadata)
    assert [b.tweet_id for b in first.tweets] == [tweets[4], tweets[3]] and first.next_cursor
    assert first.tweets[0].tweet.text == "t4" and first.tweets[0].created_at.seconds > 0
    assert not first.tweets[1].HasField("tweet")  # deleted: the id stays, the tweet does not
    rest = await mesh.engagement.ListBookmarks(E.ListBookmarksRequest(limit=2, cursor=first.next_cursor),
                                               metadata=me.metadata)
    assert [b.tweet.id for b in rest.tweets] == [tweets[2], tweets[0]] and rest.next_cursor == ""
    assert (await counts(mesh, tweets[4], other)).bookmark_count == 1
    assert (await state(mesh, me, tweets[4]))[tweets[4]].bookmarked
    assert not (await state(mesh, other, tweets[4]))[tweets[4]].bookmarked
    assert (await mesh.engagement.ListBookmarks(E.ListBookmarksRequest(), metadata=other.metadata)).tweets == []
    await refused(mesh.engagement.ListBookmarks(E.ListBookmarksRequest(cursor=first.next_cursor),
                                                metadata=other.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    await refused(mesh.engagement.ListBookmarks(E.ListBookmarksRequest(limit=-1), metadata=me.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_LIMIT")
    assert await settled(mesh, *tweets) == []


# --- counts, likers and the batch -----------------------------------------------------------------


async def test_counts_are_public_for_public_tweets(mesh: Mesh) -> None:
    author, fan = await account(mesh), await account(mesh)
    tweet = await post(mesh, author)
    await like(mesh, fan, tweet)
    await retweet(mesh, fan, tweet)
    await mesh.engagement.BookmarkTweet(E.BookmarkTweetRequest(id=tweet), metadata=fan.metadata)
    assert await counts(mesh, tweet) == engagement_pb2.EngagementCounts(like_count=1, retweet_count=1,
                                                                        bookmark_count=1)
    await refused(counts(mesh, UNKNOWN), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    await refused(counts(mesh, 0, fan), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")


async def test_likers_are_hydrated_newest_first_without_blocked_accounts(mesh: Mesh) -> None:
    author, viewer = await account(mesh), await account(mesh)
    tweet, other = await post(mesh, author), await post(mesh, author)
    fans = [await account(mesh) for _ in range(6)]
    for fan in fans:
        await like(mesh, fan, tweet)
    await mesh.graph.BlockUser(G.BlockUserRequest(id=fans[4].id), metadata=viewer.metadata)
    await mesh.graph.BlockUser(G.BlockUserRequest(id=viewer.id), metadata=fans[1].metadata)
    first = await mesh.engagement.ListLikers(E.ListLikersRequest(id=tweet, limit=3), metadata=viewer.metadata)
    assert [p.id for p in first.users] == [fans[5].id, fans[3].id] and first.next_cursor  # fans[4] left out
    assert first.users[0].username
    rest = await mesh.engagement.ListLikers(E.ListLikersRequest(id=tweet, limit=3, cursor=first.next_cursor),
                                            metadata=viewer.metadata)
    assert [p.id for p in rest.users] == [fans[2].id, fans[0].id] and rest.next_cursor == ""
    everyone = await mesh.engagement.ListLikers(E.ListLikersRequest(id=tweet), metadata=author.metadata)
    assert [p.id for p in everyone.users] == [f.id for f in reversed(fans)]
    await refused(mesh.engagement.ListLikers(E.ListLikersRequest(id=other, cursor=first.next_cursor),
                                             metadata=viewer.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    await refused(mesh.engagement.ListLikers(E.ListLikersRequest(id=tweet, cursor="garbage"),
                                             metadata=viewer.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    await refused(mesh.engagement.ListLikers(E.ListLikersRequest(id=UNKNOWN), metadata=viewer.metadata),
                  grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")


async def test_batch_engagement_answers_every_id_for_the_viewer(mesh: Mesh) -> None:
    author, me = await account(mesh), await account(mesh)
    liked, retweeted, bookmarked = [await post(mesh, author) for _ in range(3)]
    await like(mesh, me, liked)
    await like(mesh, author, liked)
    await retweet(mesh, me, retweeted)
    await mesh.engagement.BookmarkTweet(E.BookmarkTweetRequest(id=bookmarked), metadata=me.metadata)
    found = await state(mesh, me, liked, retweeted, bookmarked, liked, UNKNOWN, 0)
    assert set(found) == {liked, retweeted, bookmarked, UNKNOWN, 0}
    assert found[liked] == engagement_pb2.TweetEngagement(
        counts=engagement_pb2.EngagementCounts(like_count=2), liked=True)
    assert found[retweeted].retweeted and not found[retweeted].liked
    assert found[bookmarked].bookmarked and found[bookmarked].counts.bookmark_count == 1
    assert found[UNKNOWN] == engagement_pb2.TweetEngagement(counts=engagement_pb2.EngagementCounts())
    signed_out = await mesh.engagement.BatchGetEngagement(E.BatchGetEngagementRequest(tweet_ids=[liked]))
    assert not signed_out.engagements[liked].liked and signed_out.engagements[liked].counts.like_count == 2
    await refused(mesh.engagement.BatchGetEngagement(E.BatchGetEngagementRequest(tweet_ids=range(1, 502))),
                  grpc.StatusCode.INVALID_ARGUMENT, "TOO_MANY_IDS")


# --- the outbox: events survive a service that stops between the write and the publish -----------


async def test_events_staged_without_a_relay_arrive_exactly_once_from_a_fresh_instance(
    mesh: Mesh, tmp_path: Path
) -> None:
    author, fan = await account(mesh), await account(mesh)
    tweets = [await post(mesh, author, f"o{i}") for i in range(4)]
    settings = EngagementSettings.from_env({**mesh.engagement_env, "CHIRP_DATA_DIR": str(tmp_path)})
    app = await build_engagement(settings)
    app.background = []  # as if the process died after each commit, before its relay ran
    stalled = await serve(settings.common, app, port=0)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stalled.port}") as channel:
        stub = engagement_service_pb2_grpc.EngagementServiceStub(channel)
        for tweet in tweets:
            await stub.LikeTweet(E.LikeTweetRequest(id=tweet), metadata=fan.metadata)
            await stub.Retweet(E.RetweetRequest(id=tweet), metadata=fan.metadata)
        await stub.UnlikeTweet(E.UnlikeTweetRequest(id=tweets[0]), metadata=fan.metadata)
    with sqlite3.connect(tmp_path / "engagement" / "engagement.db") as db:
        staged = db.execute("SELECT event_id, subject, event_type, payload FROM outbox ORDER BY seq").fetchall()
    assert len(staged) == 9
    # Some of them reached JetStream before the stop, without leaving the outbox.
    await events.EventPublisher(mesh.js).publish([events.OutgoingEvent(*r[:3], bytes(r[3])) for r in staged[:4]])
    await stalled.stop(1.0)

    received: list[tuple[str, int]] = []

    async def handle(delivery: events.Delivery) -> None:
        event = _EVENT_TYPES[delivery.event_type].FromString(delivery.payload)
        if event.tweet_id in tweets:  # type: ignore[attr-defined]
            received.append((delivery.subject, event.tweet_id))  # type: ignore[attr-defined]

    async with durable_consumer(mesh.js, handle) as durable:
        restarted = await serve(settings.common, await build_engagement(settings), port=0)  # same data: it relays

        async def drained() -> bool:
            info = await mesh.js.consumer_info(STREAM, durable)
            return len(received) >= 9 and info.num_pending == 0 and info.num_ack_pending == 0

        try:
            await eventually(drained, what="the staged events at the durable consumer")
        finally:
            await restarted.stop(1.0)
    expected = Counter({("chirp.engagement.liked", t): 1 for t in tweets})
    expected += Counter({("chirp.engagement.retweeted", t): 1 for t in tweets})
    expected[("chirp.engagement.unliked", tweets[0])] = 1
    assert Counter(received) == expected


def test_settings_name_what_is_wrong() -> None:
    with pytest.raises(SettingsError, match="CHIRP_ENGAGEMENT_PORT"):
        EngagementSettings.from_env({"CHIRP_ENGAGEMENT_PORT": "eighty"})
    with pytest.raises(SettingsError, match="CHIRP_ENGAGEMENT_DOWNSTREAM_TIMEOUT_S"):
        EngagementSettings.from_env({"CHIRP_ENGAGEMENT_DOWNSTREAM_TIMEOUT_S": "0"})
