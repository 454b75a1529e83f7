"""The engagement store on the embedded default: one SQLite file under var/engagement/.

One table per kind of mark, keyed by (account, tweet), with an index by (tweet, seq) that plays the
listing partitions of the port (see store/base.py); counters in one row per tweet, moved in the
transaction of the mark that moves them. Pages read one index range by keyset, never by OFFSET.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from services.engagement.domain import ChildTweet, Counts, Entry, Kind, Mark, Page, TweetEngagement, engagement_of
from services.engagement.store.base import Added, Publisher
from services.runtime.outbox import OUTBOX_MIGRATION, stage
from services.runtime.sqlite import Database

_MARKS = """
    CREATE TABLE {table} (
      user_id INTEGER NOT NULL,
      tweet_id INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      author_id INTEGER NOT NULL,
      PRIMARY KEY (user_id, tweet_id)
    ) WITHOUT ROWID;
    CREATE INDEX {table}_by_tweet ON {table} (tweet_id, seq, user_id);
    CREATE INDEX {table}_by_user ON {table} (user_id, seq, tweet_id);
"""

MIGRATIONS = [
    _MARKS.format(table="likes") + _MARKS.format(table="retweets") + _MARKS.format(table="bookmarks") + """
    CREATE TABLE engagement_counts (
      tweet_id INTEGER PRIMARY KEY,
      likes INTEGER NOT NULL DEFAULT 0,
      retweets INTEGER NOT NULL DEFAULT 0,
      replies INTEGER NOT NULL DEFAULT 0,
      quotes INTEGER NOT NULL DEFAULT 0,
      bookmarks INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE counted_tweets (
      tweet_id INTEGER PRIMARY KEY,
      reply_to_id INTEGER NOT NULL,
      quote_id INTEGER NOT NULL,
      deleted INTEGER NOT NULL
    )
    """,
    OUTBOX_MIGRATION,
]

# Each kind's table and counter column.
_TABLES = {Kind.LIKE: ("likes", "likes"), Kind.RETWEET: ("retweets", "retweets"),
           Kind.BOOKMARK: ("bookmarks", "bookmarks")}
# SQLite caps the parameters of one statement; ids are asked about in chunks below it.
_CHUNK = 500


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _bump(conn: sqlite3.Connection, tweet_id: int, column: str, delta: int) -> None:
    conn.execute(
        f"INSERT INTO engagement_counts (tweet_id, {column}) VALUES (?, ?)"
        f" ON CONFLICT (tweet_id) DO UPDATE SET {column} = {column} + excluded.{column}",
        (tweet_id, delta),
    )


def _mark(conn: sqlite3.Connection, kind: Kind, tweet_id: int, user_id: int) -> Mark | None:
    table, _ = _TABLES[kind]
    row = conn.execute(f"SELECT seq, author_id FROM {table} WHERE user_id = ? AND tweet_id = ?",
                       (user_id, tweet_id)).fetchone()
    return None if row is None else Mark(kind, tweet_id, user_id, row["author_id"], row["seq"])


def _engagement(conn: sqlite3.Connection, viewer_id: int, ids: list[int]) -> dict[int, TweetEngagement]:
    counts: dict[int, Counts] = {}
    marked: dict[Kind, set[int]] = {kind: set() for kind in Kind}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT tweet_id, likes, retweets, replies, quotes, bookmarks FROM engagement_counts"
            f" WHERE tweet_id IN ({marks})", chunk,
        ):
            counts[row[0]] = Counts(*row[1:])
        if viewer_id <= 0:
            continue
        for kind, (table, _) in _TABLES.items():
            marked[kind].update(row[0] for row in conn.execute(
                f"SELECT tweet_id FROM {table} WHERE user_id = ? AND tweet_id IN ({marks})", (viewer_id, *chunk)))
    return engagement_of(counts, marked, ids)


def _page(conn: sqlite3.Connection, sql: str, key: int, after: Entry | None, limit: int) -> Page:
    """A keyset page of the (seq, id) rows that `sql` selects for `key`, newest first, strictly after
    `after`."""
    bound, params = ("", (key,)) if after is None else (" AND (seq, id) < (?, ?)", (key, after.seq, after.id))
    rows = conn.execute(f"SELECT * FROM ({sql}) WHERE 1{bound} ORDER BY seq DESC, id DESC LIMIT ?",
                        (*params, limit + 1)).fetchall()
    return Page.of([Entry(row["seq"], row["id"]) for row in rows], limit)


class SqliteEngagementStore:
    def __init__(self, path: Path) -> None:
        self._db = Database(path, MIGRATIONS)

    @property
    def database(self) -> Database:
        return self._db

    async def add(self, mark: Mark, publish: Publisher) -> Added:
        table, column = _TABLES[mark.kind]

        def write(conn: sqlite3.Connection) -> Added:
            standing = _mark(conn, mark.kind, mark.tweet_id, mark.user_id)
            if standing is not None:
                return Added(standing, created=False)
            conn.execute(f"INSERT INTO {table} (user_id, tweet_id, seq, author_id) VALUES (?, ?, ?, ?)",
                         (mark.user_id, mark.tweet_id, mark.seq, mark.author_id))
            _bump(conn, mark.tweet_id, column, 1)
            stage(conn, publish(mark))
            return Added(mark, created=True)

        return await self._db.transaction(write)

    async def remove(self, kind: Kind, tweet_id: int, user_id: int, publish: Publisher) -> Mark | None:
        table, column = _TABLES[kind]

        def write(conn: sqlite3.Connection) -> Mark | None:
            standing = _mark(conn, kind, tweet_id, user_id)
            if standing is None:
                return None
            conn.execute(f"DELETE FROM {table} WHERE user_id = ? AND tweet_id = ?", (user_id, tweet_id))
            _bump(conn, tweet_id, column, -1)
            stage(conn, publish(standing))
            return standing

        return await self._db.transaction(write)

    async def load_marks(self, marks: Sequence[Mark]) -> int:
        def write(conn: sqlite3.Connection) -> int:
            moved: Counter[tuple[int, str]] = Counter()
            for mark in marks:
                table, column = _TABLES[mark.kind]
                if conn.execute(f"INSERT OR IGNORE INTO {table} (user_id, tweet_id, seq, author_id) VALUES (?, ?, ?, ?)",
                                (mark.user_id, mark.tweet_id, mark.seq, mark.author_id)).rowcount:
                    moved[mark.tweet_id, column] += 1
            for (tweet_id, column), count in moved.items():
                _bump(conn, tweet_id, column, count)
            return moved.total()

        return await self._db.transaction(write) if marks else 0

    async def load_children(self, children: Sequence[ChildTweet]) -> int:
        def write(conn: sqlite3.Connection) -> int:
            return sum(_record_child(conn, child) for child in children)

        return await self._db.transaction(write) if children else 0

    async def engagement(self, viewer_id: int, tweet_ids: Iterable[int]) -> dict[int, TweetEngagement]:
        ids = list(dict.fromkeys(tweet_ids))
        return await self._db.read(lambda conn: _engagement(conn, viewer_id, ids))

    async def likers(self, tweet_id: int, after: Entry | None, limit: int) -> Page:
        sql = "SELECT seq, user_id AS id FROM likes WHERE tweet_id = ?"
        return await self._db.read(lambda conn: _page(conn, sql, tweet_id, after, limit))

    async def bookmarks(self, user_id: int, after: Entry | None, limit: int) -> Page:
        sql = "SELECT seq, tweet_id AS id FROM bookmarks WHERE user_id = ?"
        return await self._db.read(lambda conn: _page(conn, sql, user_id, after, limit))

    async def count_created(self, child: ChildTweet) -> bool:
        return await self._db.transaction(lambda conn: _record_child(conn, child))

    async def count_deleted(self, child: ChildTweet) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT reply_to_id, quote_id, deleted FROM counted_tweets WHERE tweet_id = ?",
                               (child.tweet_id,)).fetchone()
            if row is None:  # the deletion came first: a tombstone keeps the late creation from counting
                conn.execute("INSERT INTO counted_tweets (tweet_id, reply_to_id, quote_id, deleted) VALUES (?, ?, ?, 1)",
                             (child.tweet_id, child.reply_to_id, child.quote_id))
                return False
            if row["deleted"]:
                return False
            conn.execute("UPDATE counted_tweets SET deleted = 1 WHERE tweet_id = ?", (child.tweet_id,))
            # What the creation counted, as recorded then.
            _count_child(conn, ChildTweet(child.tweet_id, row["reply_to_id"], row["quote_id"]), -1)
            return True

        return await self._db.transaction(write)

    async def close(self) -> None:
        await self._db.close()


def _record_child(conn: sqlite3.Connection, child: ChildTweet) -> bool:
    """Records a live child and counts it on its parents, unless it is recorded already (live or not)."""
    recorded = conn.execute(
        "INSERT OR IGNORE INTO counted_tweets (tweet_id, reply_to_id, quote_id, deleted) VALUES (?, ?, ?, 0)",
        (child.tweet_id, child.reply_to_id, child.quote_id)).rowcount
    if recorded:
        _count_child(conn, child, 1)
    return bool(recorded)


def _count_child(conn: sqlite3.Connection, child: ChildTweet, delta: int) -> None:
    if child.reply_to_id > 0:
        _bump(conn, child.reply_to_id, "replies", delta)
    if child.quote_id > 0:
        _bump(conn, child.quote_id, "quotes", delta)
