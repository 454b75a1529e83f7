"""The graph service over a real grpc.aio server on port 0, beside a real user service and NATS."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial

import grpc
import nats
import pytest
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from nats.js import JetStreamContext

from chirp.graph.v1 import events_pb2, graph_pb2, graph_service_pb2, graph_service_pb2_grpc
from chirp.user.v1 import events_pb2 as user_events_pb2
from chirp.user.v1 import user_service_pb2_grpc
from services.graph.app import build as build_graph
from services.graph.settings import Settings as GraphSettings
from services.runtime import events
from services.runtime.mesh import free_port
from services.runtime.server import RunningService, serve
from services.user.app import build as build_user
from services.user.settings import Settings as UserSettings
from tests import support
from tests.support import Account, error_info, eventually

G = graph_service_pb2
_names = itertools.count()


@dataclass
class Mesh:
    graph: graph_service_pb2_grpc.GraphServiceStub
    users: user_service_pb2_grpc.UserServiceStub
    js: JetStreamContext


@pytest.fixture(scope="module")
async def mesh(nats_url: str, valkey_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    """The user service on port 0 and the graph service wired to each other, on the tests' NATS and Valkey."""
    data = tmp_path_factory.mktemp("graph-svc")
    env = {"CHIRP_DATA_DIR": str(data), "CHIRP_NATS_URL": nats_url, "CHIRP_VALKEY_URL": valkey_url}
    graph_port = free_port()  # the user service asks the graph service for counts, blocks and mutes
    user_settings = UserSettings.from_env({**env, "CHIRP_GRAPH_ADDR": f"127.0.0.1:{graph_port}"})
    user = await serve(user_settings.common, await build_user(user_settings), port=0)
    graph_settings = GraphSettings.from_env({**env, "CHIRP_USER_ADDR": f"127.0.0.1:{user.port}"})
    graph: RunningService = await serve(graph_settings.common, await build_graph(graph_settings), port=graph_port)
    nc = await events.connect(nats_url, "graph-tests")
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{graph.port}") as graph_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{user.port}") as user_channel,
    ):
        yield Mesh(
            graph_service_pb2_grpc.GraphServiceStub(graph_channel),
            user_service_pb2_grpc.UserServiceStub(user_channel),
            nc.jetstream(),
        )
    await nc.drain()
    await graph.stop(1.0)
    await user.stop(1.0)


async def account(mesh: Mesh, *, private: bool = False) -> Account:
    return await support.account(mesh.users, private=private, prefix="g")


refused = partial(support.refused, domain="graph.chirp")


async def counts(mesh: Mesh, *ids: int) -> dict[int, tuple[int, int]]:
    reply = await mesh.graph.BatchGetFollowCounts(G.BatchGetFollowCountsRequest(user_ids=ids))
    return {i: (c.followers_count, c.following_count) for i, c in reply.counts.items()}


async def relationship(mesh: Mesh, viewer: Account, other: Account) -> graph_pb2.Relationship:
    return await mesh.graph.GetRelationship(G.GetRelationshipRequest(id=other.id), metadata=viewer.metadata)


async def follow(mesh: Mesh, who: Account, whom: Account) -> G.FollowUserResponse:
    return await mesh.graph.FollowUser(G.FollowUserRequest(id=whom.id), metadata=who.metadata)


_EVENT_TYPES = {m.DESCRIPTOR.full_name: m for m in (
    events_pb2.Followed, events_pb2.Unfollowed, events_pb2.FollowRequested, events_pb2.FollowRequestApproved,
    events_pb2.FollowRequestRejected, events_pb2.Blocked, events_pb2.Unblocked, events_pb2.Muted, events_pb2.Unmuted)}


