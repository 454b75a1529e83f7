"""What the user service asks the graph service: counts, blocks, mutes and pending requests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from chirp.graph.v1 import graph_service_pb2 as pb
from chirp.graph.v1 import graph_service_pb2_grpc
from services.runtime.clients import DEFAULT_DEADLINE_S, downstream


class GraphClient:
    def __init__(self, stub: graph_service_pb2_grpc.GraphServiceStub, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self._stub = stub
        self._deadline_s = deadline_s

    async def follow_counts(self, user_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """(followers, following) per user id."""
        async with downstream("graph"):
            reply = await self._stub.BatchGetFollowCounts(
                pb.BatchGetFollowCountsRequest(user_ids=list(user_ids)), timeout=self._deadline_s)
        return {uid: (c.followers_count, c.following_count) for uid, c in reply.counts.items()}

    async def is_blocked_by(self, viewer_id: int, target_id: int) -> bool:
        async with downstream("graph"):
            reply = await self._stub.BatchGetRelationships(
                pb.BatchGetRelationshipsRequest(viewer_id=viewer_id, target_ids=[target_id]), timeout=self._deadline_s)
        relationship = reply.relationships.get(target_id)
        return bool(relationship and relationship.blocked_by)

    async def blocked_ids(self, user_id: int) -> list[int]:
        async with downstream("graph"):
            reply = await self._stub.ListBlockedIds(pb.ListBlockedIdsRequest(user_id=user_id), timeout=self._deadline_s)
        return list(reply.blocked_ids)

    async def muted_ids(self, user_id: int) -> list[int]:
        async with downstream("graph"):
            reply = await self._stub.ListMutedIds(pb.ListMutedIdsRequest(user_id=user_id), timeout=self._deadline_s)
        return list(reply.muted_ids)

    async def replace_blocks(self, user_id: int, blocked_ids: Sequence[int]) -> list[int]:
        async with downstream("graph"):
            reply = await self._stub.ReplaceBlockList(
                pb.ReplaceBlockListRequest(user_id=user_id, blocked_ids=list(blocked_ids)), timeout=self._deadline_s)
        return list(reply.blocked_ids)

    async def replace_mutes(self, user_id: int, muted_ids: Sequence[int]) -> list[int]:
        async with downstream("graph"):
            reply = await self._stub.ReplaceMuteList(
                pb.ReplaceMuteListRequest(user_id=user_id, muted_ids=list(muted_ids)), timeout=self._deadline_s)
        return list(reply.muted_ids)

    async def approve_pending(self, user_id: int) -> int:
        async with downstream("graph"):
            reply = await self._stub.ApprovePendingRequests(
                pb.ApprovePendingRequestsRequest(user_id=user_id), timeout=self._deadline_s)
        return reply.approved_count
