"""The engagement store on ScyllaDB: a keyspace of its own, one table per query, every mark decided by a
lightweight transaction on its account's flag row, and the outbox written in the same logged batch as
the rows the mark derives.

Tables, and the query each one answers (all reads name one partition):
- likes_by_user, retweets_by_user, bookmark_flags  (user_id; tweet_id): the marks an account stands by,
                          with their seq, the tweet's author and the intent that put them. The authority,
                          written only by LWT. Whether a viewer marked these tweets: one partition,
                          `tweet_id IN ?` (chunks of 100, ScyllaDB's max_clustering_key_restrictions_per_query).
- likes_by_tweet, retweets_by_tweet  (tweet_id; seq DESC, user_id DESC): likers and retweeters, newest first.
- bookmarks_by_user       (user_id; seq DESC, tweet_id DESC): an account's bookmarks, newest first.
- bookmarks_by_tweet      (tweet_id; seq DESC, user_id DESC): who bookmarked a tweet; read only by `recount`.
- engagement_counts       (tweet_id): likes, retweets, replies, quotes, bookmarks, COUNTER columns.
- counted_tweets          (tweet_id): each reply or quote counted (or tombstoned), by the child's id.
- replies_by_parent, quotes_by_parent  (parent_id; child_id): the children counted live; read only by
                          `recount`.
- open_intents            ((shard, bucket); id): mark changes decided but maybe not yet derived (below).
- open_intents_watermark, outbox, outbox_watermark: the sweeper's and the relay's (runtime/scylla.py).
Pages are keyset pages on the clustering position: `(seq, id) < (?, ?)` compares by value, results in
clustering order (newest first); no ALLOW FILTERING anywhere.

A mark, `add(mark, publish)` / `remove(kind, tweet, user, publish)`:
1. `publish` makes the events before anything is written (a publisher that raises writes nothing).
   A removal first reads the flag row, to know which mark it removes.
2. A marker in open_intents holds the change: the mark, add or remove, and its events.
3. The LWT on the flag row decides: `INSERT ... IF NOT EXISTS` to add, `DELETE ... IF seq = <the seq
   read>` to remove (rather than IF EXISTS: a Cassandra-style result of an applied IF EXISTS names no
   row, and the seq condition makes the removed mark exactly the one read, whose events were made).
   Of two concurrent likes by one account exactly one applies; the other returns the standing mark.
   Adding what stands or removing what does not writes no row, no counter and no event.
4. One logged batch: the listing rows (inserted or deleted), the outbox rows, and the marker's deletion.
5. The counter, by one, on its own (counters cannot join a logged batch).

Listing rows and children rows are keyed by the mark's seq (the child's id), so each is written by
one change and deleted by one other. Both are written `USING TIMESTAMP` the time that id was made at
(+1 µs for the deletion): a deletion always wins, whatever order the two, or a batch replayed late
from the batchlog, arrive in, and no other change touches those rows.

Counters under retries and crashes: counter updates are not idempotent, so they are applied AT MOST
ONCE: only by the writer whose LWT applied, never retried by the driver (marked not idempotent), never
by anyone who finishes another writer's change. An add whose LWT timed out is read back: if the flag
row holds our intent, it was ours and is counted. A removal whose LWT timed out is not counted (it
cannot tell its deletion from another's). What remains is a crash, or a failed counter update, between
the LWT and the counter write: the counts are then off by that change (logged with the tweet id).
The repair is `recount(tweet_ids)`, which sets each counter to the rows of likes_by_tweet,
retweets_by_tweet, bookmarks_by_tweet, replies_by_parent and quotes_by_parent (racing writes to the
same tweet can make it off by those writes; run it again once they are quiet). Counts are shown never
below 0.

A writer that dies between its LWT and its batch leaves the mark decided but not derived: its listing
rows and events are in the marker only. Whoever meets it finishes it: a removal finishes the add of
the mark it removes (the flag row names the add's intent) before its own LWT, so "liked" is staged
before "unliked"; a repeated add finishes the standing mark's add. Nobody may ever meet it, so
`sweep()` (run by `sweep_forever`, a background task of the service) reads the markers older than
HELP_AFTER_S and finishes each whose LWT applied (an add: the flag row holds its intent; a removal:
the mark is gone), dropping the rest. Finishing writes the same rows at the same timestamps and the
same events (an event may then be staged twice, with its one event id, which JetStream's
de-duplication and idempotent consumers absorb). Two rare cases tell the story imperfectly: a
removal whose writer died is finished after the account marked the tweet again (its event then
follows the new mark's); and the marker of a removal whose LWT did not apply, because another call
removed the same mark, is finished if its writer died before dropping it (the removal is then
reported twice, under two event ids; consumers of removals are idempotent).

Order of events: a mark's events go to the outbox shard of its account, with row ids from its
intent's time; a removal's intent is made at least 1 ms after the add's it removes, whichever host
made that, so "unliked" always sorts after the "liked" of the same mark. Marks made again after a
removal on another host are ordered by the hosts' clocks.

Replies and quotes (`count_created` / `count_deleted`, from the tweet events consumer, which
redelivers until a call returns): the LWT on counted_tweets decides (`INSERT ... IF NOT EXISTS`,
`UPDATE ... SET deleted = true IF deleted = false`, or a tombstone `INSERT ... IF NOT EXISTS` for a
deletion that comes first), then a logged batch writes or deletes the replies_by_parent /
quotes_by_parent rows, then the counters. A delivery whose writer died after the LWT is redelivered
and finds the child recorded: it writes the children rows again (idempotent) and counts nothing.

Costs: an add is one marker write, one LWT, one logged batch and one counter update; a removal adds a
read of its flag row and of the add's marker. `engagement` is one counter read per tweet (a partition
each) and one read per kind and 100 tweets of the viewer's flag partitions.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.engagement.domain import ChildTweet, Counts, Entry, Kind, Mark, Page, TweetEngagement, engagement_of
from services.engagement.store.base import Added, Publisher
from services.runtime.events import OutgoingEvent
from services.runtime.ids import timestamp_ms
from services.runtime.logging import get_logger
from services.runtime.scylla import (
    OUTBOX_SCHEMA,
    CqlSession,
    IntentMarkers,
    IntentSweeper,
    LwtResult,
    Row,
    ScyllaOutbox,
    Statement,
    SweptScyllaStore,
    TimeUuids,
    all_rows,
    first_row,
    gather_limited,
    pages,
)
from services.runtime.scylla import uuid_unix_ns as unix_ns

log = get_logger("chirp.engagement.store")

# A marker this old whose change is not derived was left by a writer that died: the sweeper finishes it.
HELP_AFTER_S = 30.0
# ScyllaDB refuses more clustering keys in one IN (max_clustering_key_restrictions_per_query).
IN_CHUNK = 100
READ_CONCURRENCY = 64
COUNT_PAGE_SIZE = 5000
# How far after the add's intent a removal's intent (and so its events) is made, at the least.
AFTER_ADD_NS = 1_000_000

ADD, REMOVE = "add", "remove"
COUNTERS = ("likes", "retweets", "replies", "quotes", "bookmarks")  # the order of Counts


def written_at(snowflake: int) -> int:
    """The write timestamp (µs) of the rows an id's change puts: the time the id was made."""
    return timestamp_ms(snowflake) * 1000


