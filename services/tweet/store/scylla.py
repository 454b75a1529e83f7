"""The tweet store on ScyllaDB: a keyspace of its own, one table per query (store/base.py names them),
lightweight transactions where a change must happen once, and the outbox written in the same logged
batch as the rows each change writes.

Tables, and the query each one answers (every read names one partition):
- tweets_by_id             (id): the tweet, and the authority on whether it is deleted or hidden
                           (set only by LWT, with the version and the events of the delete).
- tweets_by_user           ((author_id, month); id DESC): a user's tweets by month (YYYYMM of the
                           Snowflake time, `month_bucket`), newest first.
- replies_by_conversation  (conversation_id; reply_to_id, id ASC): a thread's direct replies per
                           parent, oldest first.
- tweets_by_hour           ((hour, shard); id DESC): everyone's tweets by hour (`hour_bucket`),
                           spread over RECENT_SHARDS partitions per hour (an hour of the whole site
                           in one partition would be one hot, huge partition); read newest first by
                           merging the shards of an hour.
- tweet_idempotency        ((author_id, request_key)): the tweet a key made; claimed by LWT, kept
                           KEY_TTL_S (the port asks for at least a day), with the create's intent.
- poll_votes               ((tweet_id, voter_id)): one vote per voter, by LWT, with its intent.
- poll_voters              (tweet_id; voter_id): a poll's votes, for `recount_polls`.
- poll_counts              (tweet_id; option_index): votes, a COUNTER.
- tweet_counts_by_author   (author_id): live tweets, a COUNTER.
- open_intents             ((shard, bucket); txn): changes committed by an LWT and maybe not yet
                           written out (below); open_intents_watermark: the sweeper's.
- outbox, outbox_watermark: the relay's (services/runtime/scylla.py).

The three tweet-list tables hold a full copy of each live tweet (tweets never change but for being
deleted or hidden), so a page is one partition read, plus one poll_counts read per poll on it. A
tweet that is deleted or hidden leaves them (row deletes), so a page of `limit` rows holds `limit`
live tweets; tweets_by_id keeps it, marked, for `include_gone` reads, repeated deletes and keys.

Writes, and what holds them together without transactions:
- A create without a key is one logged batch: the tweet in every table that serves it and the
  outbox rows of its events; then the author's counter (+1).
- A create with a key writes an open_intents marker, then claims (author_id, key) by `INSERT ... IF
  NOT EXISTS` holding the tweet and its events: that LWT is the commit and the serialization point
  of concurrent duplicates. The winner writes the batch above (with the marker's deletion) and
  counts; a loser waits for the winner's tweet to show (CONFLICT_WAIT_S, then UNAVAILABLE
  `TWEET_CREATE_IN_PROGRESS`) and returns it, created=False, having written nothing.
- A delete reads the tweet, writes a marker, then `UPDATE tweets_by_id SET deleted_at_ms ... IF
  author_id = ? AND deleted_at_ms = null AND hidden = null` (with the delete's version and events);
  the one call whose LWT applies removes the list rows, stages the events and drops the marker in
  one logged batch, then counts -1.
- A vote writes a marker, then `INSERT INTO poll_votes ... IF NOT EXISTS`; the winner writes
  poll_voters and the events (and drops the marker) in one logged batch, then adds one to the
  option's counter. A repeated vote reads the vote that stands and writes nothing.
- Hiding a deleted account's tweets: per tweet, `UPDATE tweets_by_id SET hidden = true IF author_id
  = ? AND deleted_at_ms = null AND hidden = null`, then the list rows go. No events, no counter (as
  the SQLite adapter: hiding is not a delete).
Every list row is written `USING TIMESTAMP` its tweet's Snowflake time and removed at a later one,
so a create batch replayed late (the batchlog's replay of a batch that timed out) can never bring a
deleted tweet back into a list.

A writer that dies between its LWT and its batch leaves a change committed but not written out: a
key that names a tweet that is not there, a deleted tweet whose events are not staged, a vote not
in poll_voters. Its intent (the tweet, the events) is in the LWT's row, and its marker in
open_intents. A duplicate create that meets such a claim once it is HELP_AFTER_S old writes the
tweet from it; `sweep()` (run by `sweep_forever`, a background task of the service) finishes every
marker older than HELP_AFTER_S whose LWT applied and drops the rest. A finished change may stage
its events twice, with the same event id (JetStream's de-duplication and idempotent consumers
absorb it); nothing is lost. An LWT that times out is read back: our version there means it
applied; another claim, vote or delete there means it cannot have; otherwise the error is raised
and the marker left to the sweeper.

Counters under retries and crashes: counter updates are not idempotent and cannot share a batch
with rows, so they are applied AT MOST ONCE: by the writer of the change (the one whose LWT applied,
for keyed creates, deletes and votes), after its batch and whether or not the batch succeeded (a
committed change is finished by the sweeper), never retried by the driver, never by whoever
finishes another writer's change. What remains is a crash, or a failed counter update, after the
commit: the counts are then short by that change (logged with the ids). The repair paths are
`recount_tweet_counts(author_ids)` (the rows of the author's tweets_by_user months) and
`recount_polls(tweet_ids)` (the poll's poll_voters rows); run them once the sweeper has settled
(HELP_AFTER_S) and writes to those ids are quiet. Counts are shown never below 0.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.runtime.errors import Unavailable
from services.runtime.events import OutgoingEvent
from services.runtime.ids import EPOCH_MS, lowest_id_at, timestamp_ms
from services.runtime.logging import get_logger
from services.runtime.scylla import (
    OUTBOX_SCHEMA,
    CqlSession,
    IntentMarkers,
    IntentSweeper,
    Row,
    ScyllaOutbox,
    Statement,
    SweptScyllaStore,
    TimeUuids,
    all_rows,
    first_row,
    gather_limited,
    pages,
    uuid_unix_s,
)
from services.tweet.domain import Poll, Tweet
from services.tweet.store.base import Created, hour_bucket, month_bucket
from services.tweet.store.rows import dump_entities, dump_strings, load_entities, load_strings

log = get_logger("chirp.tweet.store")

# A committed change this old whose rows are not written was left by a writer that died: whoever
# meets it (a duplicate create, the sweeper) finishes it. Far longer than a live writer takes from
# its LWT to its batch.
HELP_AFTER_S = 30.0
# How long a duplicate create waits for the tweet of the claim it lost to before UNAVAILABLE.
CONFLICT_WAIT_S = 3.0
# Idempotency keys are kept this long (the port: at least a day).
KEY_TTL_S = 2 * 24 * 3600
# tweets_by_hour partitions per hour.
RECENT_SHARDS = 8
# How far past this host's clock a tweet id may be (another host's clock): the newest bucket read
# by a walk without an upper bound.
CLOCK_SKEW_MS = 10 * 60 * 1000
PAGE_SIZE = 1000
NO_UPPER_BOUND = 2**63 - 1

CREATE, DELETE, VOTE = "create", "delete", "vote"


# Buckets ----------------------------------------------------------------------------------------


def recent_shard(tweet_id: int, shards: int = RECENT_SHARDS) -> int:
    """The tweets_by_hour shard of a tweet: its millisecond mixed with its worker and sequence bits,
    so that one busy worker still spreads over every shard."""
    return ((tweet_id >> 22) ^ tweet_id) % shards


def months_down(newest: int, oldest: int) -> Iterable[int]:
    """YYYYMM buckets from `newest` down to `oldest`, both included (none when oldest is newer)."""
    year, month = divmod(newest, 100)
    while year * 100 + month >= oldest:
        yield year * 100 + month
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


def newest_id(now_ms: int) -> int:
    """The highest id a walk without an upper bound looks for: this host's clock plus the skew."""
    return lowest_id_at(now_ms + CLOCK_SKEW_MS + 1) - 1


