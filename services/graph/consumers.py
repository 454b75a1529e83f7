"""Events the graph service consumes: chirp.user.deleted ends a deleted account's follows and requests."""

from __future__ import annotations

from functools import partial

from chirp.user.v1 import events_pb2 as user_events_pb2
from services.graph import domain
from services.graph.events import no_events
from services.graph.store.base import GraphStore
from services.runtime.events import Delivery
from services.runtime.ids import SnowflakeGenerator
from services.runtime.logging import get_logger

log = get_logger("chirp.graph.consumers")

USER_DELETED_DURABLE = "graph-user-deleted"
CHUNK = 500


class UserDeletedHandler:
    """Removes the deleted account's follows and follow requests in both directions, counters included.

    Works in chunks of accounts, each one atomic, until none is left, so an account with millions of
    followers never makes one giant transaction and a crash halfway resumes on redelivery. Idempotent:
    a redelivered event finds nothing left to remove. Blocks and mutes stay, so a block outlives an
    account that comes back. Publishes nothing: consumers of graph events learn of the deletion from
    chirp.user.deleted itself.
    """

    def __init__(self, store: GraphStore, ids: SnowflakeGenerator, *, chunk: int = CHUNK) -> None:
        self._store = store
        self._ids = ids
        self._chunk = chunk

    async def forget(self, user_id: int) -> int:
        """Ends every follow and request of user_id; returns how many edges went."""
        removed = 0
        while others := await self._store.counterparties(user_id, self._chunk):
            plan = partial(domain.plan_forget, user=user_id, seq=self._ids.next_id())
            decided = await self._store.apply(user_id, others, plan, no_events)
            if not decided.changes:  # nothing left that the planner would remove: never spin
                break
            removed += len(decided.changes)
        return removed

    async def __call__(self, delivery: Delivery) -> None:
        event = delivery.decode(user_events_pb2.UserDeleted)
        assert isinstance(event, user_events_pb2.UserDeleted)
        removed = await self.forget(event.user_id)
        log.info("deleted account's follows removed", user_id=event.user_id, edges=removed)
