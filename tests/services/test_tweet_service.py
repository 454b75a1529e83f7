"""The tweet service over a real grpc.aio server on port 0, beside real user and graph services, NATS
and Valkey. The engagement service is not started: cold-start ranking degrades without it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from functools import partial

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from chirp.graph.v1 import graph_service_pb2, graph_service_pb2_grpc
from chirp.tweet.v1 import events_pb2, tweet_pb2, tweet_service_pb2, tweet_service_pb2_grpc
from chirp.user.v1 import events_pb2 as user_events_pb2
from chirp.user.v1 import user_service_pb2_grpc
from services.graph.app import build as build_graph
from services.graph.settings import Settings as GraphSettings
from services.runtime import events
from services.runtime.ids import SnowflakeGenerator
from services.runtime.mesh import free_port
from services.runtime.server import RunningService, serve
from services.tweet.app import build as build_tweet
from services.tweet.domain import Poll, Tweet
from services.tweet.settings import Settings as TweetSettings
from services.tweet.store.sqlite import SqliteTweetStore
from services.user.app import build as build_user
from services.user.settings import Settings as UserSettings
from tests import support
from tests.support import Account, eventually

T = tweet_service_pb2
G = graph_service_pb2
_names = itertools.count()


@dataclass
class Mesh:
    tweets: tweet_service_pb2_grpc.TweetServiceStub
    users: user_service_pb2_grpc.UserServiceStub
    graph: graph_service_pb2_grpc.GraphServiceStub
    js: JetStreamContext
    tweet_env: dict[str, str]  # what a further tweet service instance needs, but its data dir
    data_dir: Path
    log: StreamLog


@pytest.fixture(scope="module")
async def mesh(nats_url: str, valkey_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    """The user and graph services wired to each other, and the tweet service asking both."""
    data = tmp_path_factory.mktemp("tweet-svc")
    env = {"CHIRP_DATA_DIR": str(data), "CHIRP_NATS_URL": nats_url, "CHIRP_VALKEY_URL": valkey_url}
    graph_port = free_port()
    user_settings = UserSettings.from_env({**env, "CHIRP_GRAPH_ADDR": f"127.0.0.1:{graph_port}"})
    user = await serve(user_settings.common, await build_user(user_settings), port=0)
    graph_settings = GraphSettings.from_env({**env, "CHIRP_USER_ADDR": f"127.0.0.1:{user.port}"})
    graph: RunningService = await serve(graph_settings.common, await build_graph(graph_settings), port=graph_port)
    tweet_env = {**env, "CHIRP_USER_ADDR": f"127.0.0.1:{user.port}", "CHIRP_GRAPH_ADDR": f"127.0.0.1:{graph.port}",
                 "CHIRP_ENGAGEMENT_ADDR": "127.0.0.1:1"}  # nobody there: popularity ranks without it
    tweet_settings = TweetSettings.from_env(tweet_env)
    tweet = await serve(tweet_settings.common, await build_tweet(tweet_settings), port=0)
    nc = await events.connect(nats_url, "tweet-tests")
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{tweet.port}") as tweet_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{graph.port}") as graph_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{user.port}") as user_channel,
    ):
        yield Mesh(
            tweet_service_pb2_grpc.TweetServiceStub(tweet_channel),
            user_service_pb2_grpc.UserServiceStub(user_channel),
            graph_service_pb2_grpc.GraphServiceStub(graph_channel),
            nc.jetstream(), tweet_env, data, StreamLog(nc.jetstream()),
        )
    await nc.drain()
    await tweet.stop(1.0)
    await graph.stop(1.0)
    await user.stop(1.0)


# --- helpers --------------------------------------------------------------------------------------


async def account(mesh: Mesh, *, private: bool = False, prefix: str = "t") -> Account:
    return await support.account(mesh.users, private=private, prefix=prefix)


async def post(mesh: Mesh, who: Account, text: str = "hello", *, key: str | None = None,
               **fields: object) -> tweet_pb2.Tweet:
    metadata = who.metadata + ([("idempotency-key", key)] if key is not None else [])
    reply = await mesh.tweets.CreateTweet(T.CreateTweetRequest(text=text, **fields), metadata=metadata)
    assert reply.tweet_id == reply.tweet_data.id and reply.created_at == reply.tweet_data.created_at
    return reply.tweet_data


async def get(mesh: Mesh, tweet_id: int, viewer: Account | None = None) -> tweet_pb2.Tweet:
    return await mesh.tweets.GetTweet(T.GetTweetRequest(id=tweet_id), metadata=viewer.metadata if viewer else None)


refused = partial(support.refused, domain="tweet.chirp")


async def hidden(mesh: Mesh, tweet_id: int, viewer: Account | None) -> None:
    """The viewer gets exactly what an unknown tweet gets: 404, same reason, same message."""
    error = await refused(get(mesh, tweet_id, viewer), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    missing = await refused(get(mesh, 987654321, viewer), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    assert error.details() == missing.details()


async def follow(mesh: Mesh, fan: Account, star: Account, *, approve: bool = False) -> None:
    await mesh.graph.FollowUser(G.FollowUserRequest(id=star.id), metadata=fan.metadata)
    if approve:
        await mesh.graph.ApproveFollowRequest(G.ApproveFollowRequestRequest(requester_id=fan.id),
                                              metadata=star.metadata)


async def block(mesh: Mesh, blocker: Account, blocked: Account) -> None:
    await mesh.graph.BlockUser(G.BlockUserRequest(id=blocked.id), metadata=blocker.metadata)


async def user_tweets(mesh: Mesh, author: Account, viewer: int = 0, **fields: object) -> list[int]:
    reply = await mesh.tweets.ListUserTweets(T.ListUserTweetsRequest(user_id=author.id, viewer_id=viewer, **fields))
    return [t.id for t in reply.tweets]


_EVENT_TYPES: dict[str, type[Message]] = {
    m.DESCRIPTOR.full_name: m for m in (events_pb2.TweetCreated, events_pb2.TweetDeleted, events_pb2.PollVoted)}


@dataclass
class StreamLog:
    """CHIRP_TWEET as read so far, message by message, each read picking up where the last ended."""

    js: JetStreamContext
    events: list[tuple[str, str, Message]] = field(default_factory=list)  # (subject, event id, message)
    next_seq: int = 0

    async def read(self) -> list[tuple[str, str, Message]]:
        state = (await self.js.stream_info("CHIRP_TWEET")).state
        for seq in range(max(self.next_seq, state.first_seq), state.last_seq + 1):
            msg = await self.js.get_msg("CHIRP_TWEET", seq)
            headers = msg.headers or {}
            message = _EVENT_TYPES[headers[events.EVENT_TYPE_HEADER]].FromString(msg.data or b"")
            self.events.append((msg.subject or "", headers[events.MSG_ID_HEADER], message))
            self.next_seq = seq + 1
        return self.events


def tweet_id_of(event: Message) -> int:
    return event.tweet.id if isinstance(event, events_pb2.TweetCreated) else event.tweet_id  # type: ignore[attr-defined]


async def settled(mesh: Mesh) -> list[tuple[str, str, Message]]:
    """The events once everything staged so far is on the stream: the relay publishes in commit
    order, so a fresh tweet's TweetCreated comes after all of them."""
    sentinel = await post(mesh, await account(mesh), "sentinel")

    async def sentinel_seen() -> list[tuple[str, str, Message]]:
        found = await mesh.log.read()
        return found if any(tweet_id_of(e) == sentinel.id for _, _, e in found) else []

    return await eventually(sentinel_seen, what="the sentinel TweetCreated on CHIRP_TWEET")