def id_range(since_id: int, until_id: int, now_ms: int) -> tuple[int, int]:
    """The lowest and highest id a read of since_id < id < until_id (0: no bound) can find."""
    highest = min(until_id - 1 if until_id else NO_UPPER_BOUND, newest_id(now_ms))
    return max(since_id + 1, lowest_id_at(EPOCH_MS)), highest


def write_time_us(tweet_id: int) -> int:
    """The write timestamp of a tweet's rows: its Snowflake time, in microseconds."""
    return timestamp_ms(tweet_id) * 1000


def version_time_us(txn: uuid.UUID) -> int:
    return round(uuid_unix_s(txn) * 1_000_000)


def removal_time_us(tweet_id: int, at: int) -> int:
    """When a tweet's list rows are removed: at `at` (µs), and always after they were written."""
    return max(at, write_time_us(tweet_id) + 1)


# Rows -------------------------------------------------------------------------------------------

# The columns of a tweet as every tweet table keeps it (the list tables add their bucket columns).
CONTENT: tuple[tuple[str, str], ...] = (
    ("id", "bigint"), ("author_id", "bigint"), ("text", "text"), ("conversation_id", "bigint"),
    ("reply_to_id", "bigint"), ("quote_id", "bigint"), ("media_urls", "text"), ("poll_options", "text"),
    ("poll_ends_at_ms", "bigint"), ("location", "text"), ("entities", "text"), ("language", "text"),
    ("sensitive", "boolean"),
)
_CONTENT_NAMES = tuple(name for name, _ in CONTENT)
_PLAIN = ("id", "author_id", "text", "conversation_id", "reply_to_id", "quote_id", "location", "language")
_GONE = ("deleted_at_ms", "hidden")


def content_of(tweet: Tweet) -> dict[str, Any]:
    """A tweet's column values (its poll's counts are the counters', not the tweet's)."""
    poll = tweet.poll
    return {
        **{name: getattr(tweet, name) for name in _PLAIN},
        "media_urls": dump_strings(tweet.media_urls),
        "poll_options": dump_strings(poll.options) if poll else None,
        "poll_ends_at_ms": poll.ends_at_ms if poll else None,
        "entities": dump_entities(tweet.entities),
        "sensitive": tweet.sensitive,
    }


def tweet_of(row: Mapping[str, Any], counts: Mapping[int, int] | None = None) -> Tweet:
    """A row of any tweet table as a Tweet, its poll counted by `counts` (zeros where missing)."""
    poll = None
    if row.get("poll_options") is not None:
        options = load_strings(row["poll_options"])
        votes = counts or {}
        poll = Poll(options, row["poll_ends_at_ms"], tuple(max(0, votes.get(i, 0)) for i in range(len(options))))
    return Tweet(
        **{name: row[name] for name in _PLAIN},
        media_urls=load_strings(row["media_urls"]),
        poll=poll,
        entities=load_entities(row["entities"]),
        sensitive=bool(row["sensitive"]),
        deleted_at_ms=row.get("deleted_at_ms"),
        hidden=bool(row.get("hidden")),
    )


def is_live(row: Mapping[str, Any] | None) -> bool:
    return row is not None and row.get("author_id") is not None and row.get("deleted_at_ms") is None \
        and not row.get("hidden")


def counts_of(rows: Iterable[Mapping[str, Any]]) -> dict[int, int]:
    return {row["option_index"]: row["votes"] or 0 for row in rows}


