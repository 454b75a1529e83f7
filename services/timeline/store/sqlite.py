"""The timeline store on the embedded default: one SQLite file under var/timeline/.

Each table's primary key is (partition, entry key), WITHOUT ROWID, so a page is one range of the
primary key read by keyset, and INSERT OR IGNORE makes every add idempotent. Timelines are derived
data (the tweet and graph services hold the truth, and the cache is rebuilt from here), so commits
use synchronous=NORMAL: a power cut may lose the last commits, never corrupt the file.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from services.runtime.sqlite import Database
from services.timeline.domain import Entry
from services.timeline.store.base import HomeRow

MIGRATIONS = [
    """
    CREATE TABLE home_timeline (
      user_id INTEGER NOT NULL,
      entry_key TEXT NOT NULL,
      tweet_id INTEGER NOT NULL,
      author_id INTEGER NOT NULL,
      retweeter_id INTEGER NOT NULL,
      created_at REAL NOT NULL,
      PRIMARY KEY (user_id, entry_key)
    ) WITHOUT ROWID;
    CREATE INDEX home_by_age ON home_timeline (created_at);
    CREATE TABLE user_timeline (
      user_id INTEGER NOT NULL,
      entry_key TEXT NOT NULL,
      tweet_id INTEGER NOT NULL,
      author_id INTEGER NOT NULL,
      retweeter_id INTEGER NOT NULL,
      PRIMARY KEY (user_id, entry_key)
    ) WITHOUT ROWID;
    """,
]

_COLUMNS = "entry_key, author_id"


def _entries(rows: Sequence[sqlite3.Row]) -> list[Entry]:
    return [Entry.from_key(row["entry_key"], row["author_id"]) for row in rows]


def _page(conn: sqlite3.Connection, table: str, user_id: int, below: str | None, limit: int) -> list[Entry]:
    where, params = "user_id = ?", [user_id]
    if below is not None:
        where += " AND entry_key < ?"
        params.append(below)
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM {table} WHERE {where} ORDER BY entry_key DESC LIMIT ?", (*params, limit)
    ).fetchall()
    return _entries(rows)


class SqliteTimelineStore:
    def __init__(self, path: Path, *, retention_s: float, clock: Callable[[], float] = time.time) -> None:
        self._db = Database(path, MIGRATIONS, synchronous="NORMAL")
        self._retention_s = retention_s
        self._clock = clock

    @property
    def database(self) -> Database:
        return self._db

    async def add_home_entries(self, rows: Sequence[HomeRow]) -> None:
        if not rows:
            return
        now = self._clock()
        values = [(user_id, e.key, e.tweet_id, e.author_id, e.retweeter_id, now) for user_id, e in rows]
        await self._db.transaction(lambda c: c.executemany(
            "INSERT OR IGNORE INTO home_timeline (user_id, entry_key, tweet_id, author_id, retweeter_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", values))

    async def remove_home_entries(self, rows: Sequence[HomeRow]) -> None:
        if not rows:
            return
        keys = [(user_id, e.key) for user_id, e in rows]
        await self._db.transaction(lambda c: c.executemany(
            "DELETE FROM home_timeline WHERE user_id = ? AND entry_key = ?", keys))

    async def home_entries(self, user_id: int, below: str | None, limit: int) -> list[Entry]:
        return await self._db.read(lambda c: _page(c, "home_timeline", user_id, below, limit))

    async def add_user_entry(self, entry: Entry) -> None:
        await self.add_user_entries([entry])

    async def add_user_entries(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        values = [(e.owner_id, e.key, e.tweet_id, e.author_id, e.retweeter_id) for e in entries]
        await self._db.transaction(lambda c: c.executemany(
            "INSERT OR IGNORE INTO user_timeline (user_id, entry_key, tweet_id, author_id, retweeter_id)"
            " VALUES (?, ?, ?, ?, ?)", values))

    async def remove_user_entry(self, entry: Entry) -> None:
        key = (entry.owner_id, entry.key)
        await self._db.transaction(lambda c: c.execute(
            "DELETE FROM user_timeline WHERE user_id = ? AND entry_key = ?", key))

    async def user_entries(self, user_id: int, below: str | None, limit: int) -> list[Entry]:
        return await self._db.read(lambda c: _page(c, "user_timeline", user_id, below, limit))

    async def latest_user_entries(self, user_ids: Sequence[int], limit: int) -> dict[int, list[Entry]]:
        # One trip to the database thread; there, one primary-key range read per partition.
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return {}
        return await self._db.read(lambda c: {uid: _page(c, "user_timeline", uid, None, limit) for uid in ids})

    async def forget_user(self, user_id: int) -> None:
        def forget(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM home_timeline WHERE user_id = ?", (user_id,))
            conn.execute("DELETE FROM user_timeline WHERE user_id = ?", (user_id,))

        await self._db.transaction(forget)

    async def purge_expired(self) -> int:
        cutoff = self._clock() - self._retention_s
        return await self._db.transaction(
            lambda c: c.execute("DELETE FROM home_timeline WHERE created_at < ?", (cutoff,)).rowcount)

    async def close(self) -> None:
        await self._db.close()