async def published(js: JetStreamContext) -> list[tuple[str, Message]]:
    """Every event on CHIRP_GRAPH so far, decoded, in stream order."""
    subscription = await js.pull_subscribe("chirp.graph.>", stream="CHIRP_GRAPH")
    found = []
    try:
        while True:
            try:
                batch = await subscription.fetch(500, timeout=0.5)
            except (nats.errors.TimeoutError, TimeoutError):
                return found
            for msg in batch:
                assert msg.headers and msg.headers[events.MSG_ID_HEADER]
                found.append((msg.subject, _EVENT_TYPES[msg.headers[events.EVENT_TYPE_HEADER]].FromString(msg.data)))
                await msg.ack()
    finally:
        await subscription.unsubscribe()


async def settled(mesh: Mesh) -> list[tuple[str, Message]]:
    """The events once everything staged so far is on the stream: a fresh mute is published last."""
    a, b = await account(mesh), await account(mesh)
    await mesh.graph.MuteUser(G.MuteUserRequest(id=b.id), metadata=a.metadata)

    async def sentinel_seen() -> list[tuple[str, Message]]:
        found = await published(mesh.js)
        return found if any(s == "chirp.graph.muted" and e.muter_id == a.id for s, e in found) else []

    return await eventually(sentinel_seen, what="the sentinel event on CHIRP_GRAPH")


def involving(found: list[tuple[str, Message]], *accounts: Account) -> list[tuple[str, Message]]:
    ids = {a.id for a in accounts}

    def members(event: Message) -> set[int]:
        return {v for f, v in event.ListFields() if f.name.endswith("_id")}

    return [(s, e) for s, e in found if members(e) <= ids]


# --- follow ---------------------------------------------------------------------------------------


async def test_follow_is_idempotent_counted_and_published_exactly_once(mesh: Mesh) -> None:
    a, b = await account(mesh), await account(mesh)
    for _ in range(3):
        reply = await follow(mesh, a, b)
        assert (reply.state, reply.message) == (graph_pb2.FOLLOW_STATE_FOLLOWING, "Followed user")
    assert await counts(mesh, a.id, b.id) == {a.id: (0, 1), b.id: (1, 0)}
    rel = await relationship(mesh, a, b)
    assert rel.following and not rel.followed_by and rel.user_id == b.id
    assert (await relationship(mesh, b, a)).followed_by
    for _ in range(2):
        await mesh.graph.UnfollowUser(G.UnfollowUserRequest(id=b.id), metadata=a.metadata)
    assert await counts(mesh, a.id, b.id) == {a.id: (0, 0), b.id: (0, 0)}
    mine = involving(await settled(mesh), a, b)
    assert [s for s, _ in mine] == ["chirp.graph.followed", "chirp.graph.unfollowed"]
    followed = mine[0][1]
    assert (followed.follower_id, followed.followed_id, followed.from_request) == (a.id, b.id, False)
    assert followed.occurred_at.seconds > 0