def about(found: list[tuple[str, str, Message]], *tweet_ids: int) -> list[tuple[str, Message]]:
    wanted = set(tweet_ids)
    return [(s, e) for s, _, e in found if tweet_id_of(e) in wanted]


def started(method: str) -> float:
    """How many calls of a method the services of this process have started (their Prometheus counter)."""
    return REGISTRY.get_sample_value("chirp_rpc_started_total", {"method": method}) or 0.0


# --- create ---------------------------------------------------------------------------------------


async def test_create_parses_entities_resolves_mentions_and_publishes(mesh: Mesh) -> None:
    me, friend = await account(mesh), await account(mesh, prefix="Friend")
    text = (f"Hi @{friend.username.upper()} and @nobody_here_x! #Chirp #chirp, see "
            "https://example.com/a?b=1. The sun is out and the day is fine")
    tweet = await post(mesh, me, text, location=" Paris ", media_urls=["https://media.example/1.png"])
    assert tweet.id > 0 and tweet.author_id == me.id and tweet.text == text
    assert tweet.conversation_id == tweet.id and tweet.reply_to_tweet_id == 0 and tweet.quote_tweet_id == 0
    assert tweet.location == "Paris" and list(tweet.media_urls) == ["https://media.example/1.png"]
    assert tweet.visibility == tweet_pb2.VISIBILITY_PUBLIC and tweet.language == "en"
    assert tweet.created_at.seconds > 0 and not tweet.HasField("poll")
    [mention] = tweet.entities.mentions
    assert (mention.user_id, mention.username) == (friend.id, friend.username.upper())
    assert text[mention.start:mention.end] == f"@{friend.username.upper()}"
    assert [(h.tag, h.text) for h in tweet.entities.hashtags] == [("chirp", "Chirp"), ("chirp", "chirp")]
    assert [u.url for u in tweet.entities.urls] == ["https://example.com/a?b=1"]
    assert await get(mesh, tweet.id, me) == tweet
    assert await get(mesh, tweet.id) == tweet  # signed out: a public tweet

    mine = about(await settled(mesh), tweet.id)
    assert [s for s, _ in mine] == ["chirp.tweet.created"]
    created = mine[0][1]
    assert created.tweet == tweet and created.occurred_at == tweet.created_at


async def test_a_private_authors_tweet_says_so_and_media_alone_is_a_tweet(mesh: Mesh) -> None:
    me = await account(mesh, private=True)
    tweet = await post(mesh, me, "  ", media_urls=["https://media.example/a.jpg", "http://media.example/b.jpg"])
    assert tweet.text == "" and tweet.visibility == tweet_pb2.VISIBILITY_FOLLOWERS and tweet.language == "und"


