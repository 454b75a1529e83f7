"""The graph store on ScyllaDB: a keyspace of its own, one table per query, every change between two
accounts serialized by a lightweight transaction on the row of that pair, and the outbox written in
the same logged batch as the rows the change derives.

Tables, and the query each one answers (all reads name one partition):
- pairs                   ((low_id, high_id)): every edge between two accounts (follows, requests,
                          blocks, mutes, both ways, as the seq each was made at), the pair's version
                          `txn` and the `intent` of its last change. The authority, written only by LWT.
- relationships_by_user   (user_id, other_id): the same edges from each side, with the version they
                          show. How a viewer stands towards others: one partition, `other_id IN ?`
                          (chunks of 100, ScyllaDB's max_clustering_key_restrictions_per_query).
- follows_by_follower     (follower_id; seq DESC, followee_id DESC): following, newest first.
- follows_by_followee     (followee_id; seq DESC, follower_id DESC): followers, newest first.
- requests_by_target      (target_id; seq DESC, requester_id DESC): pending requests to an account.
- requests_by_requester   (requester_id; target_id): the requests an account made.
- blocks_by_blocker       (blocker_id; seq DESC, blocked_id DESC): blocks, newest first.
- mutes_by_muter          (muter_id; seq DESC, muted_id DESC): mutes, newest first.
- follow_counts           (user_id): followers and following, COUNTER columns.
- open_intents            ((shard, bucket); txn): changes committed but maybe not yet derived (below).
- open_intents_watermark, outbox, outbox_watermark: the sweeper's and the relay's (runtime/scylla.py).
Pages are keyset pages on the clustering position: `(seq, member) < (?, ?)` compares by value,
results in clustering order (newest first); no ALLOW FILTERING anywhere.

A change, `apply(viewer, others, plan, publish)`:
1. Read the viewer's relationships_by_user rows (edges and the pair version each shows) and let the
   planner decide. Changes are grouped by pair; `publish` makes each group's events before anything
   is written, so a planner or publisher that raises writes nothing.
2. Per pair: write a marker in open_intents, then the LWT `UPDATE pairs ... IF txn = <the version
   the planner saw>` that sets the new edges, a new version and the intent (the edges before, and
   the events). This is the commit point and the serialization point: of two concurrent follows of
   one pair exactly one applies; the other finds a newer version, waits for it to show in the
   relationship rows, plans again and finds the follow there (nothing to do, nothing counted). A
   follow racing a block meets the same way, so no plan ever acts on edges it did not see.
3. One logged batch: both relationships_by_user rows, the list rows added and removed, the outbox
   rows of the events, and the marker's deletion. Every derived write is `USING TIMESTAMP` the
   version's time, and a new version is always later than the one it replaces (even across hosts
   with skewed clocks), so replaying a batch is harmless and a late one (the batchlog's replay of a
   batch that timed out) can never undo a newer change.
4. The counters. A plan touching many pairs (approving every request, replacing a block list, a
   deleted account's chunk) commits each pair on its own: a failure part way leaves whole pairs done
   or not, and running the plan again finishes the rest (planners change nothing that is already so).

Counters under retries and crashes: counter updates are not idempotent and cannot share a batch
with the rows, so they are applied AT MOST ONCE: only by the writer whose LWT applied, once for the
whole `apply` (summed per account), never retried by the driver (not idempotent), and never by
anyone who finishes another writer's change. A plan that changes nothing counts nothing, and a
retried request finds the edge there and changes nothing. An LWT that timed out is read back: if
the pair shows our version it was ours, and is counted. What remains is a crash, or a failed counter
update, between the LWT and the counter write: the counts are then off by that change (logged,
with the accounts). The repair path is `recount(user_ids)`, which sets each counter to the number
of rows in follows_by_follower / follows_by_followee (run it for the accounts a warning names, or
for all accounts of a cluster that lost a node mid-write; racing writes to the same account can
make it off by those writes, so run it again once they are quiet). Counts are shown never below 0.

A writer that dies between its LWT and its batch leaves the pair committed but not derived: its
relationship rows show the older version, and its events are in the intent only. Whoever meets
that (an `apply` whose LWT finds the newer version, once it is HELP_AFTER_S old) finishes it from
the intent: the same derived rows at the same timestamps, the events (an event may then be staged
twice, with the same event id, which JetStream's de-duplication and idempotent consumers absorb),
and the marker's deletion. Nobody may ever meet it, so `sweep()` (run by `sweep_forever`, a
background task of the service) reads the open_intents markers older than HELP_AFTER_S, finishes
what is unfinished and drops the rest: nothing is lost and nothing waits for the next touch.

Costs of a change: one read, one marker write, one LWT, one logged batch, and counter updates when
follows moved. The pair and relationship rows of accounts that were once related stay (with no
edges) because they carry the pair's version.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
from services.runtime.errors import Unavailable
from services.runtime.events import OutgoingEvent
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
)
from services.runtime.scylla import uuid_unix_ns as unix_ns

log = get_logger("chirp.graph.store")

# A change committed this long ago whose derived rows are not there was left by a writer that died:
# whoever meets it finishes it. Longer than a live writer takes from its LWT to its batch.
HELP_AFTER_S = 30.0
# How long `apply` waits for another writer's change to the same pair to show before it gives up
# with UNAVAILABLE (the client retries).
CONFLICT_WAIT_S = 3.0
# ScyllaDB refuses more clustering keys in one IN (max_clustering_key_restrictions_per_query).
IN_CHUNK = 100
COMMIT_CONCURRENCY = 32
COUNT_PAGE_SIZE = 5000


# Edges between two accounts -------------------------------------------------------------------

EDGES = ("following", "followed_by", "pending", "requested_by", "blocking", "blocked_by", "muting", "muted_by")
_OUT = ("following", "pending", "blocking", "muting")  # edges from the side's account to the other
_MIRROR = {**dict(zip(_OUT, EDGES[1::2])), **dict(zip(EDGES[1::2], _OUT))}

# What each effect does, named from its source's side: the edge, and whether it adds it.
_EFFECTS: dict[Effect, tuple[str, bool]] = {
    Effect.FOLLOWED: ("following", True),
    Effect.UNFOLLOWED: ("following", False),
    Effect.REQUESTED: ("pending", True),
    Effect.REQUEST_APPROVED: ("pending", False),
    Effect.REQUEST_REJECTED: ("pending", False),
    Effect.REQUEST_WITHDRAWN: ("pending", False),
    Effect.BLOCKED: ("blocking", True),
    Effect.UNBLOCKED: ("blocking", False),
    Effect.MUTED: ("muting", True),
    Effect.UNMUTED: ("muting", False),
}


@dataclass(frozen=True)
class Edges:
    """The edges between an account and another, from the account's side: the seq each was made at,
    or None. `muted_by` is kept for the other side's sake and never shown (mutes are the muter's)."""

    following: int | None = None
    followed_by: int | None = None
    pending: int | None = None
    requested_by: int | None = None
    blocking: int | None = None
    blocked_by: int | None = None
    muting: int | None = None
    muted_by: int | None = None

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> Edges:
        return cls(**{name: row.get(name) for name in EDGES})

    def values(self) -> tuple[int | None, ...]:
        return tuple(getattr(self, name) for name in EDGES)

    def mirrored(self) -> Edges:
        """The same edges from the other account's side."""
        return Edges(**{_MIRROR[name]: getattr(self, name) for name in EDGES})

    def relationship(self, other: int) -> Relationship:
        return Relationship(
            user_id=other,
            following=self.following is not None,
            followed_by=self.followed_by is not None,
            pending=self.pending is not None,
            requested_by=self.requested_by is not None,
            blocking=self.blocking is not None,
            blocked_by=self.blocked_by is not None,
            muting=self.muting is not None,
        )


