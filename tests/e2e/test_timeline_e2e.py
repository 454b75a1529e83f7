"""Timelines through Envoy, as JSON on the public paths and as gRPC with the generated stubs.

The session mesh's celebrity threshold is 3 (tests/conftest.py): an author with 4 followers is a
celebrity, whose tweets are merged into readers' home timelines on read instead of fanned out.
"""

from __future__ import annotations

import asyncio
import re
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import httpx
import pytest

from chirp.timeline.v1 import timeline_service_pb2, timeline_service_pb2_grpc
from services.runtime import valkey
from services.runtime.mesh import Mesh
from gateway.envoy_config import contract_rpcs
from services.timeline import cache as layout
from tests.e2e.conftest import assert_error, bearer, signup
from tests.e2e.fuzz import request_descriptor, sample_path
from tests.e2e.test_graph_fuzz import BAD_IDS, bad_queries
from tests.support import eventually

pytestmark = pytest.mark.e2e

User = dict[str, Any]
CELEBRITY_FOLLOWERS = 4  # one more than the session mesh's threshold


@pytest.fixture
async def channel(mesh: Mesh) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(mesh.edge_target) as edge:
        yield edge


async def users(http: httpx.AsyncClient, n: int) -> list[User]:
    return list(await asyncio.gather(*(signup(http) for _ in range(n))))


async def follow(http: httpx.AsyncClient, who: User, *whom: User) -> None:
    for target in whom:
        response = await http.post(f"/api/v1/users/{target['userId']}/follow", json={}, headers=bearer(who["token"]))
        assert response.status_code == 200, response.text


async def act(http: httpx.AsyncClient, who: User, path: str) -> None:
    response = await http.post(path, json={}, headers=bearer(who["token"]))
    assert response.status_code == 200, response.text


async def post(http: httpx.AsyncClient, who: User, text: str = "hello", **fields: Any) -> str:
    response = await http.post("/api/v1/tweets", json={"text": text, **fields}, headers=bearer(who["token"]))
    assert response.status_code == 200, response.text
    return response.json()["tweetId"]


async def page(http: httpx.AsyncClient, who: User, path: str = "/api/v1/timeline/home", **params: Any
               ) -> dict[str, Any]:
    response = await http.get(path, params=params, headers=bearer(who["token"]))
    assert response.status_code == 200, response.text
    return response.json()


async def home(http: httpx.AsyncClient, who: User, **params: Any) -> list[str]:
    return [item["tweet"]["id"] for item in (await page(http, who, **params)).get("tweets", [])]


async def profile(http: httpx.AsyncClient, who: User, owner: User, **params: Any) -> list[str]:
    body = await page(http, who, f"/api/v1/timeline/user/{owner['userId']}", **params)
    return [item["tweet"]["id"] for item in body.get("tweets", [])]


async def shows(read: Callable[[], Awaitable[list[str]]], expected: list[str], what: str = "the timeline") -> None:
    async def check() -> bool:
        found = await read()
        assert found == expected, found
        return True

    await eventually(check, what=f"{what} to show {expected}")


async def built_home(http: httpx.AsyncClient, who: User) -> None:
    """Reads once, so the reader's home timeline is built (empty) before what the test posts."""
    assert await home(http, who) == []


def started(mesh: Mesh, service: str, method: str) -> float:
    """How many calls of one RPC a service has received (its Prometheus counter)."""
    with urllib.request.urlopen(mesh.metrics_url(service), timeout=5) as response:
        text = response.read().decode()
    pattern = rf'^chirp_rpc_started_total\{{method="/chirp\.{service}\.v1\.\w+/{method}"\}} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


# --- fan-out, celebrities, retweets -----------------------------------------------------------------


async def test_a_tweet_reaches_followers_in_the_seed_shape(http: httpx.AsyncClient) -> None:
    author, fan = await users(http, 2)
    await follow(http, fan, author)
    await built_home(http, fan)
    tweet_id = await post(http, author, "hello #World", mediaUrls=["https://m.example/a.jpg"])
    await shows(lambda: home(http, fan), [tweet_id])
    body = await page(http, fan)
    assert body["nextCursor"] == ""  # the last page
    item = body["tweets"][0]
    assert item["kind"] == "TIMELINE_ITEM_KIND_TWEET"
    tweet = item["tweet"]
    assert tweet["author"]["id"] == author["userId"] and tweet["author"]["username"] == author["profile"]["username"]
    assert tweet["text"] == "hello #World" and tweet["hashtags"] == ["World"]
    assert tweet["mediaUrls"] == ["https://m.example/a.jpg"] and tweet["createdAt"]
    assert (tweet["likeCount"], tweet["retweetCount"], tweet["replyCount"], tweet["liked"]) == ("0", "0", "0", False)
    assert item["isSuggestion"] is False and item["tweet"]["quotedTweetId"] == "0"


