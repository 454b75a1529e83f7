"""The timeline service over a real grpc.aio server on port 0, beside real user, graph and tweet
services, NATS and Valkey. The engagement service is not started: counts hydrate as zero without it,
and retweets are published on its stream by the tests, as it would publish them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import redis.asyncio as redis
from google.protobuf.message import Message
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from chirp.engagement.v1 import events_pb2 as engagement_events_pb2
from chirp.graph.v1 import graph_service_pb2, graph_service_pb2_grpc
from chirp.timeline.v1 import timeline_pb2, timeline_service_pb2, timeline_service_pb2_grpc
from chirp.tweet.v1 import tweet_service_pb2, tweet_service_pb2_grpc
from chirp.user.v1 import user_service_pb2, user_service_pb2_grpc
from services.graph.app import build as build_graph
from services.graph.settings import Settings as GraphSettings
from services.runtime import events, valkey
from services.runtime.ids import SnowflakeGenerator
from services.runtime.mesh import free_port
from services.runtime.server import RunningService, serve
from services.timeline import cache as layout
from services.timeline.app import build as build_timeline
from services.timeline.domain import tweet_entry
from services.timeline.settings import Settings as TimelineSettings
from services.tweet.app import build as build_tweet
from services.tweet.settings import Settings as TweetSettings
from services.user.app import build as build_user
from services.user.settings import Settings as UserSettings
from tests.services.test_graph_service import Account, account
from tests.support import error_info, eventually

TL = timeline_service_pb2
G = graph_service_pb2
THRESHOLD = 3
_retweet_ids = SnowflakeGenerator(900)


@dataclass
class Mesh:
    timeline: timeline_service_pb2_grpc.TimelineServiceStub
    tweets: tweet_service_pb2_grpc.TweetServiceStub
    users: user_service_pb2_grpc.UserServiceStub
    graph: graph_service_pb2_grpc.GraphServiceStub
    js: JetStreamContext
    valkey: redis.Redis
    data_dir: Path


@pytest.fixture(scope="module")
async def mesh(nats_url: str, valkey_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    data = tmp_path_factory.mktemp("timeline-svc")
    env = {"CHIRP_DATA_DIR": str(data), "CHIRP_NATS_URL": nats_url, "CHIRP_VALKEY_URL": valkey_url}
    graph_port = free_port()
    user_settings = UserSettings.from_env({**env, "CHIRP_GRAPH_ADDR": f"127.0.0.1:{graph_port}"})
    user = await serve(user_settings.common, await build_user(user_settings), port=0)
    peers = {**env, "CHIRP_USER_ADDR": f"127.0.0.1:{user.port}", "CHIRP_GRAPH_ADDR": f"127.0.0.1:{graph_port}",
             "CHIRP_ENGAGEMENT_ADDR": "127.0.0.1:1"}  # nobody there: counts hydrate as zero
    graph_settings = GraphSettings.from_env(peers)
    graph: RunningService = await serve(graph_settings.common, await build_graph(graph_settings), port=graph_port)
    tweet_settings = TweetSettings.from_env(peers)
    tweet = await serve(tweet_settings.common, await build_tweet(tweet_settings), port=0)
    timeline_settings = TimelineSettings.from_env({
        **peers, "CHIRP_TWEET_ADDR": f"127.0.0.1:{tweet.port}",
        "CHIRP_TIMELINE_CELEBRITY_THRESHOLD": str(THRESHOLD), "CHIRP_TIMELINE_STREAM_SESSION_CHECK_S": "0.2"})
    timeline = await serve(timeline_settings.common, await build_timeline(timeline_settings), port=0)
    nc = await events.connect(nats_url, "timeline-tests")
    cache = valkey.connect(valkey_url)
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{timeline.port}") as timeline_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{tweet.port}") as tweet_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{graph.port}") as graph_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{user.port}") as user_channel,
    ):
        yield Mesh(
            timeline_service_pb2_grpc.TimelineServiceStub(timeline_channel),
            tweet_service_pb2_grpc.TweetServiceStub(tweet_channel),
            user_service_pb2_grpc.UserServiceStub(user_channel),
            graph_service_pb2_grpc.GraphServiceStub(graph_channel),
            nc.jetstream(),
            cache,
            data,
        )
    await cache.aclose()
    await nc.drain()
    for running in (timeline, tweet, graph, user):
        await running.stop(1.0)


# --- helpers --------------------------------------------------------------------------------------


async def accounts(mesh: Mesh, n: int) -> list[Account]:
    return list(await asyncio.gather(*(account(mesh) for _ in range(n))))


async def follow(mesh: Mesh, who: Account, *whom: Account) -> None:
    for target in whom:
        await mesh.graph.FollowUser(G.FollowUserRequest(id=target.id), metadata=who.metadata)


async def post(mesh: Mesh, author: Account, text: str = "hello", **fields: object) -> int:
    reply = await mesh.tweets.CreateTweet(tweet_service_pb2.CreateTweetRequest(text=text, **fields),
                                          metadata=author.metadata)
    return reply.tweet_id


async def home(mesh: Mesh, viewer: Account, **fields: object) -> TL.GetHomeTimelineResponse:
    return await mesh.timeline.GetHomeTimeline(TL.GetHomeTimelineRequest(**fields), metadata=viewer.metadata)


async def home_ids(mesh: Mesh, viewer: Account, **fields: object) -> list[int]:
    return [item.tweet.id for item in (await home(mesh, viewer, **fields)).tweets]


async def user_ids(mesh: Mesh, viewer: Account, owner: Account, **fields: object) -> list[int]:
    reply = await mesh.timeline.GetUserTimeline(TL.GetUserTimelineRequest(user_id=owner.id, **fields),
                                                metadata=viewer.metadata)
    return [item.tweet.id for item in reply.tweets]


def showing(expected: list[int], read: Callable[[], Awaitable[list[int]]]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        found = await read()
        assert found == expected, found
        return True

    return check


async def shows(read: Callable[[], Awaitable[list[int]]], expected: list[int], what: str = "the timeline") -> None:
    await eventually(showing(expected, read), what=f"{what} to show {expected}")


async def publish(mesh: Mesh, name: str, message: Message, event_id: str) -> None:
    """Publishes on the engagement service's stream as it would."""
    await events.EventPublisher(mesh.js).publish(
        [events.OutgoingEvent.of(events.subject("engagement", name), message, event_id)])


