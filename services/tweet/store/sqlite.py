"""The tweet store on the embedded default: one SQLite file under var/tweet/.

One row per tweet, with indexes that play the port's partitions (see store/base.py): a user's
tweets by (author, id), replies by (conversation, parent, id), recent tweets by the primary key.
Pages read one index range by keyset, never by OFFSET.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from services.runtime.events import OutgoingEvent
from services.runtime.outbox import OUTBOX_MIGRATION, stage
from services.runtime.sqlite import Database
from services.tweet.domain import Poll, Tweet
from services.tweet.store.base import Created
from services.tweet.store.rows import dump_entities, dump_strings, load_entities, load_strings

MIGRATIONS = [
    """
    CREATE TABLE tweets (
      id INTEGER PRIMARY KEY,
      author_id INTEGER NOT NULL,
      text TEXT NOT NULL,
      conversation_id INTEGER NOT NULL,
      reply_to_id INTEGER NOT NULL DEFAULT 0,
      quote_id INTEGER NOT NULL DEFAULT 0,
      media_urls TEXT NOT NULL DEFAULT '[]',
      poll_options TEXT,
      poll_ends_at_ms INTEGER,
      location TEXT NOT NULL DEFAULT '',
      entities TEXT NOT NULL DEFAULT '{}',
      language TEXT NOT NULL DEFAULT 'und',
      sensitive INTEGER NOT NULL DEFAULT 0,
      deleted_at_ms INTEGER,
      hidden INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX tweets_by_user ON tweets (author_id, id);
    CREATE INDEX replies_by_conversation ON tweets (conversation_id, reply_to_id, id) WHERE reply_to_id != 0;
    CREATE TABLE idempotency_keys (
      author_id INTEGER NOT NULL,
      key TEXT NOT NULL,
      tweet_id INTEGER NOT NULL,
      created_at_ms INTEGER NOT NULL,
      PRIMARY KEY (author_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE poll_votes (
      tweet_id INTEGER NOT NULL,
      voter_id INTEGER NOT NULL,
      option_index INTEGER NOT NULL,
      PRIMARY KEY (tweet_id, voter_id)
    ) WITHOUT ROWID;
    CREATE TABLE poll_counts (
      tweet_id INTEGER NOT NULL,
      option_index INTEGER NOT NULL,
      votes INTEGER NOT NULL,
      PRIMARY KEY (tweet_id, option_index)
    ) WITHOUT ROWID
    """,
    OUTBOX_MIGRATION,
    """
    CREATE TABLE tweet_counts (
      author_id INTEGER PRIMARY KEY,
      live INTEGER NOT NULL
    );
    INSERT INTO tweet_counts (author_id, live)
      SELECT author_id, COUNT(*) FROM tweets WHERE deleted_at_ms IS NULL AND hidden = 0 GROUP BY author_id
    """,
]

_COLUMNS = ("id, author_id, text, conversation_id, reply_to_id, quote_id, media_urls, poll_options, poll_ends_at_ms,"
            " location, entities, language, sensitive, deleted_at_ms, hidden")
_LIVE = "deleted_at_ms IS NULL AND hidden = 0"
_NO_UPPER_BOUND = 2**63 - 1


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _tweets(conn: sqlite3.Connection, where: str, params: Sequence[object]) -> list[Tweet]:
    """The tweets a WHERE clause (and any ORDER/LIMIT after it) selects, polls counted."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM tweets WHERE {where}", params).fetchall()
    polled = [r["id"] for r in rows if r["poll_options"] is not None]
    counts: dict[int, dict[int, int]] = {}
    if polled:
        for c in conn.execute(
            f"SELECT tweet_id, option_index, votes FROM poll_counts WHERE tweet_id IN ({_marks(polled)})", polled
        ):
            counts.setdefault(c["tweet_id"], {})[c["option_index"]] = c["votes"]
    return [_tweet(r, counts.get(r["id"], {})) for r in rows]


def _tweet(row: sqlite3.Row, counts: dict[int, int]) -> Tweet:
    poll = None
    if row["poll_options"] is not None:
        options = load_strings(row["poll_options"])
        poll = Poll(options, row["poll_ends_at_ms"], tuple(counts.get(i, 0) for i in range(len(options))))
    return Tweet(
        id=row["id"],
        author_id=row["author_id"],
        text=row["text"],
        conversation_id=row["conversation_id"],
        reply_to_id=row["reply_to_id"],
        quote_id=row["quote_id"],
        media_urls=load_strings(row["media_urls"]),
        poll=poll,
        location=row["location"],
        entities=load_entities(row["entities"]),
        language=row["language"],
        sensitive=bool(row["sensitive"]),
        deleted_at_ms=row["deleted_at_ms"],
        hidden=bool(row["hidden"]),
    )


def _by_key(conn: sqlite3.Connection, author_id: int, key: str) -> Tweet | None:
    found = _tweets(conn, "id = (SELECT tweet_id FROM idempotency_keys WHERE author_id = ? AND key = ?)",
                    (author_id, key))
    return found[0] if found else None


class SqliteTweetStore:
    def __init__(self, path: Path) -> None:
        self._db = Database(path, MIGRATIONS)

    @property
    def database(self) -> Database:
        return self._db

    async def create_tweet(self, tweet: Tweet, idempotency_key: str, events: Sequence[OutgoingEvent]) -> Created:
        def write(conn: sqlite3.Connection) -> Created:
            # Inside the write transaction nothing can slip in between this look and the inserts.
            if idempotency_key:
                earlier = _by_key(conn, tweet.author_id, idempotency_key)
                if earlier is not None:
                    return Created(earlier, created=False)
                conn.execute(
                    "INSERT INTO idempotency_keys (author_id, key, tweet_id, created_at_ms) VALUES (?, ?, ?, ?)",
                    (tweet.author_id, idempotency_key, tweet.id, int(time.time() * 1000)),
                )
            _insert(conn, tweet)
            _count(conn, tweet.author_id, +1)
            stage(conn, events)
            return Created(_tweets(conn, "id = ?", (tweet.id,))[0], created=True)

        return await self._db.transaction(write)

    async def load_tweets(self, tweets: Sequence[Tweet]) -> int:
        def write(conn: sqlite3.Connection) -> int:
            stored: Counter[int] = Counter()
            for tweet in tweets:
                if _insert(conn, tweet, verb="INSERT OR IGNORE"):
                    stored[tweet.author_id] += 1
            for author_id, count in stored.items():
                _count(conn, author_id, count)
            return stored.total()

        return await self._db.transaction(write) if tweets else 0

    async def tweet_for_key(self, author_id: int, idempotency_key: str) -> Tweet | None:
        return await self._db.read(lambda c: _by_key(c, author_id, idempotency_key))

    async def get_tweets(self, tweet_ids: Iterable[int], *, include_gone: bool = False) -> dict[int, Tweet]:
        ids = list(dict.fromkeys(tweet_ids))
        if not ids:
            return {}
        where = f"id IN ({_marks(ids)})" + ("" if include_gone else f" AND {_LIVE}")
        found = await self._db.read(lambda c: _tweets(c, where, ids))
        return {t.id: t for t in found}

    async def user_tweets(self, author_id: int, *, since_id: int, until_id: int, limit: int) -> list[Tweet]:
        params = (author_id, since_id, until_id or _NO_UPPER_BOUND, limit)
        return await self._db.read(lambda c: _tweets(
            c, f"author_id = ? AND id > ? AND id < ? AND {_LIVE} ORDER BY id DESC LIMIT ?", params))

    async def replies(self, conversation_id: int, parent_id: int, *, after_id: int, limit: int) -> list[Tweet]:
        params = (conversation_id, parent_id, after_id, limit)
        return await self._db.read(lambda c: _tweets(
            c, f"conversation_id = ? AND reply_to_id = ? AND reply_to_id != 0 AND id > ? AND {_LIVE}"
               " ORDER BY id LIMIT ?", params))

    async def recent_tweets(self, *, since_id: int, limit: int) -> list[Tweet]:
        return await self._db.read(lambda c: _tweets(c, f"id > ? AND {_LIVE} ORDER BY id DESC LIMIT ?",
                                                     (since_id, limit)))

    async def delete_tweet(
        self, tweet_id: int, author_id: int, deleted_at_ms: int, events: Sequence[OutgoingEvent]
    ) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            changed = conn.execute(
                f"UPDATE tweets SET deleted_at_ms = ? WHERE id = ? AND author_id = ? AND {_LIVE}",
                (deleted_at_ms, tweet_id, author_id),
            ).rowcount
            if changed:
                _count(conn, author_id, -1)
                stage(conn, events)
            return bool(changed)

        return await self._db.transaction(write)

    async def viewer_votes(self, voter_id: int, tweet_ids: Iterable[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(tweet_ids))
        if not ids:
            return {}
        rows = await self._db.read(lambda c: c.execute(
            f"SELECT tweet_id, option_index FROM poll_votes WHERE voter_id = ? AND tweet_id IN ({_marks(ids)})",
            (voter_id, *ids)).fetchall())
        return {r["tweet_id"]: r["option_index"] for r in rows}

    async def vote(self, tweet_id: int, voter_id: int, option_index: int, events: Sequence[OutgoingEvent]) -> int:
        def write(conn: sqlite3.Connection) -> int:
            earlier = conn.execute("SELECT option_index FROM poll_votes WHERE tweet_id = ? AND voter_id = ?",
                                   (tweet_id, voter_id)).fetchone()
            if earlier is not None:
                return int(earlier["option_index"])
            conn.execute("INSERT INTO poll_votes (tweet_id, voter_id, option_index) VALUES (?, ?, ?)",
                         (tweet_id, voter_id, option_index))
            conn.execute(
                "INSERT INTO poll_counts (tweet_id, option_index, votes) VALUES (?, ?, 1)"
                " ON CONFLICT (tweet_id, option_index) DO UPDATE SET votes = votes + 1",
                (tweet_id, option_index),
            )
            stage(conn, events)
            return option_index

        return await self._db.transaction(write)

    async def hide_author_tweets(self, author_id: int, limit: int) -> int:
        return await self._db.transaction(lambda c: c.execute(
            f"UPDATE tweets SET hidden = 1 WHERE id IN"
            f" (SELECT id FROM tweets WHERE author_id = ? AND {_LIVE} LIMIT ?)", (author_id, limit)).rowcount)

    async def tweet_counts(self, author_ids: Iterable[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(author_ids))
        if not ids:
            return {}
        rows = await self._db.read(lambda c: c.execute(
            f"SELECT author_id, live FROM tweet_counts WHERE author_id IN ({_marks(ids)})", ids).fetchall())
        found = {r["author_id"]: r["live"] for r in rows}
        return {i: found.get(i, 0) for i in ids}

    async def close(self) -> None:
        await self._db.close()


def _insert(conn: sqlite3.Connection, tweet: Tweet, *, verb: str = "INSERT") -> bool:
    """Writes a new tweet's row and its poll's zero counts; False when `verb` ignored it (stored already)."""
    poll = tweet.poll
    inserted = conn.execute(
        f"{verb} INTO tweets ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)",
        (
            tweet.id, tweet.author_id, tweet.text, tweet.conversation_id, tweet.reply_to_id, tweet.quote_id,
            dump_strings(tweet.media_urls), dump_strings(poll.options) if poll else None,
            poll.ends_at_ms if poll else None, tweet.location, dump_entities(tweet.entities),
            tweet.language, int(tweet.sensitive),
        ),
    ).rowcount
    if inserted and poll:
        conn.executemany("INSERT INTO poll_counts (tweet_id, option_index, votes) VALUES (?, ?, 0)",
                         [(tweet.id, i) for i in range(len(poll.options))])
    return bool(inserted)


def _count(conn: sqlite3.Connection, author_id: int, delta: int) -> None:
    conn.execute(
        "INSERT INTO tweet_counts (author_id, live) VALUES (?, MAX(?, 0))"
        " ON CONFLICT (author_id) DO UPDATE SET live = MAX(live + ?, 0)",
        (author_id, delta, delta),
    )