def events_json(events: Sequence[OutgoingEvent]) -> list[list[str]]:
    return [[e.event_id, e.subject, e.event_type, base64.b64encode(e.payload).decode()] for e in events]


def events_of(data: Iterable[Sequence[str]]) -> tuple[OutgoingEvent, ...]:
    return tuple(OutgoingEvent(i, s, t, base64.b64decode(p)) for i, s, t, p in data)


def create_intent(content: Mapping[str, Any], events: Sequence[OutgoingEvent]) -> str:
    """What a keyed create's claim keeps, so that anyone can write the tweet if its writer dies."""
    return json.dumps({"tweet": dict(content), "events": events_json(events)}, separators=(",", ":"),
                      ensure_ascii=False)


def create_intent_of(text: str | None) -> tuple[dict[str, Any], tuple[OutgoingEvent, ...]]:
    if not text:
        raise ValueError("the claim holds no intent to finish")
    data = json.loads(text)
    return {name: data["tweet"][name] for name in _CONTENT_NAMES}, events_of(data["events"])


def change_intent(events: Sequence[OutgoingEvent]) -> str:
    """What a delete or a vote keeps in its LWT's row: the events to stage."""
    return json.dumps(events_json(events), separators=(",", ":"))


def change_intent_of(text: str | None) -> tuple[OutgoingEvent, ...]:
    return events_of(json.loads(text)) if text else ()


# Schema -----------------------------------------------------------------------------------------

BUCKETS: dict[str, Callable[[int], int]] = {"month": month_bucket, "hour": hour_bucket, "shard": recent_shard}


@dataclass(frozen=True)
class ListTable:
    """A table of tweets in id order within a partition: `buckets` are columns the tweet's id decides."""

    name: str
    partition: tuple[str, ...]
    clustering: tuple[str, ...]
    order: str
    buckets: tuple[tuple[str, str], ...] = ()
    replies_only: bool = False

    @property
    def key(self) -> tuple[str, ...]:
        return self.partition + self.clustering

    def schema(self) -> str:
        columns = ",\n".join(f"  {name} {kind}" for name, kind in (*self.buckets, *CONTENT))
        partition = self.partition[0] if len(self.partition) == 1 else f"({', '.join(self.partition)})"
        key = ", ".join((partition, *self.clustering))
        return (f"CREATE TABLE IF NOT EXISTS {self.name} (\n{columns},\n  PRIMARY KEY ({key})\n)"
                f" WITH CLUSTERING ORDER BY ({self.order})")

    def holds(self, content: Mapping[str, Any]) -> bool:
        return not self.replies_only or bool(content["reply_to_id"])

    def row(self, content: Mapping[str, Any]) -> dict[str, Any]:
        return {**{name: BUCKETS[name](content["id"]) for name, _ in self.buckets}, **content}


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values an INSERT names: a null bound to a column would write a tombstone (a tweet without
    a poll, in four tables), so missing values are left out instead."""
    return {column: value for column, value in values.items() if value is not None}


BY_USER = ListTable("tweets_by_user", ("author_id", "month"), ("id",), "id DESC", (("month", "int"),))
REPLIES = ListTable("replies_by_conversation", ("conversation_id",), ("reply_to_id", "id"),
                    "reply_to_id ASC, id ASC", replies_only=True)
BY_HOUR = ListTable("tweets_by_hour", ("hour", "shard"), ("id",), "id DESC", (("hour", "bigint"), ("shard", "int")))
LISTS = (BY_USER, REPLIES, BY_HOUR)

# A keyed create, a delete or a vote, from before its LWT until its batch: what it is, and its version.
MARKERS = IntentMarkers(
    "txn", (("kind", "text"), ("tweet_id", "bigint"), ("actor_id", "bigint"), ("request_key", "text")),
    shard_by="tweet_id")
INTENT_BUCKET_S = MARKERS.bucket_s  # the span of a marker partition's bucket (tests align their clock to it)

_CONTENT_COLUMNS = ",\n".join(f"  {name} {kind}" for name, kind in CONTENT[1:])

SCHEMA: list[str] = [
    f"""CREATE TABLE IF NOT EXISTS tweets_by_id (
  id bigint PRIMARY KEY,
{_CONTENT_COLUMNS},
  deleted_at_ms bigint,
  hidden boolean,
  delete_txn timeuuid,
  delete_intent text
)""",
    *(table.schema() for table in LISTS),
    """CREATE TABLE IF NOT EXISTS tweet_idempotency (
  author_id bigint,
  request_key text,
  tweet_id bigint,
  txn timeuuid,
  intent text,
  PRIMARY KEY ((author_id, request_key))
)""",
    """CREATE TABLE IF NOT EXISTS poll_votes (
  tweet_id bigint,
  voter_id bigint,
  option_index int,
  txn timeuuid,
  intent text,
  PRIMARY KEY ((tweet_id, voter_id))
)""",
    """CREATE TABLE IF NOT EXISTS poll_voters (
  tweet_id bigint,
  voter_id bigint,
  option_index int,
  PRIMARY KEY (tweet_id, voter_id)
)""",
    """CREATE TABLE IF NOT EXISTS poll_counts (
  tweet_id bigint,
  option_index int,
  votes counter,
  PRIMARY KEY (tweet_id, option_index)
)""",
    """CREATE TABLE IF NOT EXISTS tweet_counts_by_author (
  author_id bigint PRIMARY KEY,
  live counter
)""",
    *MARKERS.schema(),
    *OUTBOX_SCHEMA,
]


# Statements: pure functions of their arguments --------------------------------------------------

_CONTENT_LIST = ", ".join(_CONTENT_NAMES)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _equal(columns: Iterable[str]) -> str:
    return " AND ".join(f"{c} = ?" for c in columns)


def _insert(table: str, values: Mapping[str, Any], tweet_id: int) -> Statement:
    row = _present(values)
    return Statement(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({_marks(len(row))}) USING TIMESTAMP ?",
                     (*row.values(), write_time_us(tweet_id)))


def tweet_insert(content: Mapping[str, Any]) -> Statement:
    """The tweets_by_id row of a new tweet. Never names deleted_at_ms or hidden: a replay cannot undo
    a delete."""
    return _insert("tweets_by_id", {c: content[c] for c in _CONTENT_NAMES}, content["id"])


def list_insert(table: ListTable, content: Mapping[str, Any]) -> Statement:
    return _insert(table.name, table.row(content), content["id"])


def list_delete(table: ListTable, content: Mapping[str, Any], at_us: int) -> Statement:
    row = table.row(content)
    return Statement(f"DELETE FROM {table.name} USING TIMESTAMP ? WHERE {_equal(table.key)}",
                     (removal_time_us(content["id"], at_us), *(row[c] for c in table.key)))


def create_writes(content: Mapping[str, Any]) -> list[Statement]:
    """Every row of a new tweet: by id, and in each list that serves it. Pure: replaying changes nothing."""
    return [tweet_insert(content), *(list_insert(t, content) for t in LISTS if t.holds(content))]


def removal_writes(content: Mapping[str, Any], at_us: int) -> list[Statement]:
    """A deleted or hidden tweet leaves every list (its tweets_by_id row stays)."""
    return [list_delete(t, content, at_us) for t in LISTS if t.holds(content)]


def select_tweet(tweet_id: int, *, with_change: bool = False) -> Statement:
    extra = ", delete_txn, delete_intent" if with_change else ""
    return Statement(f"SELECT {_CONTENT_LIST}, deleted_at_ms, hidden{extra} FROM tweets_by_id WHERE id = ?",
                     (tweet_id,))


def select_user_tweets(author_id: int, month: int, since_id: int, until_id: int, limit: int) -> Statement:
    """A month of an author's tweets with since_id < id < until_id, newest first."""
    return Statement(
        f"SELECT {_CONTENT_LIST} FROM tweets_by_user WHERE author_id = ? AND month = ? AND id > ? AND id < ? LIMIT ?",
        (author_id, month, since_id, until_id, limit),
    )