async def retweet(mesh: Mesh, who: Account, tweet_id: int, author: Account) -> int:
    """What the engagement service publishes for a plain retweet."""
    retweet_id = _retweet_ids.next_id()
    await publish(mesh, "retweeted", engagement_events_pb2.Retweeted(
        retweet_id=retweet_id, tweet_id=tweet_id, user_id=who.id, tweet_author_id=author.id), f"rt-{retweet_id}")
    return retweet_id


async def unretweet(mesh: Mesh, who: Account, tweet_id: int, author: Account, retweet_id: int) -> None:
    await publish(mesh, "unretweeted", engagement_events_pb2.Unretweeted(
        retweet_id=retweet_id, tweet_id=tweet_id, user_id=who.id, tweet_author_id=author.id), f"unrt-{retweet_id}")


async def refused(call: Awaitable[object], code: grpc.StatusCode, reason: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == code, caught.value
    info = error_info(caught.value)
    assert (info.reason, info.domain) == (reason, "timeline.chirp")


async def cached(mesh: Mesh, user: Account) -> list[str]:
    return [m.decode() for m in await mesh.valkey.zrevrangebylex(layout.home_key(user.id), "+", "-")]


# --- writes reach readers -------------------------------------------------------------------------


async def test_your_own_tweet_is_home_when_create_returns(mesh: Mesh) -> None:
    me = await account(mesh)
    first = await post(mesh, me)
    assert await home_ids(mesh, me) == [first]  # no waiting: read-your-writes
    second = await post(mesh, me)
    assert await home_ids(mesh, me) == [second, first]
    item = (await home(mesh, me)).tweets[0]
    assert item.kind == timeline_pb2.TIMELINE_ITEM_KIND_TWEET and not item.is_suggestion
    assert item.tweet.author.id == me.id and item.tweet.text == "hello"


async def test_fan_out_delivers_to_every_follower_once(mesh: Mesh) -> None:
    author, *fans = await accounts(mesh, 3)
    for fan in fans:
        await follow(mesh, fan, author)
        assert await home_ids(mesh, fan) == []  # built (empty) before the tweet: fan-out must fill it
    tweet_id = await post(mesh, author, "to my fans")
    for fan in fans:
        await shows(lambda f=fan: home_ids(mesh, f), [tweet_id])
        assert await cached(mesh, fan) == [tweet_entry(tweet_id, author.id).key]  # delivered, not merged


async def test_celebrities_are_merged_on_read_with_the_same_result(mesh: Mesh) -> None:
    star, friend, *fans = await accounts(mesh, THRESHOLD + 3)
    for fan in fans:
        await follow(mesh, fan, star)
    reader = fans[0]
    await follow(mesh, reader, friend)
    posted = []
    for author in (friend, star, friend, star):
        posted.append(await post(mesh, author))
    newest_first = posted[::-1]
    await shows(lambda: home_ids(mesh, reader), newest_first)
    assert await cached(mesh, reader) == [tweet_entry(i, friend.id).key for i in newest_first if i in posted[::2]]
    assert [i.tweet.id for i in (await home(mesh, reader, limit=1)).tweets] == newest_first[:1]


async def test_a_retweet_names_the_retweeter_and_a_tweet_retweeted_twice_shows_once(mesh: Mesh) -> None:
    author, first, second, reader = await accounts(mesh, 4)
    await follow(mesh, reader, first, second)
    assert await home_ids(mesh, reader) == []
    tweet_id = await post(mesh, author, "worth sharing")
    first_rt = await retweet(mesh, first, tweet_id, author)
    await shows(lambda: home_ids(mesh, reader), [tweet_id])
    item = (await home(mesh, reader)).tweets[0]
    assert item.kind == timeline_pb2.TIMELINE_ITEM_KIND_RETWEET
    assert item.retweeted_by.id == first.id and item.tweet.author.id == author.id
    second_rt = await retweet(mesh, second, tweet_id, author)
    await eventually(lambda: _retweeted_by(mesh, reader, second), what="the newer retweet")
    assert await home_ids(mesh, reader) == [tweet_id]  # once, by the newest retweet
    assert len(await cached(mesh, reader)) == 2
    await unretweet(mesh, second, tweet_id, author, second_rt)
    await eventually(lambda: _retweeted_by(mesh, reader, first), what="the older retweet after the undo")
    await unretweet(mesh, first, tweet_id, author, first_rt)
    await shows(lambda: home_ids(mesh, reader), [])
    assert await user_ids(mesh, reader, first) == []


async def _retweeted_by(mesh: Mesh, reader: Account, who: Account, at: int = 0) -> bool:
    """Whether the reader's home holds one item, retweeted by `who` (or, with `at`, has that
    item at that position)."""
    items = (await home(mesh, reader)).tweets
    if at:
        return len(items) > at and items[at].retweeted_by.id == who.id
    return len(items) == 1 and items[0].retweeted_by.id == who.id


async def test_a_followed_account_backfills_and_new_follows_show_at_once(mesh: Mesh) -> None:
    author, reader, quiet = await accounts(mesh, 3)
    await follow(mesh, reader, quiet)
    older = await post(mesh, author, "before you came")
    await shows(lambda: user_ids(mesh, reader, author), [older], "the author's user timeline")
    assert await home_ids(mesh, reader) == []  # built, without the author
    await follow(mesh, reader, author)
    await shows(lambda: home_ids(mesh, reader), [older])


# --- reads filter -----------------------------------------------------------------------------------


async def test_unfollow_mute_block_and_delete_show_on_the_next_read(mesh: Mesh) -> None:
    reader, gone, muted, blocked, deleter = await accounts(mesh, 5)
    await follow(mesh, reader, gone, muted, blocked, deleter)
    assert await home_ids(mesh, reader) == []
    posted = {who.id: await post(mesh, who) for who in (gone, muted, blocked, deleter)}
    await shows(lambda: home_ids(mesh, reader), sorted(posted.values(), reverse=True))
    await mesh.graph.UnfollowUser(G.UnfollowUserRequest(id=gone.id), metadata=reader.metadata)
    await mesh.graph.MuteUser(G.MuteUserRequest(id=muted.id), metadata=reader.metadata)
    await mesh.graph.BlockUser(G.BlockUserRequest(id=reader.id), metadata=blocked.metadata)  # blocked *by* them
    await mesh.tweets.DeleteTweet(tweet_service_pb2.DeleteTweetRequest(id=posted[deleter.id]),
                                  metadata=deleter.metadata)
    assert await home_ids(mesh, reader) == []


async def test_filters(mesh: Mesh) -> None:
    reader, author, sharer = await accounts(mesh, 3)
    await follow(mesh, reader, author, sharer)
    assert await home_ids(mesh, reader) == []
    plain = await post(mesh, author, "plain")
    reply = await mesh.tweets.CreateReply(tweet_service_pb2.CreateReplyRequest(id=plain, text="a reply"),
                                          metadata=author.metadata)
    shared = await post(mesh, reader, "mine, shared")
    await retweet(mesh, sharer, shared, reader)
    await shows(lambda: home_ids(mesh, reader), [shared, reply.tweet_id, plain])
    assert await home_ids(mesh, reader, filter="replies") == [reply.tweet_id]
    assert await home_ids(mesh, reader, filter="retweets") == [shared]
    assert await home_ids(mesh, reader, filter="media") == []
    assert await user_ids(mesh, reader, author, filter="replies") == [reply.tweet_id]
    for bad in ("photos", "MEDIA"):
        await refused(home(mesh, reader, filter=bad), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FILTER")
        await refused(user_ids(mesh, reader, author, filter=bad), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FILTER")


# --- pages ------------------------------------------------------------------------------------------


async def test_pages_never_overlap_or_skip_while_tweets_arrive(mesh: Mesh) -> None:
    reader, author = await accounts(mesh, 2)
    await follow(mesh, reader, author)
    assert await home_ids(mesh, reader) == []
    before = [await post(mesh, author, f"t{i}") for i in range(12)]
    await shows(lambda: home_ids(mesh, reader, limit=100), before[::-1])
    listed, cursor, pages = [], "", 0
    while True:
        reply = await home(mesh, reader, limit=5, cursor=cursor)
        listed += [item.tweet.id for item in reply.tweets]
        pages += 1
        await post(mesh, author, "arrives between pages")
        await post(mesh, reader, "mine too")
        cursor = reply.next_cursor
        if not cursor:
            break
    assert listed == before[::-1] and pages == 3


async def test_limits_and_bad_cursors(mesh: Mesh) -> None:
    reader = await account(mesh)
    posted = [await post(mesh, reader, f"n{i}") for i in range(22)]
    assert len((await home(mesh, reader)).tweets) == 20
    assert await home_ids(mesh, reader, limit=1000) == posted[::-1]
    await refused(home(mesh, reader, limit=-1), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_LIMIT")
    await refused(home(mesh, reader, cursor="junk"), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    cursor = (await home(mesh, reader, limit=2)).next_cursor
    other = await account(mesh)
    await refused(home(mesh, other, cursor=cursor), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    await refused(home(mesh, reader, cursor=cursor, filter="media"), grpc.StatusCode.INVALID_ARGUMENT,
                  "INVALID_CURSOR")
    await refused(user_ids(mesh, reader, reader, cursor=cursor), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")


# --- cold start -------------------------------------------------------------------------------------


async def test_a_lost_cache_is_rebuilt_on_the_next_read(mesh: Mesh) -> None:
    reader, author, star, *fans = await accounts(mesh, THRESHOLD + 4)
    for fan in (reader, *fans):
        await follow(mesh, fan, star)
    await follow(mesh, reader, author)
    assert await home_ids(mesh, reader) == []
    posted = [await post(mesh, who) for who in (author, star, reader, author)]
    await shows(lambda: home_ids(mesh, reader), posted[::-1])
    await mesh.valkey.delete(layout.home_key(reader.id), layout.built_key(reader.id), layout.celebs_key(reader.id))
    assert await home_ids(mesh, reader) == posted[::-1]
    assert set(await cached(mesh, reader)) >= {tweet_entry(i, author.id).key for i in (posted[0], posted[3])}


async def test_rebuild_home_timeline(mesh: Mesh) -> None:
    reader, author = await accounts(mesh, 2)
    posted = [await post(mesh, author, f"r{i}") for i in range(3)]
    await follow(mesh, reader, author)

    async def rebuilt_whole() -> bool:  # a rebuild reads the index, which fan-out fills as it runs
        reply = await mesh.timeline.RebuildHomeTimeline(TL.RebuildHomeTimelineRequest(user_id=reader.id))
        return reply.entry_count == 3

    await eventually(rebuilt_whole, what="a rebuild with every tweet indexed")
    for _ in range(2):  # doing it twice is doing it once
        reply = await mesh.timeline.RebuildHomeTimeline(TL.RebuildHomeTimelineRequest(user_id=reader.id))
        assert reply.entry_count == 3
        assert await cached(mesh, reader) == [tweet_entry(i, author.id).key for i in posted[::-1]]
    await refused(mesh.timeline.RebuildHomeTimeline(TL.RebuildHomeTimelineRequest(user_id=2**62)),
                  grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await refused(mesh.timeline.RebuildHomeTimeline(TL.RebuildHomeTimelineRequest()),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_USER_ID")


def served() -> dict[str, float]:
    """RPCs served so far by the services of this process, by method, and the timeline's page
    counters (one Prometheus registry holds them all)."""
    counts: dict[str, float] = {}
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name == "chirp_rpc_started_total":
                counts[sample.labels["method"].rsplit("/", 1)[-1]] = sample.value
            elif sample.name in ("chirp_timeline_page_windows_total", "chirp_timeline_pages_total"):
                counts[f"{sample.name}:{sample.labels['list']}"] = sample.value
    return counts


async def cost(read: Awaitable[object]) -> dict[str, float]:
    """What one read cost: the RPCs the services served and the timeline's pages and windows."""
    before = served()
    await read
    after = served()
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0)}


async def test_a_rebuild_reads_the_index_and_asks_the_tweet_service_only_for_what_it_lacks(mesh: Mesh) -> None:
    reader, *authors = await accounts(mesh, 5)
    await follow(mesh, reader, *authors)
    assert await home_ids(mesh, reader) == []
    posted = [await post(mesh, author, f"p{k}") for k in range(2) for author in authors]
    await shows(lambda: home_ids(mesh, reader), posted[::-1])  # fanned out, so indexed too

    async def rebuilt() -> list[str]:
        reply = await mesh.timeline.RebuildHomeTimeline(TL.RebuildHomeTimelineRequest(user_id=reader.id))
        assert reply.entry_count == len(posted)
        return await cached(mesh, reader)

    await mesh.valkey.delete(layout.home_key(reader.id), layout.built_key(reader.id))
    spent = await cost(rebuilt())
    assert "ListUserTweets" not in spent, spent  # four followees, no call for any of them
    assert spent.get("ListFollowingIds") == 1 and spent.get("BatchGetFollowCounts") == 1, spent
    assert await cached(mesh, reader) == [tweet_entry(i, a.id).key for i, a in
                                          zip(posted[::-1], authors[::-1] * 2)]

    # Tweets from before the index was fed: that followee alone is asked of the tweet service.
    with sqlite3.connect(mesh.data_dir / "timeline" / "timeline.db") as db:
        db.execute("DELETE FROM user_timeline WHERE user_id = ?", (authors[0].id,))
        db.execute("DELETE FROM home_timeline WHERE user_id = ?", (reader.id,))
    spent = await cost(rebuilt())
    assert spent.get("ListUserTweets") == 1 and spent.get("BatchGetTweetCounts") == 1, spent
    assert await home_ids(mesh, reader) == posted[::-1]


async def test_a_normal_page_costs_one_round_of_batch_calls(mesh: Mesh) -> None:
    reader, first, second, third = await accounts(mesh, 4)
    await follow(mesh, reader, first, second, third)
    assert await home_ids(mesh, reader) == []
    posted = [await post(mesh, author, f"n{k}") for k in range(4) for author in (first, second, third)]
    await retweet(mesh, second, posted[0], first)
    await post(mesh, reader, "mine")
    await eventually(lambda: _has(mesh, reader, len(posted) + 1), what="every tweet in the reader's home")
    await eventually(lambda: _retweeted_by(mesh, reader, second, at=1), what="the retweet in the reader's home")

    page = await home(mesh, reader, limit=5)
    spent = await cost(home(mesh, reader, limit=5))
    # One window hydrated: one BatchGetTweets, whose visibility check makes the page's only
    # BatchGetRelationships and BatchGetUsers (it answers the accounts, so the timeline asks for
    # none), then one BatchGetEngagement (not served here); the tweet service's ListUserTweets (the
    # reader's own tweets, read-your-writes) adds one BatchGetUsers.
    assert spent["chirp_timeline_page_windows_total:home"] == 1, spent
    assert (spent["BatchGetTweets"], spent["BatchGetRelationships"], spent["ListUserTweets"]) == (1, 1, 1), spent
    assert spent["BatchGetUsers"] == 2 and "ListFollowingIds" not in spent, spent
    spent = await cost(home(mesh, reader, limit=5, cursor=page.next_cursor))
    assert spent["chirp_timeline_page_windows_total:home"] == 1 and spent["BatchGetRelationships"] == 1, spent


async def test_a_user_timeline_page_looks_the_owner_up_only_in_the_tweet_service(mesh: Mesh) -> None:
    owner, other, viewer = await accounts(mesh, 3)
    mine = [await post(mesh, owner, f"m{k}") for k in range(6)]
    theirs = await post(mesh, other, "theirs")
    await retweet(mesh, owner, theirs, other)
    await shows(lambda: user_ids(mesh, viewer, owner, limit=100), [theirs, *mine[::-1]], "the user timeline")

    first = await mesh.timeline.GetUserTimeline(TL.GetUserTimelineRequest(user_id=owner.id, limit=4),
                                                metadata=viewer.metadata)
    assert first.tweets[0].retweeted_by.id == owner.id and first.next_cursor
    spent = await cost(user_ids(mesh, viewer, owner, limit=4))
    # ListUserTweets (read-your-writes) answers the owner's tweets with the owner's profile and
    # relationship, read behind it with one BatchGetUsers and one BatchGetRelationships: they decide
    # access and hydrate the owner's tweets. Only the retweeted tweet takes a BatchGetTweets, whose
    # visibility check asks about its author; then one BatchGetEngagement (not served here).
    assert spent["chirp_timeline_page_windows_total:profile"] == 1, spent
    assert (spent["ListUserTweets"], spent["BatchGetTweets"]) == (1, 1), spent
    assert (spent["BatchGetUsers"], spent["BatchGetRelationships"]) == (2, 2), spent
    spent = await cost(user_ids(mesh, viewer, owner, limit=4, cursor=first.next_cursor))
    # The owner's own tweets only: nothing more to ask the tweet service.
    assert spent["chirp_timeline_page_windows_total:profile"] == 1 and "BatchGetTweets" not in spent, spent
    assert (spent["ListUserTweets"], spent["BatchGetUsers"], spent["BatchGetRelationships"]) == (1, 1, 1), spent


async def _has(mesh: Mesh, reader: Account, n: int) -> bool:
    return len(await home_ids(mesh, reader, limit=100)) == n


async def test_someone_who_follows_nobody_gets_suggestions(mesh: Mesh) -> None:
    author, newcomer = await accounts(mesh, 2)
    popular = await post(mesh, author, "everyone should see this")
    items = (await home(mesh, newcomer, limit=100)).tweets
    assert items and all(i.is_suggestion and i.kind == timeline_pb2.TIMELINE_ITEM_KIND_SUGGESTION for i in items)
    assert popular in [i.tweet.id for i in items]
    await post(mesh, newcomer, "my first")
    assert not any(i.is_suggestion for i in (await home(mesh, newcomer)).tweets)


# --- user timelines ---------------------------------------------------------------------------------


async def test_a_user_timeline_holds_tweets_and_retweets(mesh: Mesh) -> None:
    owner, other, viewer = await accounts(mesh, 3)
    theirs = await post(mesh, other, "theirs")
    mine = await post(mesh, owner, "mine")
    assert await user_ids(mesh, viewer, owner) == [mine]  # at once: the tweet service lists it
    await retweet(mesh, owner, theirs, other)
    await shows(lambda: user_ids(mesh, viewer, owner), [theirs, mine], "the user timeline")
    reply = await mesh.timeline.GetUserTimeline(TL.GetUserTimelineRequest(user_id=owner.id, limit=1),
                                                metadata=viewer.metadata)
    assert reply.tweets[0].retweeted_by.id == owner.id and reply.next_cursor
    rest = await mesh.timeline.GetUserTimeline(
        TL.GetUserTimelineRequest(user_id=owner.id, limit=1, cursor=reply.next_cursor), metadata=viewer.metadata)
    assert [i.tweet.id for i in rest.tweets] == [mine] and rest.tweets[0].kind == timeline_pb2.TIMELINE_ITEM_KIND_TWEET


async def test_private_and_blocked_user_timelines(mesh: Mesh) -> None:
    owner = await account(mesh, private=True)
    stranger, fan, blocker = await accounts(mesh, 3)
    secret = await post(mesh, owner, "for followers")
    await refused(user_ids(mesh, stranger, owner), grpc.StatusCode.PERMISSION_DENIED, "PRIVATE_ACCOUNT")
    assert await user_ids(mesh, owner, owner) == [secret]
    await follow(mesh, fan, owner)
    await mesh.graph.ApproveFollowRequest(G.ApproveFollowRequestRequest(requester_id=fan.id), metadata=owner.metadata)
    assert await user_ids(mesh, fan, owner) == [secret]
    await shows(lambda: home_ids(mesh, fan), [secret])
    await mesh.graph.BlockUser(G.BlockUserRequest(id=fan.id), metadata=blocker.metadata)
    await refused(user_ids(mesh, fan, blocker), grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await refused(user_ids(mesh, blocker, fan), grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await refused(mesh.timeline.GetUserTimeline(TL.GetUserTimelineRequest(user_id=2**62), metadata=fan.metadata),
                  grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")


# --- hydration ----------------------------------------------------------------------------------------


async def test_items_are_hydrated_with_zero_counts_while_engagement_is_down(mesh: Mesh) -> None:
    me, other = await accounts(mesh, 2)
    quoted = await post(mesh, other, "quote me #Tag")
    quote = await post(mesh, me, "look #tag #Other", quote_tweet_id=quoted)
    item = (await home(mesh, me)).tweets[0]
    assert item.tweet.id == quote and item.tweet.quoted_tweet_id == quoted
    assert item.tweet.quoted_tweet.id == quoted and item.tweet.quoted_tweet.author.id == other.id
    assert not item.tweet.quoted_tweet.HasField("quoted_tweet")
    assert list(item.tweet.hashtags) == ["tag", "Other"]
    assert (item.tweet.like_count, item.tweet.retweet_count, item.tweet.liked) == (0, 0, False)


# --- live updates -------------------------------------------------------------------------------------


async def test_the_home_stream_pushes_new_entries_and_ends_with_the_session(mesh: Mesh) -> None:
    author, fan = await accounts(mesh, 2)
    await follow(mesh, fan, author)
    stream = mesh.timeline.StreamHomeTimeline(TL.StreamHomeTimelineRequest(), metadata=fan.metadata)
    await stream.wait_for_connection()

    async def next_update() -> timeline_pb2.TimelineUpdate:
        return await asyncio.wait_for(stream.read(), timeout=10)

    reading = asyncio.create_task(next_update())
    tweet_id = await post(mesh, author)
    update = await reading
    assert list(update.tweet_ids) == [tweet_id]
    await mesh.users.Logout(user_service_pb2.LogoutRequest(), metadata=fan.metadata)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        while True:
            await next_update()
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(caught.value).reason == "SESSION_REVOKED"


# --- deleted accounts ---------------------------------------------------------------------------------


async def test_a_deleted_account_loses_its_timelines(mesh: Mesh) -> None:
    gone, author = await accounts(mesh, 2)
    await follow(mesh, gone, author)
    assert await home_ids(mesh, gone) == []
    tweet_id = await post(mesh, author)
    await shows(lambda: home_ids(mesh, gone), [tweet_id])
    await mesh.users.DeleteAccount(user_service_pb2.DeleteAccountRequest(), metadata=gone.metadata)

    async def forgotten() -> bool:
        return not await mesh.valkey.exists(layout.home_key(gone.id), layout.built_key(gone.id))

    await eventually(forgotten, what="the deleted account's cached timeline to go")