def removed_at(snowflake: int) -> int:
    """The write timestamp of their deletion: later than the rows, so it wins in any order."""
    return written_at(snowflake) + 1


# Schema -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """A listing copy of marks: partition `owner`, newest first by (seq, member)."""

    name: str
    owner: str  # "tweet_id" or "user_id"
    member: str

    def schema(self) -> str:
        return (f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {self.owner} bigint,\n  seq bigint,\n"
                f"  {self.member} bigint,\n  PRIMARY KEY ({self.owner}, seq, {self.member})\n)"
                f" WITH CLUSTERING ORDER BY (seq DESC, {self.member} DESC)")

    def ends(self, mark: Mark) -> tuple[int, int]:
        """(owner, member) of a mark's row."""
        ids = {"tweet_id": mark.tweet_id, "user_id": mark.user_id}
        return ids[self.owner], ids[self.member]


@dataclass(frozen=True)
class MarkTables:
    flags: str  # (user_id; tweet_id): the authority, written only by LWT
    listings: tuple[Listing, ...]
    counter: str  # its engagement_counts column


LIKERS = Listing("likes_by_tweet", "tweet_id", "user_id")
RETWEETERS = Listing("retweets_by_tweet", "tweet_id", "user_id")
BOOKMARKS = Listing("bookmarks_by_user", "user_id", "tweet_id")
BOOKMARKERS = Listing("bookmarks_by_tweet", "tweet_id", "user_id")
TABLES = {
    Kind.LIKE: MarkTables("likes_by_user", (LIKERS,), "likes"),
    Kind.RETWEET: MarkTables("retweets_by_user", (RETWEETERS,), "retweets"),
    Kind.BOOKMARK: MarkTables("bookmark_flags", (BOOKMARKS, BOOKMARKERS), "bookmarks"),
}