@pytest.mark.parametrize(("fields", "reason"), [
    ({"text": ""}, "TWEET_EMPTY"),
    ({"text": " \n\t "}, "TWEET_EMPTY"),
    ({"text": "x" * 281}, "TWEET_TOO_LONG"),
    ({"text": "bell\x07"}, "INVALID_TEXT"),
    ({"text": "x", "media_urls": [f"https://m.example/{i}" for i in range(5)]}, "TOO_MANY_MEDIA"),
    ({"text": "x", "media_urls": ["ftp://m.example/a"]}, "INVALID_MEDIA_URL"),
    ({"text": "x", "poll": T.NewPoll(options=["only one"])}, "INVALID_POLL"),
    ({"text": "x", "location": "l" * 31}, "LOCATION_TOO_LONG"),
    ({"text": "x", "request_id": "k" * 129}, "INVALID_REQUEST_ID"),
])
async def test_bad_tweets_are_refused_and_write_nothing(mesh: Mesh, fields: dict[str, object], reason: str) -> None:
    me = await account(mesh)
    await refused(mesh.tweets.CreateTweet(T.CreateTweetRequest(**fields), metadata=me.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert await user_tweets(mesh, me, me.id) == []


async def test_poll_rules_at_create(mesh: Mesh) -> None:
    me = await account(mesh)
    for poll in (T.NewPoll(options=["a"]), T.NewPoll(options=["a", "b", "c", "d", "e"]),
                 T.NewPoll(options=["a", "x" * 26]), T.NewPoll(options=["a", "b"], duration_minutes=4),
                 T.NewPoll(options=["a", "b"], duration_minutes=10081)):
        await refused(mesh.tweets.CreateTweet(T.CreateTweetRequest(text="?", poll=poll), metadata=me.metadata),
                      grpc.StatusCode.INVALID_ARGUMENT, "INVALID_POLL")
    await refused(mesh.tweets.CreateTweet(T.CreateTweetRequest(
        text="?", poll=T.NewPoll(options=["a", "b"]), media_urls=["https://m.example/a"]), metadata=me.metadata),
        grpc.StatusCode.INVALID_ARGUMENT, "POLL_WITH_MEDIA")
    tweet = await post(mesh, me, "Tea or coffee?", poll=T.NewPoll(options=["Tea", "Coffee"], duration_minutes=5))
    assert [o.text for o in tweet.poll.options] == ["Tea", "Coffee"]
    assert tweet.poll.ends_at.ToMilliseconds() - tweet.created_at.ToMilliseconds() == 5 * 60_000
    assert not tweet.poll.closed and not tweet.poll.HasField("viewer_option_index")


async def test_create_needs_a_token(mesh: Mesh) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mesh.tweets.CreateTweet(T.CreateTweetRequest(text="anonymous"))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


# --- idempotency ----------------------------------------------------------------------------------


async def test_a_retried_create_returns_the_first_tweet(mesh: Mesh) -> None:
    me, other = await account(mesh), await account(mesh)
    first = await post(mesh, me, "once", request_id="req-1")
    again = await post(mesh, me, "once, retried with other words", request_id="req-1")
    assert again == first
    by_header = await post(mesh, me, "header", key="hdr-1", request_id="req-1")  # the header wins
    assert by_header.id != first.id
    assert (await post(mesh, me, "header again", key="hdr-1", request_id="whatever")).id == by_header.id
    assert (await post(mesh, other, "same key, other author", request_id="req-1")).id != first.id
    reply = await mesh.tweets.CreateReply(T.CreateReplyRequest(id=first.id, text="r", request_id="rep-1"),
                                          metadata=me.metadata)
    retried = await mesh.tweets.CreateReply(T.CreateReplyRequest(id=first.id, text="r", request_id="rep-1"),
                                            metadata=me.metadata)
    assert retried.tweet_id == reply.tweet_id
    assert sorted(await user_tweets(mesh, me, me.id)) == sorted([first.id, by_header.id, reply.tweet_id])
    mine = about(await settled(mesh), first.id, by_header.id, reply.tweet_id)
    assert sorted(s for s, _ in mine) == ["chirp.tweet.created"] * 3


async def test_concurrent_duplicates_make_one_tweet(mesh: Mesh) -> None:
    me = await account(mesh)
    results = await asyncio.gather(*(post(mesh, me, f"race {i}", key="race-key") for i in range(12)))
    assert len({t.id for t in results}) == 1
    assert await user_tweets(mesh, me, me.id) == [results[0].id]
    assert len(about(await settled(mesh), results[0].id)) == 1


async def test_a_retry_after_the_first_tweet_was_deleted_makes_no_second(mesh: Mesh) -> None:
    me = await account(mesh)
    first = await post(mesh, me, "soon gone", request_id="gone-1")
    await mesh.tweets.DeleteTweet(T.DeleteTweetRequest(id=first.id), metadata=me.metadata)
    await refused(post(mesh, me, "soon gone", request_id="gone-1"), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    assert await user_tweets(mesh, me, me.id) == []


# --- visibility -----------------------------------------------------------------------------------


async def test_a_private_authors_tweets_are_for_approved_followers(mesh: Mesh) -> None:
    owner = await account(mesh, private=True)
    fan, pending, stranger = await account(mesh), await account(mesh), await account(mesh)
    await follow(mesh, fan, owner, approve=True)
    await follow(mesh, pending, owner)
    tweet = await post(mesh, owner, "for my followers")
    assert tweet.visibility == tweet_pb2.VISIBILITY_FOLLOWERS
    assert (await get(mesh, tweet.id, owner)).id == tweet.id
    assert (await get(mesh, tweet.id, fan)).id == tweet.id
    for viewer in (pending, stranger, None):
        await hidden(mesh, tweet.id, viewer)
    batch = await mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(viewer_id=stranger.id, ids=[tweet.id]))
    assert dict(batch.tweets) == {}
    assert await user_tweets(mesh, owner, stranger.id) == [] and await user_tweets(mesh, owner, fan.id) == [tweet.id]


async def test_a_block_hides_tweets_both_ways(mesh: Mesh) -> None:
    author, blocker, blocked = await account(mesh), await account(mesh), await account(mesh)
    tweet = await post(mesh, author, "public")
    await block(mesh, author, blocked)  # the author blocks someone
    await block(mesh, blocker, author)  # someone blocks the author
    await hidden(mesh, tweet.id, blocked)
    await hidden(mesh, tweet.id, blocker)
    assert (await get(mesh, tweet.id)).id == tweet.id
    await mesh.graph.UnblockUser(G.UnblockUserRequest(id=author.id), metadata=blocker.metadata)
    assert (await get(mesh, tweet.id, blocker)).id == tweet.id


async def test_batch_get_applies_the_rules_per_viewer_in_one_call_to_each_service(mesh: Mesh) -> None:
    viewer = await account(mesh)
    authors = [await account(mesh, private=i % 3 == 0) for i in range(12)]
    await block(mesh, authors[1], viewer)
    await follow(mesh, viewer, authors[3], approve=True)
    tweets = [await post(mesh, a, f"tweet {i}") for i, a in enumerate(authors)]
    quote = await post(mesh, viewer, "look", quote_tweet_id=tweets[2].id)
    ids = [t.id for t in tweets] + [quote.id, quote.id, 424242, 0]
    before = {m: started(m) for m in ("/chirp.user.v1.UserService/BatchGetUsers",
                                      "/chirp.graph.v1.GraphService/BatchGetRelationships")}
    reply = await mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(viewer_id=viewer.id, ids=ids))
    assert {m: started(m) - count for m, count in before.items()} == {m: 1.0 for m in before}
    expected = {t.id for i, t in enumerate(tweets) if i == 3 or (i % 3 != 0 and i != 1)} | {quote.id}
    assert set(reply.tweets) == expected
    assert reply.tweets[quote.id].quoted_tweet.id == tweets[2].id
    signed_out = await mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(ids=ids))
    assert set(signed_out.tweets) == {t.id for i, t in enumerate(tweets) if i % 3 != 0} | {quote.id}
    await refused(mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(ids=range(1, 502))),
                  grpc.StatusCode.INVALID_ARGUMENT, "TOO_MANY_IDS")