def select_user_month(author_id: int, month: int, limit: int | None = None) -> Statement:
    """A month of an author's tweets, newest first (what hiding and recounting walk)."""
    cql = f"SELECT {_CONTENT_LIST} FROM tweets_by_user WHERE author_id = ? AND month = ?"
    if limit is None:
        return Statement(cql, (author_id, month))
    return Statement(cql + " LIMIT ?", (author_id, month, limit))


def select_replies(conversation_id: int, parent_id: int, after_id: int, limit: int) -> Statement:
    return Statement(
        f"SELECT {_CONTENT_LIST} FROM replies_by_conversation WHERE conversation_id = ? AND reply_to_id = ?"
        " AND id > ? LIMIT ?",
        (conversation_id, parent_id, after_id, limit),
    )


def select_hour(hour: int, shard: int, since_id: int, limit: int) -> Statement:
    return Statement(
        f"SELECT {_CONTENT_LIST} FROM tweets_by_hour WHERE hour = ? AND shard = ? AND id > ? LIMIT ?",
        (hour, shard, since_id, limit),
    )


def select_poll_counts(tweet_id: int) -> Statement:
    return Statement("SELECT option_index, votes FROM poll_counts WHERE tweet_id = ?", (tweet_id,))


def claim_statement(content: Mapping[str, Any], key: str, txn: uuid.UUID, events: Sequence[OutgoingEvent]) -> Statement:
    """The LWT that commits a keyed create: the key is the author's only once."""
    return Statement(
        "INSERT INTO tweet_idempotency (author_id, request_key, tweet_id, txn, intent) VALUES (?, ?, ?, ?, ?)"
        " IF NOT EXISTS USING TTL ?",
        (content["author_id"], key, content["id"], txn, create_intent(content, events), KEY_TTL_S),
        idempotent=False,
    )


def select_claim(author_id: int, key: str) -> Statement:
    return Statement(
        "SELECT tweet_id, txn, intent FROM tweet_idempotency WHERE author_id = ? AND request_key = ?", (author_id, key))


def delete_statement(tweet_id: int, author_id: int, deleted_at_ms: int, txn: uuid.UUID,
                     events: Sequence[OutgoingEvent]) -> Statement:
    """The LWT that deletes: only the author's tweet, only while it is neither deleted nor hidden
    (`author_id = ?` also keeps it from making a row for an unknown id)."""
    return Statement(
        "UPDATE tweets_by_id SET deleted_at_ms = ?, delete_txn = ?, delete_intent = ? WHERE id = ?"
        " IF author_id = ? AND deleted_at_ms = null AND hidden = null",
        (deleted_at_ms, txn, change_intent(events), tweet_id, author_id),
        idempotent=False,
    )


def hide_statement(tweet_id: int, author_id: int) -> Statement:
    return Statement(
        "UPDATE tweets_by_id SET hidden = true WHERE id = ?"
        " IF author_id = ? AND deleted_at_ms = null AND hidden = null",
        (tweet_id, author_id), idempotent=False,
    )


def vote_statement(tweet_id: int, voter_id: int, option_index: int, txn: uuid.UUID,
                   events: Sequence[OutgoingEvent]) -> Statement:
    return Statement(
        "INSERT INTO poll_votes (tweet_id, voter_id, option_index, txn, intent) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
        (tweet_id, voter_id, option_index, txn, change_intent(events)), idempotent=False,
    )


