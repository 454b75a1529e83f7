"""JetStream helpers and the outbox relay, against a real NATS server."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from google.protobuf import timestamp_pb2
from nats.js import JetStreamContext

from chirp.user.v1 import events_pb2
from services.runtime import events
from services.runtime.events import Delivery, DurableConsumer, EventPublisher, OutgoingEvent, PoisonEvent
from services.runtime.outbox import OUTBOX_MIGRATION, OutboxRelay, stage
from services.runtime.sqlite import Database
from tests.support import eventually

_domains = itertools.count()


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    nc = await events.connect(nats_url, "tests")
    yield nc.jetstream()
    await nc.drain()


@pytest.fixture
async def domain(js: JetStreamContext) -> str:
    """A stream of the test's own, so tests never see each other's events."""
    name = f"t{next(_domains)}{uuid.uuid4().hex[:6]}"
    await events.ensure_stream(js, name)
    return name


def _event(domain: str, user_id: int) -> OutgoingEvent:
    return OutgoingEvent.of(
        events.subject(domain, "deleted"),
        events_pb2.UserDeleted(user_id=user_id, occurred_at=timestamp_pb2.Timestamp(seconds=1)),
    )


async def _stream_count(js: JetStreamContext, domain: str) -> int:
    return (await js.stream_info(events.stream_name(domain))).state.messages


async def test_republishing_an_event_id_is_dropped(js: JetStreamContext, domain: str) -> None:
    publisher = EventPublisher(js)
    event = _event(domain, 1)
    await publisher.publish([event, _event(domain, 2)])
    await publisher.publish([event])
    assert await _stream_count(js, domain) == 2


async def test_ensure_stream_is_idempotent(js: JetStreamContext, domain: str) -> None:
    await events.ensure_stream(js, domain)
    await events.ensure_stream(js, domain)


async def _consume(js: JetStreamContext, domain: str, handler, **kwargs) -> asyncio.Task[None]:  # type: ignore[no-untyped-def]
    consumer = DurableConsumer(
        js, events.stream_name(domain), f"{domain}-consumer", f"chirp.{domain}.>", handler,
        backoff_s=(0.05,), **kwargs,
    )
    return asyncio.create_task(consumer.run())


async def test_outbox_survives_a_crash_between_commit_and_publish(
    js: JetStreamContext, domain: str, tmp_path: Path
) -> None:
    db = Database(tmp_path / "svc.db", [OUTBOX_MIGRATION])
    staged = [_event(domain, i) for i in range(50)]
    await db.transaction(lambda conn: stage(conn, staged))

    # The first relay publishes but "dies" before deleting its rows: simulate by publishing
    # the rows directly, as a relay would, and not deleting them.
    await EventPublisher(js).publish(staged[:30])

    relay = OutboxRelay(db, EventPublisher(js), batch=16)
    while await relay.relay_once():
        pass
    assert await relay.pending() == 0

    seen: list[int] = []

    async def handle(delivery: Delivery) -> None:
        seen.append(delivery.decode(events_pb2.UserDeleted).user_id)  # type: ignore[attr-defined]

    task = await _consume(js, domain, handle)
    await eventually(lambda: _true(len(seen) >= 50), what="all 50 events consumed")
    task.cancel()
    assert await _stream_count(js, domain) == 50, "the re-published rows were de-duplicated by Nats-Msg-Id"
    assert sorted(seen) == list(range(50)), "each event exactly once, none lost"
    await db.close()


async def _true(value: bool) -> bool:
    return value


async def test_relay_runs_in_the_background_and_is_woken_by_notify(
    js: JetStreamContext, domain: str, tmp_path: Path
) -> None:
    db = Database(tmp_path / "svc.db", [OUTBOX_MIGRATION])
    relay = OutboxRelay(db, EventPublisher(js), poll_s=30)  # only notify() can make it this fast
    task = asyncio.create_task(relay.run())
    await db.transaction(lambda conn: stage(conn, [_event(domain, 7)]))
    relay.notify()
    await eventually(lambda: _count_is(js, domain, 1), timeout_s=5, what="event relayed after notify")
    task.cancel()
    await db.close()


async def _count_is(js: JetStreamContext, domain: str, expected: int) -> bool:
    return await _stream_count(js, domain) == expected


async def test_failing_handler_is_retried_then_succeeds(js: JetStreamContext, domain: str) -> None:
    attempts: dict[int, int] = {}
    done: list[int] = []

    async def flaky(delivery: Delivery) -> None:
        user_id = delivery.decode(events_pb2.UserDeleted).user_id  # type: ignore[attr-defined]
        attempts[user_id] = attempts.get(user_id, 0) + 1
        if attempts[user_id] < 3:
            raise RuntimeError("downstream not ready")
        done.append(user_id)

    await EventPublisher(js).publish([_event(domain, 1)])
    task = await _consume(js, domain, flaky, max_deliver=5)
    await eventually(lambda: _true(done == [1]), what="handled on the third attempt")
    task.cancel()
    assert attempts[1] == 3


async def test_poison_and_exhausted_events_go_to_the_dead_letter_stream_without_stalling(
    js: JetStreamContext, domain: str
) -> None:
    good: list[int] = []

    async def handle(delivery: Delivery) -> None:
        user_id = delivery.decode(events_pb2.UserDeleted).user_id  # type: ignore[attr-defined]
        if user_id == 13:
            raise RuntimeError("always fails")
        good.append(user_id)

    await js.publish(events.subject(domain, "deleted"), b"\xff\xff not protobuf",
                     headers={events.EVENT_TYPE_HEADER: "chirp.user.v1.UserDeleted", events.MSG_ID_HEADER: "poison"})
    await EventPublisher(js).publish([_event(domain, 13), _event(domain, 1), _event(domain, 2)])
    task = await _consume(js, domain, handle, max_deliver=2)
    await eventually(lambda: _true(sorted(good) == [1, 2]), what="good events handled past the bad ones")

    subscription = await js.pull_subscribe(f"chirp.deadletter.{domain}-consumer", stream=events.DEAD_LETTER_STREAM)

    async def dead_letters() -> list[str]:
        msgs = await subscription.fetch(10, timeout=1)
        return [m.headers["Chirp-Failure"] for m in msgs]

    failures: list[str] = []

    async def both_dead_lettered() -> bool:
        failures.extend(await dead_letters())
        return len(failures) >= 2

    await eventually(both_dead_lettered, what="poison and exhausted events dead-lettered")
    task.cancel()
    assert any("undecodable" in f for f in failures)
    assert any("always fails" in f for f in failures)


def test_decode_refuses_the_wrong_type() -> None:
    delivery = Delivery("id", "chirp.x.y", "chirp.user.v1.UserCreated", b"", attempt=1)
    with pytest.raises(PoisonEvent):
        delivery.decode(events_pb2.UserDeleted)