@dataclass(frozen=True)
class View:
    """A relationships_by_user row: the edges from its user's side and the pair version it shows."""

    edges: Edges = Edges()
    txn: uuid.UUID | None = None

    def from_side(self, low_side: bool) -> View:
        return self if low_side else View(self.edges.mirrored(), self.txn)


def pair_of(a: int, b: int) -> tuple[int, int]:
    """The pair's key: its lower id, then its higher."""
    if a == b:
        raise ValueError(f"an edge joins two accounts, got {a} twice")
    return (a, b) if a < b else (b, a)


def group_changes(changes: Iterable[Change]) -> dict[tuple[int, int], list[Change]]:
    """The changes of a plan by pair, in the plan's order."""
    groups: dict[tuple[int, int], list[Change]] = {}
    for change in changes:
        groups.setdefault(pair_of(change.source, change.target), []).append(change)
    return groups


def changed(low: int, edges: Edges, changes: Iterable[Change]) -> Edges:
    """The pair's edges (low side) after `changes`: adding what exists or removing what does not
    changes nothing (an existing edge keeps the seq it was made at)."""
    cells = dataclasses.asdict(edges)
    for change in changes:
        edge, adds = _EFFECTS[change.effect]
        column = edge if change.source == low else _MIRROR[edge]
        if not adds:
            cells[column] = None
        elif cells[column] is None:
            cells[column] = change.seq
    return Edges(**cells)


