"""The transactional outbox: an event is written in the same transaction as the change it reports,
then relayed to JetStream. A crash between the commit and the publish loses nothing: the relay
finds the row on its next pass and publishes it again, and `Nats-Msg-Id` drops the duplicate.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence

from services.runtime.events import EventPublisher, OutgoingEvent
from services.runtime.logging import get_logger
from services.runtime.sqlite import Database

log = get_logger("chirp.outbox")

OUTBOX_MIGRATION = """
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL,
  event_type TEXT NOT NULL,
  payload BLOB NOT NULL,
  created_at REAL NOT NULL
)
"""


def stage(conn: sqlite3.Connection, events: Sequence[OutgoingEvent]) -> None:
    """Adds events to the outbox inside the caller's open transaction."""
    conn.executemany(
        "INSERT INTO outbox (event_id, subject, event_type, payload, created_at) VALUES (?, ?, ?, ?, ?)",
        [(e.event_id, e.subject, e.event_type, e.payload, time.time()) for e in events],
    )


class OutboxRelay:
    """Publishes outbox rows in commit order and deletes each batch once JetStream has stored it."""

    def __init__(self, db: Database, publisher: EventPublisher, *, batch: int = 256, poll_s: float = 0.5) -> None:
        self._db = db
        self._publisher = publisher
        self._batch = batch
        self._poll_s = poll_s
        self._wakeup = asyncio.Event()

    def notify(self) -> None:
        """Called after a commit that staged events, so they go out now rather than at the next poll."""
        self._wakeup.set()

    async def pending(self) -> int:
        return await self._db.read(lambda c: c.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    async def relay_once(self) -> int:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT seq, event_id, subject, event_type, payload FROM outbox ORDER BY seq LIMIT ?", (self._batch,)
            ).fetchall()
        )
        if not rows:
            return 0
        await self._publisher.publish(
            [OutgoingEvent(r["event_id"], r["subject"], r["event_type"], bytes(r["payload"])) for r in rows]
        )
        last = rows[-1]["seq"]
        await self._db.transaction(lambda c: c.execute("DELETE FROM outbox WHERE seq <= ?", (last,)))
        return len(rows)

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                sent = await self.relay_once()
                failures = 0
            except Exception as exc:
                failures += 1
                delay = min(0.25 * 2 ** min(failures, 5), 5.0)
                log.warning("outbox relay failed; retrying", error=repr(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                continue
            if sent:
                continue
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._poll_s)
            except asyncio.TimeoutError:
                pass