def select_vote(tweet_id: int, voter_id: int) -> Statement:
    return Statement("SELECT option_index, txn, intent FROM poll_votes WHERE tweet_id = ? AND voter_id = ?",
                     (tweet_id, voter_id))


def voter_insert(tweet_id: int, voter_id: int, option_index: int) -> Statement:
    return Statement("INSERT INTO poll_voters (tweet_id, voter_id, option_index) VALUES (?, ?, ?)",
                     (tweet_id, voter_id, option_index))


def select_voters(tweet_id: int) -> Statement:
    return Statement("SELECT option_index FROM poll_voters WHERE tweet_id = ?", (tweet_id,))


def poll_count_update(tweet_id: int, option_index: int, delta: int) -> Statement:
    """Not idempotent: a driver that retried it after a timeout could count twice."""
    return Statement("UPDATE poll_counts SET votes = votes + ? WHERE tweet_id = ? AND option_index = ?",
                     (delta, tweet_id, option_index), idempotent=False)


def tweet_count_update(author_id: int, delta: int) -> Statement:
    """Not idempotent: a driver that retried it after a timeout could count twice."""
    return Statement("UPDATE tweet_counts_by_author SET live = live + ? WHERE author_id = ?", (delta, author_id),
                     idempotent=False)


def select_tweet_count(author_id: int) -> Statement:
    return Statement("SELECT live FROM tweet_counts_by_author WHERE author_id = ?", (author_id,))


def marker_key(tweet_id: int, txn: uuid.UUID) -> tuple[int, int]:
    """(shard, bucket) of a change's open_intents marker: from the tweet and the version alone."""
    return MARKERS.key(tweet_id, txn)


def marker_insert(kind: str, tweet_id: int, actor_id: int, key: str, txn: uuid.UUID) -> Statement:
    return MARKERS.insert(tweet_id, txn, kind, tweet_id, actor_id, key)


def marker_delete(tweet_id: int, txn: uuid.UUID) -> Statement:
    return MARKERS.delete(tweet_id, txn)


def create_in_progress() -> Unavailable:
    return Unavailable("TWEET_CREATE_IN_PROGRESS", "A tweet with this idempotency key is being created; try again.")


# Reading newest first across shards ------------------------------------------------------------


@dataclass
class PartitionReader:
    """One partition's rows in clustering order, fetched a page at a time as they are taken."""

    session: CqlSession
    statement: Statement
    page_size: int
    rows: collections.deque[dict[str, Any]] = field(default_factory=collections.deque)
    _state: bytes | None = None
    _done: bool = False

    async def fill(self) -> None:
        while not self.rows and not self._done:
            page = await self.session.execute(self.statement, paging_state=self._state, page_size=self.page_size)
            self.rows.extend(page.rows)
            if page.paging_state is not None and page.paging_state == self._state:
                raise RuntimeError("the paging state did not advance")
            self._state, self._done = page.paging_state, page.paging_state is None


async def merge_newest(readers: Sequence[PartitionReader], limit: int) -> list[dict[str, Any]]:
    """Up to `limit` rows of partitions clustered by id DESC, the highest id first."""
    merged: list[dict[str, Any]] = []
    while len(merged) < limit:
        await asyncio.gather(*(r.fill() for r in readers))
        heads = [r for r in readers if r.rows]
        if not heads:
            break
        merged.append(max(heads, key=lambda r: r.rows[0]["id"]).rows.popleft())
    return merged


# The adapter ------------------------------------------------------------------------------------


