"""Likes, retweets, bookmarks and counts through Envoy, as JSON on the public paths and as gRPC with the
generated stubs."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest

from chirp.engagement.v1 import engagement_service_pb2, engagement_service_pb2_grpc
from services.runtime.mesh import Mesh
from tests.e2e.conftest import assert_error, bearer, signup
from tests.support import error_info, eventually

pytestmark = pytest.mark.e2e

User = dict[str, Any]
ZERO = {"likeCount": "0", "retweetCount": "0", "replyCount": "0", "quoteCount": "0", "bookmarkCount": "0"}


async def tweet(http: httpx.AsyncClient, author: User, text: str = "hello", **fields: Any) -> str:
    response = await http.post("/api/v1/tweets", headers=bearer(author["token"]), json={"text": text, **fields})
    assert response.status_code == 200, response.text
    return response.json()["tweetId"]


async def act(http: httpx.AsyncClient, who: User, verb: str, path: str, **kwargs: Any) -> httpx.Response:
    if verb == "POST":
        kwargs.setdefault("json", {})
    return await http.request(verb, path, headers={**bearer(who["token"]), **kwargs.pop("headers", {})}, **kwargs)


async def engagements(http: httpx.AsyncClient, tweet_id: str, viewer: User | None = None) -> dict[str, str]:
    response = await http.get(f"/api/v1/tweets/{tweet_id}/engagements",
                              headers=bearer(viewer["token"]) if viewer else {})
    assert response.status_code == 200, response.text
    return response.json()


async def private_account(http: httpx.AsyncClient) -> User:
    me = await signup(http)
    response = await http.put("/api/v1/account/privacy", headers=bearer(me["token"]), json={"isPrivate": True})
    assert response.status_code == 200, response.text
    return me


# --- JSON -----------------------------------------------------------------------------------------


async def test_like_and_unlike_are_idempotent(http: httpx.AsyncClient) -> None:
    author, fan = await signup(http), await signup(http)
    tweet_id = await tweet(http, author)
    assert await engagements(http, tweet_id) == ZERO  # signed out, a public tweet
    for _ in range(2):
        response = await act(http, fan, "POST", f"/api/v1/tweets/{tweet_id}/like")
        assert response.status_code == 200 and response.json() == {"message": "Tweet liked"}, response.text
    assert await engagements(http, tweet_id, fan) == {**ZERO, "likeCount": "1"}
    for _ in range(2):
        response = await act(http, fan, "DELETE", f"/api/v1/tweets/{tweet_id}/like")
        assert response.status_code == 200 and response.json() == {"message": "Tweet unliked"}, response.text
    assert await engagements(http, tweet_id, fan) == ZERO
    assert_error(await http.post(f"/api/v1/tweets/{tweet_id}/like", json={}), 401)


async def test_concurrent_likes_and_unlikes_from_many_users_end_at_the_truth(http: httpx.AsyncClient) -> None:
    author = await signup(http)
    tweet_id = await tweet(http, author)
    fans: list[User] = []
    for _ in range(5):  # signups hash passwords: a few at a time
        fans += await asyncio.gather(*(signup(http) for _ in range(5)))
    rng = random.Random(4)
    plans = [[rng.choice(("POST", "DELETE")) for _ in range(rng.randint(3, 6))] for _ in fans]

    async def run(fan: User, plan: list[str]) -> None:
        for verb in plan:  # each step sent three times at once, as a client retrying would
            replies = await asyncio.gather(*(act(http, fan, verb, f"/api/v1/tweets/{tweet_id}/like") for _ in range(3)))
            assert all(r.status_code == 200 for r in replies), [r.text for r in replies]

    await asyncio.gather(*(run(fan, plan) for fan, plan in zip(fans, plans)))
    assert sum(len(plan) * 3 for plan in plans) >= 300  # hundreds of calls, most in flight together
    truth = {fan["userId"] for fan, plan in zip(fans, plans) if plan[-1] == "POST"}
    assert (await engagements(http, tweet_id, author))["likeCount"] == str(len(truth))
    likers: set[str] = set()
    cursor = ""
    while True:
        page = await http.get(f"/api/v1/tweets/{tweet_id}/likers", params={"limit": 15, "cursor": cursor},
                              headers=bearer(author["token"]))
        assert page.status_code == 200, page.text
        likers |= {p["id"] for p in page.json()["users"]}
        cursor = page.json()["nextCursor"]
        if not cursor:
            break
    assert likers == truth


async def test_retweets_plain_and_with_a_comment(http: httpx.AsyncClient) -> None:
    author, fan = await signup(http), await signup(http)
    tweet_id = await tweet(http, author)
    path = f"/api/v1/tweets/{tweet_id}/retweet"
    plain = await act(http, fan, "POST", path)
    assert plain.status_code == 200, plain.text
    assert plain.json()["message"] == "Retweeted" and int(plain.json()["retweetId"]) > int(tweet_id)
    assert (await act(http, fan, "POST", path)).json() == plain.json()
    quote = await act(http, fan, "POST", path, json={"comment": "so true", "requestId": "body-key"},
                      headers={"Idempotency-Key": "header-key"})
    assert quote.status_code == 200, quote.text
    again = await act(http, fan, "POST", path, json={"comment": "so true", "requestId": "other"},
                      headers={"Idempotency-Key": "header-key"})
    assert again.json() == quote.json()
    quoted = await act(http, fan, "GET", f"/api/v1/tweets/{quote.json()['retweetId']}")
    assert quoted.json()["quoteTweetId"] == tweet_id and quoted.json()["quotedTweet"]["id"] == tweet_id

    async def counted() -> bool:
        return await engagements(http, tweet_id, fan) == {**ZERO, "retweetCount": "1", "quoteCount": "1"}

    await eventually(counted, what="the retweet and the quote counted")
    undone = await act(http, fan, "DELETE", path)
    assert undone.status_code == 200 and undone.json() == {"message": "Retweet undone"}
    assert (await engagements(http, tweet_id, fan))["retweetCount"] == "0"
    assert_error(await act(http, fan, "POST", path, json={"comment": "x" * 281}), 400, "COMMENT_TOO_LONG")


async def test_a_private_accounts_tweet_cannot_be_retweeted_and_a_deleted_one_not_engaged(
    http: httpx.AsyncClient
) -> None:
    owner, fan, stranger = await private_account(http), await signup(http), await signup(http)
    await act(http, fan, "POST", f"/api/v1/users/{owner['userId']}/follow")
    await act(http, owner, "POST", f"/api/v1/follow-requests/{fan['userId']}/approve")
    tweet_id = await tweet(http, owner)
    assert_error(await act(http, fan, "POST", f"/api/v1/tweets/{tweet_id}/retweet"), 403, "PROTECTED_TWEET")
    assert_error(await act(http, stranger, "POST", f"/api/v1/tweets/{tweet_id}/retweet"), 404, "TWEET_NOT_FOUND")
    assert_error(await act(http, stranger, "POST", f"/api/v1/tweets/{tweet_id}/like"), 404, "TWEET_NOT_FOUND")
    assert_error(await http.get(f"/api/v1/tweets/{tweet_id}/engagements"), 404, "TWEET_NOT_FOUND")
    assert (await act(http, fan, "POST", f"/api/v1/tweets/{tweet_id}/like")).status_code == 200
    assert (await act(http, owner, "POST", f"/api/v1/tweets/{tweet_id}/retweet")).status_code == 200
    assert (await act(http, owner, "DELETE", f"/api/v1/tweets/{tweet_id}")).status_code == 200
    for verb in ("like", "retweet", "bookmark"):
        assert_error(await act(http, fan, "POST", f"/api/v1/tweets/{tweet_id}/{verb}"), 404, "TWEET_NOT_FOUND")
    assert (await act(http, fan, "DELETE", f"/api/v1/tweets/{tweet_id}/like")).status_code == 200


async def test_replies_are_counted(http: httpx.AsyncClient) -> None:
    author, fan = await signup(http), await signup(http)
    tweet_id = await tweet(http, author)
    reply = await act(http, fan, "POST", f"/api/v1/tweets/{tweet_id}/reply", json={"text": "indeed"})
    assert reply.status_code == 200, reply.text
    await tweet(http, fan, "me too", replyToTweetId=tweet_id)

    async def replied(count: str) -> bool:
        return (await engagements(http, tweet_id))["replyCount"] == count

    await eventually(lambda: replied("2"), what="two replies counted")
    await act(http, fan, "DELETE", f"/api/v1/tweets/{reply.json()['tweetId']}")
    await eventually(lambda: replied("1"), what="the deleted reply uncounted")


async def test_bookmarks_are_listed_with_cursors(http: httpx.AsyncClient) -> None:
    me, author = await signup(http), await signup(http)
    tweets = [await tweet(http, author, f"b{i}") for i in range(3)]
    for tweet_id in tweets:
        response = await act(http, me, "POST", f"/api/v1/tweets/{tweet_id}/bookmark")
        assert response.status_code == 200 and response.json() == {"message": "Tweet bookmarked"}, response.text
    first = await act(http, me, "GET", "/api/v1/bookmarks", params={"limit": 2})
    assert first.status_code == 200, first.text
    assert [b["tweetId"] for b in first.json()["tweets"]] == [tweets[2], tweets[1]]
    assert first.json()["tweets"][0]["tweet"]["text"] == "b2" and first.json()["tweets"][0]["createdAt"].endswith("Z")
    rest = await act(http, me, "GET", "/api/v1/bookmarks", params={"cursor": first.json()["nextCursor"]})
    assert [b["tweetId"] for b in rest.json()["tweets"]] == [tweets[0]] and rest.json()["nextCursor"] == ""
    removed = await act(http, me, "DELETE", f"/api/v1/tweets/{tweets[1]}/bookmark")
    assert removed.json() == {"message": "Bookmark removed"}
    assert (await engagements(http, tweets[2], author))["bookmarkCount"] == "1"
    assert (await act(http, author, "GET", "/api/v1/bookmarks")).json() == {"tweets": [], "nextCursor": ""}
    assert_error(await act(http, author, "GET", "/api/v1/bookmarks", params={"cursor": first.json()["nextCursor"]}),
                 400, "INVALID_CURSOR")


# --- gRPC -----------------------------------------------------------------------------------------


@pytest.fixture
async def engagement(mesh: Mesh) -> AsyncIterator[engagement_service_pb2_grpc.EngagementServiceStub]:
    async with grpc.aio.insecure_channel(mesh.edge_target) as channel:
        yield engagement_service_pb2_grpc.EngagementServiceStub(channel)


async def test_engagement_over_grpc(http: httpx.AsyncClient,
                                    engagement: engagement_service_pb2_grpc.EngagementServiceStub) -> None:
    E = engagement_service_pb2
    author, fan = await signup(http), await signup(http)
    tweet_id = int(await tweet(http, author))
    metadata = [("authorization", f"Bearer {fan['token']}")]
    await engagement.LikeTweet(E.LikeTweetRequest(id=tweet_id), metadata=metadata, timeout=10)
    first = await engagement.Retweet(E.RetweetRequest(id=tweet_id), metadata=metadata, timeout=10)
    again = await engagement.Retweet(E.RetweetRequest(id=tweet_id), metadata=metadata, timeout=10)
    assert first.retweet_id == again.retweet_id > tweet_id
    counts = await engagement.GetEngagementCounts(E.GetEngagementCountsRequest(id=tweet_id), timeout=10)
    assert (counts.like_count, counts.retweet_count) == (1, 1)
    likers = await engagement.ListLikers(E.ListLikersRequest(id=tweet_id), metadata=metadata, timeout=10)
    assert [p.id for p in likers.users] == [int(fan["userId"])]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await engagement.LikeTweet(E.LikeTweetRequest(id=123456789), metadata=metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert (error_info(caught.value).reason, error_info(caught.value).domain) == ("TWEET_NOT_FOUND", "engagement.chirp")
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # internal RPCs have no route at the edge
        await engagement.BatchGetEngagement(E.BatchGetEngagementRequest(tweet_ids=[tweet_id]), metadata=metadata,
                                            timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
