"""Every public engagement route through Envoy with malformed JSON, wrong types, huge values, bad ids and
other users' resources: never a 5xx (nor 501: engagement is built), a reason with every 4xx, and a
probe's likes, retweets, bookmarks and counts exactly as they were afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.envoy_config import Rpc, contract_rpcs
from tests.e2e.conftest import bearer, signup
from tests.e2e.fuzz import (
    BAD_IDS,
    MALFORMED_BODIES,
    bad_queries,
    huge_bodies,
    request_descriptor,
    sample_path,
    wrong_type_bodies,
)

pytestmark = pytest.mark.e2e

User = dict[str, Any]
NUMERIC_BAD_IDS = {"0", "-5", "123456789"}


def engagement_routes() -> list[Rpc]:
    routes = [rpc for rpc in contract_rpcs() if rpc.service == "engagement" and rpc.public]
    assert len(routes) == 9, [rpc.grpc_path for rpc in routes]
    return routes


async def post_tweet(http: httpx.AsyncClient, author: User, text: str) -> str:
    response = await http.post("/api/v1/tweets", headers=bearer(author["token"]), json={"text": text})
    assert response.status_code == 200, response.text
    return response.json()["tweetId"]


async def probe(http: httpx.AsyncClient) -> tuple[User, User, dict[str, str]]:
    """a follows the private owner; a likes, retweets and bookmarks a public tweet and the owner's
    tweet. Returns a, the owner, and the tweets: public, private and deleted."""
    a, owner, author = await signup(http), await signup(http), await signup(http)
    assert (await http.put("/api/v1/account/privacy", headers=bearer(owner["token"]),
                           json={"isPrivate": True})).status_code == 200
    await http.post(f"/api/v1/users/{owner['userId']}/follow", headers=bearer(a["token"]), json={})
    await http.post(f"/api/v1/follow-requests/{a['userId']}/approve", headers=bearer(owner["token"]), json={})
    tweets = {"public": await post_tweet(http, author, "public"), "private": await post_tweet(http, owner, "private"),
              "deleted": await post_tweet(http, author, "deleted")}
    for tweet_id, verbs in ((tweets["public"], ("like", "retweet", "bookmark")),
                            (tweets["private"], ("like", "bookmark")), (tweets["deleted"], ("like", "bookmark"))):
        for verb in verbs:
            response = await http.post(f"/api/v1/tweets/{tweet_id}/{verb}", headers=bearer(a["token"]), json={})
            assert response.status_code == 200, response.text
    assert (await http.delete(f"/api/v1/tweets/{tweets['deleted']}", headers=bearer(author["token"]))).status_code == 200
    return a, owner, tweets


async def snapshot(http: httpx.AsyncClient, a: User, tweets: dict[str, str]) -> dict[str, str]:
    reads = {"a bookmarks": "/api/v1/bookmarks?limit=100"}
    for name in ("public", "private"):
        reads[f"{name} counts"] = f"/api/v1/tweets/{tweets[name]}/engagements"
        reads[f"{name} likers"] = f"/api/v1/tweets/{tweets[name]}/likers?limit=100"
    found = {}
    for name, path in reads.items():
        response = await http.get(path, headers=bearer(a["token"]))
        assert response.status_code == 200, (name, response.text)
        found[name] = response.text
    return found


def bad_requests(rpc: Rpc, ids: list[str]) -> Iterator[tuple[str, str, bytes, dict[str, str] | None]]:
    """(verb, path, body, query) for each binding of rpc about each id: every malformed, mistyped or
    oversized body of a POST, every bad query of a GET or DELETE."""
    descriptor = request_descriptor(rpc)
    typed = [*wrong_type_bodies(descriptor), *huge_bodies(descriptor)]
    bodies = [*MALFORMED_BODIES, *(json.dumps(body).encode() for body in typed)]
    for binding in rpc.bindings:
        paths = {sample_path(binding.template, i) for i in ids} if "{" in binding.template else {binding.template}
        for path in sorted(paths):
            if binding.verb == "POST":
                yield from ((binding.verb, path, body, None) for body in bodies)
            else:
                yield from ((binding.verb, path, b"", query) for query in bad_queries(descriptor, binding.template))


async def test_engagement_routes_survive_bad_input(http: httpx.AsyncClient) -> None:
    a, owner, tweets = await probe(http)
    stranger = await signup(http)
    before = await snapshot(http, a, tweets)
    failures: list[str] = []
    sent = 0

    async def send(who: User, verb: str, path: str, *, body: bytes = b"", params: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None, expect: int | None = None,
                   expect_4xx: bool = False) -> httpx.Response:
        nonlocal sent
        sent += 1
        response = await http.request(verb, path, content=body, params=params, headers={
            **bearer(who["token"]), "content-type": "application/json", **(headers or {})})
        status = response.status_code
        wrong = status >= 500 or (expect is not None and status != expect) or (
            expect_4xx and not 400 <= status < 500)
        if 400 <= status < 500 and not response.json().get("message"):
            wrong = True  # a 4xx always says why
        if wrong:
            failures.append(f"{verb} {path} {str(params)[:60]} {body[:50]!r}: {status} {response.text[:150]}")
        return response

    for rpc in engagement_routes():
        # A stranger sends malformed, mistyped and oversized bodies or queries, about any tweet.
        for verb, path, body, params in bad_requests(rpc, [*tweets.values(), *BAD_IDS]):
            await send(stranger, verb, path, body=body, params=params, expect_4xx=verb == "POST")
        # The probe sends well-formed requests naming tweets that do not exist. Taking back what is
        # not there succeeds, as the contract says, so a numeric unknown id there is a 200.
        for binding in (b for b in rpc.bindings if "{" in b.template):
            for bad in BAD_IDS:
                lenient = binding.verb == "DELETE" and bad in NUMERIC_BAD_IDS
                await send(a, binding.verb, sample_path(binding.template, bad),
                           body=b"{}" if binding.verb == "POST" else b"", expect=200 if lenient else None,
                           expect_4xx=not lenient)

    # Other users' resources and refused actions: well-formed, refused or harmless, never a change.
    public, private, deleted = (f"/api/v1/tweets/{tweets[k]}" for k in ("public", "private", "deleted"))
    cursor = (await http.get("/api/v1/bookmarks", params={"limit": 1}, headers=bearer(a["token"]))).json()["nextCursor"]
    too_long, key = json.dumps({"comment": "é" * 281}).encode(), {"Idempotency-Key": "k" * 200}
    checks: list[tuple[User, str, str, bytes, dict[str, str], int]] = [
        *((stranger, "POST", f"{private}/{verb}", b"{}", {}, 404) for verb in ("like", "retweet", "bookmark")),
        *((stranger, "GET", f"{private}/{read}", b"", {}, 404) for read in ("likers", "engagements")),
        *((stranger, "DELETE", f"{public}/{verb}", b"", {}, 200) for verb in ("like", "retweet", "bookmark")),
        *((a, "POST", f"{public}/{verb}", b"{}", {}, 200) for verb in ("like", "retweet", "bookmark")),  # again
        *((a, "POST", f"{deleted}/{verb}", b"{}", {}, 404) for verb in ("like", "retweet", "bookmark")),
        (stranger, "POST", f"{private}/retweet", b'{"comment": "mine now"}', {}, 404),
        (stranger, "GET", f"/api/v1/bookmarks?cursor={cursor}", b"", {}, 400),  # a's cursor
        (a, "POST", f"{private}/retweet", b"{}", {}, 403),
        (a, "POST", f"{private}/retweet", b'{"comment": "look"}', {}, 403),
        (a, "POST", f"{deleted}/retweet", b'{"comment": "gone"}', {}, 404),
        (a, "GET", f"{deleted}/engagements", b"", {}, 404),
        *((a, "POST", f"{public}/retweet", body, {}, 400) for body in (
            too_long, b'{"comment": "   "}', b'{"comment": "a\\u0000b"}')),
        *((a, "POST", f"{public}/retweet", body, key, 400) for body in (b'{"comment": "ok"}', b"{}")),
        (a, "GET", "/api/v1/bookmarks?limit=-1", b"", {}, 400),
    ]
    for who, verb, path, body, headers, status in checks:
        await send(who, verb, path, body=body, headers=headers, expect=status)

    assert sent > 500, sent
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:30])
    after = await snapshot(http, a, tweets)
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}
