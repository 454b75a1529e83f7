"""The user service as the graph service asks it: public profiles by id, in batches, with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from chirp.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from services.graph.domain import BATCH_LIMIT, user_not_found
from services.runtime.clients import downstream


class UserDirectory:
    def __init__(self, stub: user_service_pb2_grpc.UserServiceStub, *, timeout_s: float) -> None:
        self._stub = stub
        self._timeout_s = timeout_s

    async def profiles(self, user_ids: Iterable[int]) -> dict[int, user_pb2.Profile]:
        """The live accounts among user_ids, by id: one BatchGetUsers call per 500 ids, concurrently.

        Raises UNAVAILABLE (USER_UNAVAILABLE) when the user service does not answer in time.
        """
        ids = [i for i in dict.fromkeys(user_ids) if i > 0]
        batches = [ids[start:start + BATCH_LIMIT] for start in range(0, len(ids), BATCH_LIMIT)]
        async with downstream("user"):
            replies = await asyncio.gather(*(
                self._stub.BatchGetUsers(user_service_pb2.BatchGetUsersRequest(ids=batch), timeout=self._timeout_s)
                for batch in batches
            ))
        return {user_id: profile for reply in replies for user_id, profile in reply.profiles.items()}

    async def require(self, user_ids: Iterable[int]) -> dict[int, user_pb2.Profile]:
        """The profiles of user_ids; NOT_FOUND (USER_NOT_FOUND) naming the first unknown or deleted one."""
        ids = list(user_ids)
        found = await self.profiles(ids)
        for user_id in ids:
            if user_id not in found:
                raise user_not_found(user_id)
        return found