async def test_batch_get_answers_the_accounts_it_read_without_asking_again(mesh: Mesh) -> None:
    viewer, public, private, retweeter, stranger = [await account(mesh, private=i == 2) for i in range(5)]
    await follow(mesh, viewer, public)
    await mesh.graph.MuteUser(G.MuteUserRequest(id=retweeter.id), metadata=viewer.metadata)
    await block(mesh, private, viewer)
    shown, quoting, behind = (await post(mesh, public, "seen"), await post(mesh, viewer, "q", quote_tweet_id=0),
                              await post(mesh, private, "hidden"))
    quote = await post(mesh, retweeter, "look", quote_tweet_id=shown.id)
    before = {m: started(m) for m in ("/chirp.user.v1.UserService/BatchGetUsers",
                                      "/chirp.graph.v1.GraphService/BatchGetRelationships")}
    ids = [shown.id, quoting.id, behind.id, quote.id]
    reply = await mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(
        viewer_id=viewer.id, ids=ids, include_accounts=True, account_ids=[retweeter.id, stranger.id, stranger.id, 2**62]))
    assert {m: started(m) - count for m, count in before.items()} == {m: 1.0 for m in before}
    plain = await mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(viewer_id=viewer.id, ids=ids))
    assert reply.tweets == plain.tweets and set(reply.tweets) == {shown.id, quoting.id, quote.id}
    assert not plain.profiles and not plain.relationships  # only when asked
    assert set(reply.profiles) == {viewer.id, public.id, private.id, retweeter.id, stranger.id}  # no 2**62
    assert reply.profiles[private.id].username == private.username and reply.profiles[private.id].is_private
    assert set(reply.relationships) == {public.id, private.id, retweeter.id, stranger.id, 2**62}  # not the viewer
    assert reply.relationships[public.id].following and not reply.relationships[public.id].muting
    assert reply.relationships[retweeter.id].muting and reply.relationships[private.id].blocked_by
    signed_out = await mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(ids=ids, include_accounts=True))
    assert set(signed_out.tweets) == {shown.id, quoting.id, quote.id} and not signed_out.relationships
    assert set(signed_out.profiles) == {viewer.id, public.id, private.id, retweeter.id}
    nothing = await mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(
        viewer_id=viewer.id, ids=[424242], include_accounts=True, account_ids=[retweeter.id]))
    assert not nothing.tweets and set(nothing.profiles) == {retweeter.id} and nothing.relationships[retweeter.id].muting
    await refused(mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(ids=[1], include_accounts=True,
                                                                      account_ids=range(1, 502))),
                  grpc.StatusCode.INVALID_ARGUMENT, "TOO_MANY_IDS")


async def test_listing_answers_the_author_it_read_even_when_it_lists_nothing(mesh: Mesh) -> None:
    viewer, public, private, quoted = [await account(mesh, private=i == 2) for i in range(4)]
    await follow(mesh, viewer, public)
    await block(mesh, private, viewer)
    original = await post(mesh, quoted, "original")
    mine = await post(mesh, public, "look", quote_tweet_id=original.id)
    counted = ("/chirp.user.v1.UserService/BatchGetUsers", "/chirp.graph.v1.GraphService/BatchGetRelationships")
    before = {m: started(m) for m in counted}
    reply = await mesh.tweets.ListUserTweets(T.ListUserTweetsRequest(user_id=public.id, viewer_id=viewer.id,
                                                                     include_accounts=True))
    assert {m: started(m) - count for m, count in before.items()} == {m: 1.0 for m in before}
    plain = await mesh.tweets.ListUserTweets(T.ListUserTweetsRequest(user_id=public.id, viewer_id=viewer.id))
    assert list(reply.tweets) == list(plain.tweets) and [t.id for t in reply.tweets] == [mine.id]
    assert not plain.profiles and not plain.relationships  # only when asked
    assert set(reply.profiles) == {public.id, quoted.id} and reply.relationships[public.id].following
    hidden = await mesh.tweets.ListUserTweets(T.ListUserTweetsRequest(user_id=private.id, viewer_id=viewer.id,
                                                                      include_accounts=True))
    assert not hidden.tweets and hidden.profiles[private.id].is_private and hidden.relationships[private.id].blocked_by
    silent = await mesh.tweets.ListUserTweets(T.ListUserTweetsRequest(user_id=viewer.id, viewer_id=viewer.id,
                                                                      include_accounts=True))
    assert not silent.tweets and set(silent.profiles) == {viewer.id} and not silent.relationships
    gone = await mesh.tweets.ListUserTweets(T.ListUserTweetsRequest(user_id=2**62, viewer_id=viewer.id,
                                                                    include_accounts=True))
    assert not gone.tweets and not gone.profiles


# --- replies --------------------------------------------------------------------------------------