async def test_your_own_tweet_is_home_when_create_returns(http: httpx.AsyncClient) -> None:
    me, friend = await users(http, 2)
    await follow(http, me, friend)
    tweet_id = await post(http, me)
    assert await home(http, me) == [tweet_id]
    assert await profile(http, friend, me) == [tweet_id]


async def test_a_celebrity_is_merged_on_read_as_if_fanned_out(http: httpx.AsyncClient, mesh: Mesh) -> None:
    star, friend, reader, *fans = await users(http, 2 + CELEBRITY_FOLLOWERS)
    for fan in (reader, *fans):
        await follow(http, fan, star)
    await follow(http, reader, friend)
    await built_home(http, reader)
    posted = [await post(http, author, f"#{i}") for i, author in enumerate((star, friend, star, friend))]
    await shows(lambda: home(http, reader), posted[::-1])
    client = valkey.connect(mesh.valkey_url)
    try:
        cached = await client.zrevrangebylex(layout.home_key(int(reader["userId"])), "+", "-")
    finally:
        await client.aclose()
    assert [m.decode().split(":")[1] for m in cached] == [posted[3], posted[1]]  # only the friend was fanned out


async def test_a_retweet_names_the_retweeter_and_shows_once(http: httpx.AsyncClient) -> None:
    author, first, second, reader = await users(http, 4)
    await follow(http, reader, first, second)
    await built_home(http, reader)
    tweet_id = await post(http, author, "worth sharing")
    await act(http, first, f"/api/v1/tweets/{tweet_id}/retweet")
    await shows(lambda: home(http, reader), [tweet_id])
    await act(http, second, f"/api/v1/tweets/{tweet_id}/retweet")

    async def by_second() -> bool:
        items = (await page(http, reader))["tweets"]
        assert len(items) == 1, items
        return items[0]["retweetedBy"]["id"] == second["userId"]

    await eventually(by_second, what="the newest retweet to bring the tweet")
    item = (await page(http, reader))["tweets"][0]
    assert item["kind"] == "TIMELINE_ITEM_KIND_RETWEET" and item["tweet"]["author"]["id"] == author["userId"]
    assert await home(http, reader, filter="retweets") == [tweet_id]
    response = await http.delete(f"/api/v1/tweets/{tweet_id}/retweet", headers=bearer(second["token"]))
    assert response.status_code == 200, response.text

    async def by_first() -> bool:
        return (await page(http, reader))["tweets"][0]["retweetedBy"]["id"] == first["userId"]

    await eventually(by_first, what="the older retweet after the newest was undone")


# --- reads filter -----------------------------------------------------------------------------------


async def test_unfollow_block_mute_and_delete_take_effect_on_the_next_read(http: httpx.AsyncClient) -> None:
    reader, gone, blocked, muted, deleter, stays = await users(http, 6)
    await follow(http, reader, gone, blocked, muted, deleter, stays)
    await built_home(http, reader)
    posted = {u["userId"]: await post(http, u) for u in (gone, blocked, muted, deleter, stays)}
    await shows(lambda: home(http, reader), sorted(posted.values(), key=int, reverse=True))
    await act(http, reader, f"/api/v1/users/{gone['userId']}/unfollow")
    await act(http, reader, f"/api/v1/users/{blocked['userId']}/block")
    await act(http, reader, f"/api/v1/users/{muted['userId']}/mute")
    response = await http.delete(f"/api/v1/tweets/{posted[deleter['userId']]}", headers=bearer(deleter["token"]))
    assert response.status_code == 200, response.text
    assert await home(http, reader) == [posted[stays["userId"]]]


