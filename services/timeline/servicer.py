"""TimelineService over gRPC: proto in, auth and cursors, the reader, proto out. No driver imports here."""

from __future__ import annotations

import contextlib
import time

import grpc

from chirp.timeline.v1 import timeline_service_pb2, timeline_service_pb2_grpc
from services.runtime.auth import current_principal
from services.runtime.cursors import CursorCodec, page_size
from services.runtime.errors import Unauthenticated
from services.runtime.revocation import Revocations
from services.timeline import domain
from services.timeline.reader import TimelineReader
from services.timeline.updates import Updates


class TimelineServicer(timeline_service_pb2_grpc.TimelineServiceServicer):
    """Home and user timelines, hydrated; live home updates; rebuilds. Every RPC of the contract."""

    def __init__(self, reader: TimelineReader, cursors: CursorCodec, updates: Updates, revocations: Revocations,
                 *, session_check_s: float) -> None:
        self._reader = reader
        self._cursors = cursors
        self._updates = updates
        self._revocations = revocations
        self._session_check_s = session_check_s

    def _position(self, scope: str, cursor: str) -> domain.Position | None:
        fields = self._cursors.decode(scope, cursor)
        return None if fields is None else domain.Position.from_fields(fields)

    def _cursor(self, scope: str, position: domain.Position | None) -> str:
        return "" if position is None else self._cursors.encode(scope, position.to_fields())

    async def GetHomeTimeline(
        self, request: timeline_service_pb2.GetHomeTimelineRequest, context: object
    ) -> timeline_service_pb2.GetHomeTimelineResponse:
        viewer = current_principal().user_id
        filter_ = domain.check_filter(request.filter)
        limit = page_size(request.limit, default=domain.PAGE_DEFAULT, maximum=domain.PAGE_MAX)
        scope = f"home:{viewer}:{filter_}"
        items, after = await self._reader.home(viewer, self._position(scope, request.cursor), limit, filter_)
        return timeline_service_pb2.GetHomeTimelineResponse(tweets=items, next_cursor=self._cursor(scope, after))

    async def GetUserTimeline(
        self, request: timeline_service_pb2.GetUserTimelineRequest, context: object
    ) -> timeline_service_pb2.GetUserTimelineResponse:
        viewer = current_principal().user_id
        owner = domain.require_user_id(request.user_id)
        filter_ = domain.check_filter(request.filter)
        limit = page_size(request.limit, default=domain.PAGE_DEFAULT, maximum=domain.PAGE_MAX)
        scope = f"user:{owner}:{viewer}:{filter_}"
        items, after = await self._reader.profile(viewer, owner, self._position(scope, request.cursor), limit, filter_)
        return timeline_service_pb2.GetUserTimelineResponse(tweets=items, next_cursor=self._cursor(scope, after))

    async def StreamHomeTimeline(
        self, request: timeline_service_pb2.StreamHomeTimelineRequest, context: grpc.aio.ServicerContext
    ) -> None:
        # A coroutine that writes with context.write(), not an async generator: grpc.aio runs it to
        # its end inside the RPC, so a cancelled stream unwinds (subscription, interceptor scopes)
        # while the call still exists. An async generator that the client cancels while an update
        # is being written is dropped unclosed by grpc.aio and finalised by asyncio after the call
        # is released, and the interceptors' `context.peer()` then crashes the process (README).
        principal = current_principal()
        async with self._updates.subscribe(principal.user_id) as feed:
            # Headers go out once the subscription stands, so a client knows when nothing is missed.
            await context.send_initial_metadata(())
            checked_at = time.monotonic()
            async with contextlib.aclosing(feed.updates(idle_s=self._session_check_s)) as updates:
                async for update in updates:
                    if time.monotonic() - checked_at >= self._session_check_s:
                        if await self._revocations.is_revoked(principal.session_id):
                            raise Unauthenticated("SESSION_REVOKED", "This session has ended; sign in again.")
                        checked_at = time.monotonic()
                    if update is not None:
                        await context.write(update)

    async def RebuildHomeTimeline(
        self, request: timeline_service_pb2.RebuildHomeTimelineRequest, context: object
    ) -> timeline_service_pb2.RebuildHomeTimelineResponse:
        user_id = domain.require_user_id(request.user_id)
        await self._reader.require_user(user_id)
        return timeline_service_pb2.RebuildHomeTimelineResponse(entry_count=await self._reader.rebuild(user_id))
