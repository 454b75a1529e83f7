"""JetStream: streams per domain, a publisher with de-duplication ids and batched acks, and a
durable pull-consumer runner with bounded redelivery and a dead-letter stream.

Subjects are `chirp.<domain>.<event>`; each publishing domain has one stream, CHIRP_<DOMAIN>,
with file storage. Every message carries its event id in `Nats-Msg-Id`, so JetStream drops a
re-publish within the duplicate window, and its protobuf type in `Chirp-Event-Type`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import nats
from google.protobuf.message import Message
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from services.runtime.logging import get_logger

log = get_logger("chirp.events")

EVENT_TYPE_HEADER = "Chirp-Event-Type"
MSG_ID_HEADER = "Nats-Msg-Id"
DEAD_LETTER_STREAM = "CHIRP_DEADLETTER"
DUPLICATE_WINDOW_S = 20 * 60


def stream_name(domain: str) -> str:
    return f"CHIRP_{domain.upper()}"


def subject(domain: str, event: str) -> str:
    return f"chirp.{domain}.{event}"


@dataclass(frozen=True)
class OutgoingEvent:
    """An event ready to publish: the outbox stores exactly this."""

    event_id: str
    subject: str
    event_type: str
    payload: bytes

    @classmethod
    def of(cls, subject: str, message: Message, event_id: str | None = None) -> OutgoingEvent:
        return cls(
            event_id=event_id or uuid.uuid4().hex,
            subject=subject,
            event_type=message.DESCRIPTOR.full_name,
            payload=message.SerializeToString(),
        )


async def connect(url: str, name: str) -> NatsClient:
    """A client that reconnects forever: a NATS restart must not take a service down with it."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", error=repr(exc))

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
        error_cb=on_error,
    )


