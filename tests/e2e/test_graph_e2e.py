"""The social graph through Envoy, as JSON on the public paths and as gRPC with the generated stubs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest

from chirp.graph.v1 import graph_pb2, graph_service_pb2, graph_service_pb2_grpc
from services.runtime.mesh import Mesh
from tests.e2e.conftest import assert_error, bearer, signup
from tests.support import error_info, eventually

pytestmark = pytest.mark.e2e

User = dict[str, Any]


async def act(http: httpx.AsyncClient, who: User, path: str) -> httpx.Response:
    return await http.post(path, headers=bearer(who["token"]), json={})


async def follow(http: httpx.AsyncClient, who: User, whom: User) -> httpx.Response:
    return await act(http, who, f"/api/v1/users/{whom['userId']}/follow")


async def private_account(http: httpx.AsyncClient) -> User:
    me = await signup(http)
    response = await http.put("/api/v1/account/privacy", headers=bearer(me["token"]), json={"isPrivate": True})
    assert response.status_code == 200 and response.json()["isPrivate"] is True, response.text
    return me


async def relationship(http: httpx.AsyncClient, viewer: User, other: User) -> dict[str, Any]:
    response = await http.get(f"/api/v1/users/{other['userId']}/relationship", headers=bearer(viewer["token"]))
    assert response.status_code == 200, response.text
    return response.json()


async def listed(http: httpx.AsyncClient, viewer: User, path: str, key: str, limit: int = 100) -> list[str]:
    """Every id of a list, page after page."""
    ids: list[str] = []
    cursor = ""
    while True:
        response = await http.get(path, params={"limit": limit, "cursor": cursor}, headers=bearer(viewer["token"]))
        assert response.status_code == 200, response.text
        ids += [p["id"] for p in response.json()[key]]
        cursor = response.json()["nextCursor"]
        if not cursor:
            return ids


async def follow_counts(http: httpx.AsyncClient, viewer: User, user: User) -> tuple[int, int]:
    response = await http.get(f"/api/v1/users/{user['userId']}", headers=bearer(viewer["token"]))
    assert response.status_code == 200, response.text
    return int(response.json()["followersCount"]), int(response.json()["followingCount"])


# --- JSON -----------------------------------------------------------------------------------------


async def test_follow_and_unfollow_are_idempotent(http: httpx.AsyncClient) -> None:
    fan, star = await signup(http), await signup(http)
    for _ in range(2):
        response = await follow(http, fan, star)
        assert response.status_code == 200, response.text
        assert response.json() == {"message": "Followed user", "state": "FOLLOW_STATE_FOLLOWING"}
    assert await follow_counts(http, fan, star) == (1, 0)
    assert (await relationship(http, fan, star))["following"] is True
    assert (await relationship(http, star, fan))["followedBy"] is True
    for _ in range(2):
        response = await act(http, fan, f"/api/v1/users/{star['userId']}/unfollow")
        assert response.status_code == 200 and response.json()["message"] == "Unfollowed user"
    assert await follow_counts(http, fan, star) == (0, 0)


async def test_following_yourself_or_nobody_is_refused(http: httpx.AsyncClient) -> None:
    me = await signup(http)
    assert_error(await follow(http, me, me), 400, "CANNOT_FOLLOW_SELF")
    assert_error(await act(http, me, "/api/v1/users/123456789/follow"), 404, "USER_NOT_FOUND")
    assert_error(await act(http, me, "/api/v1/users/0/follow"), 400, "INVALID_USER_ID")
    assert_error(await http.post(f"/api/v1/users/{me['userId']}/follow", json={}), 401)


async def test_a_private_account_approves_and_rejects_requests(http: httpx.AsyncClient) -> None:
    owner = await private_account(http)
    liked, disliked = await signup(http), await signup(http)
    for who in (liked, disliked):
        response = await follow(http, who, owner)
        assert response.json() == {"message": "Follow requested", "state": "FOLLOW_STATE_PENDING"}, response.text
    assert (await relationship(http, liked, owner))["pending"] is True
    requests = await http.get("/api/v1/follow-requests", headers=bearer(owner["token"]))
    assert [r["requester"]["id"] for r in requests.json()["requests"]] == [disliked["userId"], liked["userId"]]
    assert requests.json()["requests"][0]["createdAt"].endswith("Z")

    approved = await act(http, owner, f"/api/v1/follow-requests/{liked['userId']}/approve")
    assert approved.status_code == 200 and approved.json()["message"] == "Follow request approved"
    rejected = await act(http, owner, f"/api/v1/follow-requests/{disliked['userId']}/reject")
    assert rejected.status_code == 200 and rejected.json()["message"] == "Follow request rejected"
    assert (await act(http, owner, f"/api/v1/follow-requests/{liked['userId']}/approve")).status_code == 200
    assert (await act(http, owner, f"/api/v1/follow-requests/{disliked['userId']}/reject")).status_code == 200
    assert_error(await act(http, owner, f"/api/v1/follow-requests/{disliked['userId']}/approve"), 404,
                 "FOLLOW_REQUEST_NOT_FOUND")

    assert (await relationship(http, liked, owner))["following"] is True
    rel = await relationship(http, disliked, owner)
    assert rel["following"] is False and rel["pending"] is False
    assert (await http.get("/api/v1/follow-requests", headers=bearer(owner["token"]))).json()["requests"] == []
    assert await follow_counts(http, owner, owner) == (1, 0)


async def test_private_lists_are_403_for_strangers(http: httpx.AsyncClient) -> None:
    owner = await private_account(http)
    fan, stranger = await signup(http), await signup(http)
    await follow(http, fan, owner)
    await act(http, owner, f"/api/v1/follow-requests/{fan['userId']}/approve")
    for kind in ("followers", "following"):
        path = f"/api/v1/users/{owner['userId']}/{kind}"
        assert_error(await http.get(path, headers=bearer(stranger["token"])), 403, "PRIVATE_ACCOUNT")
        for viewer in (owner, fan):
            assert (await http.get(path, headers=bearer(viewer["token"]))).status_code == 200
    assert await listed(http, fan, f"/api/v1/users/{owner['userId']}/followers", "followers") == [fan["userId"]]


async def test_list_pages_neither_overlap_nor_skip_while_follows_change(http: httpx.AsyncClient) -> None:
    star = await signup(http)
    fans = [await signup(http) for _ in range(8)]
    for fan in fans:
        await follow(http, fan, star)
    path = f"/api/v1/users/{star['userId']}/followers"
    first = await http.get(path, params={"limit": 3}, headers=bearer(star["token"]))
    newest_first = [f["userId"] for f in reversed(fans)]
    assert [p["id"] for p in first.json()["followers"]] == newest_first[:3]
    assert first.json()["followers"][0]["username"] == fans[-1]["profile"]["username"]
    # Between pages: a newcomer, a listed fan leaving, an unlisted fan leaving, another one re-following.
    await follow(http, await signup(http), star)
    for leaver in (fans[7], fans[2], fans[1]):
        await act(http, leaver, f"/api/v1/users/{star['userId']}/unfollow")
    await follow(http, fans[1], star)
    seen, cursor = [], first.json()["nextCursor"]
    while cursor:
        page = await http.get(path, params={"limit": 3, "cursor": cursor}, headers=bearer(star["token"]))
        assert page.status_code == 200, page.text
        seen += [p["id"] for p in page.json()["followers"]]
        cursor = page.json()["nextCursor"]
    assert seen == [fans[i]["userId"] for i in (4, 3, 0)]
    following = await listed(http, star, f"/api/v1/users/{fans[0]['userId']}/following", "following", limit=1)
    assert following == [star["userId"]]
    assert_error(await http.get(path, params={"cursor": "bogus"}, headers=bearer(star["token"])), 400, "INVALID_CURSOR")
    assert_error(await http.get(f"/api/v1/users/{fans[0]['userId']}/followers",
                                params={"cursor": first.json()["nextCursor"]}, headers=bearer(star["token"])),
                 400, "INVALID_CURSOR")
    assert_error(await http.get(path, params={"limit": -1}, headers=bearer(star["token"])), 400, "INVALID_LIMIT")


async def test_block_removes_follows_both_ways_and_stops_follows(http: httpx.AsyncClient) -> None:
    me, pest = await signup(http), await signup(http)
    await follow(http, me, pest)
    await follow(http, pest, me)
    for _ in range(2):
        response = await act(http, me, f"/api/v1/users/{pest['userId']}/block")
        assert response.status_code == 200 and response.json()["message"] == "User blocked"
    assert await follow_counts(http, me, me) == (0, 0)
    rel = await relationship(http, me, pest)
    assert rel["blocking"] is True and rel["following"] is False and rel["followedBy"] is False
    assert (await relationship(http, pest, me))["blockedBy"] is True
    assert_error(await follow(http, pest, me), 404, "USER_NOT_FOUND")
    assert_error(await follow(http, me, pest), 400, "USER_BLOCKED")
    assert_error(await http.get(f"/api/v1/users/{me['userId']}/followers", headers=bearer(pest["token"])),
                 404, "USER_NOT_FOUND")
    assert_error(await act(http, me, f"/api/v1/users/{me['userId']}/block"), 400, "CANNOT_BLOCK_SELF")
    assert (await act(http, me, f"/api/v1/users/{pest['userId']}/unblock")).json()["message"] == "User unblocked"
    assert (await relationship(http, me, pest))["following"] is False  # not restored
    assert (await follow(http, pest, me)).status_code == 200


async def test_mute_is_visible_only_to_the_muter(http: httpx.AsyncClient) -> None:
    me, bore = await signup(http), await signup(http)
    await follow(http, me, bore)
    response = await act(http, me, f"/api/v1/users/{bore['userId']}/mute")
    assert response.status_code == 200 and response.json()["message"] == "User muted"
    mine = await relationship(http, me, bore)
    assert mine["muting"] is True and mine["following"] is True
    theirs = await relationship(http, bore, me)
    assert theirs == {"userId": me["userId"], "following": False, "followedBy": True, "pending": False,
                      "blocking": False, "blockedBy": False, "muting": False}
    assert_error(await act(http, me, f"/api/v1/users/{me['userId']}/mute"), 400, "CANNOT_MUTE_SELF")
    assert (await act(http, me, f"/api/v1/users/{bore['userId']}/unmute")).json()["message"] == "User unmuted"
    assert (await relationship(http, me, bore))["muting"] is False


async def test_relationship_endpoint(http: httpx.AsyncClient) -> None:
    me, other = await signup(http), await signup(http)
    assert await relationship(http, me, me) == {"userId": me["userId"], "following": False, "followedBy": False,
                                                "pending": False, "blocking": False, "blockedBy": False,
                                                "muting": False}
    await follow(http, other, me)
    assert (await relationship(http, me, other))["followedBy"] is True
    assert_error(await http.get("/api/v1/users/123456789/relationship", headers=bearer(me["token"])),
                 404, "USER_NOT_FOUND")
    assert_error(await http.get("/api/v1/users/abc/relationship", headers=bearer(me["token"])), 400)


async def test_a_deleted_account_leaves_no_follows_behind(http: httpx.AsyncClient) -> None:
    fan, gone = await signup(http), await signup(http)
    await follow(http, fan, gone)
    await follow(http, gone, fan)
    assert await follow_counts(http, fan, fan) == (1, 1)
    deleted = await http.delete("/api/v1/account", headers=bearer(gone["token"]))
    assert deleted.status_code == 200, deleted.text

    async def counts_cleared() -> bool:
        return await follow_counts(http, fan, fan) == (0, 0)

    await eventually(counts_cleared, what="the deleted account's follows to be removed")
    assert_error(await follow(http, fan, gone), 404, "USER_NOT_FOUND")


# --- gRPC -----------------------------------------------------------------------------------------


@pytest.fixture
async def graph(mesh: Mesh) -> AsyncIterator[graph_service_pb2_grpc.GraphServiceStub]:
    async with grpc.aio.insecure_channel(mesh.edge_target) as channel:
        yield graph_service_pb2_grpc.GraphServiceStub(channel)


def _metadata(user: User) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {user['token']}")]


async def test_the_graph_over_grpc(http: httpx.AsyncClient, graph: graph_service_pb2_grpc.GraphServiceStub) -> None:
    G = graph_service_pb2
    fan, star = await signup(http), await signup(http)
    star_id = int(star["userId"])
    reply = await graph.FollowUser(G.FollowUserRequest(id=star_id), metadata=_metadata(fan), timeout=10)
    assert reply.state == graph_pb2.FOLLOW_STATE_FOLLOWING
    rel = await graph.GetRelationship(G.GetRelationshipRequest(id=star_id), metadata=_metadata(fan), timeout=10)
    assert rel.following and rel.user_id == star_id
    followers = await graph.ListFollowers(G.ListFollowersRequest(id=star_id), metadata=_metadata(fan), timeout=10)
    assert [p.id for p in followers.followers] == [int(fan["userId"])] and followers.next_cursor == ""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await graph.FollowUser(G.FollowUserRequest(id=star_id), metadata=_metadata(star), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (error_info(caught.value).reason, error_info(caught.value).domain) == ("CANNOT_FOLLOW_SELF", "graph.chirp")
    await graph.BlockUser(G.BlockUserRequest(id=int(fan["userId"])), metadata=_metadata(star), timeout=10)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await graph.FollowUser(G.FollowUserRequest(id=star_id), metadata=_metadata(fan), timeout=10)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND and error_info(caught.value).reason == "USER_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # internal RPCs have no route at the edge
        await graph.BatchGetFollowCounts(G.BatchGetFollowCountsRequest(user_ids=[star_id]),
                                         metadata=_metadata(fan), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
