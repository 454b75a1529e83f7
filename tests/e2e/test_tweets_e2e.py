"""Tweets through Envoy, as JSON on the public paths and as gRPC with the generated stubs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest

from chirp.tweet.v1 import tweet_pb2, tweet_service_pb2, tweet_service_pb2_grpc
from services.runtime.mesh import Mesh
from tests.e2e.conftest import assert_error, bearer, signup, unique
from tests.support import error_info

pytestmark = pytest.mark.e2e

User = dict[str, Any]


async def tweet(http: httpx.AsyncClient, who: User, body: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await http.post("/api/v1/tweets", json=body or {"text": "hello"},
                               headers={**bearer(who["token"]), **(headers or {})})
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["tweetId"] == created["tweetData"]["id"], created
    return created["tweetData"]


async def get(http: httpx.AsyncClient, tweet_id: str, viewer: User | None = None) -> httpx.Response:
    return await http.get(f"/api/v1/tweets/{tweet_id}", headers=bearer(viewer["token"]) if viewer else {})


async def act(http: httpx.AsyncClient, who: User, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    return await http.post(path, json=body or {}, headers=bearer(who["token"]))


async def private_account(http: httpx.AsyncClient) -> User:
    me = await signup(http)
    response = await http.put("/api/v1/account/privacy", headers=bearer(me["token"]), json={"isPrivate": True})
    assert response.status_code == 200, response.text
    return me


async def hidden(http: httpx.AsyncClient, tweet_id: str, viewer: User | None) -> None:
    """Answered exactly as a tweet that never existed."""
    body = assert_error(await get(http, tweet_id, viewer), 404, "TWEET_NOT_FOUND")
    assert body == (await get(http, "987654321", viewer)).json()


# --- JSON -----------------------------------------------------------------------------------------


async def test_create_and_get_in_the_seed_shape(http: httpx.AsyncClient) -> None:
    me, friend = await signup(http), await signup(http, unique("Pal"))
    text = f"Morning @{friend['profile']['username']}! #Coffee time https://example.com/menu."
    created = await tweet(http, me, {"text": text, "location": "Lisbon", "mediaUrls": ["https://m.example/a.jpg"]})
    assert created["authorId"] == me["userId"] and created["text"] == text
    assert isinstance(created["id"], str) and created["conversationId"] == created["id"]
    assert created["createdAt"].endswith("Z") and created["visibility"] == "VISIBILITY_PUBLIC"
    assert created["mediaUrls"] == ["https://m.example/a.jpg"] and created["location"] == "Lisbon"
    entities = created["entities"]
    assert [(m["userId"], m["username"]) for m in entities["mentions"]] == [
        (friend["userId"], friend["profile"]["username"])]
    assert [(h["tag"], h["text"]) for h in entities["hashtags"]] == [("coffee", "Coffee")]
    assert [u["url"] for u in entities["urls"]] == ["https://example.com/menu"]
    for viewer in (me, friend, None):  # a public tweet; signed out too
        response = await get(http, created["id"], viewer)
        assert response.status_code == 200 and response.json() == created, response.text


async def test_bad_tweets_get_clear_reasons(http: httpx.AsyncClient) -> None:
    me = await signup(http)
    for body, reason in (
        ({"text": "   "}, "TWEET_EMPTY"),
        ({"text": "x" * 281}, "TWEET_TOO_LONG"),
        ({"text": "e\u0301" * 281}, "TWEET_TOO_LONG"),
        ({"text": "nul\u0000"}, "INVALID_TEXT"),
        ({"text": "x", "mediaUrls": ["https://m.example/1"] * 5}, "TOO_MANY_MEDIA"),
        ({"text": "x", "mediaUrls": ["file:///etc/passwd"]}, "INVALID_MEDIA_URL"),
        ({"text": "x", "poll": {"options": ["one"]}}, "INVALID_POLL"),
        ({"text": "x", "poll": {"options": ["a", "b"], "durationMinutes": 20000}}, "INVALID_POLL"),
        ({"text": "x", "location": "l" * 31}, "LOCATION_TOO_LONG"),
    ):
        response = await http.post("/api/v1/tweets", json=body, headers=bearer(me["token"]))
        assert_error(response, 400, reason)
    ok = await tweet(http, me, {"text": "e\u0301" * 280})  # 280 once composed
    assert ok["text"] == "\u00e9" * 280
    assert_error(await http.post("/api/v1/tweets", json={"text": "anonymous"}), 401)


async def test_the_idempotency_key_header_makes_a_retry_return_the_first_tweet(http: httpx.AsyncClient) -> None:
    me = await signup(http)
    key = {"Idempotency-Key": unique("key-")}
    first = await tweet(http, me, {"text": "only once"}, key)
    retries = await asyncio.gather(*(tweet(http, me, {"text": "only once"}, key) for _ in range(5)))
    assert {r["id"] for r in retries} == {first["id"]}
    by_body = await tweet(http, me, {"text": "by body", "requestId": "body-key"})
    assert (await tweet(http, me, {"text": "by body", "requestId": "body-key"}))["id"] == by_body["id"]
    assert (await tweet(http, me, {"text": "other"}))["id"] not in {first["id"], by_body["id"]}
    assert_error(await http.post("/api/v1/tweets", json={"text": "x"},
                                 headers={**bearer(me["token"]), "Idempotency-Key": "k" * 200}),
                 400, "INVALID_REQUEST_ID")


async def test_reply_rules(http: httpx.AsyncClient) -> None:
    op, fan, hater, owner = await signup(http), await signup(http), await signup(http), await private_account(http)
    root = await tweet(http, op, {"text": "root"})
    response = await act(http, fan, f"/api/v1/tweets/{root['id']}/reply", {"text": "first!"})
    assert response.status_code == 200, response.text
    reply = response.json()["tweetData"]
    assert (reply["replyToTweetId"], reply["conversationId"]) == (root["id"], root["id"])
    nested = await tweet(http, op, {"text": "thanks", "replyToTweetId": reply["id"]})
    assert nested["conversationId"] == root["id"]

    hater_tweet = await tweet(http, hater, {"text": "go away"})
    assert (await act(http, hater, f"/api/v1/users/{fan['userId']}/block")).status_code == 200
    assert_error(await act(http, fan, f"/api/v1/tweets/{hater_tweet['id']}/reply", {"text": "hey"}),
                 403, "BLOCKED_BY_AUTHOR")
    secret = await tweet(http, owner, {"text": "followers only"})
    assert_error(await act(http, fan, f"/api/v1/tweets/{secret['id']}/reply", {"text": "hey"}), 404, "TWEET_NOT_FOUND")
    deleted = await tweet(http, op, {"text": "soon gone"})
    assert (await http.delete(f"/api/v1/tweets/{deleted['id']}", headers=bearer(op["token"]))).status_code == 200
    assert_error(await act(http, fan, f"/api/v1/tweets/{deleted['id']}/reply", {"text": "hey"}), 404, "TWEET_NOT_FOUND")
    assert_error(await http.post("/api/v1/tweets", json={"text": "hey", "replyToTweetId": deleted["id"]},
                                 headers=bearer(fan["token"])), 404, "TWEET_NOT_FOUND")


async def test_replies_page_oldest_first_without_overlap(http: httpx.AsyncClient) -> None:
    op, fan = await signup(http), await signup(http)
    root = await tweet(http, op, {"text": "thread"})
    made = [(await act(http, fan, f"/api/v1/tweets/{root['id']}/reply", {"text": f"r{i}"})).json()["tweetData"]["id"]
            for i in range(5)]
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        response = await http.get(f"/api/v1/tweets/{root['id']}/replies", params={"limit": 2, "cursor": cursor})
        assert response.status_code == 200, response.text
        seen += [r["id"] for r in response.json()["replies"]]
        cursor = response.json()["nextCursor"]
        pages += 1
        if pages == 1:  # a reply arriving mid-listing lands at the end, never twice
            made.append((await act(http, fan, f"/api/v1/tweets/{root['id']}/reply", {"text": "late"})).json()[
                "tweetData"]["id"])
        if not cursor:
            break
    assert seen == made and pages == 3
    assert_error(await http.get(f"/api/v1/tweets/{root['id']}/replies", params={"cursor": "forged"}),
                 400, "INVALID_CURSOR")


async def test_private_and_blocked_tweets_are_404_like_missing_ones(http: httpx.AsyncClient) -> None:
    owner, fan, stranger = await private_account(http), await signup(http), await signup(http)
    assert (await act(http, fan, f"/api/v1/users/{owner['userId']}/follow")).status_code == 200
    assert (await act(http, owner, f"/api/v1/follow-requests/{fan['userId']}/approve")).status_code == 200
    secret = await tweet(http, owner, {"text": "for followers"})
    assert secret["visibility"] == "VISIBILITY_FOLLOWERS"
    for viewer in (owner, fan):
        assert (await get(http, secret["id"], viewer)).status_code == 200
    for viewer in (stranger, None):
        await hidden(http, secret["id"], viewer)

    author, blocked = await signup(http), await signup(http)
    public = await tweet(http, author, {"text": "public"})
    assert (await act(http, author, f"/api/v1/users/{blocked['userId']}/block")).status_code == 200
    await hidden(http, public["id"], blocked)
    blocker = await signup(http)
    assert (await act(http, blocker, f"/api/v1/users/{author['userId']}/block")).status_code == 200
    await hidden(http, public["id"], blocker)
    assert (await get(http, public["id"], stranger)).status_code == 200


async def test_delete_is_403_for_others_and_the_tweet_is_gone_after(http: httpx.AsyncClient) -> None:
    author, other = await signup(http), await signup(http)
    mine = await tweet(http, author, {"text": "mine"})
    assert_error(await http.delete(f"/api/v1/tweets/{mine['id']}", headers=bearer(other["token"])),
                 403, "NOT_TWEET_AUTHOR")
    assert_error(await http.delete(f"/api/v1/tweets/{mine['id']}"), 401)
    for _ in range(2):
        response = await http.delete(f"/api/v1/tweets/{mine['id']}", headers=bearer(author["token"]))
        assert response.status_code == 200 and response.json() == {"message": "Tweet deleted"}, response.text
    for viewer in (author, other, None):
        await hidden(http, mine["id"], viewer)
    assert_error(await http.get(f"/api/v1/tweets/{mine['id']}/replies"), 404, "TWEET_NOT_FOUND")


async def test_a_poll_takes_one_vote_per_account(http: httpx.AsyncClient) -> None:
    author, voter, late = await signup(http), await signup(http), await signup(http)
    poll = await tweet(http, author, {"text": "Tabs or spaces?",
                                      "poll": {"options": ["Tabs", "Spaces"], "durationMinutes": 60}})
    path = f"/api/v1/tweets/{poll['id']}/poll/votes"
    first = await act(http, voter, path, {"optionIndex": 1})
    assert first.status_code == 200, first.text
    assert [int(o["voteCount"]) for o in first.json()["options"]] == [0, 1]
    assert first.json()["viewerOptionIndex"] == 1 and first.json()["closed"] is False
    again = await act(http, voter, path, {"optionIndex": 1})
    assert again.json() == first.json()
    assert_error(await act(http, voter, path, {"optionIndex": 0}), 400, "ALREADY_VOTED")
    assert_error(await act(http, late, path, {"optionIndex": 2}), 400, "INVALID_POLL_OPTION")
    plain = await tweet(http, author, {"text": "no poll"})
    assert_error(await act(http, late, f"/api/v1/tweets/{plain['id']}/poll/votes", {"optionIndex": 0}),
                 404, "POLL_NOT_FOUND")
    seen = (await get(http, poll["id"], voter)).json()["poll"]
    assert [int(o["voteCount"]) for o in seen["options"]] == [0, 1] and seen["viewerOptionIndex"] == 1
    assert "viewerOptionIndex" not in (await get(http, poll["id"])).json()["poll"]


# --- gRPC -----------------------------------------------------------------------------------------


@pytest.fixture
async def tweets(mesh: Mesh) -> AsyncIterator[tweet_service_pb2_grpc.TweetServiceStub]:
    async with grpc.aio.insecure_channel(mesh.edge_target) as channel:
        yield tweet_service_pb2_grpc.TweetServiceStub(channel)


async def test_tweets_over_grpc_through_the_edge(http: httpx.AsyncClient,
                                                 tweets: tweet_service_pb2_grpc.TweetServiceStub) -> None:
    me, other = await signup(http), await signup(http)
    auth = [("authorization", f"Bearer {me['token']}")]
    request = tweet_service_pb2.CreateTweetRequest(text="over gRPC #mobile")
    keyed = auth + [("idempotency-key", unique("grpc-key-"))]
    created = await tweets.CreateTweet(request, metadata=keyed, timeout=10)
    assert (await tweets.CreateTweet(request, metadata=keyed, timeout=10)).tweet_id == created.tweet_id
    assert created.tweet_data.entities.hashtags[0].tag == "mobile"
    got = await tweets.GetTweet(tweet_service_pb2.GetTweetRequest(id=created.tweet_id), timeout=10)
    assert got == created.tweet_data and got.visibility == tweet_pb2.VISIBILITY_PUBLIC
    reply = await tweets.CreateReply(tweet_service_pb2.CreateReplyRequest(id=created.tweet_id, text="re"),
                                     metadata=[("authorization", f"Bearer {other['token']}")], timeout=10)
    listed = await tweets.ListReplies(tweet_service_pb2.ListRepliesRequest(id=created.tweet_id), timeout=10)
    assert [r.id for r in listed.replies] == [reply.tweet_id]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tweets.DeleteTweet(tweet_service_pb2.DeleteTweetRequest(id=created.tweet_id),
                                 metadata=[("authorization", f"Bearer {other['token']}")], timeout=10)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(caught.value).reason == "NOT_TWEET_AUTHOR"
    await tweets.DeleteTweet(tweet_service_pb2.DeleteTweetRequest(id=created.tweet_id), metadata=auth, timeout=10)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tweets.GetTweet(tweet_service_pb2.GetTweetRequest(id=created.tweet_id), metadata=auth, timeout=10)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(caught.value).reason == "TWEET_NOT_FOUND"


async def test_internal_tweet_rpcs_are_not_routed(tweets: tweet_service_pb2_grpc.TweetServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tweets.BatchGetTweets(tweet_service_pb2.BatchGetTweetsRequest(ids=[1]), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED  # the edge's 404, as gRPC sees it
