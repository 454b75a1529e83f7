"""The graph store on the embedded default: one SQLite file under var/graph/.

Each edge is one row keyed by its pair, with indexes that play the partitions of the port (see
store/base.py): pages read one index range by keyset, never by OFFSET or COUNT.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from services.graph.domain import (
    Change,
    Effect,
    Entry,
    FollowCounts,
    Page,
    Plan,
    Planner,
    Position,
    Relationship,
    page_of,
)
from services.graph.store.base import Publisher
from services.runtime.outbox import OUTBOX_MIGRATION, stage
from services.runtime.sqlite import Database

MIGRATIONS = [
    """
    CREATE TABLE follows (
      follower_id INTEGER NOT NULL,
      followee_id INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      PRIMARY KEY (follower_id, followee_id)
    ) WITHOUT ROWID;
    CREATE INDEX following_by_seq ON follows (follower_id, seq, followee_id);
    CREATE INDEX followers_by_seq ON follows (followee_id, seq, follower_id);
    CREATE TABLE follow_requests (
      requester_id INTEGER NOT NULL,
      target_id INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      PRIMARY KEY (requester_id, target_id)
    ) WITHOUT ROWID;
    CREATE INDEX requests_by_seq ON follow_requests (target_id, seq, requester_id);
    CREATE TABLE blocks (
      blocker_id INTEGER NOT NULL,
      blocked_id INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      PRIMARY KEY (blocker_id, blocked_id)
    ) WITHOUT ROWID;
    CREATE INDEX blocks_by_seq ON blocks (blocker_id, seq, blocked_id);
    CREATE INDEX blocked_by ON blocks (blocked_id, blocker_id);
    CREATE TABLE mutes (
      muter_id INTEGER NOT NULL,
      muted_id INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      PRIMARY KEY (muter_id, muted_id)
    ) WITHOUT ROWID;
    CREATE INDEX mutes_by_seq ON mutes (muter_id, seq, muted_id);
    CREATE TABLE follow_counts (
      user_id INTEGER PRIMARY KEY,
      followers INTEGER NOT NULL DEFAULT 0,
      following INTEGER NOT NULL DEFAULT 0
    );
    """,
    OUTBOX_MIGRATION,
]

# SQLite caps the parameters of one statement; ids are asked about in chunks below it.
_CHUNK = 500


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _members(conn: sqlite3.Connection, table: str, key_col: str, key: int, member_col: str, ids: list[int]) -> set[int]:
    """The ids among `ids` that stand in `table` beside `key`: one partition, clustered by member."""
    found: set[int] = set()
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT {member_col} FROM {table} WHERE {key_col} = ? AND {member_col} IN ({marks})", (key, *chunk)
        ).fetchall()
        found.update(row[0] for row in rows)
    return found


def _relationships(conn: sqlite3.Connection, viewer: int, other_ids: Iterable[int]) -> dict[int, Relationship]:
    ids = list(dict.fromkeys(other_ids))
    if not ids:
        return {}
    following = _members(conn, "follows", "follower_id", viewer, "followee_id", ids)
    followed_by = _members(conn, "follows", "followee_id", viewer, "follower_id", ids)
    pending = _members(conn, "follow_requests", "requester_id", viewer, "target_id", ids)
    requested_by = _members(conn, "follow_requests", "target_id", viewer, "requester_id", ids)
    blocking = _members(conn, "blocks", "blocker_id", viewer, "blocked_id", ids)
    blocked_by = _members(conn, "blocks", "blocked_id", viewer, "blocker_id", ids)
    muting = _members(conn, "mutes", "muter_id", viewer, "muted_id", ids)
    return {
        other: Relationship(
            user_id=other,
            following=other in following,
            followed_by=other in followed_by,
            pending=other in pending,
            requested_by=other in requested_by,
            blocking=other in blocking,
            blocked_by=other in blocked_by,
            muting=other in muting,
        )
        for other in ids
    }


def _count(conn: sqlite3.Connection, user_id: int, column: str, delta: int) -> None:
    conn.execute(
        f"INSERT INTO follow_counts (user_id, {column}) VALUES (?, ?)"
        f" ON CONFLICT (user_id) DO UPDATE SET {column} = {column} + excluded.{column}",
        (user_id, delta),
    )


# What each effect writes: (table, source column, target column, whether it adds the row).
_ROWS: dict[Effect, tuple[str, str, str, bool]] = {
    Effect.FOLLOWED: ("follows", "follower_id", "followee_id", True),
    Effect.UNFOLLOWED: ("follows", "follower_id", "followee_id", False),
    Effect.REQUESTED: ("follow_requests", "requester_id", "target_id", True),
    Effect.REQUEST_APPROVED: ("follow_requests", "requester_id", "target_id", False),
    Effect.REQUEST_REJECTED: ("follow_requests", "requester_id", "target_id", False),
    Effect.REQUEST_WITHDRAWN: ("follow_requests", "requester_id", "target_id", False),
    Effect.BLOCKED: ("blocks", "blocker_id", "blocked_id", True),
    Effect.UNBLOCKED: ("blocks", "blocker_id", "blocked_id", False),
    Effect.MUTED: ("mutes", "muter_id", "muted_id", True),
    Effect.UNMUTED: ("mutes", "muter_id", "muted_id", False),
}


def _write(conn: sqlite3.Connection, change: Change) -> None:
    """Writes one change; adding what exists or removing what does not changes nothing, counters included."""
    table, source_col, target_col, adds = _ROWS[change.effect]
    if adds:
        written = conn.execute(
            f"INSERT OR IGNORE INTO {table} ({source_col}, {target_col}, seq) VALUES (?, ?, ?)",
            (change.source, change.target, change.seq),
        ).rowcount
    else:
        written = conn.execute(
            f"DELETE FROM {table} WHERE {source_col} = ? AND {target_col} = ?", (change.source, change.target)
        ).rowcount
    if table == "follows" and written:
        _count(conn, change.source, "following", 1 if adds else -1)
        _count(conn, change.target, "followers", 1 if adds else -1)


def _page(
    conn: sqlite3.Connection, table: str, key_col: str, member_col: str, key: int, after: Position | None, limit: int
) -> Page:
    """A keyset page over one index: the entries of `key`, newest first, strictly after `after`."""
    where, params = f"{key_col} = ?", [key]
    if after is not None:
        where += f" AND (seq, {member_col}) < (?, ?)"
        params += [after.seq, after.user_id]
    rows = conn.execute(
        f"SELECT {member_col}, seq FROM {table} WHERE {where} ORDER BY seq DESC, {member_col} DESC LIMIT ?",
        (*params, limit + 1),
    ).fetchall()
    return page_of([Entry(row[0], row[1]) for row in rows], limit)


class SqliteGraphStore:
    def __init__(self, path: Path) -> None:
        self._db = Database(path, MIGRATIONS)

    @property
    def database(self) -> Database:
        return self._db

    async def relationships(self, viewer_id: int, other_ids: Iterable[int]) -> dict[int, Relationship]:
        ids = list(other_ids)
        return await self._db.read(lambda conn: _relationships(conn, viewer_id, ids))

    async def apply(self, viewer_id: int, other_ids: Iterable[int], plan: Planner, publish: Publisher) -> Plan:
        ids = list(other_ids)

        def write(conn: sqlite3.Connection) -> Plan:
            decided = plan(_relationships(conn, viewer_id, ids))
            for change in decided.changes:
                _write(conn, change)
            stage(conn, publish(decided.changes))
            return decided

        return await self._db.transaction(write)

    async def following(self, user_id: int, after: Position | None, limit: int) -> Page:
        return await self._db.read(lambda c: _page(c, "follows", "follower_id", "followee_id", user_id, after, limit))

    async def followers(self, user_id: int, after: Position | None, limit: int) -> Page:
        return await self._db.read(lambda c: _page(c, "follows", "followee_id", "follower_id", user_id, after, limit))

    async def follow_requests(self, target_id: int, after: Position | None, limit: int) -> Page:
        return await self._db.read(
            lambda c: _page(c, "follow_requests", "target_id", "requester_id", target_id, after, limit))

    async def _ids(self, table: str, key_col: str, member_col: str, key: int) -> list[int]:
        rows = await self._db.read(lambda conn: conn.execute(
            f"SELECT {member_col} FROM {table} WHERE {key_col} = ? ORDER BY seq DESC, {member_col} DESC", (key,)
        ).fetchall())
        return [row[0] for row in rows]

    async def blocked_ids(self, owner_id: int) -> list[int]:
        return await self._ids("blocks", "blocker_id", "blocked_id", owner_id)

    async def muted_ids(self, owner_id: int) -> list[int]:
        return await self._ids("mutes", "muter_id", "muted_id", owner_id)

    async def counts(self, user_ids: Iterable[int]) -> dict[int, FollowCounts]:
        ids = list(dict.fromkeys(user_ids))

        def read(conn: sqlite3.Connection) -> dict[int, FollowCounts]:
            found = {}
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(
                    f"SELECT user_id, followers, following FROM follow_counts WHERE user_id IN ({marks})", chunk
                ):
                    found[row[0]] = FollowCounts(followers=row[1], following=row[2])
            return {user_id: found.get(user_id, FollowCounts()) for user_id in ids}

        return await self._db.read(read)

    async def counterparties(self, user_id: int, limit: int) -> list[int]:
        def read(conn: sqlite3.Connection) -> list[int]:
            found: dict[int, None] = {}
            for table, key_col, member_col in (
                ("follows", "follower_id", "followee_id"),
                ("follows", "followee_id", "follower_id"),
                ("follow_requests", "requester_id", "target_id"),
                ("follow_requests", "target_id", "requester_id"),
            ):
                rows = conn.execute(
                    f"SELECT {member_col} FROM {table} WHERE {key_col} = ? LIMIT ?", (user_id, limit)
                ).fetchall()
                found.update(dict.fromkeys(row[0] for row in rows))
            return list(found)[:limit]

        return await self._db.read(read)

    async def close(self) -> None:
        await self._db.close()
