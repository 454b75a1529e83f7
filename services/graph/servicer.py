"""GraphService over gRPC: proto in, domain rules, store, proto out. No driver imports here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from functools import partial

from chirp.graph.v1 import graph_pb2, graph_service_pb2, graph_service_pb2_grpc
from chirp.user.v1 import user_pb2
from services.graph import domain
from services.graph.directory import UserDirectory
from services.graph.events import events_for, occurred_at
from services.graph.store.base import GraphStore
from services.runtime.auth import current_principal
from services.runtime.cursors import CursorCodec, page_size
from services.runtime.ids import SnowflakeGenerator
from services.runtime.outbox import OutboxRelay

PageReader = Callable[[int, domain.Position | None, int], Awaitable[domain.Page]]

_FOLLOW_STATES = {
    domain.FollowState.FOLLOWING: graph_pb2.FOLLOW_STATE_FOLLOWING,
    domain.FollowState.PENDING: graph_pb2.FOLLOW_STATE_PENDING,
}


def relationship_of(rel: domain.Relationship) -> graph_pb2.Relationship:
    return graph_pb2.Relationship(
        user_id=rel.user_id, following=rel.following, followed_by=rel.followed_by, pending=rel.pending,
        blocking=rel.blocking, blocked_by=rel.blocked_by, muting=rel.muting,
    )


class GraphServicer(graph_service_pb2_grpc.GraphServiceServicer):
    """Follows, follow requests, blocks, mutes and follower counts; every RPC of the contract."""

    def __init__(
        self,
        store: GraphStore,
        users: UserDirectory,
        ids: SnowflakeGenerator,
        cursors: CursorCodec,
        relay: OutboxRelay,
    ) -> None:
        self._store = store
        self._users = users
        self._ids = ids
        self._cursors = cursors
        self._relay = relay

    # --- helpers ----------------------------------------------------------------------------------

    async def _apply(self, viewer: int, others: Iterable[int], plan: domain.Planner) -> domain.Plan:
        decided = await self._store.apply(viewer, others, plan, events_for)
        if decided.changes:
            self._relay.notify()
        return decided

    async def _apply_to(self, me: int, other: int, plan: Callable[..., domain.Plan], **kwargs: object) -> domain.Plan:
        """Runs a one-pair planner, `plan(rel, me, seq=..., **kwargs)`, on the caller's relationship to `other`."""
        seq = self._ids.next_id()
        return await self._apply(me, [other], lambda rels: plan(rels[other], me, seq=seq, **kwargs))

    async def _target(self, user_id: int) -> tuple[int, int, user_pb2.Profile]:
        """The caller, and the existing account it names with `id`, with its profile."""
        me = current_principal().user_id
        target = domain.require_user_id(user_id)
        profiles = await self._users.require([target])
        return me, target, profiles[target]

    async def _act(self, user_id: int, plan: Callable[..., domain.Plan]) -> None:
        """The caller acts on an existing account: follows end, blocks and mutes come and go."""
        me, target, _ = await self._target(user_id)
        await self._apply_to(me, target, plan)

    def _after(self, scope: str, cursor: str) -> domain.Position | None:
        fields = self._cursors.decode(scope, cursor)
        return None if fields is None else domain.Position.from_fields(fields)

    def _next_cursor(self, scope: str, page: domain.Page) -> str:
        return "" if page.next is None else self._cursors.encode(scope, page.next.to_fields())

    async def _profile_page(
        self, kind: str, user_id: int, cursor: str, limit: int, read: PageReader
    ) -> tuple[list[user_pb2.Profile], str]:
        """A page of a followers or following list, with the access rules of a private account.

        The page, the caller's relationship and (in one batch) the profiles of the account and of the
        page are read before the rules are checked; nothing is returned when they refuse.
        """
        me = current_principal().user_id
        target = domain.require_user_id(user_id)
        scope = f"{kind}:{target}"
        after = self._after(scope, cursor)
        size = page_size(limit, default=domain.PROFILE_PAGE_DEFAULT, maximum=domain.PROFILE_PAGE_MAX)
        rels, page = await asyncio.gather(self._store.relationships(me, [target]), read(target, after, size))
        profiles = await self._users.profiles([target, *(entry.user_id for entry in page.entries)])
        owner = profiles.get(target)
        domain.check_list_access(me, rels[target], exists=owner is not None, private=bool(owner and owner.is_private))
        listed = [profiles[entry.user_id] for entry in page.entries if entry.user_id in profiles]
        return listed, self._next_cursor(scope, page)

    async def _replace_list(
        self, owner: int, wanted: Sequence[int], current: Sequence[int], plan: Callable[..., domain.Plan]
    ) -> None:
        """Checks that the accounts newly put on a block or mute list exist, then replaces the list."""
        known = set(current)
        await self._users.require(i for i in wanted if i not in known)
        seq = self._ids.next_id()
        await self._apply(owner, [*wanted, *current], partial(plan, owner=owner, wanted=wanted, seq=seq))

    # --- public RPCs ------------------------------------------------------------------------------

    async def FollowUser(
        self, request: graph_service_pb2.FollowUserRequest, context: object
    ) -> graph_service_pb2.FollowUserResponse:
        me, target, profile = await self._target(request.id)
        decided = await self._apply_to(me, target, domain.plan_follow, target_private=profile.is_private)
        assert decided.state is not None
        message = "Followed user" if decided.state is domain.FollowState.FOLLOWING else "Follow requested"
        return graph_service_pb2.FollowUserResponse(message=message, state=_FOLLOW_STATES[decided.state])

    async def UnfollowUser(
        self, request: graph_service_pb2.UnfollowUserRequest, context: object
    ) -> graph_service_pb2.UnfollowUserResponse:
        await self._act(request.id, domain.plan_unfollow)
        return graph_service_pb2.UnfollowUserResponse(message="Unfollowed user")

    async def ListFollowers(
        self, request: graph_service_pb2.ListFollowersRequest, context: object
    ) -> graph_service_pb2.ListFollowersResponse:
        profiles, cursor = await self._profile_page(
            "followers", request.id, request.cursor, request.limit, self._store.followers)
        return graph_service_pb2.ListFollowersResponse(followers=profiles, next_cursor=cursor)

    async def ListFollowing(
        self, request: graph_service_pb2.ListFollowingRequest, context: object
    ) -> graph_service_pb2.ListFollowingResponse:
        profiles, cursor = await self._profile_page(
            "following", request.id, request.cursor, request.limit, self._store.following)
        return graph_service_pb2.ListFollowingResponse(following=profiles, next_cursor=cursor)

    async def BlockUser(
        self, request: graph_service_pb2.BlockUserRequest, context: object
    ) -> graph_service_pb2.BlockUserResponse:
        await self._act(request.id, domain.plan_block)
        return graph_service_pb2.BlockUserResponse(message="User blocked")

    async def UnblockUser(
        self, request: graph_service_pb2.UnblockUserRequest, context: object
    ) -> graph_service_pb2.UnblockUserResponse:
        await self._act(request.id, domain.plan_unblock)
        return graph_service_pb2.UnblockUserResponse(message="User unblocked")

    async def MuteUser(
        self, request: graph_service_pb2.MuteUserRequest, context: object
    ) -> graph_service_pb2.MuteUserResponse:
        await self._act(request.id, domain.plan_mute)
        return graph_service_pb2.MuteUserResponse(message="User muted")

    async def UnmuteUser(
        self, request: graph_service_pb2.UnmuteUserRequest, context: object
    ) -> graph_service_pb2.UnmuteUserResponse:
        await self._act(request.id, domain.plan_unmute)
        return graph_service_pb2.UnmuteUserResponse(message="User unmuted")

    async def ListFollowRequests(
        self, request: graph_service_pb2.ListFollowRequestsRequest, context: object
    ) -> graph_service_pb2.ListFollowRequestsResponse:
        me = current_principal().user_id
        scope = f"follow-requests:{me}"
        after = self._after(scope, request.cursor)
        size = page_size(request.limit, default=domain.PROFILE_PAGE_DEFAULT, maximum=domain.PROFILE_PAGE_MAX)
        page = await self._store.follow_requests(me, after, size)
        profiles = await self._users.profiles(entry.user_id for entry in page.entries)
        return graph_service_pb2.ListFollowRequestsResponse(
            requests=[
                graph_pb2.FollowRequest(requester=profiles[entry.user_id], created_at=occurred_at(entry.seq))
                for entry in page.entries if entry.user_id in profiles
            ],
            next_cursor=self._next_cursor(scope, page),
        )

    async def ApproveFollowRequest(
        self, request: graph_service_pb2.ApproveFollowRequestRequest, context: object
    ) -> graph_service_pb2.ApproveFollowRequestResponse:
        me = current_principal().user_id
        requester = domain.require_user_id(request.requester_id, "requester_id")
        await self._apply_to(me, requester, domain.plan_approve)
        return graph_service_pb2.ApproveFollowRequestResponse(message="Follow request approved")

    async def RejectFollowRequest(
        self, request: graph_service_pb2.RejectFollowRequestRequest, context: object
    ) -> graph_service_pb2.RejectFollowRequestResponse:
        me = current_principal().user_id
        requester = domain.require_user_id(request.requester_id, "requester_id")
        await self._apply_to(me, requester, domain.plan_reject)
        return graph_service_pb2.RejectFollowRequestResponse(message="Follow request rejected")

    async def GetRelationship(
        self, request: graph_service_pb2.GetRelationshipRequest, context: object
    ) -> graph_pb2.Relationship:
        me = current_principal().user_id
        target = domain.require_user_id(request.id)
        if target == me:
            return graph_pb2.Relationship(user_id=me)
        _, rels = await asyncio.gather(self._users.require([target]), self._store.relationships(me, [target]))
        return relationship_of(rels[target])

    # --- internal RPCs ----------------------------------------------------------------------------

    async def BatchGetRelationships(
        self, request: graph_service_pb2.BatchGetRelationshipsRequest, context: object
    ) -> graph_service_pb2.BatchGetRelationshipsResponse:
        viewer = domain.require_user_id(request.viewer_id, "viewer_id")
        targets = domain.batch_ids(request.target_ids, "target_ids")
        rels = await self._store.relationships(viewer, [t for t in targets if t != viewer])
        return graph_service_pb2.BatchGetRelationshipsResponse(relationships={
            target: relationship_of(rels.get(target, domain.Relationship(target))) for target in targets
        })

    async def StreamFollowerIds(
        self, request: graph_service_pb2.StreamFollowerIdsRequest, context: object
    ) -> AsyncIterator[graph_service_pb2.StreamFollowerIdsResponse]:
        user_id = domain.require_user_id(request.user_id, "user_id")
        size = page_size(request.page_size, default=domain.ID_PAGE_DEFAULT, maximum=domain.ID_PAGE_MAX)
        after: domain.Position | None = None
        while True:
            page = await self._store.followers(user_id, after, size)
            if page.entries:
                yield graph_service_pb2.StreamFollowerIdsResponse(follower_ids=[e.user_id for e in page.entries])
            if page.next is None:
                return
            after = page.next

    async def BatchGetFollowCounts(
        self, request: graph_service_pb2.BatchGetFollowCountsRequest, context: object
    ) -> graph_service_pb2.BatchGetFollowCountsResponse:
        counts = await self._store.counts(domain.batch_ids(request.user_ids, "user_ids"))
        return graph_service_pb2.BatchGetFollowCountsResponse(counts={
            user_id: graph_pb2.FollowCounts(followers_count=c.followers, following_count=c.following)
            for user_id, c in counts.items()
        })

    async def ListBlockedIds(
        self, request: graph_service_pb2.ListBlockedIdsRequest, context: object
    ) -> graph_service_pb2.ListBlockedIdsResponse:
        owner = domain.require_user_id(request.user_id, "user_id")
        return graph_service_pb2.ListBlockedIdsResponse(blocked_ids=await self._store.blocked_ids(owner))

    async def ListMutedIds(
        self, request: graph_service_pb2.ListMutedIdsRequest, context: object
    ) -> graph_service_pb2.ListMutedIdsResponse:
        owner = domain.require_user_id(request.user_id, "user_id")
        return graph_service_pb2.ListMutedIdsResponse(muted_ids=await self._store.muted_ids(owner))

    async def ReplaceBlockList(
        self, request: graph_service_pb2.ReplaceBlockListRequest, context: object
    ) -> graph_service_pb2.ReplaceBlockListResponse:
        owner = domain.require_user_id(request.user_id, "user_id")
        wanted = domain.replacement_list(owner, request.blocked_ids, reason="CANNOT_BLOCK_SELF", action="block")
        await self._replace_list(owner, wanted, await self._store.blocked_ids(owner), domain.plan_replace_blocks)
        return graph_service_pb2.ReplaceBlockListResponse(blocked_ids=await self._store.blocked_ids(owner))

    async def ReplaceMuteList(
        self, request: graph_service_pb2.ReplaceMuteListRequest, context: object
    ) -> graph_service_pb2.ReplaceMuteListResponse:
        owner = domain.require_user_id(request.user_id, "user_id")
        wanted = domain.replacement_list(owner, request.muted_ids, reason="CANNOT_MUTE_SELF", action="mute")
        await self._replace_list(owner, wanted, await self._store.muted_ids(owner), domain.plan_replace_mutes)
        return graph_service_pb2.ReplaceMuteListResponse(muted_ids=await self._store.muted_ids(owner))

    async def ApprovePendingRequests(
        self, request: graph_service_pb2.ApprovePendingRequestsRequest, context: object
    ) -> graph_service_pb2.ApprovePendingRequestsResponse:
        target = domain.require_user_id(request.user_id, "user_id")
        approved = 0
        while True:  # in chunks, each one transaction: a popular account may have many requests
            page = await self._store.follow_requests(target, None, domain.BATCH_LIMIT)
            if not page.entries:
                break
            seq = self._ids.next_id()
            decided = await self._apply(
                target, [e.user_id for e in page.entries], partial(domain.plan_approve_all, target=target, seq=seq))
            done = sum(c.effect is domain.Effect.REQUEST_APPROVED for c in decided.changes)
            if not done:
                break
            approved += done
        return graph_service_pb2.ApprovePendingRequestsResponse(approved_count=approved)

    async def ListFollowingIds(
        self, request: graph_service_pb2.ListFollowingIdsRequest, context: object
    ) -> graph_service_pb2.ListFollowingIdsResponse:
        user_id = domain.require_user_id(request.user_id, "user_id")
        scope = f"following-ids:{user_id}"
        after = self._after(scope, request.cursor)
        size = page_size(request.limit, default=domain.ID_PAGE_DEFAULT, maximum=domain.ID_PAGE_MAX)
        page = await self._store.following(user_id, after, size)
        return graph_service_pb2.ListFollowingIdsResponse(
            following_ids=[e.user_id for e in page.entries], next_cursor=self._next_cursor(scope, page))
