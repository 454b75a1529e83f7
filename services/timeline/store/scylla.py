"""The timeline store on ScyllaDB: a keyspace of its own (`CHIRP_TIMELINE_SCYLLA_KEYSPACE`, default
`timeline`) and the two tables of the port, each read one partition at a time.

| table          | partition | clustering     | TTL                          |
|----------------|-----------|----------------|------------------------------|
| home_timeline  | user_id   | entry_key DESC | retention (table and writes) |
| user_timeline  | user_id   | entry_key DESC | none                         |

Entry keys (`f"{entry_id:020d}:{tweet_id}:{retweeter_id}"`) sort as text exactly as entries sort,
so "newest first below a position" is `WHERE user_id = ? AND entry_key < ? LIMIT ?` on a table
clustered descending: one clustering slice of one partition, no ORDER BY, no ALLOW FILTERING.
latest_user_entries (a rebuild's followees) is that read for each partition, READ_CONCURRENCY in
flight, each routed to its own replicas: never an IN across partitions.

Writes are plain INSERTs and DELETEs naming whole primary keys, which are idempotent in CQL (the
driver may retry them, a redelivered event may repeat them). A batch of rows is split by partition:
the rows of one partition (a follow's backfill, a rebuild) go in UNLOGGED batches of BATCH_ROWS,
which the coordinator sends to that partition's replicas as one mutation; rows of different
partitions (a fan-out page) are separate statements, WRITE_CONCURRENCY in flight, each routed to its
own replicas by token. No batch ever spans partitions except forget_user's, a LOGGED batch of the
two partition deletes, so a deleted account loses both timelines or, until the retry, neither.

Retention. home_timeline rows carry a TTL of the retention time: `default_time_to_live` on the
table (set when it is created) and `USING TTL ?` on every insert (so a changed
CHIRP_TIMELINE_RETENTION_S rules new writes without a schema change). Rows also keep `created_at`,
the store's clock at the write, and reads skip rows older than the retention by that clock: what a
reader sees does not depend on when a replica gets round to dropping expired cells, and it is the
same rule as the embedded adapter's purge. A read that skips such rows reads on below them, so a
page comes back short only at the end of the partition. purge_expired() has nothing to do (0).

Differences from the embedded adapter: adding an entry that is present rewrites the same values,
so it restarts that entry's retention (SQLite keeps the first created_at); a removal is a tombstone
that shadows only older writes, so a retweet re-added after its removal shows again, as in SQLite.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from services.runtime.scylla import (
    MAX_TTL_S,
    CqlSession,
    ScyllaSession,
    ScyllaSettings,
    Statement,
    all_rows,
    gather_limited,
)
from services.timeline.domain import Entry
from services.timeline.store.base import HomeRow

HOME = "home_timeline"
USER = "user_timeline"
TABLES = (HOME, USER)

# Statements per UNLOGGED batch of one partition: ~100 bytes each, far below the batch size warning.
BATCH_ROWS = 100
# Partitions written at once by one call (a fan-out page is up to 5000 readers).
WRITE_CONCURRENCY = 64
# Partitions read at once by latest_user_entries (a rebuild reads up to 500 followees' timelines).
READ_CONCURRENCY = 64
# The driver's page size for reads that ask for more rows than this (a rebuild reads 800).
READ_PAGE_SIZE = 1000


# Schema ------------------------------------------------------------------------------------------


def retention_ttl(retention_s: float) -> int:
    """The TTL (whole seconds, at least 1) of a home entry kept for retention_s."""
    if not (math.isfinite(retention_s) and retention_s > 0):
        raise ValueError(f"the retention must be a positive number of seconds, got {retention_s!r}")
    ttl = math.ceil(retention_s)
    if ttl > MAX_TTL_S:
        raise ValueError(f"the retention is above the server's TTL limit ({MAX_TTL_S} s): {retention_s!r}")
    return ttl


def schema(retention_s: float) -> list[str]:
    """The tables, as idempotent DDL; home_timeline's default TTL is the retention."""
    return [
        f"""CREATE TABLE IF NOT EXISTS {HOME} (
  user_id bigint,
  entry_key text,
  tweet_id bigint,
  author_id bigint,
  retweeter_id bigint,
  created_at double,
  PRIMARY KEY ((user_id), entry_key)
) WITH CLUSTERING ORDER BY (entry_key DESC) AND default_time_to_live = {retention_ttl(retention_s)}""",
        f"""CREATE TABLE IF NOT EXISTS {USER} (
  user_id bigint,
  entry_key text,
  tweet_id bigint,
  author_id bigint,
  retweeter_id bigint,
  PRIMARY KEY ((user_id), entry_key)
) WITH CLUSTERING ORDER BY (entry_key DESC)""",
    ]