@dataclass(frozen=True)
class Children:
    """The children of a parent tweet counted live in one counter: (parent_id; child_id)."""

    name: str
    counter: str
    parent_of: Callable[[ChildTweet], int]


REPLIES = Children("replies_by_parent", "replies", lambda child: child.reply_to_id)
QUOTES = Children("quotes_by_parent", "quotes", lambda child: child.quote_id)

# A mark's change, from before its LWT until its batch: all that finishing it takes (see Intent).
MARKERS = IntentMarkers(
    "id", (("op", "text"), ("kind", "text"), ("tweet_id", "bigint"), ("user_id", "bigint"), ("author_id", "bigint"),
           ("seq", "bigint"), ("events", "text")),
    shard_by="user_id")

# Where `recount` finds what each counter counts: (table, partition column, a column to read).
RECOUNT_SOURCES = {
    "likes": (LIKERS.name, "tweet_id", "user_id"),
    "retweets": (RETWEETERS.name, "tweet_id", "user_id"),
    "replies": (REPLIES.name, "parent_id", "child_id"),
    "quotes": (QUOTES.name, "parent_id", "child_id"),
    "bookmarks": (BOOKMARKERS.name, "tweet_id", "user_id"),
}

SCHEMA: list[str] = [
    *(f"""CREATE TABLE IF NOT EXISTS {tables.flags} (
  user_id bigint,
  tweet_id bigint,
  seq bigint,
  author_id bigint,
  intent timeuuid,
  PRIMARY KEY (user_id, tweet_id)
)""" for tables in TABLES.values()),
    *(listing.schema() for tables in TABLES.values() for listing in tables.listings),
    """CREATE TABLE IF NOT EXISTS engagement_counts (
  tweet_id bigint PRIMARY KEY,
  likes counter,
  retweets counter,
  replies counter,
  quotes counter,
  bookmarks counter
)""",
    """CREATE TABLE IF NOT EXISTS counted_tweets (
  tweet_id bigint PRIMARY KEY,
  reply_to_id bigint,
  quote_id bigint,
  deleted boolean
)""",
    *(f"""CREATE TABLE IF NOT EXISTS {children.name} (
  parent_id bigint,
  child_id bigint,
  PRIMARY KEY (parent_id, child_id)
)""" for children in (REPLIES, QUOTES)),
    *MARKERS.schema(),
    *OUTBOX_SCHEMA,
]


# The intent: what a decided change must still write ---------------------------------------------


@dataclass(frozen=True)
class Intent:
    """A change to a mark, kept in open_intents from before its LWT until its batch, so that anyone can
    finish it: add or remove, the mark, and the events it reports. Its id is a timeuuid."""

    id: uuid.UUID
    op: str  # ADD or REMOVE
    mark: Mark
    events: tuple[OutgoingEvent, ...]


def events_json(events: Iterable[OutgoingEvent]) -> str:
    return json.dumps([[e.event_id, e.subject, e.event_type, base64.b64encode(e.payload).decode()] for e in events],
                      separators=(",", ":"))


def events_of(text: str | None) -> tuple[OutgoingEvent, ...]:
    return tuple(OutgoingEvent(i, s, t, base64.b64decode(p)) for i, s, t, p in json.loads(text or "[]"))


