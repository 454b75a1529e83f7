"""The outbox relay across a NATS outage: nothing staged while NATS is down is lost or doubled."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from google.protobuf import timestamp_pb2

from chirp.user.v1 import events_pb2
from services.runtime import events
from services.runtime.events import EventPublisher, OutgoingEvent
from services.runtime.mesh import free_port, nats_argv, tcp_open, wait_for
from services.runtime.outbox import OUTBOX_MIGRATION, OutboxRelay, stage
from services.runtime.sqlite import Database
from services.runtime.supervisor import ProcessSpec, Supervisor
from tests.support import eventually


def _event(user_id: int) -> OutgoingEvent:
    return OutgoingEvent.of(events.subject("outage", "deleted"),
                            events_pb2.UserDeleted(user_id=user_id, occurred_at=timestamp_pb2.Timestamp(seconds=1)))


async def test_events_staged_during_an_outage_arrive_once_after_it(tmp_path: Path) -> None:
    port = free_port()
    spec = ProcessSpec("nats", nats_argv(port, tmp_path / "store"), dict(os.environ), tmp_path / "nats.log")
    supervisor = Supervisor()
    await supervisor.start(spec)
    await wait_for("NATS", lambda: tcp_open(port), 30)
    nc = await events.connect(f"nats://127.0.0.1:{port}", "outage-test")
    js = nc.jetstream()
    await events.ensure_stream(js, "outage")
    db = Database(tmp_path / "svc.db", [OUTBOX_MIGRATION])
    relay = OutboxRelay(db, EventPublisher(js, ack_timeout_s=1.0), poll_s=0.1)
    relay_task = asyncio.create_task(relay.run())
    try:
        await db.transaction(lambda c: stage(c, [_event(i) for i in range(0, 20)]))
        relay.notify()
        await eventually(lambda: _drained(relay), what="first batch relayed")

        # NATS goes away (the supervisor brings it back, as `make run` would), and writes go on.
        old_pid = supervisor.pid("nats")
        assert old_pid is not None
        supervisor.kill("nats")
        for start in range(20, 60, 10):
            await db.transaction(lambda c, s=start: stage(c, [_event(i) for i in range(s, s + 10)]))
            relay.notify()
        await supervisor.wait_restarted("nats", old_pid)
        await eventually(lambda: _drained(relay), timeout_s=30, what="outbox drained after NATS came back")

        info = await js.stream_info(events.stream_name("outage"))
        assert info.state.messages == 60, "every staged event stored exactly once"
        subscription = await js.pull_subscribe("chirp.outage.>", durable="outage-check", stream="CHIRP_OUTAGE")
        seen: list[int] = []
        while len(seen) < 60:
            for msg in await subscription.fetch(60, timeout=5):
                seen.append(events_pb2.UserDeleted.FromString(msg.data).user_id)
                await msg.ack()
        assert sorted(seen) == list(range(60))
    finally:
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)
        await nc.close()
        await db.close()
        await supervisor.stop_all()


async def _drained(relay: OutboxRelay) -> bool:
    return await relay.pending() == 0