# Statements: pure functions of their arguments --------------------------------------------------


def home_insert(user_id: int, entry: Entry, created_at: float, ttl_s: int) -> Statement:
    return Statement(
        f"INSERT INTO {HOME} (user_id, entry_key, tweet_id, author_id, retweeter_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) USING TTL ?",
        (user_id, entry.key, entry.tweet_id, entry.author_id, entry.retweeter_id, float(created_at), ttl_s),
    )


def user_insert(entry: Entry) -> Statement:
    return Statement(
        f"INSERT INTO {USER} (user_id, entry_key, tweet_id, author_id, retweeter_id) VALUES (?, ?, ?, ?, ?)",
        (entry.owner_id, entry.key, entry.tweet_id, entry.author_id, entry.retweeter_id),
    )


def entry_delete(table: str, user_id: int, key: str) -> Statement:
    _check_table(table)
    return Statement(f"DELETE FROM {table} WHERE user_id = ? AND entry_key = ?", (user_id, key))


def partition_delete(table: str, user_id: int) -> Statement:
    _check_table(table)
    return Statement(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))


def page_statement(table: str, user_id: int, below: str | None, limit: int) -> Statement:
    """Up to `limit` rows of one partition, newest first (the clustering order), below `below`."""
    _check_table(table)
    if limit <= 0:
        raise ValueError(f"a page holds at least one row, got limit={limit}")
    columns = "entry_key, author_id, created_at" if table == HOME else "entry_key, author_id"
    if below is None:
        return Statement(f"SELECT {columns} FROM {table} WHERE user_id = ? LIMIT ?", (user_id, limit))
    return Statement(f"SELECT {columns} FROM {table} WHERE user_id = ? AND entry_key < ? LIMIT ?",
                     (user_id, below, limit))


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise ValueError(f"not a timeline table: {table!r}")


# Rows and partitions ----------------------------------------------------------------------------


def entry_of(row: Mapping[str, Any]) -> Entry:
    return Entry.from_key(row["entry_key"], row.get("author_id") or 0)


def is_live(row: Mapping[str, Any], cutoff: float) -> bool:
    """Whether a home row is within the retention: written at or after `cutoff` by the store's clock
    (as the embedded adapter's purge keeps it). A row without created_at is kept."""
    created_at = row.get("created_at")
    return created_at is None or created_at >= cutoff


def by_partition(rows: Iterable[HomeRow]) -> dict[int, list[Entry]]:
    """The entries of each reader, in the order given, each key once."""
    partitions: dict[int, dict[str, Entry]] = {}
    for user_id, entry in rows:
        partitions.setdefault(user_id, {}).setdefault(entry.key, entry)
    return {user_id: list(entries.values()) for user_id, entries in partitions.items()}


def chunked(statements: Sequence[Statement], size: int = BATCH_ROWS) -> list[list[Statement]]:
    return [list(statements[i:i + size]) for i in range(0, len(statements), size)]


# The store --------------------------------------------------------------------------------------