class ScyllaTweetStore(SweptScyllaStore):
    schema = SCHEMA

    def __init__(self, session: CqlSession, *, outbox: ScyllaOutbox | None = None, owns_session: bool = False,
                 clock_ns: Callable[[], int] = time.time_ns, help_after_s: float = HELP_AFTER_S,
                 conflict_wait_s: float = CONFLICT_WAIT_S) -> None:
        super().__init__(session, outbox=outbox, owns_session=owns_session, clock_ns=clock_ns)
        self._txns = TimeUuids(clock_ns)
        self._help_after_s = help_after_s
        self._conflict_wait_s = conflict_wait_s
        self._sweeper = IntentSweeper(self._db, MARKERS, self._settle_marker, clock=self._now,
                                      help_after_s=help_after_s, log=log, name="tweet",
                                      described_by=("kind", "tweet_id"))

    def _now_ms(self) -> int:
        return self._clock_ns() // 1_000_000

    def _age_s(self, txn: uuid.UUID) -> float:
        return self._now() - uuid_unix_s(txn)

    # Reads --------------------------------------------------------------------------------------

    async def _counted(self, rows: Sequence[Mapping[str, Any]]) -> list[Tweet]:
        """Rows as tweets, each poll with its counters (one read per poll)."""
        polled = [row["id"] for row in rows if row.get("poll_options") is not None]
        found = await gather_limited(all_rows(self._db, select_poll_counts(i)) for i in polled)
        counts = dict(zip(polled, map(counts_of, found)))
        return [tweet_of(row, counts.get(row["id"])) for row in rows]

    async def _tweet_rows(self, tweet_ids: Sequence[int]) -> list[dict[str, Any]]:
        rows = await gather_limited(first_row(self._db, select_tweet(i)) for i in tweet_ids)
        return [row for row in rows if row is not None and row.get("author_id") is not None]

    async def get_tweets(self, tweet_ids: Iterable[int], *, include_gone: bool = False) -> dict[int, Tweet]:
        rows = await self._tweet_rows(list(dict.fromkeys(tweet_ids)))
        shown = [row for row in rows if include_gone or is_live(row)]
        return {tweet.id: tweet for tweet in await self._counted(shown)}

    async def user_tweets(self, author_id: int, *, since_id: int, until_id: int, limit: int) -> list[Tweet]:
        lowest, highest = id_range(since_id, until_id, self._now_ms())
        found: list[dict[str, Any]] = []
        if limit <= 0 or lowest > highest:
            return []
        for month in months_down(month_bucket(highest), month_bucket(lowest)):
            wanted = limit - len(found)
            statement = select_user_tweets(author_id, month, lowest - 1, highest + 1, wanted)
            found += await all_rows(self._db, statement, page_size=min(wanted, PAGE_SIZE))
            if len(found) >= limit:
                break
        return await self._counted(found[:limit])

    async def replies(self, conversation_id: int, parent_id: int, *, after_id: int, limit: int) -> list[Tweet]:
        if limit <= 0 or parent_id <= 0:
            return []
        statement = select_replies(conversation_id, parent_id, after_id, limit)
        return await self._counted(await all_rows(self._db, statement, page_size=min(limit, PAGE_SIZE)))

    async def recent_tweets(self, *, since_id: int, limit: int) -> list[Tweet]:
        """Walks the hours from now back to since_id's, RECENT_SHARDS reads an hour until the page is
        full: callers pass a window (the servicer: CHIRP_TWEET_POPULAR_WINDOW_S), as since_id=0 would
        walk every hour since the Snowflake epoch."""
        lowest, highest = id_range(since_id, 0, self._now_ms())
        found: list[dict[str, Any]] = []
        if limit <= 0 or lowest > highest:
            return []
        for hour in range(hour_bucket(highest), hour_bucket(lowest) - 1, -1):
            wanted = limit - len(found)
            # Tweets spread evenly over the shards: a page of twice a shard's share is mostly enough.
            page = min(wanted, PAGE_SIZE, max(16, -(-2 * wanted // RECENT_SHARDS)))
            readers = [PartitionReader(self._db, select_hour(hour, shard, lowest - 1, wanted), page)
                       for shard in range(RECENT_SHARDS)]
            found += await merge_newest(readers, wanted)
            if len(found) >= limit:
                break
        return await self._counted(found[:limit])

    async def tweet_for_key(self, author_id: int, idempotency_key: str) -> Tweet | None:
        claim = await first_row(self._db, select_claim(author_id, idempotency_key))
        if claim is None or claim.get("tweet_id") is None:
            return None
        return (await self.get_tweets([claim["tweet_id"]], include_gone=True)).get(claim["tweet_id"])

    async def viewer_votes(self, voter_id: int, tweet_ids: Iterable[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(tweet_ids))
        rows = await gather_limited(first_row(self._db, select_vote(i, voter_id)) for i in ids)
        return {i: row["option_index"] for i, row in zip(ids, rows) if row and row.get("option_index") is not None}

    async def tweet_counts(self, author_ids: Iterable[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(author_ids))
        rows = await gather_limited(first_row(self._db, select_tweet_count(i)) for i in ids)
        return {i: max(0, (row or {}).get("live") or 0) for i, row in zip(ids, rows)}

    # Creating -----------------------------------------------------------------------------------

    async def create_tweet(self, tweet: Tweet, idempotency_key: str, events: Sequence[OutgoingEvent]) -> Created:
        content = content_of(tweet)
        if not idempotency_key:
            try:
                await self._db.batch([*create_writes(content), *self._stage(events, tweet.author_id)])
            except Exception:
                log.warning("a tweet's batch failed; if it lands all the same, recount the author",
                            author_id=tweet.author_id, tweet_id=tweet.id)
                raise
            await self._count_tweets(tweet.author_id, +1)
            return Created(tweet_of(content), created=True)
        claim = await first_row(self._db, select_claim(tweet.author_id, idempotency_key))
        if claim is None or claim.get("tweet_id") is None:
            txn = self._txns.next()
            await self._db.execute(marker_insert(CREATE, tweet.id, tweet.author_id, idempotency_key, txn))
            claim = await self._claim(content, idempotency_key, txn, events)
            if claim is None:
                try:
                    await self._db.batch([*create_writes(content), *self._stage(events, tweet.author_id),
                                          marker_delete(tweet.id, txn)])
                finally:  # committed: it will be written (by the sweeper if not by us), so it counts
                    await self._count_tweets(tweet.author_id, +1)
                return Created(tweet_of(content), created=True)
            await self._sweeper.drop(tweet.id, txn)
        return Created(await self._claimed_tweet(tweet.author_id, idempotency_key, claim), created=False)

    async def load_tweets(self, tweets: Sequence[Tweet]) -> int:
        given = list({t.id: t for t in tweets}.values())
        stored = await gather_limited(first_row(self._db, select_tweet(t.id)) for t in given)
        fresh = [t for t, row in zip(given, stored) if row is None]

        async def load(tweet: Tweet) -> None:
            await self._db.batch(create_writes(content_of(tweet)))
            await self._count_tweets(tweet.author_id, +1)  # as create_tweet counts: once its rows are in

        await gather_limited(load(t) for t in fresh)
        return len(fresh)

    async def _claim(self, content: Mapping[str, Any], key: str, txn: uuid.UUID,
                     events: Sequence[OutgoingEvent]) -> dict[str, Any] | None:
        """Claims the key for this create: None when it applied, else the claim that holds it."""
        try:
            result = await self._db.lwt(claim_statement(content, key, txn, events))
        except Exception:
            # A failed LWT may still have landed: our version there says it did, another's that it
            # cannot (the key was taken); nothing there says nothing, so the error stands.
            found = await first_row(self._db, select_claim(content["author_id"], key))
            if found is None or found.get("txn") is None:
                raise
            return None if found["txn"] == txn else found
        if result.applied:
            return None
        if result.existing.get("txn") is not None:
            return result.existing
        found = await first_row(self._db, select_claim(content["author_id"], key))  # not returned: read it
        if found is None or found.get("txn") is None:
            raise create_in_progress()
        return found

    async def _claimed_tweet(self, author_id: int, key: str, claim: Mapping[str, Any]) -> Tweet:
        """The tweet of a claim another create holds: once it shows, or written from the claim's
        intent once the claim is old enough that its writer must have died."""
        started = time.monotonic()
        attempt = 0
        while True:
            tweet_id = claim["tweet_id"]
            found = (await self.get_tweets([tweet_id], include_gone=True)).get(tweet_id)
            if found is not None:
                return found
            if time.monotonic() - started >= self._conflict_wait_s:
                raise create_in_progress()
            if self._age_s(claim["txn"]) >= self._help_after_s:
                if not await self._finish_create(author_id, key, claim["txn"]):
                    # Written meanwhile, or the claim is another's now (it expired and was made again).
                    claim = await first_row(self._db, select_claim(author_id, key)) or claim
                continue
            await asyncio.sleep(min(0.2, 0.005 * 2 ** min(attempt, 6)))
            attempt += 1

    # Deleting and hiding ------------------------------------------------------------------------

    async def delete_tweet(
        self, tweet_id: int, author_id: int, deleted_at_ms: int, events: Sequence[OutgoingEvent]
    ) -> bool:
        row = await first_row(self._db, select_tweet(tweet_id))
        if not is_live(row) or row["author_id"] != author_id:  # type: ignore[index]
            return False
        txn = self._txns.next()
        await self._db.execute(marker_insert(DELETE, tweet_id, author_id, "", txn))
        try:
            applied = (await self._db.lwt(delete_statement(tweet_id, author_id, deleted_at_ms, txn, events))).applied
        except Exception:
            found = await first_row(self._db, select_tweet(tweet_id, with_change=True))
            if is_live(found):
                raise  # the LWT may yet apply: the marker stays for the sweeper
            applied = found is not None and found.get("delete_txn") == txn
        if not applied:
            await self._sweeper.drop(tweet_id, txn)
            return False
        try:
            await self._db.batch([*removal_writes(row, version_time_us(txn)),  # type: ignore[arg-type]
                                  *self._stage(events, author_id), marker_delete(tweet_id, txn)])
        finally:  # committed: the sweeper finishes what the batch did not
            await self._count_tweets(author_id, -1)
        return True

    async def hide_author_tweets(self, author_id: int, limit: int) -> int:
        hidden = 0
        seen: set[int] = set()
        for month in self._author_months():
            # Every row read leaves the list (hidden, or found gone already), so each read of the
            # month starts with rows not seen yet.
            while hidden < limit and (rows := await all_rows(
                    self._db, select_user_month(author_id, month, limit - hidden), page_size=PAGE_SIZE)):
                if not seen.isdisjoint(row["id"] for row in rows):
                    raise RuntimeError(f"rows of tweets_by_user ({author_id}, {month}) did not leave it")
                seen.update(row["id"] for row in rows)
                hidden += await self._hide(author_id, rows)
            if hidden >= limit:
                break
        return hidden

    def _author_months(self) -> Iterable[int]:
        """Every month an author's tweets can be in, newest first."""
        return months_down(month_bucket(newest_id(self._now_ms())), month_bucket(0))

    async def _author_rows(self, author_id: int) -> AsyncIterator[dict[str, Any]]:
        """Every row of an author's tweets_by_user months, newest month first, a page at a time."""
        for month in self._author_months():
            statement = select_user_month(author_id, month)
            async for page in pages(lambda state, s=statement: self._db.execute(
                    s, paging_state=state, page_size=PAGE_SIZE)):
                for row in page.rows:
                    yield row

    async def _hide(self, author_id: int, rows: Sequence[Mapping[str, Any]]) -> int:
        """Hides these tweets of the author's; returns how many it hid. A row whose tweet is gone
        already (a delete or a hide whose list writes did not happen) leaves the lists too."""

        async def hide(row: Mapping[str, Any]) -> bool:
            applied = (await self._db.lwt(hide_statement(row["id"], author_id))).applied
            await self._db.batch(removal_writes(row, self._clock_ns() // 1000))
            return applied

        return sum(await gather_limited(hide(row) for row in rows))

    # Voting -------------------------------------------------------------------------------------

    async def vote(self, tweet_id: int, voter_id: int, option_index: int, events: Sequence[OutgoingEvent]) -> int:
        earlier = await first_row(self._db, select_vote(tweet_id, voter_id))
        if earlier is not None and earlier.get("option_index") is not None:
            return earlier["option_index"]
        txn = self._txns.next()
        await self._db.execute(marker_insert(VOTE, tweet_id, voter_id, "", txn))
        try:
            result = await self._db.lwt(vote_statement(tweet_id, voter_id, option_index, txn, events))
            applied, earlier = result.applied, result.existing
        except Exception:
            earlier = await first_row(self._db, select_vote(tweet_id, voter_id))
            if earlier is None or earlier.get("txn") is None:
                raise  # the LWT may yet apply: the marker stays for the sweeper
            applied = earlier["txn"] == txn
        if not applied:
            await self._sweeper.drop(tweet_id, txn)
            return earlier["option_index"]
        try:
            await self._db.batch([voter_insert(tweet_id, voter_id, option_index), *self._stage(events, tweet_id),
                                  marker_delete(tweet_id, txn)])
        finally:  # committed: the sweeper finishes what the batch did not
            await self._count_vote(tweet_id, option_index)
        return option_index

    # Counters -----------------------------------------------------------------------------------

    async def _count_tweets(self, author_id: int, delta: int) -> None:
        try:
            await self._db.execute(tweet_count_update(author_id, delta))
        except Exception as exc:  # not retried: it may have landed. recount_tweet_counts repairs it.
            log.warning("a tweet counter update failed; recount the author", author_id=author_id, delta=delta,
                        error=repr(exc))

    async def _count_vote(self, tweet_id: int, option_index: int) -> None:
        try:
            await self._db.execute(poll_count_update(tweet_id, option_index, 1))
        except Exception as exc:  # not retried: it may have landed. recount_polls repairs it.
            log.warning("a poll counter update failed; recount the poll", tweet_id=tweet_id,
                        option_index=option_index, error=repr(exc))

    async def recount_tweet_counts(self, author_ids: Iterable[int]) -> dict[int, int]:
        """The repair path for tweet counters a crash or a failed update left off (see the module
        doc): sets each author's counter to the rows of their tweets_by_user months. Returns the
        counts set."""
        result: dict[int, int] = {}
        for author_id in dict.fromkeys(author_ids):
            live = 0
            async for _ in self._author_rows(author_id):
                live += 1
            row = await first_row(self._db, select_tweet_count(author_id)) or {}
            delta = live - (row.get("live") or 0)
            if delta:
                await self._db.execute(tweet_count_update(author_id, delta))
                log.warning("tweet counter recounted", author_id=author_id, delta=delta)
            result[author_id] = live
        return result

    async def recount_polls(self, tweet_ids: Iterable[int]) -> dict[int, dict[int, int]]:
        """The repair path for poll counters: sets each option's counter to the poll's poll_voters
        rows. Returns the counts set, by tweet and option (options nobody voted for left out)."""
        result: dict[int, dict[int, int]] = {}
        for tweet_id in dict.fromkeys(tweet_ids):
            voters = await all_rows(self._db, select_voters(tweet_id), page_size=PAGE_SIZE)
            truth = collections.Counter(row["option_index"] for row in voters)
            counted = counts_of(await all_rows(self._db, select_poll_counts(tweet_id)))
            for option in sorted(set(truth) | set(counted)):
                delta = truth[option] - counted.get(option, 0)
                if delta:
                    await self._db.execute(poll_count_update(tweet_id, option, delta))
                    log.warning("poll counter recounted", tweet_id=tweet_id, option_index=option, delta=delta)
            result[tweet_id] = dict(truth)
        return result

    # Finishing what a writer left ---------------------------------------------------------------

    async def _finish_create(self, author_id: int, key: str, txn: uuid.UUID) -> bool:
        """Writes the tweet a claim committed if it is not there (its writer died). Not counted."""
        claim = await first_row(self._db, select_claim(author_id, key))
        if claim is None or claim.get("txn") != txn:
            return False  # the claim is another's: this create never committed
        if await first_row(self._db, select_tweet(claim["tweet_id"])) is not None:
            return False
        content, events = create_intent_of(claim.get("intent"))
        await self._db.batch([*create_writes(content), *self._stage(events, author_id),
                              marker_delete(content["id"], txn)])
        log.warning("finished a tweet create its writer left unfinished; recount the author",
                    author_id=author_id, tweet_id=content["id"], recount_author_ids=[author_id])
        return True

    async def _finish_delete(self, tweet_id: int, txn: uuid.UUID) -> bool:
        row = await first_row(self._db, select_tweet(tweet_id, with_change=True))
        if row is None or row.get("delete_txn") != txn:
            return False  # the delete's LWT did not apply
        await self._db.batch([*removal_writes(row, version_time_us(txn)),
                              *self._stage(change_intent_of(row.get("delete_intent")), row["author_id"]),
                              marker_delete(tweet_id, txn)])
        log.warning("finished a tweet delete its writer left unfinished", tweet_id=tweet_id,
                    recount_author_ids=[row["author_id"]])
        return True

    async def _finish_vote(self, tweet_id: int, voter_id: int, txn: uuid.UUID) -> bool:
        row = await first_row(self._db, select_vote(tweet_id, voter_id))
        if row is None or row.get("txn") != txn:
            return False  # the vote's LWT did not apply
        await self._db.batch([voter_insert(tweet_id, voter_id, row["option_index"]),
                              *self._stage(change_intent_of(row.get("intent")), tweet_id),
                              marker_delete(tweet_id, txn)])
        log.warning("finished a poll vote its writer left unfinished", tweet_id=tweet_id, voter_id=voter_id,
                    recount_tweet_ids=[tweet_id])
        return True

    async def _finish(self, marker: Mapping[str, Any]) -> bool:
        kind, tweet_id, actor, txn = marker["kind"], marker["tweet_id"], marker["actor_id"], marker["txn"]
        if kind == CREATE:
            return await self._finish_create(actor, marker["request_key"], txn)
        if kind == DELETE:
            return await self._finish_delete(tweet_id, txn)
        if kind == VOTE:
            return await self._finish_vote(tweet_id, actor, txn)
        raise ValueError(f"an intent marker of an unknown kind: {kind!r}")

    async def _settle_marker(self, marker: Row) -> bool:
        """The sweeper's settle: finishes a ripe marker's change if it is unfinished, drops the marker."""
        finished = await self._finish(marker)
        await self._db.execute(marker_delete(marker["tweet_id"], marker["txn"]))
        return finished