def _edge(low: int, high: int, column: str) -> tuple[str, int, int]:
    """(kind, source, target) of the low-side edge `column`."""
    return (column, low, high) if column in _OUT else (_MIRROR[column], high, low)


def counter_deltas(low: int, high: int, before: Edges, after: Edges) -> collections.Counter[tuple[int, str]]:
    """How a pair's change moves the counters: (account, "followers" | "following") -> delta."""
    deltas: collections.Counter[tuple[int, str]] = collections.Counter()
    for column in ("following", "followed_by"):
        old, new = getattr(before, column), getattr(after, column)
        if (old is None) == (new is None):
            continue
        step = 1 if new is not None else -1
        _, follower, followee = _edge(low, high, column)
        deltas.update({(follower, "following"): step, (followee, "followers"): step})
    return deltas


# Versions ---------------------------------------------------------------------------------------


def write_time_us(txn: uuid.UUID) -> int:
    """The write timestamp of a version's derived rows (microseconds, as CQL has them)."""
    return unix_ns(txn) // 1000


class TxnClock:
    """Pair versions: timeuuids that increase within the process and always pass the version they
    replace by at least a microsecond, so that their write timestamps order each pair's changes
    whichever host makes them. `reserve` keeps room after a version for the ids of its events."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        self._last = 0

    def next(self, after: uuid.UUID | None = None, *, reserve: int = 0) -> uuid.UUID:
        with self._lock:
            ns = max(self._clock_ns(), self._last + 1000, unix_ns(after) + 1000 if after else 0)
            self._last = ns + 100 * reserve
        return TimeUuids(lambda: ns).next()


# The intent: what a committed change must still write ------------------------------------------


@dataclass(frozen=True)
class Intent:
    """Kept in the pair row by the LWT, so that anyone can finish the change: the edges before it
    (the row holds those after) and the events it reports."""

    before: Edges
    events: tuple[OutgoingEvent, ...]

    def to_json(self) -> str:
        return json.dumps({
            "before": list(self.before.values()),
            "events": [[e.event_id, e.subject, e.event_type, base64.b64encode(e.payload).decode()] for e in self.events],
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> Intent:
        if not text:
            raise ValueError("the pair row has no intent to finish")
        data = json.loads(text)
        before = Edges(**dict(zip(EDGES, data["before"], strict=True)))
        return cls(before, tuple(OutgoingEvent(i, s, t, base64.b64decode(p)) for i, s, t, p in data["events"]))


# Schema -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListTable:
    """A list of one account's edges of one kind: partition `owner`, clustered newest first by
    (seq, member) or, with by_seq False, by member alone."""

    name: str
    owner: str
    member: str
    owned_by_source: bool  # the owner is the follower, requester, blocker or muter
    by_seq: bool = True

    def schema(self) -> str:
        if self.by_seq:
            key, order = f"({self.owner}, seq, {self.member})", f" WITH CLUSTERING ORDER BY (seq DESC, {self.member} DESC)"
        else:
            key, order = f"({self.owner}, {self.member})", ""
        return (f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {self.owner} bigint,\n  seq bigint,\n"
                f"  {self.member} bigint,\n  PRIMARY KEY {key}\n){order}")

    def ends(self, source: int, target: int) -> tuple[int, int]:
        """(owner, member) of the edge source -> target."""
        return (source, target) if self.owned_by_source else (target, source)


FOLLOWING = ListTable("follows_by_follower", "follower_id", "followee_id", owned_by_source=True)
FOLLOWERS = ListTable("follows_by_followee", "followee_id", "follower_id", owned_by_source=False)
REQUESTS_TO = ListTable("requests_by_target", "target_id", "requester_id", owned_by_source=False)
REQUESTS_FROM = ListTable("requests_by_requester", "requester_id", "target_id", owned_by_source=True, by_seq=False)
BLOCKS = ListTable("blocks_by_blocker", "blocker_id", "blocked_id", owned_by_source=True)
MUTES = ListTable("mutes_by_muter", "muter_id", "muted_id", owned_by_source=True)
LISTS: dict[str, tuple[ListTable, ...]] = {
    "following": (FOLLOWING, FOLLOWERS),
    "pending": (REQUESTS_TO, REQUESTS_FROM),
    "blocking": (BLOCKS,),
    "muting": (MUTES,),
}

_EDGE_COLUMNS = ",\n".join(f"  {name} bigint" for name in EDGES)

# A pair's change, from before its LWT until its batch: the pair, and its version.
MARKERS = IntentMarkers("txn", (("low_id", "bigint"), ("high_id", "bigint")), shard_by="low_id")

SCHEMA: list[str] = [
    f"""CREATE TABLE IF NOT EXISTS pairs (
  low_id bigint,
  high_id bigint,
{_EDGE_COLUMNS},
  txn timeuuid,
  intent text,
  PRIMARY KEY ((low_id, high_id))
)""",
    f"""CREATE TABLE IF NOT EXISTS relationships_by_user (
  user_id bigint,
  other_id bigint,
{_EDGE_COLUMNS},
  txn timeuuid,
  PRIMARY KEY (user_id, other_id)
)""",
    *(table.schema() for tables in LISTS.values() for table in tables),
    """CREATE TABLE IF NOT EXISTS follow_counts (
  user_id bigint PRIMARY KEY,
  followers counter,
  following counter
)""",
    *MARKERS.schema(),
    *OUTBOX_SCHEMA,
]


# Statements: pure functions of their arguments --------------------------------------------------

_EDGE_NAMES = ", ".join(EDGES)
_EDGE_MARKS = ", ".join("?" * len(EDGES))


def select_views(user_id: int, other_ids: Sequence[int]) -> Statement:
    if not 0 < len(other_ids) <= IN_CHUNK:
        raise ValueError(f"ask about 1 to {IN_CHUNK} accounts at once, not {len(other_ids)}")
    return Statement(
        f"SELECT other_id, {_EDGE_NAMES}, txn FROM relationships_by_user WHERE user_id = ? AND other_id IN ?",
        (user_id, list(other_ids)),
    )


def view_insert(user_id: int, other_id: int, edges: Edges, txn: uuid.UUID) -> Statement:
    return Statement(
        f"INSERT INTO relationships_by_user (user_id, other_id, {_EDGE_NAMES}, txn)"
        f" VALUES (?, ?, {_EDGE_MARKS}, ?) USING TIMESTAMP ?",
        (user_id, other_id, *edges.values(), txn, write_time_us(txn)),
    )


def select_pair(low: int, high: int) -> Statement:
    return Statement(f"SELECT {_EDGE_NAMES}, txn, intent FROM pairs WHERE low_id = ? AND high_id = ?", (low, high))


def commit_statement(low: int, high: int, after: Edges, txn: uuid.UUID, intent: Intent,
                     expected: uuid.UUID | None) -> Statement:
    """The LWT that commits a change: only on the version the planner saw (none, for a new pair)."""
    assignments = ", ".join(f"{name} = ?" for name in (*EDGES, "txn", "intent"))
    condition, expected_params = ("IF txn = null", ()) if expected is None else ("IF txn = ?", (expected,))
    return Statement(
        f"UPDATE pairs SET {assignments} WHERE low_id = ? AND high_id = ? {condition}",
        (*after.values(), txn, intent.to_json(), low, high, *expected_params),
        idempotent=False,
    )


def list_insert(table: ListTable, source: int, target: int, seq: int, txn: uuid.UUID) -> Statement:
    owner, member = table.ends(source, target)
    return Statement(
        f"INSERT INTO {table.name} ({table.owner}, {table.member}, seq) VALUES (?, ?, ?) USING TIMESTAMP ?",
        (owner, member, seq, write_time_us(txn)),
    )


def list_delete(table: ListTable, source: int, target: int, seq: int, txn: uuid.UUID) -> Statement:
    owner, member = table.ends(source, target)
    if table.by_seq:
        return Statement(
            f"DELETE FROM {table.name} USING TIMESTAMP ? WHERE {table.owner} = ? AND seq = ? AND {table.member} = ?",
            (write_time_us(txn), owner, seq, member),
        )
    return Statement(
        f"DELETE FROM {table.name} USING TIMESTAMP ? WHERE {table.owner} = ? AND {table.member} = ?",
        (write_time_us(txn), owner, member),
    )


def derived_writes(low: int, high: int, before: Edges, after: Edges, txn: uuid.UUID) -> list[Statement]:
    """Every row a pair's change derives: both relationship rows, then the list rows it adds and removes.
    A pure function of the change, written at the version's time: replaying it changes nothing."""
    statements = [view_insert(low, high, after, txn), view_insert(high, low, after.mirrored(), txn)]
    for column in EDGES:
        old, new = getattr(before, column), getattr(after, column)
        if old == new:
            continue
        kind, source, target = _edge(low, high, column)
        for table in LISTS[kind]:
            if old is not None and (new is None or table.by_seq):  # a row keyed without seq is overwritten
                statements.append(list_delete(table, source, target, old, txn))
            if new is not None:
                statements.append(list_insert(table, source, target, new, txn))
    return statements


