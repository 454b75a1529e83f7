"""The transactional outbox: an event is written in the same transaction as the change it reports,
then relayed to JetStream. A crash between the commit and the publish loses nothing: the relay
finds the row on its next pass and publishes it again, and `Nats-Msg-Id` drops the duplicate.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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


@dataclass(frozen=True)
class OutboxEntry:
    """An outbox row as a relay sees it: the event, and the key its source deletes it by."""

    key: Any
    event: OutgoingEvent


class OutboxSource(Protocol):
    """What the relay needs from an outbox, whatever stores it (SQLite table, Scylla buckets)."""

    async def read(self, limit: int) -> list[OutboxEntry]:
        """Up to `limit` staged events, oldest first."""

    async def delete(self, entries: Sequence[OutboxEntry]) -> None:
        """Forgets entries once JetStream has stored them."""

    async def pending(self) -> int: ...


class SqliteOutbox:
    """The outbox table of an embedded-default service database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def read(self, limit: int) -> list[OutboxEntry]:
        rows = await self._db.read(lambda c: c.execute(
            "SELECT seq, event_id, subject, event_type, payload FROM outbox ORDER BY seq LIMIT ?", (limit,)
        ).fetchall())
        return [OutboxEntry(r["seq"], OutgoingEvent(r["event_id"], r["subject"], r["event_type"], bytes(r["payload"])))
                for r in rows]

    async def delete(self, entries: Sequence[OutboxEntry]) -> None:
        keys = [(e.key,) for e in entries]
        await self._db.transaction(lambda c: c.executemany("DELETE FROM outbox WHERE seq = ?", keys))

    async def pending(self) -> int:
        return await self._db.read(lambda c: c.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


class OutboxRelay:
    """Publishes staged events in order and forgets each batch once JetStream has stored it."""

    def __init__(self, source: OutboxSource | Database, publisher: EventPublisher, *, batch: int = 256,
                 poll_s: float = 0.5) -> None:
        self._source: OutboxSource = SqliteOutbox(source) if isinstance(source, Database) else source
        self._publisher = publisher
        self._batch = batch
        self._poll_s = poll_s
        self._wakeup = asyncio.Event()

    def notify(self) -> None:
        """Called after a commit that staged events, so they go out now rather than at the next poll."""
        self._wakeup.set()

    async def pending(self) -> int:
        return await self._source.pending()

    async def relay_once(self) -> int:
        entries = await self._source.read(self._batch)
        if not entries:
            return 0
        await self._publisher.publish([e.event for e in entries])
        await self._source.delete(entries)
        return len(entries)

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