class ScyllaTimelineStore:
    def __init__(self, session: CqlSession, *, retention_s: float, clock: Callable[[], float] = time.time,
                 owns_session: bool = False) -> None:
        self._db = session
        self._retention_s = float(retention_s)
        self._ttl_s = retention_ttl(retention_s)
        self._clock = clock
        self._owns_session = owns_session

    @classmethod
    async def connect(cls, settings: ScyllaSettings, *, retention_s: float,
                      clock: Callable[[], float] = time.time) -> ScyllaTimelineStore:
        """Connects, creating the keyspace and tables if missing."""
        session = await ScyllaSession.connect(settings, schema(retention_s))
        return cls(session, retention_s=retention_s, clock=clock, owns_session=True)

    @property
    def session(self) -> CqlSession:
        return self._db

    async def _write_partition(self, statements: Sequence[Statement]) -> None:
        """The writes of one partition: one statement alone, more in UNLOGGED single-partition batches."""
        for chunk in chunked(statements):
            if len(chunk) == 1:
                await self._db.execute(chunk[0])
            else:
                await self._db.batch(chunk, logged=False)

    async def _write_partitions(self, partitions: Iterable[Sequence[Statement]]) -> None:
        await gather_limited((self._write_partition(p) for p in partitions), WRITE_CONCURRENCY)

    async def _page(self, table: str, user_id: int, below: str | None, limit: int) -> list[Entry]:
        if limit <= 0:
            return []
        cutoff = self._clock() - self._retention_s if table == HOME else None
        found: list[Entry] = []
        while True:
            statement = page_statement(table, user_id, below, limit)
            rows = await all_rows(self._db, statement, page_size=min(limit, READ_PAGE_SIZE))
            live = rows if cutoff is None else [r for r in rows if is_live(r, cutoff)]
            found += [entry_of(r) for r in live[:limit - len(found)]]
            if len(found) >= limit or len(rows) < limit:
                return found
            below = rows[-1]["entry_key"]  # expired rows were skipped: read on below them

    async def add_home_entries(self, rows: Sequence[HomeRow]) -> None:
        if not rows:
            return
        now = self._clock()
        await self._write_partitions(
            [home_insert(user_id, e, now, self._ttl_s) for e in entries]
            for user_id, entries in by_partition(rows).items())

    async def remove_home_entries(self, rows: Sequence[HomeRow]) -> None:
        if not rows:
            return
        await self._write_partitions(
            [entry_delete(HOME, user_id, e.key) for e in entries] for user_id, entries in by_partition(rows).items())

    async def home_entries(self, user_id: int, below: str | None, limit: int) -> list[Entry]:
        return await self._page(HOME, user_id, below, limit)

    async def add_user_entry(self, entry: Entry) -> None:
        await self._db.execute(user_insert(entry))

    async def add_user_entries(self, entries: Sequence[Entry]) -> None:
        owners: dict[int, list[Statement]] = {}
        for entry in entries:
            owners.setdefault(entry.owner_id, []).append(user_insert(entry))
        await self._write_partitions(owners.values())

    async def remove_user_entry(self, entry: Entry) -> None:
        await self._db.execute(entry_delete(USER, entry.owner_id, entry.key))

    async def user_entries(self, user_id: int, below: str | None, limit: int) -> list[Entry]:
        return await self._page(USER, user_id, below, limit)

    async def latest_user_entries(self, user_ids: Sequence[int], limit: int) -> dict[int, list[Entry]]:
        ids = list(dict.fromkeys(user_ids))
        pages = await gather_limited((self._page(USER, uid, None, limit) for uid in ids), READ_CONCURRENCY)
        return dict(zip(ids, pages))

    async def forget_user(self, user_id: int) -> None:
        await self._db.batch([partition_delete(HOME, user_id), partition_delete(USER, user_id)])

    async def purge_expired(self) -> int:
        return 0  # home rows expire by their TTL; reads already skip what is past the retention

    async def close(self) -> None:
        if self._owns_session and isinstance(self._db, ScyllaSession):
            await self._db.close()