def intent_key(user_id: int, intent_id: uuid.UUID) -> tuple[int, int]:
    """(shard, bucket) of an intent's marker: from the account and the intent's time alone."""
    return MARKERS.key(user_id, intent_id)


def intent_insert(intent: Intent) -> Statement:
    mark = intent.mark
    return MARKERS.insert(mark.user_id, intent.id, intent.op, mark.kind.value, mark.tweet_id, mark.user_id,
                          mark.author_id, mark.seq, events_json(intent.events))


def intent_delete(user_id: int, intent_id: uuid.UUID) -> Statement:
    return MARKERS.delete(user_id, intent_id)


def select_intent(user_id: int, intent_id: uuid.UUID) -> Statement:
    return MARKERS.select(user_id, intent_id)


def intent_of(row: Mapping[str, Any]) -> Intent:
    mark = Mark(Kind(row["kind"]), row["tweet_id"], row["user_id"], row["author_id"], row["seq"])
    return Intent(row["id"], row["op"], mark, events_of(row["events"]))


# Statements: pure functions of their arguments --------------------------------------------------


def select_flag(kind: Kind, user_id: int, tweet_id: int) -> Statement:
    return Statement(f"SELECT seq, author_id, intent FROM {TABLES[kind].flags} WHERE user_id = ? AND tweet_id = ?",
                     (user_id, tweet_id))


def select_flags(kind: Kind, user_id: int, tweet_ids: Sequence[int]) -> Statement:
    if not 0 < len(tweet_ids) <= IN_CHUNK:
        raise ValueError(f"ask about 1 to {IN_CHUNK} tweets at once, not {len(tweet_ids)}")
    return Statement(f"SELECT tweet_id FROM {TABLES[kind].flags} WHERE user_id = ? AND tweet_id IN ?",
                     (user_id, list(tweet_ids)))


def flag_insert(mark: Mark, intent_id: uuid.UUID) -> Statement:
    """The LWT that puts a mark: only if its account has none of that kind on that tweet."""
    return Statement(
        f"INSERT INTO {TABLES[mark.kind].flags} (user_id, tweet_id, seq, author_id, intent) VALUES (?, ?, ?, ?, ?)"
        " IF NOT EXISTS",
        (mark.user_id, mark.tweet_id, mark.seq, mark.author_id, intent_id), idempotent=False,
    )


def flag_delete(mark: Mark) -> Statement:
    """The LWT that takes a mark away: only that mark (the seq read), not one put since."""
    return Statement(f"DELETE FROM {TABLES[mark.kind].flags} WHERE user_id = ? AND tweet_id = ? IF seq = ?",
                     (mark.user_id, mark.tweet_id, mark.seq), idempotent=False)


def listing_insert(listing: Listing, mark: Mark) -> Statement:
    return Statement(
        f"INSERT INTO {listing.name} ({listing.owner}, seq, {listing.member}) VALUES (?, ?, ?) USING TIMESTAMP ?",
        (listing.ends(mark)[0], mark.seq, listing.ends(mark)[1], written_at(mark.seq)),
    )


def listing_delete(listing: Listing, mark: Mark) -> Statement:
    return Statement(
        f"DELETE FROM {listing.name} USING TIMESTAMP ? WHERE {listing.owner} = ? AND seq = ? AND {listing.member} = ?",
        (removed_at(mark.seq), listing.ends(mark)[0], mark.seq, listing.ends(mark)[1]),
    )


def derived_writes(op: str, mark: Mark) -> list[Statement]:
    """The listing rows a mark's change puts or deletes: a pure function of the change, so writing them
    again (a finisher, a replayed batch) changes nothing."""
    write = listing_insert if op == ADD else listing_delete
    return [write(listing, mark) for listing in TABLES[mark.kind].listings]


def page_statement(listing: Listing, key: int, after: Entry | None, limit: int) -> Statement:
    """A keyset page, newest first: `limit` + 1 rows strictly after `after` (the extra one says more follow)."""
    cql, params = f"SELECT seq, {listing.member} FROM {listing.name} WHERE {listing.owner} = ?", [key]
    if after is not None:
        cql += f" AND (seq, {listing.member}) < (?, ?)"
        params += [after.seq, after.id]
    return Statement(cql + " LIMIT ?", (*params, limit + 1))