async def ensure_stream(js: JetStreamContext, domain: str) -> None:
    """Creates the domain's stream if missing (idempotent, safe from every process)."""
    await _ensure(js, StreamConfig(
        name=stream_name(domain),
        subjects=[f"chirp.{domain}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
    ))


async def ensure_dead_letter_stream(js: JetStreamContext) -> None:
    await _ensure(js, StreamConfig(
        name=DEAD_LETTER_STREAM,
        subjects=["chirp.deadletter.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
    ))


async def _ensure(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except Exception:
            # Another process may have created it between our look and our add.
            await js.stream_info(config.name)


class EventPublisher:
    """Publishes batches with async acks: the whole batch is in flight at once, then awaited.

    Awaiting each publish alone costs one round trip per event and caps a process at a few
    thousand events a second; a batch costs about one round trip.
    """

    def __init__(self, js: JetStreamContext, *, ack_timeout_s: float = 10.0) -> None:
        self._js = js
        self._ack_timeout_s = ack_timeout_s

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        """Returns when JetStream has stored every event; raises if any was not stored in time.

        An ack can be lost with its message while NATS reconnects, so every batch has a deadline;
        the caller retries it, and `Nats-Msg-Id` drops whatever had been stored after all.
        """
        futures: list[asyncio.Future[object]] = []
        try:
            for e in events:
                futures.append(await self._js.publish_async(
                    e.subject,
                    e.payload,
                    headers={MSG_ID_HEADER: e.event_id, EVENT_TYPE_HEADER: e.event_type},
                    wait_stall=self._ack_timeout_s,
                ))
            await asyncio.wait_for(asyncio.gather(*futures), timeout=self._ack_timeout_s)
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()  # frees its slot in the client's pending-publish window


class PoisonEvent(Exception):
    """The event can never be handled (undecodable, wrong type): dead-letter it at once."""


@dataclass
class Delivery:
    """One delivered event, as a handler sees it."""

    event_id: str
    subject: str
    event_type: str
    payload: bytes
    attempt: int

    def decode(self, message_type: type[Message]) -> Message:
        expected = message_type.DESCRIPTOR.full_name
        if self.event_type and self.event_type != expected:
            raise PoisonEvent(f"expected {expected}, got {self.event_type}")
        message = message_type()
        try:
            message.ParseFromString(self.payload)
        except Exception as exc:  # protobuf raises DecodeError, sometimes others
            raise PoisonEvent(f"undecodable {expected}: {exc}") from exc
        return message


Handler = Callable[[Delivery], Awaitable[None]]


@dataclass
class DurableConsumer:
    """Runs a durable pull consumer: fetch a batch, handle each event, ack it.

    A failing event is redelivered with a growing delay up to `max_deliver` times, then copied to
    the dead-letter stream and terminated, so one bad event never stalls the ones behind it.
    Handlers must be idempotent: delivery is at least once.
    """

    js: JetStreamContext
    stream: str
    durable: str
    filter_subject: str
    handler: Handler
    max_deliver: int = 5
    batch: int = 64
    ack_wait_s: float = 30.0
    backoff_s: Sequence[float] = field(default_factory=lambda: (0.2, 1.0, 3.0, 10.0))
    # How long a batch pull may wait for more events once some have arrived.
    linger_s: float = 0.05

    async def run(self) -> None:
        await ensure_dead_letter_stream(self.js)
        subscription = await self.js.pull_subscribe(
            self.filter_subject,
            durable=self.durable,
            stream=self.stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                max_deliver=self.max_deliver,
                ack_wait=self.ack_wait_s,
                max_ack_pending=self.batch * 16,
            ),
        )
        try:
            await self._consume(subscription)
        finally:
            # A pull left open would make a later drain() wait out its whole timeout.
            await subscription.unsubscribe()

    async def _consume(self, subscription: JetStreamContext.PullSubscription) -> None:
        # A pull for a batch waits until the batch is full or the pull expires, even when one event is
        # already there. So wait for ONE event and handle it at once, then take what else is already
        # queued in batches that linger only briefly: a lone event is never held back for a second.
        while True:
            if await self._pull(subscription, 1, wait_s=1.0):
                while await self._pull(subscription, self.batch, wait_s=self.linger_s) == self.batch:
                    pass

    async def _pull(self, subscription: JetStreamContext.PullSubscription, batch: int, wait_s: float) -> int:
        """Fetches and handles up to `batch` events; returns how many there were (0 on timeout)."""
        try:
            messages = await subscription.fetch(batch, timeout=wait_s)
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            return 0
        except (nats.errors.ConnectionClosedError, nats.errors.NoRespondersError, nats.errors.Error) as exc:
            # NATS is restarting or unreachable: unacked events will be redelivered later.
            log.warning("event fetch failed; retrying", consumer=self.durable, error=repr(exc))
            await asyncio.sleep(1.0)
            return 0
        for msg in messages:
            await self._handle(msg)
        return len(messages)

    async def _handle(self, msg: Msg) -> None:
        headers = msg.headers or {}
        delivery = Delivery(
            event_id=headers.get(MSG_ID_HEADER, ""),
            subject=msg.subject,
            event_type=headers.get(EVENT_TYPE_HEADER, ""),
            payload=msg.data,
            attempt=msg.metadata.num_delivered,
        )
        try:
            await self.handler(delivery)
        except PoisonEvent as exc:
            await self._dead_letter(msg, delivery, repr(exc))
            return
        except Exception as exc:
            if delivery.attempt >= self.max_deliver:
                await self._dead_letter(msg, delivery, repr(exc))
            else:
                delay = self.backoff_s[min(delivery.attempt - 1, len(self.backoff_s) - 1)]
                log.warning("event handler failed; will retry", consumer=self.durable, event_id=delivery.event_id,
                            attempt=delivery.attempt, error=repr(exc))
                await msg.nak(delay=delay)
            return
        await msg.ack()

    async def _dead_letter(self, msg: Msg, delivery: Delivery, reason: str) -> None:
        log.error("event dead-lettered", consumer=self.durable, event_id=delivery.event_id, reason=reason)
        headers = {
            EVENT_TYPE_HEADER: delivery.event_type,
            "Chirp-Original-Subject": delivery.subject,
            "Chirp-Consumer": self.durable,
            "Chirp-Failure": reason[:500],
            MSG_ID_HEADER: f"{self.durable}:{delivery.event_id or msg.metadata.sequence.stream}",
        }
        await self.js.publish(f"chirp.deadletter.{self.durable}", msg.data, headers=headers)
        await msg.term()
