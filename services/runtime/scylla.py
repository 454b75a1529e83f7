"""ScyllaDB, shared by every service's Scylla adapter: settings, the session, statements, paging,
and the outbox in its Scylla form.

Each service has a keyspace of its own (`CHIRP_<SERVICE>_SCYLLA_KEYSPACE`, by default the service
name) and one table per query. Statements are prepared once per text and run through a profile
with token-aware routing (so a request goes straight to a replica of its partition) and
LOCAL_QUORUM, with LOCAL_SERIAL for lightweight transactions.

The driver is thread based: its futures are bridged to asyncio here, and nothing on the event loop
ever blocks on it (no iterating a ResultSet past its first page; paging is explicit).

What the adapters decide (statement text, parameters, how rows become domain objects, which errors
mean a write certainly did not land) is plain code that the offline tests reach without a cluster;
only `ScyllaSession` talks to the driver.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import re
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.runtime.errors import InvalidArgument
from services.runtime.events import OutgoingEvent
from services.runtime.outbox import OutboxEntry
from services.runtime.settings import Env, SettingsError
from services.runtime.topology import service

DEFAULT_PORT = 9042
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
Row = Mapping[str, Any]


# Settings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScyllaSettings:
    hosts: tuple[tuple[str, int], ...]
    keyspace: str
    local_dc: str | None = None
    replication_factor: int = 3
    # LWTs are not available in tablet keyspaces on some ScyllaDB releases, so a keyspace that uses
    # them is made with tablets off unless told otherwise; None leaves the clause out (for releases
    # that do not know it).
    tablets: bool | None = False
    username: str | None = None
    password: str | None = None
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 10.0

    @classmethod
    def from_env(cls, service_name: str, environ: Mapping[str, str] | None = None) -> ScyllaSettings | None:
        """The Scylla settings of a service, or None when CHIRP_SCYLLA_HOSTS is not set.

        CHIRP_SCYLLA_HOSTS           host[:port],... (required to use ScyllaDB at all)
        CHIRP_<SERVICE>_SCYLLA_KEYSPACE  default: the service name
        CHIRP_SCYLLA_LOCAL_DC        the datacenter to route to; default: the contact points'
        CHIRP_SCYLLA_REPLICATION_FACTOR  used only when the keyspace is created (3)
        CHIRP_SCYLLA_TABLETS         off (default) | on | default (leave the keyspace option out)
        CHIRP_SCYLLA_USERNAME, CHIRP_SCYLLA_PASSWORD  optional, for PasswordAuthenticator
        CHIRP_SCYLLA_CONNECT_TIMEOUT_S, CHIRP_SCYLLA_REQUEST_TIMEOUT_S  (10)
        """
        env = Env(environ)
        raw_hosts = env.str("CHIRP_SCYLLA_HOSTS", "")
        if not raw_hosts:
            return None
        prefix = service(service_name).env_prefix
        keyspace = env.str(f"{prefix}_SCYLLA_KEYSPACE", service_name)
        if not _NAME_RE.fullmatch(keyspace):
            raise SettingsError(
                f"{prefix}_SCYLLA_KEYSPACE must be a lowercase CQL name (letter, then letters, digits or _;"
                f" at most 48), got {keyspace!r}"
            )
        tablets_raw = env.str("CHIRP_SCYLLA_TABLETS", "off").strip().lower()
        tablets = {"off": False, "on": True, "default": None}.get(tablets_raw, "bad")
        if tablets == "bad":
            raise SettingsError(f"CHIRP_SCYLLA_TABLETS must be off, on or default, got {tablets_raw!r}")
        replication_factor = env.int("CHIRP_SCYLLA_REPLICATION_FACTOR", 3)
        if replication_factor < 1:
            raise SettingsError(f"CHIRP_SCYLLA_REPLICATION_FACTOR must be at least 1, got {replication_factor}")
        return cls(
            hosts=parse_hosts(raw_hosts),
            keyspace=keyspace,
            local_dc=env.str("CHIRP_SCYLLA_LOCAL_DC", "") or None,
            replication_factor=replication_factor,
            tablets=tablets,  # type: ignore[arg-type]
            username=env.str("CHIRP_SCYLLA_USERNAME", "") or None,
            password=env.str("CHIRP_SCYLLA_PASSWORD", "") or None,
            connect_timeout_s=env.float("CHIRP_SCYLLA_CONNECT_TIMEOUT_S", 10.0),
            request_timeout_s=env.float("CHIRP_SCYLLA_REQUEST_TIMEOUT_S", 10.0),
        )


def parse_hosts(raw: str) -> tuple[tuple[str, int], ...]:
    """`host[:port],...` (IPv6 as `[addr]:port`) as (host, port) pairs; the port defaults to 9042."""
    hosts: list[tuple[str, int]] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        host, port_text = part, ""
        if part.startswith("["):
            close = part.find("]")
            if close < 0:
                raise SettingsError(f"CHIRP_SCYLLA_HOSTS: unclosed [ in {part!r}")
            host, rest = part[1:close], part[close + 1:]
            if rest and not rest.startswith(":"):
                raise SettingsError(f"CHIRP_SCYLLA_HOSTS: unexpected {rest!r} after {host!r}")
            port_text = rest[1:]
        elif part.count(":") == 1:
            host, port_text = part.split(":")
        if not host:
            raise SettingsError(f"CHIRP_SCYLLA_HOSTS: empty host in {part!r}")
        try:
            port = int(port_text) if port_text else DEFAULT_PORT
        except ValueError:
            raise SettingsError(f"CHIRP_SCYLLA_HOSTS: port of {part!r} is not a number") from None
        if not 0 < port < 65536:
            raise SettingsError(f"CHIRP_SCYLLA_HOSTS: port of {part!r} is out of range")
        hosts.append((host, port))
    if not hosts:
        raise SettingsError("CHIRP_SCYLLA_HOSTS names no host")
    return tuple(hosts)


def keyspace_cql(settings: ScyllaSettings) -> str:
    """CREATE KEYSPACE IF NOT EXISTS, replicated per datacenter (an operator may have made it first)."""
    if not _NAME_RE.fullmatch(settings.keyspace):
        raise ValueError(f"not a keyspace name: {settings.keyspace!r}")
    rf = int(settings.replication_factor)
    dc = f"'{settings.local_dc}': {rf}" if settings.local_dc else f"'replication_factor': {rf}"
    if settings.local_dc and not re.fullmatch(r"[A-Za-z0-9_.\-]+", settings.local_dc):
        raise ValueError(f"not a datacenter name: {settings.local_dc!r}")
    # Quoted: a name like `user` is a CQL keyword (unreserved, but quoting costs nothing).
    cql = f"CREATE KEYSPACE IF NOT EXISTS \"{settings.keyspace}\" WITH replication = {{'class': 'NetworkTopologyStrategy', {dc}}}"
    if settings.tablets is not None:
        cql += f" AND tablets = {{'enabled': {'true' if settings.tablets else 'false'}}}"
    return cql


# Statements, pages, LWT results -----------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """A CQL text (prepared once, then cached) and the values for its markers, in order."""

    cql: str
    params: tuple[Any, ...] = ()
    # Safe to retry or run speculatively: true for reads and plain upserts, never for LWTs.
    idempotent: bool = True

    @property
    def is_lwt(self) -> bool:
        return bool(re.search(r"\bIF\s+(NOT\s+EXISTS|EXISTS|\w+\s*(=|!=|<|>|<=|>=|IN)\s)", self.cql))


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    paging_state: bytes | None = None


@dataclass(frozen=True)
class LwtResult:
    """The outcome of a conditional statement: whether it applied, and the row as it was before.

    ScyllaDB returns the old row whether or not the condition held; Cassandra only when it did not,
    and only the columns the condition names. Readers use `.existing.get(...)`.
    """

    applied: bool
    existing: dict[str, Any]

    @classmethod
    def of(cls, rows: Sequence[Row]) -> LwtResult:
        if not rows:
            raise ValueError("a conditional statement returned no row")
        row = dict(rows[0])
        applied = row.pop("[applied]", None)
        if applied is None:
            raise ValueError(f"a conditional statement returned no [applied] column: {sorted(row)}")
        return cls(bool(applied), row)


class CqlSession(Protocol):
    """What a store needs from a session; `ScyllaSession` is the real one."""

    async def execute(self, statement: Statement, *, paging_state: bytes | None = None,
                      page_size: int | None = None) -> Page: ...

    async def lwt(self, statement: Statement) -> LwtResult: ...

    async def batch(self, statements: Sequence[Statement], *, logged: bool = True) -> None: ...


async def pages(
    fetch: Callable[[bytes | None], Awaitable[Page]], *, max_pages: int | None = None
) -> AsyncIterator[Page]:
    """Follows paging states page by page: each fetch is awaited, never iterated in the driver."""
    state: bytes | None = None
    seen = 0
    while True:
        page = await fetch(state)
        seen += 1
        yield page
        if page.paging_state is None or (max_pages is not None and seen >= max_pages):
            return
        if page.paging_state == state:
            raise RuntimeError("the paging state did not advance")
        state = page.paging_state


async def all_rows(session: CqlSession, statement: Statement, *, page_size: int = 1000) -> list[dict[str, Any]]:
    """Every row of a (one-partition) query, a page at a time."""
    rows: list[dict[str, Any]] = []
    async for page in pages(lambda state: session.execute(statement, paging_state=state, page_size=page_size)):
        rows.extend(page.rows)
    return rows


async def first_row(session: CqlSession, statement: Statement) -> dict[str, Any] | None:
    page = await session.execute(statement)
    return page.rows[0] if page.rows else None


def paging_position(paging_state: bytes | None) -> dict[str, str]:
    """A paging state as a cursor position for CursorCodec (which signs it: never hand one out raw)."""
    return {"ps": base64.urlsafe_b64encode(paging_state).decode()} if paging_state else {}


def paging_state_of(position: Mapping[str, Any] | None) -> bytes | None:
    """The paging state a (decoded, verified) cursor position names; None for the first page."""
    if not position or "ps" not in position:
        return None
    value = position["ps"]
    try:
        if not isinstance(value, str):
            raise ValueError
        state = base64.b64decode(value.encode(), altchars=b"-_", validate=True)
        if not state:
            raise ValueError
        return state
    except (binascii.Error, ValueError):
        raise InvalidArgument("INVALID_CURSOR", "The cursor is not valid for this list; start again without one.") from None


async def gather_limited(coros: Iterable[Awaitable[Any]], limit: int = 64) -> list[Any]:
    """Runs awaitables concurrently, at most `limit` in flight, results in order."""
    gate = asyncio.Semaphore(limit)

    async def run(aw: Awaitable[Any]) -> Any:
        async with gate:
            return await aw

    return list(await asyncio.gather(*(run(c) for c in coros)))


def ttl_until(expires_at: float, now: float, grace_s: int) -> int:
    """A row TTL that keeps a row `grace_s` past its expiry, never less than grace_s nor absurdly long.

    `now` is the wall clock (TTLs are counted by the server from the write), not a caller's notion of
    the time: rows outlive their meaning by at least the grace, so a store never forgets early.
    """
    remaining = expires_at - now
    if not math.isfinite(remaining):
        return MAX_TTL_S
    return max(grace_s, min(MAX_TTL_S, math.ceil(remaining) + grace_s))


MAX_TTL_S = 630_720_000  # 20 years: the server's limit


def definitely_not_applied(exc: BaseException) -> bool:
    """Whether a failed write surely changed nothing, so that what was claimed for it may be released.

    Timeouts and coordinator failures are ambiguous: a logged batch whose batchlog was written is
    replayed later, so claims made for it must stay.
    """
    try:
        from cassandra import RequestValidationException, Unavailable
        from cassandra.cluster import NoHostAvailable
    except ImportError:  # pragma: no cover - the driver is a dependency
        return False
    return isinstance(exc, (Unavailable, RequestValidationException, NoHostAvailable))


# The session ------------------------------------------------------------------------------------


class ScyllaSession:
    """A connected driver session with a prepared-statement cache, bridged to asyncio."""

    def __init__(self, cluster: Any, session: Any, keyspace: str) -> None:
        self._cluster = cluster
        self._session = session
        self.keyspace = keyspace
        self._prepared: dict[str, Any] = {}
        self._preparing: dict[str, asyncio.Future[Any]] = {}

    @classmethod
    async def connect(cls, settings: ScyllaSettings, schema: Sequence[str] = ()) -> ScyllaSession:
        """Connects, creates the keyspace if missing, applies `schema` (idempotent DDL), uses the keyspace."""
        cluster = build_cluster(settings)
        try:
            session = await asyncio.to_thread(cluster.connect)
        except BaseException:
            await asyncio.to_thread(cluster.shutdown)
            raise
        scylla = cls(cluster, session, settings.keyspace)
        try:
            await scylla.ddl(keyspace_cql(settings))
            await asyncio.to_thread(session.set_keyspace, settings.keyspace)
            for statement in schema:
                await scylla.ddl(statement)
        except BaseException:
            await scylla.close()
            raise
        return scylla

    async def ddl(self, cql: str) -> None:
        """Runs a schema statement; the driver waits for schema agreement before returning."""
        await self._run(self._session.execute_async(cql, timeout=60.0))

    async def _prepare(self, cql: str) -> Any:
        prepared = self._prepared.get(cql)
        if prepared is not None:
            return prepared
        pending = self._preparing.get(cql)
        if pending is None:
            # One prepare per text however many callers ask at once; a caller that is cancelled
            # does not cancel the others' wait (hence the shield).
            pending = asyncio.ensure_future(asyncio.to_thread(self._session.prepare, cql))
            self._preparing[cql] = pending
            pending.add_done_callback(lambda done: self._prepared_done(cql, done))
        return await asyncio.shield(pending)

    def _prepared_done(self, cql: str, done: asyncio.Future[Any]) -> None:
        self._preparing.pop(cql, None)
        if not done.cancelled() and done.exception() is None:
            self._prepared[cql] = done.result()

    async def _bound(self, statement: Statement) -> Any:
        bound = (await self._prepare(statement.cql)).bind(statement.params)
        bound.is_idempotent = statement.idempotent and not statement.is_lwt
        return bound

    async def _run(self, response_future: Any) -> Any:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if done.cancelled():
                return
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)

        response_future.add_callbacks(
            lambda _rows: loop.call_soon_threadsafe(settle, response_future, None),
            lambda exc: loop.call_soon_threadsafe(settle, None, exc),
        )
        await done
        # Finished: result() returns at once. Only its first page is ever read (see `pages`).
        return response_future.result()

    async def execute(self, statement: Statement, *, paging_state: bytes | None = None,
                      page_size: int | None = None) -> Page:
        bound = await self._bound(statement)
        if page_size is not None:
            bound.fetch_size = page_size
        result = await self._run(self._session.execute_async(bound, paging_state=paging_state))
        return Page([dict(r) for r in result.current_rows], result.paging_state)

    async def lwt(self, statement: Statement) -> LwtResult:
        result = await self._run(self._session.execute_async(await self._bound(statement)))
        return LwtResult.of(result.current_rows)

    async def batch(self, statements: Sequence[Statement], *, logged: bool = True) -> None:
        if not statements:
            return
        from cassandra.query import BatchStatement, BatchType

        batch = BatchStatement(batch_type=BatchType.LOGGED if logged else BatchType.UNLOGGED)
        for statement in statements:
            batch.add(await self._prepare(statement.cql), statement.params)
        await self._run(self._session.execute_async(batch))

    async def close(self) -> None:
        await asyncio.to_thread(self._cluster.shutdown)


def build_cluster(settings: ScyllaSettings) -> Any:
    """A Cluster whose default profile is token-aware, DC-aware, LOCAL_QUORUM / LOCAL_SERIAL."""
    from cassandra import ConsistencyLevel
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
    from cassandra.query import dict_factory

    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=settings.local_dc or "")),
        consistency_level=ConsistencyLevel.LOCAL_QUORUM,
        serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
        request_timeout=settings.request_timeout_s,
        row_factory=dict_factory,
    )
    auth = None
    if settings.username:
        auth = PlainTextAuthProvider(username=settings.username, password=settings.password or "")
    return Cluster(
        contact_points=list(settings.hosts),
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        auth_provider=auth,
        connect_timeout=settings.connect_timeout_s,
        protocol_version=4,
    )


# The outbox -------------------------------------------------------------------------------------
#
# Rows are partitioned by (shard, bucket): a shard spreads the writes, a bucket is a span of time,
# so the relay reads a few small partitions from its watermark to now, and drained partitions are
# never read again (deleted rows leave tombstones; a single queue partition would make every read
# wade through all of them). A mutation's events go into its shard, picked from the aggregate
# (the user id), so one user's events keep their order. Rows are written in the same logged batch
# as the change they report.

OUTBOX_SHARDS = 8
OUTBOX_BUCKET_S = 300
# Buckets behind "now" that stay open: a writer's clock may lag and a logged batch may be replayed
# from the batchlog after a timeout, so a bucket is only left behind once it is this old and empty.
OUTBOX_GRACE_BUCKETS = 2

OUTBOX_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS outbox (
  shard int,
  bucket bigint,
  id timeuuid,
  event_id text,
  subject text,
  event_type text,
  payload blob,
  PRIMARY KEY ((shard, bucket), id)
) WITH CLUSTERING ORDER BY (id ASC)""",
    """CREATE TABLE IF NOT EXISTS outbox_watermark (
  shard int PRIMARY KEY,
  bucket bigint
)""",
]