def select_counts(tweet_id: int) -> Statement:
    return Statement(f"SELECT {', '.join(COUNTERS)} FROM engagement_counts WHERE tweet_id = ?", (tweet_id,))


def counter_update(tweet_id: int, deltas: Mapping[str, int]) -> Statement:
    """Moves a tweet's counters. Not idempotent: a driver that retried it after a timeout could count twice."""
    columns = [c for c in COUNTERS if deltas.get(c)]
    if not columns or set(deltas) - set(COUNTERS):
        raise ValueError(f"no counter to move in {dict(deltas)}")
    return Statement(
        f"UPDATE engagement_counts SET {', '.join(f'{c} = {c} + ?' for c in columns)} WHERE tweet_id = ?",
        (*(deltas[c] for c in columns), tweet_id), idempotent=False,
    )


def select_counted(tweet_id: int) -> Statement:
    return Statement("SELECT reply_to_id, quote_id, deleted FROM counted_tweets WHERE tweet_id = ?", (tweet_id,))


def counted_insert(child: ChildTweet, *, deleted: bool) -> Statement:
    """The LWT that records a child: counted (live) or, for a deletion that came first, a tombstone."""
    return Statement(
        "INSERT INTO counted_tweets (tweet_id, reply_to_id, quote_id, deleted) VALUES (?, ?, ?, ?) IF NOT EXISTS",
        (child.tweet_id, child.reply_to_id, child.quote_id, deleted), idempotent=False,
    )


def counted_uncount(tweet_id: int) -> Statement:
    """The LWT that marks a counted child deleted: only once."""
    return Statement("UPDATE counted_tweets SET deleted = true WHERE tweet_id = ? IF deleted = ?", (tweet_id, False),
                     idempotent=False)


def child_writes(child: ChildTweet, *, live: bool) -> list[Statement]:
    """The replies_by_parent / quotes_by_parent rows of a child, put (live) or deleted."""
    statements = []
    for children in (REPLIES, QUOTES):
        parent = children.parent_of(child)
        if parent <= 0:
            continue
        if live:
            statements.append(Statement(
                f"INSERT INTO {children.name} (parent_id, child_id) VALUES (?, ?) USING TIMESTAMP ?",
                (parent, child.tweet_id, written_at(child.tweet_id))))
        else:
            statements.append(Statement(
                f"DELETE FROM {children.name} USING TIMESTAMP ? WHERE parent_id = ? AND child_id = ?",
                (removed_at(child.tweet_id), parent, child.tweet_id)))
    return statements


def child_deltas(child: ChildTweet, step: int) -> dict[int, dict[str, int]]:
    """How a child moves its parents' counters: parent id -> {column: step} (one update per parent)."""
    deltas: dict[int, dict[str, int]] = {}
    for children in (REPLIES, QUOTES):
        parent = children.parent_of(child)
        if parent > 0:
            deltas.setdefault(parent, {})[children.counter] = step
    return deltas


def members_statement(table: str, owner: str, column: str, key: int) -> Statement:
    return Statement(f"SELECT {column} FROM {table} WHERE {owner} = ?", (key,))


# Rows -> domain ---------------------------------------------------------------------------------


def mark_of(kind: Kind, tweet_id: int, user_id: int, row: Mapping[str, Any]) -> Mark:
    return Mark(kind, tweet_id, user_id, row["author_id"], row["seq"])


def counts_of(row: Mapping[str, Any] | None) -> Counts:
    """Counters as shown: one that a lost update left below zero shows 0 (recount repairs it)."""
    if row is None:
        return Counts()
    return Counts(*(max(0, row.get(column) or 0) for column in COUNTERS))


def entries_of(listing: Listing, rows: Iterable[Mapping[str, Any]]) -> list[Entry]:
    return [Entry(row["seq"], row[listing.member]) for row in rows]


def chunks(ids: Sequence[int], size: int = IN_CHUNK) -> list[Sequence[int]]:
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def _silently(mark: Mark) -> Sequence[OutgoingEvent]:
    """A loaded mark's events: none (a corpus load tells nobody)."""
    return ()


# The adapter ------------------------------------------------------------------------------------