async def test_replies_carry_the_conversation_and_list_oldest_first(mesh: Mesh) -> None:
    op, a, b = await account(mesh), await account(mesh), await account(mesh)
    root = await post(mesh, op, "root")
    first = (await mesh.tweets.CreateReply(T.CreateReplyRequest(id=root.id, text="first"), metadata=a.metadata)).tweet_data
    second = await post(mesh, b, "second", reply_to_tweet_id=root.id)
    nested = (await mesh.tweets.CreateReply(T.CreateReplyRequest(id=first.id, text="nested"),
                                            metadata=op.metadata)).tweet_data
    assert (first.reply_to_tweet_id, first.conversation_id) == (root.id, root.id)
    assert (second.reply_to_tweet_id, second.conversation_id) == (root.id, root.id)
    assert (nested.reply_to_tweet_id, nested.conversation_id) == (first.id, root.id)
    listed = await mesh.tweets.ListReplies(T.ListRepliesRequest(id=root.id))
    assert [r.id for r in listed.replies] == [first.id, second.id] and listed.next_cursor == ""
    assert [r.id for r in (await mesh.tweets.ListReplies(T.ListRepliesRequest(id=first.id))).replies] == [nested.id]
    mine = about(await settled(mesh), nested.id)
    assert mine[0][1].tweet.reply_to_tweet_id == first.id and mine[0][1].tweet.conversation_id == root.id