async def test_filters_pages_and_limits(http: httpx.AsyncClient) -> None:
    reader, author = await users(http, 2)
    await follow(http, reader, author)
    await built_home(http, reader)
    plain = await post(http, author, "plain")
    with_media = await post(http, author, "", mediaUrls=["https://m.example/b.png"])
    reply = await http.post(f"/api/v1/tweets/{plain}/reply", json={"text": "re"}, headers=bearer(author["token"]))
    assert reply.status_code == 200, reply.text
    reply_id = reply.json()["tweetId"]
    await shows(lambda: home(http, reader), [reply_id, with_media, plain])
    assert await home(http, reader, filter="media") == [with_media]
    assert await home(http, reader, filter="replies") == [reply_id]
    assert await profile(http, reader, author, filter="media") == [with_media]
    assert_error(await http.get("/api/v1/timeline/home", params={"filter": "gifs"}, headers=bearer(reader["token"])),
                 400, "INVALID_FILTER")
    assert_error(await http.get("/api/v1/timeline/home", params={"cursor": "nope"}, headers=bearer(reader["token"])),
                 400, "INVALID_CURSOR")


async def test_pages_never_overlap_or_skip_while_new_tweets_arrive(http: httpx.AsyncClient) -> None:
    reader, author = await users(http, 2)
    await follow(http, reader, author)
    await built_home(http, reader)
    before = [await post(http, author, f"n{i}") for i in range(7)]
    await shows(lambda: home(http, reader), before[::-1])
    listed, cursor = [], None
    while True:
        body = await page(http, reader, limit=3, **({"cursor": cursor} if cursor else {}))
        listed += [item["tweet"]["id"] for item in body["tweets"]]
        await post(http, author, "arrives between pages")
        cursor = body.get("nextCursor")
        if not cursor:
            break
    assert listed == before[::-1]


async def test_limit_is_20_by_default_and_100_at_most(http: httpx.AsyncClient) -> None:
    me = await signup(http)
    posted = await asyncio.gather(*(post(http, me, f"#{i}") for i in range(101)))
    newest = sorted(posted, key=int, reverse=True)
    assert await home(http, me) == newest[:20]
    body = await page(http, me, limit=1000)
    assert [item["tweet"]["id"] for item in body["tweets"]] == newest[:100] and body["nextCursor"]
    rest = await page(http, me, limit=100, cursor=body["nextCursor"])
    assert [item["tweet"]["id"] for item in rest["tweets"]] == newest[100:]


# --- cold start -------------------------------------------------------------------------------------


async def test_a_lost_cache_is_rebuilt_from_the_graph_and_the_tweets(http: httpx.AsyncClient, mesh: Mesh) -> None:
    reader, author = await users(http, 2)
    older = await post(http, author, "before the follow")
    await follow(http, reader, author)
    newer = await post(http, author, "after the follow")
    await shows(lambda: home(http, reader), [newer, older])
    client = valkey.connect(mesh.valkey_url)
    try:
        uid = int(reader["userId"])
        assert await client.delete(layout.home_key(uid), layout.built_key(uid)) == 2
        assert await home(http, reader) == [newer, older]
        assert await client.exists(layout.built_key(uid))
    finally:
        await client.aclose()


async def test_someone_who_follows_nobody_gets_suggestions(http: httpx.AsyncClient) -> None:
    author, newcomer = await users(http, 2)
    popular = await post(http, author, "for everyone")
    items = (await page(http, newcomer, limit=100))["tweets"]
    assert items and all(i["isSuggestion"] and i["kind"] == "TIMELINE_ITEM_KIND_SUGGESTION" for i in items)
    assert popular in [i["tweet"]["id"] for i in items]


# --- user timelines ---------------------------------------------------------------------------------


async def test_private_user_timelines_are_403_and_blocks_404_both_ways(http: httpx.AsyncClient) -> None:
    owner, stranger, blocker = await users(http, 3)
    response = await http.put("/api/v1/account/privacy", headers=bearer(owner["token"]), json={"isPrivate": True})
    assert response.status_code == 200, response.text
    mine = await post(http, owner, "followers only")
    assert await profile(http, owner, owner) == [mine]
    path = f"/api/v1/timeline/user/{owner['userId']}"
    assert_error(await http.get(path, headers=bearer(stranger["token"])), 403, "PRIVATE_ACCOUNT")
    await act(http, blocker, f"/api/v1/users/{stranger['userId']}/block")
    for viewer, owner_ in ((stranger, blocker), (blocker, stranger)):
        response = await http.get(f"/api/v1/timeline/user/{owner_['userId']}", headers=bearer(viewer["token"]))
        assert_error(response, 404, "USER_NOT_FOUND")
    assert_error(await http.get("/api/v1/timeline/user/123", headers=bearer(stranger["token"])), 404,
                 "USER_NOT_FOUND")


# --- hydration --------------------------------------------------------------------------------------


