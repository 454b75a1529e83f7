"""Live pushes of new home timeline entries: TimelineUpdated on core NATS subject
chirp.timeline.updated.<user_id>, relayed by StreamHomeTimeline. They are not durable: a client that
misses one catches up by reading its timeline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence

from google.protobuf import timestamp_pb2
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from chirp.timeline.v1 import events_pb2, timeline_pb2

SUBJECT_PREFIX = "chirp.timeline.updated"


def subject_for(user_id: int) -> str:
    return f"{SUBJECT_PREFIX}.{user_id}"


class Updates:
    def __init__(self, nc: NatsClient) -> None:
        self._nc = nc

    async def publish(self, user_ids: Iterable[int], tweet_ids: Sequence[int]) -> None:
        """Tells each user's open streams that tweet_ids (newest first) reached their home timeline."""
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        for user_id in user_ids:
            event = events_pb2.TimelineUpdated(user_id=user_id, tweet_ids=tweet_ids, occurred_at=now)
            await self._nc.publish(subject_for(user_id), event.SerializeToString())

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: int) -> AsyncIterator[Feed]:
        """The user's updates from now until the block ends."""
        feed = Feed()
        subscription = await self._nc.subscribe(subject_for(user_id), cb=feed.received)
        try:
            await self._nc.flush()  # the server knows of the subscription: nothing published from now is missed
            yield feed
        finally:
            await subscription.unsubscribe()


class Feed:
    """One subscriber's updates, buffered. A reader that lags drops updates: it catches up by reading."""

    def __init__(self, buffer: int = 1024) -> None:
        self._queue: asyncio.Queue[Msg] = asyncio.Queue(maxsize=buffer)

    async def received(self, msg: Msg) -> None:
        if not self._queue.full():
            self._queue.put_nowait(msg)

    async def updates(self, *, idle_s: float) -> AsyncIterator[timeline_pb2.TimelineUpdate | None]:
        """The updates as they come; None after each idle_s without one (a chance to check the session)."""
        while True:
            try:
                msg = await asyncio.wait_for(self._queue.get(), timeout=idle_s)
            except asyncio.TimeoutError:
                yield None
                continue
            try:
                event = events_pb2.TimelineUpdated.FromString(msg.data)
            except Exception:  # not ours to fail on: someone published junk on the subject
                continue
            yield timeline_pb2.TimelineUpdate(tweet_ids=event.tweet_ids, updated_at=event.occurred_at)