async def test_reply_pages_never_overlap_while_replies_arrive(mesh: Mesh) -> None:
    op, fan = await account(mesh), await account(mesh)
    root = await post(mesh, op, "thread")
    made = [await post(mesh, fan, f"r{i}", reply_to_tweet_id=root.id) for i in range(5)]
    page = await mesh.tweets.ListReplies(T.ListRepliesRequest(id=root.id, limit=2), metadata=op.metadata)
    seen = [r.id for r in page.replies]
    made.append(await post(mesh, fan, "late", reply_to_tweet_id=root.id))  # arrives between pages
    await mesh.tweets.DeleteTweet(T.DeleteTweetRequest(id=made[3].id), metadata=fan.metadata)
    cursor = page.next_cursor
    while cursor:
        page = await mesh.tweets.ListReplies(T.ListRepliesRequest(id=root.id, limit=2, cursor=cursor),
                                             metadata=op.metadata)
        seen += [r.id for r in page.replies]
        cursor = page.next_cursor
    assert seen == [t.id for i, t in enumerate(made) if i != 3]
    await refused(mesh.tweets.ListReplies(T.ListRepliesRequest(id=root.id, cursor="garbage")),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    first = await mesh.tweets.ListReplies(T.ListRepliesRequest(id=root.id, limit=1))
    await refused(mesh.tweets.ListReplies(T.ListRepliesRequest(id=made[0].id, cursor=first.next_cursor)),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    await refused(mesh.tweets.ListReplies(T.ListRepliesRequest(id=root.id, limit=-1)),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_LIMIT")


async def test_reply_rules(mesh: Mesh) -> None:
    me, hater, owner, victim = (await account(mesh), await account(mesh), await account(mesh, private=True),
                                await account(mesh))
    hater_tweet, private_tweet, victim_tweet = (await post(mesh, hater, "h"), await post(mesh, owner, "p"),
                                                await post(mesh, victim, "v"))
    await block(mesh, hater, me)
    await block(mesh, me, victim)
    gone = await post(mesh, me, "gone")
    await mesh.tweets.DeleteTweet(T.DeleteTweetRequest(id=gone.id), metadata=me.metadata)

    def reply(tweet_id: int) -> object:
        return mesh.tweets.CreateReply(T.CreateReplyRequest(id=tweet_id, text="re"), metadata=me.metadata)

    await refused(reply(hater_tweet.id), grpc.StatusCode.PERMISSION_DENIED, "BLOCKED_BY_AUTHOR")
    await refused(post(mesh, me, "re", reply_to_tweet_id=hater_tweet.id), grpc.StatusCode.PERMISSION_DENIED,
                  "BLOCKED_BY_AUTHOR")
    for tweet_id in (private_tweet.id, victim_tweet.id, gone.id, 987654321, 0, -3):
        await refused(reply(tweet_id), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    await refused(mesh.tweets.CreateReply(T.CreateReplyRequest(id=victim_tweet.id, text=""), metadata=me.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "TWEET_EMPTY")  # the content is checked first
    await follow(mesh, me, owner, approve=True)
    made = (await reply(private_tweet.id)).tweet_data  # type: ignore[attr-defined]
    assert made.conversation_id == private_tweet.id
    assert await user_tweets(mesh, me, me.id) == [made.id]


async def test_hidden_replies_are_left_out_of_a_thread(mesh: Mesh) -> None:
    op, reader, hater, secret = (await account(mesh), await account(mesh), await account(mesh),
                                 await account(mesh, private=True))
    root = await post(mesh, op, "root")
    kept = await post(mesh, hater, "ok", reply_to_tweet_id=root.id)
    secret_reply = await post(mesh, secret, "psst", reply_to_tweet_id=root.id)
    await block(mesh, hater, reader)
    listed = await mesh.tweets.ListReplies(T.ListRepliesRequest(id=root.id), metadata=reader.metadata)
    assert [r.id for r in listed.replies] == []
    as_op = await mesh.tweets.ListReplies(T.ListRepliesRequest(id=root.id), metadata=op.metadata)
    assert [r.id for r in as_op.replies] == [kept.id]
    as_secret = await mesh.tweets.ListReplies(T.ListRepliesRequest(id=root.id), metadata=secret.metadata)
    assert [r.id for r in as_secret.replies] == [kept.id, secret_reply.id]
    await refused(mesh.tweets.ListReplies(T.ListRepliesRequest(id=987654321)), grpc.StatusCode.NOT_FOUND,
                  "TWEET_NOT_FOUND")
    await block(mesh, op, reader)
    await refused(mesh.tweets.ListReplies(T.ListRepliesRequest(id=root.id), metadata=reader.metadata),
                  grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")


# --- mentions and blocks --------------------------------------------------------------------------


async def test_mentions_of_accounts_behind_a_block_are_not_entities(mesh: Mesh) -> None:
    me, friend, hater = await account(mesh), await account(mesh), await account(mesh)
    await block(mesh, hater, me)
    tweet = await post(mesh, me, f"@{friend.username} @{hater.username}")
    assert [m.user_id for m in tweet.entities.mentions] == [friend.id]


# --- quotes ---------------------------------------------------------------------------------------


async def test_quotes_embed_the_original_while_it_is_visible(mesh: Mesh) -> None:
    author, quoter, reader = await account(mesh), await account(mesh), await account(mesh)
    original = await post(mesh, author, "quotable")
    quote = await post(mesh, quoter, "so true", quote_tweet_id=original.id)
    assert quote.quote_tweet_id == original.id and quote.quoted_tweet == original
    internal = await mesh.tweets.CreateQuote(T.CreateQuoteRequest(
        author_id=quoter.id, quote_tweet_id=quote.id, comment="quoting a quote"))
    assert internal.author_id == quoter.id and internal.quoted_tweet.id == quote.id
    assert not internal.quoted_tweet.HasField("quoted_tweet")  # one level deep
    await block(mesh, author, reader)
    assert not (await get(mesh, quote.id, reader)).HasField("quoted_tweet")
    assert (await get(mesh, quote.id, reader)).quote_tweet_id == original.id
    await mesh.tweets.DeleteTweet(T.DeleteTweetRequest(id=original.id), metadata=author.metadata)
    assert not (await get(mesh, quote.id)).HasField("quoted_tweet")
    created = about(await settled(mesh), quote.id)
    assert created[0][1].tweet.quote_tweet_id == original.id and not created[0][1].tweet.HasField("quoted_tweet")


async def test_quote_rules(mesh: Mesh) -> None:
    me, owner, hater = await account(mesh), await account(mesh, private=True), await account(mesh)
    private_tweet, hater_tweet = await post(mesh, owner, "mine"), await post(mesh, hater, "h")
    await block(mesh, hater, me)

    def quote(tweet_id: int, comment: str = "hm", author: int = me.id, request_id: str = "") -> object:
        return mesh.tweets.CreateQuote(T.CreateQuoteRequest(author_id=author, quote_tweet_id=tweet_id,
                                                            comment=comment, request_id=request_id))

    await refused(quote(private_tweet.id), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    await refused(quote(hater_tweet.id), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    await refused(quote(987654321), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    await follow(mesh, me, owner, approve=True)
    await refused(quote(private_tweet.id), grpc.StatusCode.PERMISSION_DENIED, "PROTECTED_TWEET")
    await refused(post(mesh, me, "hm", quote_tweet_id=private_tweet.id), grpc.StatusCode.PERMISSION_DENIED,
                  "PROTECTED_TWEET")
    own = await mesh.tweets.CreateQuote(T.CreateQuoteRequest(author_id=owner.id, quote_tweet_id=private_tweet.id,
                                                             comment="me again"))
    assert own.quoted_tweet.id == private_tweet.id
    public = await post(mesh, await account(mesh), "public")
    await refused(quote(public.id, ""), grpc.StatusCode.INVALID_ARGUMENT, "TWEET_EMPTY")
    await refused(quote(public.id, "x" * 281), grpc.StatusCode.INVALID_ARGUMENT, "TWEET_TOO_LONG")
    await refused(quote(public.id, author=0), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_USER_ID")
    await refused(quote(public.id, author=987654321), grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    first = await quote(public.id, request_id="q-1")
    again = await quote(public.id, "other words", request_id="q-1")
    assert first.id == again.id  # type: ignore[attr-defined]


# --- delete ---------------------------------------------------------------------------------------


async def test_delete_is_for_the_author_soft_and_repeatable(mesh: Mesh) -> None:
    author, other, hater = await account(mesh), await account(mesh), await account(mesh)
    tweet = await post(mesh, author, "to delete")
    reply = await post(mesh, other, "a reply", reply_to_tweet_id=tweet.id)
    await block(mesh, author, hater)
    await refused(mesh.tweets.DeleteTweet(T.DeleteTweetRequest(id=tweet.id), metadata=other.metadata),
                  grpc.StatusCode.PERMISSION_DENIED, "NOT_TWEET_AUTHOR")
    await refused(mesh.tweets.DeleteTweet(T.DeleteTweetRequest(id=tweet.id), metadata=hater.metadata),
                  grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    await refused(mesh.tweets.DeleteTweet(T.DeleteTweetRequest(id=987654321), metadata=author.metadata),
                  grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    for _ in range(2):
        reply_msg = await mesh.tweets.DeleteTweet(T.DeleteTweetRequest(id=tweet.id), metadata=author.metadata)
        assert reply_msg.message == "Tweet deleted"
    await refused(mesh.tweets.DeleteTweet(T.DeleteTweetRequest(id=tweet.id), metadata=other.metadata),
                  grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    for viewer in (author, other, None):
        await hidden(mesh, tweet.id, viewer)
    assert await user_tweets(mesh, author, author.id) == []
    assert dict((await mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(viewer_id=author.id, ids=[tweet.id]))).tweets) == {}
    await refused(mesh.tweets.ListReplies(T.ListRepliesRequest(id=tweet.id)), grpc.StatusCode.NOT_FOUND,
                  "TWEET_NOT_FOUND")
    assert (await get(mesh, reply.id)).reply_to_tweet_id == tweet.id  # replies stay
    mine = about(await settled(mesh), tweet.id)
    assert [s for s, _ in mine] == ["chirp.tweet.created", "chirp.tweet.deleted"]
    deleted = mine[1][1]
    assert (deleted.tweet_id, deleted.author_id, deleted.reply_to_tweet_id) == (tweet.id, author.id, 0)


# --- polls ----------------------------------------------------------------------------------------


async def test_one_vote_per_account_with_counts(mesh: Mesh) -> None:
    author, a, b, stranger = await account(mesh), await account(mesh), await account(mesh), await account(mesh)
    tweet = await post(mesh, author, "Best?", poll=T.NewPoll(options=["x", "y", "z"]))

    def vote(who: Account, index: int, tweet_id: int = tweet.id) -> object:
        return mesh.tweets.VotePoll(T.VotePollRequest(id=tweet_id, option_index=index), metadata=who.metadata)

    poll = await vote(a, 1)
    assert [o.vote_count for o in poll.options] == [0, 1, 0] and poll.viewer_option_index == 1  # type: ignore[attr-defined]
    assert (await vote(a, 1)) == poll  # the same vote again changes nothing
    await refused(vote(a, 0), grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_VOTED")
    poll = await vote(b, 1)
    assert [o.vote_count for o in poll.options] == [0, 2, 0]  # type: ignore[attr-defined]
    for index in (-1, 3):
        await refused(vote(stranger, index), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_POLL_OPTION")
    plain = await post(mesh, author, "no poll")
    await refused(vote(a, 0, plain.id), grpc.StatusCode.NOT_FOUND, "POLL_NOT_FOUND")
    await refused(vote(a, 0, 987654321), grpc.StatusCode.NOT_FOUND, "TWEET_NOT_FOUND")
    seen = await get(mesh, tweet.id, b)
    assert seen.poll.viewer_option_index == 1 and [o.vote_count for o in seen.poll.options] == [0, 2, 0]
    assert not (await get(mesh, tweet.id, stranger)).poll.HasField("viewer_option_index")
    assert not (await get(mesh, tweet.id)).poll.HasField("viewer_option_index")
    votes = [(s, e) for s, e in about(await settled(mesh), tweet.id) if s == "chirp.tweet.poll_voted"]
    assert sorted((e.voter_id, e.option_index, e.author_id) for _, e in votes) == sorted(
        [(a.id, 1, author.id), (b.id, 1, author.id)])


async def test_concurrent_votes_count_right(mesh: Mesh) -> None:
    author = await account(mesh)
    voters = await asyncio.gather(*(account(mesh) for _ in range(20)))
    tweet = await post(mesh, author, "Quick", poll=T.NewPoll(options=["a", "b"]))
    calls = [mesh.tweets.VotePoll(T.VotePollRequest(id=tweet.id, option_index=i % 2), metadata=v.metadata)
             for i, v in enumerate(voters) for _ in range(2)]
    await asyncio.gather(*calls)
    assert [o.vote_count for o in (await get(mesh, tweet.id)).poll.options] == [10, 10]


async def test_a_closed_poll_takes_no_votes(mesh: Mesh) -> None:
    author, voter = await account(mesh), await account(mesh)
    store = SqliteTweetStore(mesh.data_dir / "tweet" / "tweet.db")  # the service's own file, as an old tweet
    try:
        old_id = SnowflakeGenerator(900, clock_ms=lambda: 1_750_000_000_000).next_id()
        poll = Poll(("a", "b"), 1_750_000_000_000 + 5 * 60_000, (0, 0))
        await store.create_tweet(Tweet(old_id, author.id, "Old poll", old_id, poll=poll), "", [])
    finally:
        await store.close()
    shown = await get(mesh, old_id, voter)
    assert shown.poll.closed
    await refused(mesh.tweets.VotePoll(T.VotePollRequest(id=old_id, option_index=0), metadata=voter.metadata),
                  grpc.StatusCode.FAILED_PRECONDITION, "POLL_CLOSED")


# --- internal reads -------------------------------------------------------------------------------


async def test_user_tweets_by_range_with_cursors(mesh: Mesh) -> None:
    author, stranger = await account(mesh), await account(mesh)
    made = [await post(mesh, author, f"n{i}") for i in range(6)]
    ids = [t.id for t in made]
    assert await user_tweets(mesh, author) == ids[::-1]
    assert await user_tweets(mesh, author, since_id=ids[1], until_id=ids[5]) == [ids[4], ids[3], ids[2]]
    first = await mesh.tweets.ListUserTweets(T.ListUserTweetsRequest(user_id=author.id, since_id=ids[0], limit=2))
    assert [t.id for t in first.tweets] == [ids[5], ids[4]] and first.next_cursor
    newer = await post(mesh, author, "newer")
    rest = await mesh.tweets.ListUserTweets(T.ListUserTweetsRequest(
        user_id=author.id, since_id=ids[0], limit=10, cursor=first.next_cursor))
    assert [t.id for t in rest.tweets] == [ids[3], ids[2], ids[1]] and rest.next_cursor == ""
    assert newer.id not in [t.id for t in rest.tweets]
    await refused(mesh.tweets.ListUserTweets(T.ListUserTweetsRequest(user_id=author.id, cursor=first.next_cursor)),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    await refused(mesh.tweets.ListUserTweets(T.ListUserTweetsRequest(user_id=stranger.id, since_id=ids[0],
                                                                     cursor=first.next_cursor)),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    assert await user_tweets(mesh, stranger) == [] and await user_tweets(mesh, Account(987654321, "", [])) == []
    await block(mesh, author, stranger)
    assert await user_tweets(mesh, author, stranger.id) == []


async def test_recent_popular_tweets_are_public_and_ranked(mesh: Mesh) -> None:
    author, private, fans = await account(mesh), await account(mesh, private=True), [await account(mesh)
                                                                                       for _ in range(3)]
    quiet = await post(mesh, author, "quiet")
    loved = await post(mesh, author, "loved", poll=T.NewPoll(options=["a", "b"]))
    secret = await post(mesh, private, "secret")
    for fan in fans:
        await mesh.tweets.VotePoll(T.VotePollRequest(id=loved.id, option_index=0), metadata=fan.metadata)
    reply = await mesh.tweets.ListRecentPopularTweets(T.ListRecentPopularTweetsRequest(limit=100))
    ranked = [t.id for t in reply.tweets]
    assert secret.id not in ranked and {loved.id, quiet.id} <= set(ranked)
    assert ranked.index(loved.id) < ranked.index(quiet.id)
    assert all(t.visibility == tweet_pb2.VISIBILITY_PUBLIC for t in reply.tweets)
    assert len((await mesh.tweets.ListRecentPopularTweets(T.ListRecentPopularTweetsRequest(limit=1))).tweets) == 1


# --- consumed events ------------------------------------------------------------------------------


async def test_user_deleted_hides_the_accounts_tweets_once(mesh: Mesh) -> None:
    gone, reader = await account(mesh), await account(mesh)
    tweets = [await post(mesh, gone, f"t{i}") for i in range(3)]
    event = user_events_pb2.UserDeleted(user_id=gone.id, occurred_at=timestamp_pb2.Timestamp(seconds=1))
    publisher = events.EventPublisher(mesh.js)
    # A synthetic event for an account the user service still has: only the consumer can hide them.
    await publisher.publish([events.OutgoingEvent.of(events.subject("user", "deleted"), event)])
    await publisher.publish([events.OutgoingEvent.of(events.subject("user", "deleted"), event)])  # a redelivery

    async def all_gone() -> bool:
        found = await mesh.tweets.BatchGetTweets(T.BatchGetTweetsRequest(viewer_id=reader.id,
                                                                          ids=[t.id for t in tweets]))
        return not found.tweets

    await eventually(all_gone, what="the deleted account's tweets to be hidden")

    async def all_handled() -> bool:
        info = await mesh.js.consumer_info("CHIRP_USER", "tweet-user-deleted")
        return info.num_pending == 0 and info.num_ack_pending == 0

    await eventually(all_handled, what="the tweet service to ack every user.deleted")
    await hidden(mesh, tweets[0].id, gone)
    assert await user_tweets(mesh, gone, gone.id) == []
    # Hidden without an event each: consumers act on chirp.user.deleted themselves.
    assert [s for s, _ in about(await settled(mesh), *(t.id for t in tweets))] == ["chirp.tweet.created"] * 3


# --- the outbox: events survive a service that stops between the write and the publish -----------


async def _tweet_service(env: dict[str, str], *, relay: bool) -> RunningService:
    settings = TweetSettings.from_env(env)
    app = await build_tweet(settings)
    if not relay:
        app.background = []  # as if the process died after each commit, before its relay ran
    return await serve(settings.common, app, port=0)


async def test_every_event_arrives_exactly_once_after_a_stop_between_write_and_publish(
    mesh: Mesh, tmp_path: Path
) -> None:
    env = {**mesh.tweet_env, "CHIRP_DATA_DIR": str(tmp_path)}
    author, voter = await account(mesh), await account(mesh)
    stopped = await _tweet_service(env, relay=False)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stopped.port}") as channel:
        stub = tweet_service_pb2_grpc.TweetServiceStub(channel)
        made = [(await stub.CreateTweet(T.CreateTweetRequest(text=f"outbox {i}", poll=T.NewPoll(options=["a", "b"])),
                                        metadata=author.metadata)).tweet_id for i in range(5)]
        await stub.DeleteTweet(T.DeleteTweetRequest(id=made[0]), metadata=author.metadata)
        await stub.VotePoll(T.VotePollRequest(id=made[1], option_index=1), metadata=voter.metadata)
    store = SqliteTweetStore(tmp_path / "tweet" / "tweet.db")
    staged = await store.database.read(lambda c: c.execute(
        "SELECT event_id, subject, event_type, payload FROM outbox ORDER BY seq").fetchall())
    await store.close()
    assert len(staged) == 7
    # Some of them even reached JetStream before the stop, without leaving the outbox.
    await events.EventPublisher(mesh.js).publish(
        [events.OutgoingEvent(r[0], r[1], r[2], bytes(r[3])) for r in staged[:3]])
    await stopped.stop(1.0)

    delivered: list[str] = []  # every delivery about these tweets, duplicates included
    received: list[tuple[str, int, str]] = []  # what the consumer acted on
    seen_ids: set[str] = set()

    async def handle(delivery: events.Delivery) -> None:
        event = _EVENT_TYPES[delivery.event_type].FromString(delivery.payload)
        if tweet_id_of(event) not in made:
            return
        delivered.append(delivery.event_id)
        if delivery.event_id in seen_ids:  # a consumer's own de-duplication by event id
            return
        seen_ids.add(delivery.event_id)
        received.append((delivery.subject, tweet_id_of(event), delivery.event_id))

    durable = f"outbox-test-{next(_names)}"
    consumer = events.DurableConsumer(mesh.js, "CHIRP_TWEET", durable, "chirp.tweet.>", handle)
    consuming = asyncio.create_task(consumer.run())
    restarted = await _tweet_service(env, relay=True)  # a fresh instance on the same data relays
    try:
        async def all_arrived() -> bool:
            return len(received) >= 7

        await eventually(all_arrived, what="the staged events at the durable consumer")

        async def drained() -> bool:
            info = await mesh.js.consumer_info("CHIRP_TWEET", durable)
            return info.num_pending == 0 and info.num_ack_pending == 0

        await eventually(drained, what="the durable consumer to have every event")
    finally:
        await restarted.stop(1.0)
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await mesh.js.delete_consumer("CHIRP_TWEET", durable)
    counts: dict[tuple[str, int], int] = {}
    for subject, tweet_id, _ in received:
        counts[(subject, tweet_id)] = counts.get((subject, tweet_id), 0) + 1
    expected = {("chirp.tweet.created", t): 1 for t in made}
    expected |= {("chirp.tweet.deleted", made[0]): 1, ("chirp.tweet.poll_voted", made[1]): 1}
    assert counts == expected
    assert sorted(delivered) == sorted(e for *_, e in received)  # JetStream never delivered one twice


def test_settings_name_what_is_wrong() -> None:
    from services.runtime.settings import SettingsError

    with pytest.raises(SettingsError, match="CHIRP_TWEET_PORT"):
        TweetSettings.from_env({"CHIRP_TWEET_PORT": "eighty"})
    with pytest.raises(SettingsError, match="CHIRP_TWEET_POPULAR_CANDIDATES"):
        TweetSettings.from_env({"CHIRP_TWEET_POPULAR_CANDIDATES": "0"})