def page_statement(table: ListTable, key: int, after: Position | None, limit: int) -> Statement:
    """A keyset page of a newest-first list: `limit` + 1 rows strictly after `after` (the extra one
    says more follow)."""
    if not table.by_seq:
        raise ValueError(f"{table.name} is not ordered by seq")
    cql, params = f"SELECT {table.member}, seq FROM {table.name} WHERE {table.owner} = ?", [key]
    if after is not None:
        cql += f" AND (seq, {table.member}) < (?, ?)"
        params += [after.seq, after.user_id]
    return Statement(cql + " LIMIT ?", (*params, limit + 1))


def members_statement(table: ListTable, key: int, limit: int | None = None) -> Statement:
    cql = f"SELECT {table.member} FROM {table.name} WHERE {table.owner} = ?"
    return Statement(cql, (key,)) if limit is None else Statement(cql + " LIMIT ?", (key, limit))


def counter_update(user_id: int, followers: int, following: int) -> Statement:
    """Not idempotent: a driver that retried it after a timeout could count twice."""
    return Statement(
        "UPDATE follow_counts SET followers = followers + ?, following = following + ? WHERE user_id = ?",
        (followers, following, user_id), idempotent=False,
    )


def select_counts(user_id: int) -> Statement:
    return Statement("SELECT followers, following FROM follow_counts WHERE user_id = ?", (user_id,))