async def test_follow_refusals(mesh: Mesh) -> None:
    a = await account(mesh)
    await refused(mesh.graph.FollowUser(G.FollowUserRequest(id=a.id), metadata=a.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "CANNOT_FOLLOW_SELF")
    await refused(mesh.graph.FollowUser(G.FollowUserRequest(id=987654321), metadata=a.metadata),
                  grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await refused(mesh.graph.FollowUser(G.FollowUserRequest(id=0), metadata=a.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_USER_ID")
    await refused(mesh.graph.UnfollowUser(G.UnfollowUserRequest(id=987654321), metadata=a.metadata),
                  grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mesh.graph.FollowUser(G.FollowUserRequest(id=a.id))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


# --- private accounts -----------------------------------------------------------------------------


async def test_private_account_requests_approve_and_reject(mesh: Mesh) -> None:
    owner = await account(mesh, private=True)
    fan, other, third = await account(mesh), await account(mesh), await account(mesh)
    for who in (fan, other, third):
        reply = await follow(mesh, who, owner)
        assert (reply.state, reply.message) == (graph_pb2.FOLLOW_STATE_PENDING, "Follow requested")
    assert (await follow(mesh, fan, owner)).state == graph_pb2.FOLLOW_STATE_PENDING
    assert (await relationship(mesh, fan, owner)).pending
    listed = await mesh.graph.ListFollowRequests(G.ListFollowRequestsRequest(limit=2), metadata=owner.metadata)
    assert [r.requester.id for r in listed.requests] == [third.id, other.id] and listed.next_cursor
    assert all(r.created_at.seconds > 0 for r in listed.requests)
    rest = await mesh.graph.ListFollowRequests(G.ListFollowRequestsRequest(limit=2, cursor=listed.next_cursor),
                                               metadata=owner.metadata)
    assert [r.requester.id for r in rest.requests] == [fan.id] and rest.next_cursor == ""
    # Another account cannot use the owner's cursor: it was issued for the owner's list.
    await refused(mesh.graph.ListFollowRequests(G.ListFollowRequestsRequest(cursor=listed.next_cursor),
                                                metadata=fan.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")

    for _ in range(2):
        await mesh.graph.ApproveFollowRequest(G.ApproveFollowRequestRequest(requester_id=fan.id),
                                              metadata=owner.metadata)
    for _ in range(2):
        await mesh.graph.RejectFollowRequest(G.RejectFollowRequestRequest(requester_id=other.id),
                                             metadata=owner.metadata)
    await mesh.graph.UnfollowUser(G.UnfollowUserRequest(id=owner.id), metadata=third.metadata)  # withdraws
    rel = await relationship(mesh, fan, owner)
    assert rel.following and not rel.pending
    assert not (await relationship(mesh, other, owner)).pending
    assert (await mesh.graph.ListFollowRequests(G.ListFollowRequestsRequest(), metadata=owner.metadata)).requests == []
    assert await counts(mesh, owner.id) == {owner.id: (1, 0)}
    await refused(mesh.graph.ApproveFollowRequest(G.ApproveFollowRequestRequest(requester_id=other.id),
                                                  metadata=owner.metadata),
                  grpc.StatusCode.NOT_FOUND, "FOLLOW_REQUEST_NOT_FOUND")

    mine = involving(await settled(mesh), owner, fan, other, third)
    assert [s for s, _ in mine] == ["chirp.graph.follow_requested"] * 3 + [
        "chirp.graph.follow_request_approved", "chirp.graph.followed", "chirp.graph.follow_request_rejected"]
    assert mine[4][1].from_request


async def test_private_lists_are_for_the_owner_and_approved_followers(mesh: Mesh) -> None:
    owner = await account(mesh, private=True)
    fan, stranger, pending = await account(mesh), await account(mesh), await account(mesh)
    await follow(mesh, fan, owner)
    await mesh.graph.ApproveFollowRequest(G.ApproveFollowRequestRequest(requester_id=fan.id), metadata=owner.metadata)
    await follow(mesh, pending, owner)
    for viewer in (owner, fan):
        reply = await mesh.graph.ListFollowers(G.ListFollowersRequest(id=owner.id), metadata=viewer.metadata)
        assert [p.id for p in reply.followers] == [fan.id]
        await mesh.graph.ListFollowing(G.ListFollowingRequest(id=owner.id), metadata=viewer.metadata)
    for viewer in (stranger, pending):
        await refused(mesh.graph.ListFollowers(G.ListFollowersRequest(id=owner.id), metadata=viewer.metadata),
                      grpc.StatusCode.PERMISSION_DENIED, "PRIVATE_ACCOUNT")
        await refused(mesh.graph.ListFollowing(G.ListFollowingRequest(id=owner.id), metadata=viewer.metadata),
                      grpc.StatusCode.PERMISSION_DENIED, "PRIVATE_ACCOUNT")


# --- lists ----------------------------------------------------------------------------------------


async def test_lists_are_hydrated_newest_first_and_pages_never_overlap_or_skip(mesh: Mesh) -> None:
    star = await account(mesh)
    fans = [await account(mesh) for _ in range(7)]
    for fan in fans:
        await follow(mesh, fan, star)
    first = await mesh.graph.ListFollowers(G.ListFollowersRequest(id=star.id, limit=3), metadata=star.metadata)
    assert [p.id for p in first.followers] == [f.id for f in fans[::-1][:3]]
    assert first.followers[0].username and first.next_cursor
    # Between pages: a newcomer follows, a listed fan and an unlisted fan leave, another leaves and comes back.
    newcomer = await account(mesh)
    await follow(mesh, newcomer, star)
    for leaver in (fans[6], fans[1], fans[2]):
        await mesh.graph.UnfollowUser(G.UnfollowUserRequest(id=star.id), metadata=leaver.metadata)
    await follow(mesh, fans[2], star)
    seen, cursor = [], first.next_cursor
    while cursor:
        page = await mesh.graph.ListFollowers(G.ListFollowersRequest(id=star.id, limit=3, cursor=cursor),
                                              metadata=star.metadata)
        seen += [p.id for p in page.followers]
        cursor = page.next_cursor
    assert seen == [fans[3].id, fans[0].id]
    following = await mesh.graph.ListFollowing(G.ListFollowingRequest(id=fans[0].id), metadata=star.metadata)
    assert [p.id for p in following.following] == [star.id] and following.next_cursor == ""
    # A cursor is for one list of one account.
    await refused(mesh.graph.ListFollowing(G.ListFollowingRequest(id=star.id, cursor=first.next_cursor),
                                           metadata=star.metadata), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    await refused(mesh.graph.ListFollowers(G.ListFollowersRequest(id=fans[0].id, cursor=first.next_cursor),
                                           metadata=star.metadata), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    await refused(mesh.graph.ListFollowers(G.ListFollowersRequest(id=star.id, limit=-1), metadata=star.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_LIMIT")
    await refused(mesh.graph.ListFollowers(G.ListFollowersRequest(id=987654321), metadata=star.metadata),
                  grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    capped = await mesh.graph.ListFollowers(G.ListFollowersRequest(id=star.id, limit=2**31 - 1), metadata=star.metadata)
    assert len(capped.followers) == 6 and capped.next_cursor == ""


# --- blocks and mutes -----------------------------------------------------------------------------


async def test_block_ends_follows_both_ways_and_stops_follows(mesh: Mesh) -> None:
    a, b = await account(mesh), await account(mesh, private=True)
    await follow(mesh, b, a)
    await follow(mesh, a, b)  # a request: b is private
    await mesh.graph.ApproveFollowRequest(G.ApproveFollowRequestRequest(requester_id=a.id), metadata=b.metadata)
    assert await counts(mesh, a.id, b.id) == {a.id: (1, 1), b.id: (1, 1)}
    for _ in range(2):
        reply = await mesh.graph.BlockUser(G.BlockUserRequest(id=b.id), metadata=a.metadata)
        assert reply.message == "User blocked"
    assert await counts(mesh, a.id, b.id) == {a.id: (0, 0), b.id: (0, 0)}
    rel = await relationship(mesh, a, b)
    assert rel.blocking and not (rel.following or rel.followed_by or rel.blocked_by)
    assert (await relationship(mesh, b, a)).blocked_by
    await refused(follow(mesh, b, a), grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await refused(follow(mesh, a, b), grpc.StatusCode.FAILED_PRECONDITION, "USER_BLOCKED")
    await refused(mesh.graph.ListFollowers(G.ListFollowersRequest(id=a.id), metadata=b.metadata),
                  grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await refused(mesh.graph.BlockUser(G.BlockUserRequest(id=a.id), metadata=a.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "CANNOT_BLOCK_SELF")
    for _ in range(2):
        await mesh.graph.UnblockUser(G.UnblockUserRequest(id=b.id), metadata=a.metadata)
    assert not (await relationship(mesh, a, b)).following  # follows ended by a block are not restored
    assert (await follow(mesh, b, a)).state == graph_pb2.FOLLOW_STATE_FOLLOWING
    mine = involving(await settled(mesh), a, b)
    assert [s for s, _ in mine][-5:] == [
        "chirp.graph.unfollowed", "chirp.graph.unfollowed", "chirp.graph.blocked", "chirp.graph.unblocked",
        "chirp.graph.followed"]
    assert {(e.follower_id, e.followed_id) for s, e in mine if s == "chirp.graph.unfollowed"} == {
        (a.id, b.id), (b.id, a.id)}


async def test_mute_is_seen_only_by_the_muter(mesh: Mesh) -> None:
    a, b = await account(mesh), await account(mesh)
    await follow(mesh, a, b)
    for _ in range(2):
        await mesh.graph.MuteUser(G.MuteUserRequest(id=b.id), metadata=a.metadata)
    rel = await relationship(mesh, a, b)
    assert rel.muting and rel.following
    assert not (await relationship(mesh, b, a)).muting
    assert (await mesh.graph.ListMutedIds(G.ListMutedIdsRequest(user_id=a.id))).muted_ids == [b.id]
    await refused(mesh.graph.MuteUser(G.MuteUserRequest(id=a.id), metadata=a.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "CANNOT_MUTE_SELF")
    for _ in range(2):
        await mesh.graph.UnmuteUser(G.UnmuteUserRequest(id=b.id), metadata=a.metadata)
    assert not (await relationship(mesh, a, b)).muting
    mine = involving(await settled(mesh), a, b)
    assert [s for s, _ in mine] == ["chirp.graph.followed", "chirp.graph.muted", "chirp.graph.unmuted"]


async def test_relationship_of_self_unknown_and_invalid(mesh: Mesh) -> None:
    a = await account(mesh)
    me = await mesh.graph.GetRelationship(G.GetRelationshipRequest(id=a.id), metadata=a.metadata)
    assert me == graph_pb2.Relationship(user_id=a.id)
    await refused(mesh.graph.GetRelationship(G.GetRelationshipRequest(id=987654321), metadata=a.metadata),
                  grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await refused(mesh.graph.GetRelationship(G.GetRelationshipRequest(id=-5), metadata=a.metadata),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_USER_ID")


# --- internal RPCs --------------------------------------------------------------------------------


async def test_batch_relationships_and_counts(mesh: Mesh) -> None:
    a, b, c = await account(mesh), await account(mesh), await account(mesh)
    await follow(mesh, a, b)
    await follow(mesh, c, a)
    await mesh.graph.BlockUser(G.BlockUserRequest(id=a.id), metadata=b.metadata)  # ends a -> b
    await mesh.graph.MuteUser(G.MuteUserRequest(id=c.id), metadata=a.metadata)
    reply = await mesh.graph.BatchGetRelationships(
        G.BatchGetRelationshipsRequest(viewer_id=a.id, target_ids=[b.id, c.id, c.id, a.id, 424242]))
    rels = reply.relationships
    assert set(rels) == {a.id, b.id, c.id, 424242}
    assert rels[b.id].blocked_by and not rels[b.id].following
    assert rels[c.id].followed_by and rels[c.id].muting
    assert rels[a.id] == graph_pb2.Relationship(user_id=a.id)
    assert rels[424242] == graph_pb2.Relationship(user_id=424242)
    await refused(mesh.graph.BatchGetRelationships(
        G.BatchGetRelationshipsRequest(viewer_id=a.id, target_ids=range(1, 502))),
        grpc.StatusCode.INVALID_ARGUMENT, "TOO_MANY_IDS")
    await refused(mesh.graph.BatchGetRelationships(G.BatchGetRelationshipsRequest(target_ids=[1])),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_USER_ID")
    assert await counts(mesh, a.id, c.id, 424242) == {a.id: (1, 0), c.id: (0, 1), 424242: (0, 0)}
    await refused(mesh.graph.BatchGetFollowCounts(G.BatchGetFollowCountsRequest(user_ids=range(1, 502))),
                  grpc.StatusCode.INVALID_ARGUMENT, "TOO_MANY_IDS")


async def test_stream_follower_ids_in_pages(mesh: Mesh) -> None:
    star, lonely = await account(mesh), await account(mesh)
    fans = [await account(mesh) for _ in range(5)]
    for fan in fans:
        await follow(mesh, fan, star)
    pages = [list(p.follower_ids) async for p in mesh.graph.StreamFollowerIds(
        G.StreamFollowerIdsRequest(user_id=star.id, page_size=2))]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in p] == [f.id for f in reversed(fans)]
    assert [p async for p in mesh.graph.StreamFollowerIds(G.StreamFollowerIdsRequest(user_id=lonely.id))] == []
    assert [p async for p in mesh.graph.StreamFollowerIds(G.StreamFollowerIdsRequest(user_id=424242))] == []
    whole = [p async for p in mesh.graph.StreamFollowerIds(G.StreamFollowerIdsRequest(user_id=star.id))]
    assert len(whole) == 1 and len(whole[0].follower_ids) == 5
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in mesh.graph.StreamFollowerIds(G.StreamFollowerIdsRequest(user_id=star.id, page_size=-1)):
            pass
    assert error_info(caught.value).reason == "INVALID_LIMIT"


async def test_following_ids_with_cursors(mesh: Mesh) -> None:
    fan = await account(mesh)
    stars = [await account(mesh) for _ in range(3)]
    for star in stars:
        await follow(mesh, fan, star)
    first = await mesh.graph.ListFollowingIds(G.ListFollowingIdsRequest(user_id=fan.id, limit=2))
    assert list(first.following_ids) == [stars[2].id, stars[1].id] and first.next_cursor
    rest = await mesh.graph.ListFollowingIds(G.ListFollowingIdsRequest(user_id=fan.id, cursor=first.next_cursor))
    assert list(rest.following_ids) == [stars[0].id] and rest.next_cursor == ""
    await refused(mesh.graph.ListFollowingIds(G.ListFollowingIdsRequest(user_id=stars[0].id, cursor=first.next_cursor)),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")
    await refused(mesh.graph.ListFollowingIds(G.ListFollowingIdsRequest(user_id=fan.id, cursor="garbage")),
                  grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CURSOR")


async def test_replace_block_and_mute_lists(mesh: Mesh) -> None:
    owner, a, b, c = [await account(mesh) for _ in range(4)]
    await follow(mesh, a, owner)
    await mesh.graph.BlockUser(G.BlockUserRequest(id=a.id), metadata=owner.metadata)
    await follow(mesh, b, owner)
    reply = await mesh.graph.ReplaceBlockList(G.ReplaceBlockListRequest(user_id=owner.id, blocked_ids=[b.id, c.id, b.id]))
    assert set(reply.blocked_ids) == {b.id, c.id}
    assert list((await mesh.graph.ListBlockedIds(G.ListBlockedIdsRequest(user_id=owner.id))).blocked_ids) == list(
        reply.blocked_ids)
    assert not (await relationship(mesh, owner, a)).blocking
    assert not (await relationship(mesh, b, owner)).following
    before = list(reply.blocked_ids)
    await refused(mesh.graph.ReplaceBlockList(G.ReplaceBlockListRequest(user_id=owner.id, blocked_ids=[a.id, 987654321])),
                  grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await refused(mesh.graph.ReplaceBlockList(G.ReplaceBlockListRequest(user_id=owner.id, blocked_ids=[a.id, owner.id])),
                  grpc.StatusCode.INVALID_ARGUMENT, "CANNOT_BLOCK_SELF")
    assert list((await mesh.graph.ListBlockedIds(G.ListBlockedIdsRequest(user_id=owner.id))).blocked_ids) == before
    assert list((await mesh.graph.ReplaceBlockList(G.ReplaceBlockListRequest(user_id=owner.id))).blocked_ids) == []

    muted = await mesh.graph.ReplaceMuteList(G.ReplaceMuteListRequest(user_id=owner.id, muted_ids=[a.id, b.id]))
    assert set(muted.muted_ids) == {a.id, b.id}
    muted = await mesh.graph.ReplaceMuteList(G.ReplaceMuteListRequest(user_id=owner.id, muted_ids=[c.id, a.id]))
    assert list(muted.muted_ids)[0] == c.id and set(muted.muted_ids) == {a.id, c.id}
    await refused(mesh.graph.ReplaceMuteList(G.ReplaceMuteListRequest(user_id=owner.id, muted_ids=[owner.id])),
                  grpc.StatusCode.INVALID_ARGUMENT, "CANNOT_MUTE_SELF")
    await refused(mesh.graph.ReplaceMuteList(G.ReplaceMuteListRequest(user_id=owner.id, muted_ids=[0])),
                  grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    assert set((await mesh.graph.ListMutedIds(G.ListMutedIdsRequest(user_id=owner.id))).muted_ids) == {a.id, c.id}
    mine = involving(await settled(mesh), owner, a, b, c)
    assert sum(s == "chirp.graph.blocked" for s, _ in mine) == 3  # a by BlockUser; b and c by the first replace
    assert sum(s == "chirp.graph.unblocked" for s, _ in mine) == 3  # a, then b and c by the empty list
    assert sum(s == "chirp.graph.muted" for s, _ in mine) == 3 and sum(s == "chirp.graph.unmuted" for s, _ in mine) == 1


async def test_approve_pending_requests_when_an_account_turns_public(mesh: Mesh) -> None:
    owner = await account(mesh, private=True)
    fans = [await account(mesh) for _ in range(3)]
    for fan in fans:
        await follow(mesh, fan, owner)
    reply = await mesh.graph.ApprovePendingRequests(G.ApprovePendingRequestsRequest(user_id=owner.id))
    assert reply.approved_count == 3
    assert (await mesh.graph.ApprovePendingRequests(G.ApprovePendingRequestsRequest(user_id=owner.id))).approved_count == 0
    assert await counts(mesh, owner.id) == {owner.id: (3, 0)}
    assert [(await relationship(mesh, fan, owner)).following for fan in fans] == [True] * 3


# --- consumed events ------------------------------------------------------------------------------


async def test_user_deleted_removes_follows_and_requests_both_ways_once(mesh: Mesh) -> None:
    gone, fan, star, private = (await account(mesh), await account(mesh), await account(mesh),
                                await account(mesh, private=True))
    await follow(mesh, fan, gone)
    await follow(mesh, gone, star)
    await follow(mesh, gone, private)
    assert await counts(mesh, gone.id, fan.id, star.id) == {gone.id: (1, 1), fan.id: (0, 1), star.id: (1, 0)}

    event = user_events_pb2.UserDeleted(user_id=gone.id, occurred_at=timestamp_pb2.Timestamp(seconds=1))
    deleted = events.OutgoingEvent.of(events.subject("user", "deleted"), event)
    publisher = events.EventPublisher(mesh.js)
    await publisher.publish([deleted])
    await publisher.publish([deleted])  # a duplicate is harmless (and dropped by Nats-Msg-Id)

    async def forgotten() -> bool:
        return await counts(mesh, gone.id, fan.id, star.id) == {gone.id: (0, 0), fan.id: (0, 0), star.id: (0, 0)}

    await eventually(forgotten, what="the deleted account's follows to be gone")
    requests = await mesh.graph.ListFollowRequests(G.ListFollowRequestsRequest(), metadata=private.metadata)
    assert requests.requests == []
    assert not (await relationship(mesh, fan, gone)).following
    # Handling it again (a redelivery) finds nothing to do.
    await publisher.publish([events.OutgoingEvent.of(events.subject("user", "deleted"), event)])

    async def all_handled() -> bool:
        info = await mesh.js.consumer_info("CHIRP_USER", "graph-user-deleted")
        return info.num_pending == 0 and info.num_ack_pending == 0

    await eventually(all_handled, what="the graph to ack every user.deleted")
    assert await forgotten()
    assert await counts(mesh, private.id) == {private.id: (0, 0)}