async def test_a_page_costs_one_batch_call_per_service_not_one_per_item(http: httpx.AsyncClient, mesh: Mesh) -> None:
    reader, *authors = await users(http, 5)
    await follow(http, reader, *authors)
    await built_home(http, reader)
    posted = [await post(http, author, f"{i}") for i in range(6) for author in authors]
    await shows(lambda: home(http, reader, limit=24), sorted(posted, key=int, reverse=True))
    calls = [("tweet", "BatchGetTweets"), ("tweet", "ListUserTweets"), ("engagement", "BatchGetEngagement")]
    before = {call: started(mesh, *call) for call in calls}
    assert len(await home(http, reader, limit=20)) == 20
    made = {call: started(mesh, *call) - before[call] for call in calls}
    assert made == {("tweet", "BatchGetTweets"): 1, ("tweet", "ListUserTweets"): 1,
                    ("engagement", "BatchGetEngagement"): 1}, made


async def test_counts_and_the_viewers_own_engagement_are_hydrated(http: httpx.AsyncClient) -> None:
    author, reader = await users(http, 2)
    await follow(http, reader, author)
    tweet_id = await post(http, author)
    for action in ("like", "bookmark"):
        await act(http, reader, f"/api/v1/tweets/{tweet_id}/{action}")
    quote = await http.post(f"/api/v1/tweets/{tweet_id}/retweet", json={"comment": "so true"},
                            headers=bearer(reader["token"]))
    assert quote.status_code == 200, quote.text

    async def hydrated() -> dict[str, Any]:
        items = (await page(http, reader))["tweets"]
        found = [i["tweet"] for i in items if i["tweet"]["id"] == tweet_id]
        assert found and found[0].get("quoteCount") == "1", items
        return found[0]

    tweet = await eventually(hydrated, what="the counts")
    assert (tweet["likeCount"], tweet["bookmarkCount"], tweet.get("liked"), tweet.get("bookmarked")) == (
        "1", "1", True, True)
    items = (await page(http, reader))["tweets"]
    assert items[0]["tweet"]["id"] == quote.json()["retweetId"]
    assert items[0]["tweet"]["quotedTweet"]["id"] == tweet_id


# --- gRPC -------------------------------------------------------------------------------------------


async def test_home_timeline_and_its_live_stream_over_grpc(http: httpx.AsyncClient, channel: grpc.aio.Channel) -> None:
    author, fan = await users(http, 2)
    await follow(http, fan, author)
    stub = timeline_service_pb2_grpc.TimelineServiceStub(channel)
    metadata = [("authorization", f"Bearer {fan['token']}")]
    assert not (await stub.GetHomeTimeline(timeline_service_pb2.GetHomeTimelineRequest(), metadata=metadata)).tweets
    stream = stub.StreamHomeTimeline(timeline_service_pb2.StreamHomeTimelineRequest(), metadata=metadata)
    await asyncio.wait_for(stream.wait_for_connection(), timeout=10)
    tweet_id = await post(http, author)
    update = await asyncio.wait_for(stream.read(), timeout=10)
    assert list(update.tweet_ids) == [int(tweet_id)]
    stream.cancel()
    reply = await stub.GetHomeTimeline(timeline_service_pb2.GetHomeTimelineRequest(limit=5), metadata=metadata)
    assert [item.tweet.id for item in reply.tweets] == [int(tweet_id)]
    assert reply.tweets[0].tweet.author.id == int(author["userId"])


# --- bad input --------------------------------------------------------------------------------------


async def test_timeline_routes_survive_bad_input(http: httpx.AsyncClient) -> None:
    """Wrong, extreme and forged query values and ids: never a 5xx (nor 501), always a readable 4xx."""
    me, other = await users(http, 2)
    routes = [rpc for rpc in contract_rpcs() if rpc.service == "timeline" and rpc.public and not rpc.server_streaming]
    assert len(routes) == 2, [rpc.grpc_path for rpc in routes]
    failures, sent = [], 0
    for rpc in routes:
        for binding in rpc.bindings:
            paths = {sample_path(binding.template, i) for i in [other["userId"], *BAD_IDS]}
            for path in sorted(paths) if "{" in binding.template else [binding.template]:
                for params in bad_queries(request_descriptor(rpc), binding.template):
                    response = await http.get(path, params=params, headers=bearer(me["token"]))
                    sent += 1
                    if response.status_code >= 500 or (response.status_code >= 400 and not response.json()["message"]):
                        failures.append(f"{path} {params}: {response.status_code} {response.text[:150]}")
    assert sent > 50, sent
    assert not failures, "\n".join(failures[:30])