def marker_key(low: int, txn: uuid.UUID) -> tuple[int, int]:
    """(shard, bucket) of a change's open_intents marker: from the pair and the version alone."""
    return MARKERS.key(low, txn)


def marker_insert(low: int, high: int, txn: uuid.UUID) -> Statement:
    return MARKERS.insert(low, txn, low, high)


def marker_delete(low: int, txn: uuid.UUID) -> Statement:
    return MARKERS.delete(low, txn)


# Rows -> domain ---------------------------------------------------------------------------------


def view_of(row: Mapping[str, Any]) -> View:
    return View(Edges.of_row(row), row.get("txn"))


def entries_of(table: ListTable, rows: Iterable[Mapping[str, Any]]) -> list[Entry]:
    return [Entry(row[table.member], row["seq"]) for row in rows]


def counts_of(row: Mapping[str, Any] | None) -> FollowCounts:
    """Counters as shown: a counter that a lost update left below zero shows 0 (recount repairs it)."""
    if row is None:
        return FollowCounts()
    return FollowCounts(max(0, row.get("followers") or 0), max(0, row.get("following") or 0))


# The adapter ------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    """What committing one pair's changes came to."""

    pair: tuple[int, int]
    changes: list[Change]
    committed: bool = False
    found: uuid.UUID | None = None  # when not committed: the pair's version instead of the one read
    counts: collections.Counter[tuple[int, str]] = field(default_factory=collections.Counter)
    error: BaseException | None = None