class ScyllaEngagementStore(SweptScyllaStore):
    schema = SCHEMA

    def __init__(self, session: CqlSession, *, outbox: ScyllaOutbox | None = None, owns_session: bool = False,
                 clock_ns: Callable[[], int] = time.time_ns, help_after_s: float = HELP_AFTER_S) -> None:
        super().__init__(session, outbox=outbox, owns_session=owns_session, clock_ns=clock_ns)
        self._last_ns = 0  # the time of the last id made (see _intent_id)
        self._sweeper = IntentSweeper(self._db, MARKERS, self._settle_marker, clock=self._now,
                                      help_after_s=help_after_s, log=log, name="engagement",
                                      described_by=("user_id", "tweet_id"))

    def _intent_id(self, after: uuid.UUID | None = None, *, reserve: int = 0) -> uuid.UUID:
        """A new id, later than every id this store made before, with room after it for the ids of
        `reserve` events; for a removal, at least AFTER_ADD_NS after the add's intent, whatever our
        clock says (so its events sort after the add's, whichever host made those)."""
        floor = unix_ns(after) + AFTER_ADD_NS if after is not None else 0
        ns = max(self._clock_ns(), floor, self._last_ns + 100)
        self._last_ns = ns + 100 * reserve
        return TimeUuids(lambda: ns).next()

    def _finishing(self, intent: Intent, events_at_ns: int) -> list[Statement]:
        """The logged batch that derives a decided change: its rows, its outbox rows (ids from
        `events_at_ns` on, in the outbox shard of its account) and its marker's deletion."""
        mark = intent.mark
        return [
            *derived_writes(intent.op, mark),
            *self._stage(intent.events, mark.user_id, TimeUuids(lambda: events_at_ns)),
            intent_delete(mark.user_id, intent.id),
        ]

    # Marks --------------------------------------------------------------------------------------

    async def add(self, mark: Mark, publish: Publisher) -> Added:
        events = tuple(publish(mark))  # before any write
        while True:
            intent = Intent(self._intent_id(reserve=len(events)), ADD, mark, events)
            await self._db.execute(intent_insert(intent))
            try:
                result = await self._db.lwt(flag_insert(mark, intent.id))
                applied, existing = result.applied, result.existing
            except Exception:
                # A failed LWT may still have landed: if the flag row holds our intent, it is ours.
                row = await first_row(self._db, select_flag(mark.kind, mark.user_id, mark.tweet_id))
                if row is None or row.get("intent") != intent.id:
                    raise  # the marker stays: the sweeper settles whichever way it went
                applied, existing = True, {}
            if applied:
                await self._carry_out(intent, step=1)
                return Added(mark, created=True)
            await self._sweeper.drop(mark.user_id, intent.id)
            if existing.get("seq") is None:  # not in this result's style: read it
                existing = await first_row(self._db, select_flag(mark.kind, mark.user_id, mark.tweet_id)) or {}
            if existing.get("seq") is not None:
                if existing.get("intent") is not None:
                    await self._finish_at(mark.user_id, existing["intent"])  # if its writer left it unfinished
                return Added(mark_of(mark.kind, mark.tweet_id, mark.user_id, existing), created=False)
            # Taken away between the LWT and the read: put it again.

    async def remove(self, kind: Kind, tweet_id: int, user_id: int, publish: Publisher) -> Mark | None:
        while True:
            row = await first_row(self._db, select_flag(kind, user_id, tweet_id))
            if row is None or row.get("seq") is None:
                return None
            standing = mark_of(kind, tweet_id, user_id, row)
            added_by = row.get("intent")
            if added_by is not None:
                await self._finish_at(user_id, added_by)  # its add first, if its writer left it unfinished
            events = tuple(publish(standing))  # before our own writes
            intent = Intent(self._intent_id(added_by, reserve=len(events)), REMOVE, standing, events)
            await self._db.execute(intent_insert(intent))
            # A failure here (a timeout) is not read back: a missing row cannot tell our deletion from
            # another's, so it is not counted; the marker stays for the sweeper.
            result = await self._db.lwt(flag_delete(standing))
            if result.applied:
                await self._carry_out(intent, step=-1)
                return standing
            await self._sweeper.drop(user_id, intent.id)
            if result.existing.get("seq") is None:
                return None  # another call took it away
            # Taken away and put again since it was read: take away what stands now.

    async def load_marks(self, marks: Sequence[Mark]) -> int:
        added = await gather_limited(self.add(mark, _silently) for mark in marks)
        return sum(outcome.created for outcome in added)

    async def load_children(self, children: Sequence[ChildTweet]) -> int:
        return sum(await gather_limited(self.count_created(child) for child in children))

    async def _carry_out(self, intent: Intent, step: int) -> None:
        """Derives a change whose LWT this call applied, then moves its counter: here only, so at most once.
        A failed batch is raised after the count; its marker stays and the sweeper finishes it."""
        try:
            await self._db.batch(self._finishing(intent, unix_ns(intent.id)))
        finally:
            await self._count(intent.mark.tweet_id, {TABLES[intent.mark.kind].counter: step})

    async def _finish_at(self, user_id: int, intent_id: uuid.UUID) -> bool:
        """Finishes the change of the marker `intent_id` if it is still there (its writer died, or is not
        done yet: finishing is idempotent, and it still counts its own counter)."""
        row = await first_row(self._db, select_intent(user_id, intent_id))
        return row is not None and await self._settle(intent_of(row))

    async def _settle(self, intent: Intent) -> bool:
        """Finishes a change whose LWT applied, or drops the marker of one whose LWT did not. An add
        applied if the flag row holds its intent (a mark since taken away had its add finished by the
        removal); a removal, if the mark it removed is gone. Counters are not moved: only a change's
        writer does. Returns whether it finished the change."""
        mark = intent.mark
        row = await first_row(self._db, select_flag(mark.kind, mark.user_id, mark.tweet_id))
        if intent.op == ADD:
            applied = row is not None and row.get("intent") == intent.id
        else:
            applied = row is None or row.get("seq") != mark.seq
        if not applied:
            await self._db.execute(intent_delete(mark.user_id, intent.id))
            return False
        at = self._intent_id(reserve=len(intent.events))  # its events: from now on
        await self._db.batch(self._finishing(intent, unix_ns(at)))
        log.warning("finished an engagement change its writer left unfinished; if that writer died, recount"
                    " the tweet", op=intent.op, kind=mark.kind.value, recount_tweet_id=mark.tweet_id,
                    user_id=mark.user_id, events=len(intent.events))
        return True

    async def _settle_marker(self, marker: Row) -> bool:
        """The sweeper's settle (see _settle)."""
        return await self._settle(intent_of(marker))

    async def _count(self, tweet_id: int, deltas: Mapping[str, int]) -> None:
        try:
            await self._db.execute(counter_update(tweet_id, deltas))
        except Exception as exc:  # not retried: it may have landed. recount() repairs either way.
            log.warning("an engagement counter update failed; recount the tweet", recount_tweet_id=tweet_id,
                        deltas=dict(deltas), error=repr(exc))

    # Reads --------------------------------------------------------------------------------------

    async def engagement(self, viewer_id: int, tweet_ids: Iterable[int]) -> dict[int, TweetEngagement]:
        ids = list(dict.fromkeys(tweet_ids))
        if not ids:
            return {}
        flag_reads = [] if viewer_id <= 0 else [(kind, chunk) for kind in Kind for chunk in chunks(ids)]
        counters, flags = await asyncio.gather(
            gather_limited((first_row(self._db, select_counts(t)) for t in ids), READ_CONCURRENCY),
            gather_limited((all_rows(self._db, select_flags(kind, viewer_id, chunk)) for kind, chunk in flag_reads),
                           READ_CONCURRENCY),
        )
        counts = {tweet_id: counts_of(row) for tweet_id, row in zip(ids, counters) if row is not None}
        marked: dict[Kind, set[int]] = {kind: set() for kind in Kind}
        for (kind, _), rows in zip(flag_reads, flags):
            marked[kind].update(row["tweet_id"] for row in rows)
        return engagement_of(counts, marked, ids)

    async def _page(self, listing: Listing, key: int, after: Entry | None, limit: int) -> Page:
        statement = page_statement(listing, key, after, limit)
        rows = await all_rows(self._db, statement, page_size=min(limit + 1, COUNT_PAGE_SIZE))
        return Page.of(entries_of(listing, rows), limit)

    async def likers(self, tweet_id: int, after: Entry | None, limit: int) -> Page:
        return await self._page(LIKERS, tweet_id, after, limit)

    async def bookmarks(self, user_id: int, after: Entry | None, limit: int) -> Page:
        return await self._page(BOOKMARKS, user_id, after, limit)

    # Replies and quotes -------------------------------------------------------------------------

    async def _decide_child(self, statement: Statement, child: ChildTweet) -> LwtResult:
        """An LWT on counted_tweets. One that fails may have landed: the redelivery then finds the child
        recorded and counts nothing, so the parents' counters are off by it (at most once)."""
        try:
            return await self._db.lwt(statement)
        except Exception as exc:
            log.warning("a reply or quote LWT failed; if it landed, recount its parents", child_id=child.tweet_id,
                        recount_tweet_ids=sorted(child_deltas(child, 1)), error=repr(exc))
            raise

    async def count_created(self, child: ChildTweet) -> bool:
        result = await self._decide_child(counted_insert(child, deleted=False), child)
        if not result.applied:
            existing = result.existing
            if existing.get("deleted") is False:
                # Counted already, by a delivery that may have died before its rows: write them again.
                recorded = ChildTweet(child.tweet_id, existing.get("reply_to_id") or 0, existing.get("quote_id") or 0)
                await self._batch(child_writes(recorded, live=True))
            return False
        try:
            await self._batch(child_writes(child, live=True))
        finally:
            await self._count_children(child, 1)
        return True

    async def count_deleted(self, child: ChildTweet) -> bool:
        while True:
            row = await first_row(self._db, select_counted(child.tweet_id))
            if row is None or row.get("deleted") is None:
                # The deletion came first: a tombstone keeps the late creation from counting.
                if (await self._db.lwt(counted_insert(child, deleted=True))).applied:
                    return False
                continue  # recorded meanwhile: read it
            recorded = ChildTweet(child.tweet_id, row.get("reply_to_id") or 0, row.get("quote_id") or 0)
            if row["deleted"]:
                # Deleted already, by a delivery that may have died before its rows: delete them again.
                await self._batch(child_writes(recorded, live=False))
                return False
            if not (await self._decide_child(counted_uncount(child.tweet_id), recorded)).applied:
                continue  # deleted meanwhile
            try:
                await self._batch(child_writes(recorded, live=False))
            finally:
                await self._count_children(recorded, -1)  # what the creation counted, as recorded then
            return True

    async def _batch(self, statements: Sequence[Statement]) -> None:
        if statements:
            await self._db.batch(statements)

    async def _count_children(self, child: ChildTweet, step: int) -> None:
        await asyncio.gather(*(self._count(parent, deltas) for parent, deltas in child_deltas(child, step).items()))

    # Repair -------------------------------------------------------------------------------------

    async def _rows_in(self, table: str, owner: str, column: str, key: int) -> int:
        statement = members_statement(table, owner, column, key)
        total = 0
        async for page in pages(lambda state: self._db.execute(statement, paging_state=state,
                                                               page_size=COUNT_PAGE_SIZE)):
            total += len(page.rows)
        return total

    async def recount(self, tweet_ids: Iterable[int]) -> dict[int, Counts]:
        """The repair path for counters a crash or a failed counter update left off (see the module doc):
        sets each tweet's counters to the rows that list what they count. Returns the counts set."""
        result: dict[int, Counts] = {}
        for tweet_id in dict.fromkeys(tweet_ids):
            found = {column: await self._rows_in(*source, tweet_id) for column, source in RECOUNT_SOURCES.items()}
            row = await first_row(self._db, select_counts(tweet_id)) or {}
            delta = {column: found[column] - (row.get(column) or 0) for column in COUNTERS}
            if any(delta.values()):
                await self._db.execute(counter_update(tweet_id, delta))
                log.warning("engagement counters recounted", tweet_id=tweet_id,
                            **{f"{c}_delta": d for c, d in delta.items() if d})
            result[tweet_id] = Counts(**found)
        return result
