"""Every public graph route through Envoy with malformed JSON, wrong types, huge values, bad ids and
other users' resources: never a 5xx (nor 501: the graph is built), and a probe pair's follows,
requests, blocks, mutes and counts are exactly as they were afterwards."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from gateway.envoy_config import Rpc, contract_rpcs
from tests.e2e.conftest import bearer, signup
from tests.e2e.fuzz import (  # noqa: F401  (BAD_IDS and bad_queries are re-exported for older importers)
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

def graph_routes() -> list[Rpc]:
    routes = [rpc for rpc in contract_rpcs() if rpc.service == "graph" and rpc.public]
    assert len(routes) >= 12, [rpc.grpc_path for rpc in routes]
    return routes


async def snapshot(http: httpx.AsyncClient, a: User, b: User) -> dict[str, str]:
    """Everything the probe pair has in the graph, as a (private) and b see it."""
    reads = {
        "a->b": (a, f"/api/v1/users/{b['userId']}/relationship"),
        "b->a": (b, f"/api/v1/users/{a['userId']}/relationship"),
        "a profile": (a, f"/api/v1/users/{a['userId']}"),
        "b profile": (a, f"/api/v1/users/{b['userId']}"),
        "a requests": (a, "/api/v1/follow-requests"),
        "a followers": (a, f"/api/v1/users/{a['userId']}/followers"),
        "a following": (a, f"/api/v1/users/{a['userId']}/following"),
        "b followers": (b, f"/api/v1/users/{b['userId']}/followers"),
        "a privacy": (a, "/api/v1/account/privacy"),
        "b privacy": (b, "/api/v1/account/privacy"),
    }
    found = {}
    for name, (viewer, path) in reads.items():
        response = await http.get(path, headers=bearer(viewer["token"]))
        assert response.status_code == 200, (name, response.text)
        found[name] = response.text
    return found


async def probe_pair(http: httpx.AsyncClient) -> tuple[User, User]:
    """a is private, b has asked to follow a, a follows b, a mutes one account and blocks another."""
    a, b, bore, pest = [await signup(http) for _ in range(4)]
    auth = bearer(a["token"])
    settings = await http.put("/api/v1/account/privacy", headers=auth, json={
        "isPrivate": True, "mutedUsers": [bore["userId"]], "blockedUsers": [pest["userId"]]})
    assert settings.status_code == 200, settings.text
    for who, path in ((b, f"/api/v1/users/{a['userId']}/follow"), (a, f"/api/v1/users/{b['userId']}/follow")):
        response = await http.post(path, headers=bearer(who["token"]), json={})
        assert response.status_code == 200, response.text
    return a, b


async def test_graph_routes_survive_bad_input(http: httpx.AsyncClient) -> None:
    a, b = await probe_pair(http)
    stranger = await signup(http)
    before = await snapshot(http, a, b)
    failures: list[str] = []
    sent = 0

    async def send(who: User, verb: str, path: str, *, body: bytes = b"", params: dict[str, str] | None = None,
                   expect_4xx: bool = False) -> httpx.Response:
        nonlocal sent
        sent += 1
        response = await http.request(verb, path, content=body, params=params,
                                      headers={**bearer(who["token"]), "content-type": "application/json"})
        if response.status_code >= 500 or (expect_4xx and not 400 <= response.status_code < 500):
            failures.append(f"{verb} {path} {params or ''} {body[:50]!r}: {response.status_code} {response.text[:150]}")
        return response

    for rpc in graph_routes():
        descriptor = request_descriptor(rpc)
        for binding in rpc.bindings:
            has_id = "{" in binding.template
            real_ids = [a["userId"], b["userId"], stranger["userId"]]
            # A stranger sends malformed, mistyped and oversized bodies or queries, about anyone.
            for path in sorted({sample_path(binding.template, i) for i in real_ids + BAD_IDS} if has_id
                               else {binding.template}):
                if binding.verb in ("POST", "PUT"):
                    bodies = list(MALFORMED_BODIES)
                    bodies += [json.dumps(body).encode() for body in wrong_type_bodies(descriptor)]
                    bodies += [json.dumps(body).encode() for body in huge_bodies(descriptor)]
                    for body in bodies:
                        await send(stranger, binding.verb, path, body=body, expect_4xx=True)
                else:
                    for params in bad_queries(descriptor, binding.template):
                        await send(stranger, binding.verb, path, params=params)
            # The probe itself sends well-formed requests naming accounts that do not exist. Rejecting a
            # request nobody made succeeds, as the contract says, so an unknown id there is a 200.
            lenient = rpc.grpc_path.endswith("/RejectFollowRequest")
            for bad in BAD_IDS if has_id else ():
                await send(a, binding.verb, sample_path(binding.template, bad),
                           body=b"{}" if binding.verb == "POST" else b"",
                           expect_4xx=not (lenient and bad == "123456789"))

    # Other users' resources and refused actions: well-formed, refused or harmless, never a change.
    refused = [
        (stranger, "POST", f"/api/v1/follow-requests/{b['userId']}/approve", 404),  # b asked a, not the stranger
        (stranger, "POST", f"/api/v1/follow-requests/{b['userId']}/reject", 200),  # nothing to reject: no-op
        (b, "POST", f"/api/v1/follow-requests/{stranger['userId']}/approve", 404),  # no such request to b
        (stranger, "GET", f"/api/v1/users/{a['userId']}/followers", 403),
        (stranger, "GET", f"/api/v1/users/{a['userId']}/following", 403),
        (b, "GET", f"/api/v1/users/{a['userId']}/followers", 403),  # pending is not approved
        (a, "POST", f"/api/v1/users/{a['userId']}/follow", 400),
        (a, "POST", f"/api/v1/users/{a['userId']}/block", 400),
        (a, "POST", f"/api/v1/users/{a['userId']}/mute", 400),
        (a, "POST", f"/api/v1/follow-requests/{a['userId']}/approve", 404),
        (b, "POST", f"/api/v1/users/{a['userId']}/follow", 200),  # asking again changes nothing
        (a, "POST", f"/api/v1/users/{b['userId']}/follow", 200),  # following again changes nothing
    ]
    for who, verb, path, status in refused:
        response = await send(who, verb, path, body=b"{}" if verb == "POST" else b"")
        if response.status_code != status:
            failures.append(f"{verb} {path}: expected {status}, got {response.status_code} {response.text[:150]}")

    assert sent > 800, sent
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:30])
    after = await snapshot(http, a, b)
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}