_UUID_EPOCH_100NS = 0x01B21DD213814000  # 1582-10-15 to 1970-01-01, in 100 ns


class TimeUuids:
    """Version-1 UUIDs whose timestamps strictly increase within the process, so that the events of
    one batch (and of successive batches) sort in the order they were staged."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        self._last = 0
        self._node = secrets.randbits(48) | (1 << 40)  # random, multicast bit set (RFC 4122 4.5)
        self._clock_seq = secrets.randbits(14)

    def next(self) -> uuid.UUID:
        with self._lock:
            ticks = self._clock_ns() // 100 + _UUID_EPOCH_100NS
            ticks = max(ticks, self._last + 1)
            self._last = ticks
        return uuid.UUID(fields=(
            ticks & 0xFFFFFFFF,
            (ticks >> 32) & 0xFFFF,
            ((ticks >> 48) & 0x0FFF) | 0x1000,
            0x80 | (self._clock_seq >> 8),
            self._clock_seq & 0xFF,
            self._node,
        ))


def uuid_unix_s(value: uuid.UUID) -> float:
    return (value.time - _UUID_EPOCH_100NS) / 1e7


def bucket_of(unix_s: float, bucket_s: int = OUTBOX_BUCKET_S) -> int:
    return int(unix_s // bucket_s)


def shard_of(key: int, shards: int = OUTBOX_SHARDS) -> int:
    return key % shards


_TIME_UUIDS = TimeUuids()


def outbox_inserts(
    events: Sequence[OutgoingEvent], *, key: int, shards: int = OUTBOX_SHARDS, bucket_s: int = OUTBOX_BUCKET_S,
    ids: TimeUuids = _TIME_UUIDS,
) -> list[Statement]:
    """The outbox rows for `events`, to go into the logged batch of the change they report."""
    shard = shard_of(key, shards)
    statements = []
    for event in events:
        row_id = ids.next()
        statements.append(Statement(
            "INSERT INTO outbox (shard, bucket, id, event_id, subject, event_type, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (shard, bucket_of(uuid_unix_s(row_id), bucket_s), row_id, event.event_id, event.subject,
             event.event_type, bytes(event.payload)),
        ))
    return statements


@dataclass
class ScyllaOutbox:
    """The relay's side of the Scylla outbox: read from each shard's watermark bucket up to now,
    delete what was published, and move a watermark past buckets that are old and empty."""

    session: CqlSession
    shards: int = OUTBOX_SHARDS
    bucket_s: int = OUTBOX_BUCKET_S
    grace_buckets: int = OUTBOX_GRACE_BUCKETS
    clock: Callable[[], float] = time.time
    _watermarks: dict[int, int] = field(default_factory=dict)

    async def init_watermarks(self) -> None:
        """Makes each shard's watermark if missing (at start, before anything is staged): a bucket
        `grace_buckets` back, so that writers with a lagging clock are still read."""
        start = bucket_of(self.clock(), self.bucket_s) - self.grace_buckets
        for shard in range(self.shards):
            await self.session.lwt(Statement(
                "INSERT INTO outbox_watermark (shard, bucket) VALUES (?, ?) IF NOT EXISTS", (shard, start),
                idempotent=False,
            ))

    async def _watermark(self, shard: int) -> int:
        if shard not in self._watermarks:
            row = await first_row(self.session, Statement(
                "SELECT bucket FROM outbox_watermark WHERE shard = ?", (shard,)))
            self._watermarks[shard] = (
                row["bucket"] if row and row.get("bucket") is not None
                else bucket_of(self.clock(), self.bucket_s) - self.grace_buckets
            )
        return self._watermarks[shard]

    def _buckets(self, watermark: int) -> range:
        return range(watermark, bucket_of(self.clock(), self.bucket_s) + 1)

    async def read(self, limit: int) -> list[OutboxEntry]:
        per_shard = await asyncio.gather(*(self._read_shard(s, limit) for s in range(self.shards)))
        entries = sorted((e for shard in per_shard for e in shard), key=lambda e: e.key[2].time)
        return entries[:limit]

    async def _read_shard(self, shard: int, limit: int) -> list[OutboxEntry]:
        watermark = await self._watermark(shard)
        now_bucket = bucket_of(self.clock(), self.bucket_s)
        entries: list[OutboxEntry] = []
        empty_prefix = True
        advance_to = watermark
        for bucket in self._buckets(watermark):
            page = await self.session.execute(Statement(
                "SELECT id, event_id, subject, event_type, payload FROM outbox WHERE shard = ? AND bucket = ? LIMIT ?",
                (shard, bucket, limit - len(entries)),
            ))
            if page.rows:
                empty_prefix = False
            elif empty_prefix and bucket < now_bucket - self.grace_buckets:
                advance_to = bucket + 1
            entries.extend(outbox_entry(shard, bucket, r) for r in page.rows)
            if len(entries) >= limit:
                break
        if advance_to > watermark:
            await self.session.execute(Statement(
                "UPDATE outbox_watermark SET bucket = ? WHERE shard = ?", (advance_to, shard)))
            self._watermarks[shard] = advance_to
        return entries

    async def delete(self, entries: Sequence[OutboxEntry]) -> None:
        # One row at a time: a range delete could also remove a row that a lagging writer put
        # before the last one read, which nobody has published.
        await gather_limited(
            self.session.execute(Statement(
                "DELETE FROM outbox WHERE shard = ? AND bucket = ? AND id = ?", tuple(e.key)))
            for e in entries
        )

    async def pending(self) -> int:
        total = 0
        for shard in range(self.shards):
            for bucket in self._buckets(await self._watermark(shard)):
                row = await first_row(self.session, Statement(
                    "SELECT COUNT(*) AS n FROM outbox WHERE shard = ? AND bucket = ?", (shard, bucket)))
                total += int(row["n"]) if row else 0
        return total


def outbox_entry(shard: int, bucket: int, row: Row) -> OutboxEntry:
    return OutboxEntry(
        key=(shard, bucket, row["id"]),
        event=OutgoingEvent(row["event_id"], row["subject"], row["event_type"], bytes(row["payload"])),
    )