class ScyllaGraphStore(SweptScyllaStore):
    schema = SCHEMA

    def __init__(self, session: CqlSession, *, outbox: ScyllaOutbox | None = None, owns_session: bool = False,
                 clock_ns: Callable[[], int] = time.time_ns, help_after_s: float = HELP_AFTER_S,
                 conflict_wait_s: float = CONFLICT_WAIT_S) -> None:
        super().__init__(session, outbox=outbox, owns_session=owns_session, clock_ns=clock_ns)
        self._txns = TxnClock(clock_ns)
        self._help_after_s = help_after_s
        self._conflict_wait_s = conflict_wait_s
        self._sweeper = IntentSweeper(self._db, MARKERS, self._settle_marker, clock=self._now,
                                      help_after_s=help_after_s, log=log, name="graph",
                                      described_by=("low_id", "high_id"))

    def _stage_at(self, events: Sequence[OutgoingEvent], low: int, at: uuid.UUID) -> list[Statement]:
        """Outbox rows whose ids start at version `at`: a pair's events sort in the order of its versions."""
        return self._stage(events, low, TimeUuids(lambda: unix_ns(at)))

    # Reads --------------------------------------------------------------------------------------

    async def _views(self, user_id: int, other_ids: Sequence[int]) -> dict[int, View]:
        chunks = [other_ids[i:i + IN_CHUNK] for i in range(0, len(other_ids), IN_CHUNK)]
        found = await gather_limited(all_rows(self._db, select_views(user_id, chunk)) for chunk in chunks)
        views = {row["other_id"]: view_of(row) for rows in found for row in rows}
        return {other: views.get(other, View()) for other in other_ids}

    async def relationships(self, viewer_id: int, other_ids: Iterable[int]) -> dict[int, Relationship]:
        views = await self._views(viewer_id, list(dict.fromkeys(other_ids)))
        return {other: view.edges.relationship(other) for other, view in views.items()}

    async def _page(self, table: ListTable, key: int, after: Position | None, limit: int) -> Page:
        statement = page_statement(table, key, after, limit)
        rows = await all_rows(self._db, statement, page_size=min(limit + 1, COUNT_PAGE_SIZE))
        return page_of(entries_of(table, rows), limit)

    async def following(self, user_id: int, after: Position | None, limit: int) -> Page:
        return await self._page(FOLLOWING, user_id, after, limit)

    async def followers(self, user_id: int, after: Position | None, limit: int) -> Page:
        return await self._page(FOLLOWERS, user_id, after, limit)

    async def follow_requests(self, target_id: int, after: Position | None, limit: int) -> Page:
        return await self._page(REQUESTS_TO, target_id, after, limit)

    async def _members(self, table: ListTable, key: int) -> list[int]:
        return [row[table.member] for row in await all_rows(self._db, members_statement(table, key))]

    async def blocked_ids(self, owner_id: int) -> list[int]:
        return await self._members(BLOCKS, owner_id)

    async def muted_ids(self, owner_id: int) -> list[int]:
        return await self._members(MUTES, owner_id)

    async def counts(self, user_ids: Iterable[int]) -> dict[int, FollowCounts]:
        ids = list(dict.fromkeys(user_ids))
        rows = await gather_limited(first_row(self._db, select_counts(i)) for i in ids)
        return {user_id: counts_of(row) for user_id, row in zip(ids, rows)}

    async def counterparties(self, user_id: int, limit: int) -> list[int]:
        if limit <= 0:
            return []
        tables = (FOLLOWING, FOLLOWERS, REQUESTS_FROM, REQUESTS_TO)
        found = await gather_limited(self._db.execute(members_statement(t, user_id, limit)) for t in tables)
        others = dict.fromkeys(row[t.member] for t, page in zip(tables, found) for row in page.rows)
        return list(others)[:limit]

    # Changes ------------------------------------------------------------------------------------

    async def apply(self, viewer_id: int, other_ids: Iterable[int], plan: Planner, publish: Publisher) -> Plan:
        ids = list(dict.fromkeys(other_ids))
        written: list[Change] = []
        waiting_since: float | None = None
        attempt = 0
        while True:
            views = await self._views(viewer_id, ids)
            decided = plan({other: view.edges.relationship(other) for other, view in views.items()})
            groups = group_changes(decided.changes)
            events = {pair: list(publish(changes)) for pair, changes in groups.items()}  # before any write
            befores = {pair: await self._before(viewer_id, views, pair) for pair in groups}
            outcomes = await gather_limited(
                (self._commit(pair, befores[pair], changes, events[pair]) for pair, changes in groups.items()),
                COMMIT_CONCURRENCY,
            )
            await self._count(outcomes)
            for outcome in outcomes:
                if outcome.error is not None:
                    raise outcome.error
            written += [change for outcome in outcomes if outcome.committed for change in outcome.changes]
            conflicts = [outcome for outcome in outcomes if not outcome.committed]
            if not conflicts:
                return decided if attempt == 0 else Plan(tuple(written), decided.state)
            # Another writer changed a pair after it was read: let that change show, then plan again.
            waiting_since = time.monotonic() if waiting_since is None else waiting_since
            await self._settle(conflicts, waiting_since, attempt)
            attempt += 1

    async def _before(self, viewer_id: int, views: Mapping[int, View], pair: tuple[int, int]) -> View:
        """The pair as the plan saw it (low side); a pair the plan did not read is read now."""
        low, high = pair
        other = high if viewer_id == low else low if viewer_id == high else None
        if other is not None and other in views:
            return views[other].from_side(viewer_id == low)
        return (await self._views(low, [high]))[high]

    async def _commit(self, pair: tuple[int, int], before: View, changes: list[Change],
                      events: Sequence[OutgoingEvent]) -> _Outcome:
        low, high = pair
        outcome = _Outcome(pair, changes)
        after = changed(low, before.edges, changes)
        try:
            if after == before.edges:
                # The changes add what exists or remove what does not: nothing to serialize, but the
                # plan's events are staged all the same, as every adapter does.
                if events:
                    await self._db.batch(self._stage_at(events, low, self._txns.next(reserve=len(events))))
                outcome.committed = True
                return outcome
            txn = self._txns.next(before.txn, reserve=len(events))
            await self._db.execute(marker_insert(low, high, txn))
            try:
                result = await self._db.lwt(commit_statement(low, high, after, txn, Intent(before.edges, tuple(events)),
                                                             before.txn))
                applied, outcome.found = result.applied, result.existing.get("txn")
            except Exception:
                # A failed LWT may still have landed: if the pair shows our version, it is ours.
                if not await self._shows(pair, txn):
                    raise  # the marker stays: the sweeper settles whichever way it went
                applied = True
            if not applied:
                await self._sweeper.drop(low, txn)
                return outcome
            # Committed: from here the change happens, whatever fails; its counters are ours alone.
            outcome.committed = True
            outcome.counts = counter_deltas(low, high, before.edges, after)
            await self._db.batch([
                *derived_writes(low, high, before.edges, after, txn),
                *self._stage_at(events, low, txn),
                marker_delete(low, txn),
            ])
        except Exception as exc:
            outcome.error = exc  # a committed change is finished from its intent (see the module doc)
        return outcome

    async def _shows(self, pair: tuple[int, int], txn: uuid.UUID) -> bool:
        row = await first_row(self._db, select_pair(*pair))
        return row is not None and row.get("txn") == txn

    async def _count(self, outcomes: Iterable[_Outcome]) -> None:
        """Applies the counter deltas of the committed changes, summed per account, each once."""
        per_user: dict[int, list[int]] = {}
        for outcome in outcomes:
            for (user_id, column), delta in outcome.counts.items():
                per_user.setdefault(user_id, [0, 0])[0 if column == "followers" else 1] += delta

        async def update(user_id: int, followers: int, following: int) -> None:
            try:
                await self._db.execute(counter_update(user_id, followers, following))
            except Exception as exc:  # not retried: it may have landed. recount() repairs either way.
                log.warning("a follow counter update failed; recount the account", user_id=user_id,
                            followers=followers, following=following, error=repr(exc))

        await gather_limited(update(u, f, g) for u, (f, g) in per_user.items() if f or g)

    async def _settle(self, conflicts: Sequence[_Outcome], waiting_since: float, attempt: int) -> None:
        """Before planning again: finishes the changes found that are old enough to have been left by a
        writer that died; waits a little for younger ones, up to conflict_wait_s (then UNAVAILABLE).
        Ages of versions are wall-clock times; the wait is measured on the monotonic clock."""
        young = False
        for conflict in conflicts:
            if conflict.found is None:
                raise RuntimeError(f"the pairs row of {conflict.pair} is missing though its relationship rows exist")
            if self._now() - unix_ns(conflict.found) / 1e9 >= self._help_after_s:
                await self._finish(*conflict.pair, conflict.found)
            else:
                young = True
        if time.monotonic() - waiting_since >= self._conflict_wait_s:
            raise Unavailable("RELATIONSHIP_BUSY", "Another change to this relationship is being written; try again.")
        if young:
            await asyncio.sleep(min(0.2, 0.005 * 2 ** min(attempt, 6)))

    async def _finish(self, low: int, high: int, txn: uuid.UUID | None = None) -> bool:
        """Writes what the pair's last change derives if its relationship rows do not show it yet (its
        writer died, or is past help_after_s). Counters are not moved: only a change's writer does."""
        row = await first_row(self._db, select_pair(low, high))
        if row is None or row.get("txn") is None or (txn is not None and row["txn"] != txn):
            return False  # gone past it: a later change was planned on a view that showed it
        current = row["txn"]
        if (await self._views(low, [high]))[high].txn == current:
            return False  # finished already
        intent = Intent.from_json(row.get("intent"))
        after = Edges.of_row(row)
        await self._db.batch([
            *derived_writes(low, high, intent.before, after, current),
            *self._stage_at(intent.events, low, self._txns.next(reserve=len(intent.events))),
            marker_delete(low, current),
        ])
        short = sorted({user for (user, _), delta in counter_deltas(low, high, intent.before, after).items() if delta})
        log.warning("finished a graph change its writer left unfinished", low_id=low, high_id=high,
                    txn=str(current), events=len(intent.events), recount_user_ids=short)
        return True

    # The sweeper --------------------------------------------------------------------------------

    async def _settle_marker(self, marker: Row) -> bool:
        """The sweeper's settle: finishes a ripe marker's change if it is unfinished, drops the marker."""
        finished = await self._finish(marker["low_id"], marker["high_id"], marker["txn"])
        await self._db.execute(marker_delete(marker["low_id"], marker["txn"]))
        return finished

    # Repair -------------------------------------------------------------------------------------

    async def _rows_in(self, table: ListTable, key: int) -> int:
        statement = members_statement(table, key)
        total = 0
        async for page in pages(lambda state: self._db.execute(statement, paging_state=state,
                                                               page_size=COUNT_PAGE_SIZE)):
            total += len(page.rows)
        return total

    async def recount(self, user_ids: Iterable[int]) -> dict[int, FollowCounts]:
        """The repair path for counters a crash or a failed counter update left off (see the module
        doc): sets each account's counters to the rows of its follow lists. Returns the counts set."""
        result: dict[int, FollowCounts] = {}
        for user_id in dict.fromkeys(user_ids):
            followers = await self._rows_in(FOLLOWERS, user_id)
            following = await self._rows_in(FOLLOWING, user_id)
            row = await first_row(self._db, select_counts(user_id)) or {}
            delta = (followers - (row.get("followers") or 0), following - (row.get("following") or 0))
            if any(delta):
                await self._db.execute(counter_update(user_id, *delta))
                log.warning("follow counters recounted", user_id=user_id, followers_delta=delta[0],
                            following_delta=delta[1])
            result[user_id] = FollowCounts(followers, following)
        return result
