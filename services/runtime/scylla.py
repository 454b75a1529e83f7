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

What every adapter is besides its queries lives here too, so that it is written once: the choice of
store a service's settings make (`store_choice`, `open_chosen_store`), a store's session, outbox and
lifecycle (`ScyllaStore`), and the intent markers that changes committed by an LWT leave until they
are written out, with the sweeper that finishes what a dead writer left (`IntentMarkers`,
`IntentSweeper`, `SweptScyllaStore`).
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
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol, Self, TypeVar

from services.runtime.errors import InvalidArgument
from services.runtime.events import OutgoingEvent
from services.runtime.outbox import OutboxEntry, OutboxSource, SqliteOutbox
from services.runtime.settings import Env, SettingsError
from services.runtime.topology import service

if TYPE_CHECKING:
    from structlog.stdlib import BoundLogger

    from services.runtime.sqlite import Database

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


STORES = ("sqlite", "scylla")


class StoreChoice(NamedTuple):
    store: str  # "sqlite" (the embedded default) or "scylla"
    scylla: ScyllaSettings | None


def store_choice(service_name: str, environ: Mapping[str, str] | None = None) -> StoreChoice:
    """The store a service runs on, `CHIRP_<SERVICE>_STORE` (sqlite, the default, or scylla), and its
    Scylla settings (read either way, so that a malformed one is refused whichever store is chosen).

    Choosing scylla without CHIRP_SCYLLA_HOSTS is refused here, at start, rather than when the store
    first connects: a service must not come up on a store it cannot reach.
    """
    prefix = service(service_name).env_prefix
    store = Env(environ).str(f"{prefix}_STORE", "sqlite")
    if store not in STORES:
        raise SettingsError(f"{prefix}_STORE must be sqlite or scylla, got {store!r}")
    scylla = ScyllaSettings.from_env(service_name, environ)
    if store == "scylla" and scylla is None:
        raise SettingsError(f"{prefix}_STORE=scylla needs CHIRP_SCYLLA_HOSTS")
    return StoreChoice(store, scylla)


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



def bucketed_table_schema(table: str, id_column: str, columns: Sequence[tuple[str, str]]) -> str:
    """A table laid out as the outbox is (above): partitions of (shard, bucket), rows clustered by a
    timeuuid `id_column`, oldest first, then `columns` ((name, CQL type) pairs)."""
    body = ",\n".join(f"  {name} {kind}" for name, kind in ((id_column, "timeuuid"), *columns))
    return (f"CREATE TABLE IF NOT EXISTS {table} (\n  shard int,\n  bucket bigint,\n{body},\n"
            f"  PRIMARY KEY ((shard, bucket), {id_column})\n) WITH CLUSTERING ORDER BY ({id_column} ASC)")


def watermark_table_schema(table: str) -> str:
    """The table of a bucketed table's watermarks (see ShardWatermarks): a bucket per shard."""
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  shard int PRIMARY KEY,\n  bucket bigint\n)"


OUTBOX_SCHEMA = [
    bucketed_table_schema("outbox", "id", (
        ("event_id", "text"), ("subject", "text"), ("event_type", "text"), ("payload", "blob"))),
    watermark_table_schema("outbox_watermark"),
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


def uuid_unix_ns(value: uuid.UUID) -> int:
    """The time of a version-1 UUID in Unix nanoseconds, exactly (a multiple of 100)."""
    return (value.time - _UUID_EPOCH_100NS) * 100


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
class ShardWatermarks:
    """Per shard of a bucketed table (the outbox, open_intents), the oldest bucket still worth reading.

    Readers move a watermark past old buckets they found drained, so drained partitions (and their
    tombstones) are never read again; it is kept in a table of its own, so that the next reader (a
    restart, another process) starts there too. `start` is where a missing watermark begins: a few
    buckets behind now, so that writers with a lagging clock are still read.
    """

    session: CqlSession
    table: str
    shards: int
    start: Callable[[], int]
    marks: dict[int, int] = field(default_factory=dict)  # as this process last read or moved them

    async def init(self) -> None:
        """Makes each shard's watermark if missing (at start, before anything is written)."""
        start = self.start()
        for shard in range(self.shards):
            await self.session.lwt(Statement(
                f"INSERT INTO {self.table} (shard, bucket) VALUES (?, ?) IF NOT EXISTS", (shard, start),
                idempotent=False,
            ))

    async def get(self, shard: int) -> int:
        if shard not in self.marks:
            row = await first_row(self.session, Statement(f"SELECT bucket FROM {self.table} WHERE shard = ?", (shard,)))
            found = row.get("bucket") if row else None
            self.marks[shard] = found if found is not None else self.start()
        return self.marks[shard]

    async def advance(self, shard: int, bucket: int) -> None:
        await self.session.execute(Statement(f"UPDATE {self.table} SET bucket = ? WHERE shard = ?", (bucket, shard)))
        self.marks[shard] = bucket


@dataclass
class ScyllaOutbox:
    """The relay's side of the Scylla outbox: read from each shard's watermark bucket up to now,
    delete what was published, and move a watermark past buckets that are old and empty."""

    session: CqlSession
    shards: int = OUTBOX_SHARDS
    bucket_s: int = OUTBOX_BUCKET_S
    grace_buckets: int = OUTBOX_GRACE_BUCKETS
    clock: Callable[[], float] = time.time
    _marks: ShardWatermarks = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._marks = ShardWatermarks(self.session, "outbox_watermark", self.shards, self._start)

    def _start(self) -> int:
        return bucket_of(self.clock(), self.bucket_s) - self.grace_buckets

    @property
    def _watermarks(self) -> dict[int, int]:
        return self._marks.marks

    async def init_watermarks(self) -> None:
        """Makes each shard's watermark if missing (at start, before anything is staged): a bucket
        `grace_buckets` back, so that writers with a lagging clock are still read."""
        await self._marks.init()

    async def _watermark(self, shard: int) -> int:
        return await self._marks.get(shard)

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
            await self._marks.advance(shard, advance_to)
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


# Intent markers and their sweeper ---------------------------------------------------------------
#
# A change that commits by an LWT and is written out after it, in a logged batch (a graph pair's
# change, a keyed tweet create, a tweet delete, a poll vote, an engagement mark), is marked in its
# store's open_intents table from before its LWT until that batch, which deletes the marker. A writer
# that dies in between leaves the change committed but not written out, and its marker behind; the
# store's sweeper finds such markers once they are old enough that a live writer would be done, and
# finishes their changes even if nobody touches them again. Markers are laid out as the outbox is: a
# shard from the aggregate the change is about spreads the writes, a bucket of time lets the sweeper
# read a few small partitions from its watermark on and leave drained ones behind for good.

INTENT_SHARDS = OUTBOX_SHARDS
INTENT_BUCKET_S = OUTBOX_BUCKET_S
INTENT_GRACE_BUCKETS = OUTBOX_GRACE_BUCKETS
SWEEP_EVERY_S = 15.0


@dataclass(frozen=True)
class IntentMarkers:
    """A store's open_intents table and every statement on it. A marker's partition comes from the
    aggregate it changes (whose id `shard_by` names) and its own id's time alone, so whoever knows the
    change can write or delete its marker without a read."""

    id_column: str  # the marker's timeuuid: the change's version or intent id
    columns: tuple[tuple[str, str], ...]  # what it holds besides shard, bucket and id: (name, CQL type)
    shard_by: str  # the column whose value picks the marker's shard
    table: str = "open_intents"
    watermark_table: str = "open_intents_watermark"
    shards: int = INTENT_SHARDS
    bucket_s: int = INTENT_BUCKET_S

    @property
    def _names(self) -> str:
        return ", ".join((self.id_column, *(name for name, _ in self.columns)))

    def schema(self) -> list[str]:
        return [bucketed_table_schema(self.table, self.id_column, self.columns),
                watermark_table_schema(self.watermark_table)]

    def key(self, shard_key: int, marker_id: uuid.UUID) -> tuple[int, int]:
        """(shard, bucket) of a marker."""
        return shard_of(shard_key, self.shards), bucket_of(uuid_unix_ns(marker_id) / 1e9, self.bucket_s)

    def insert(self, shard_key: int, marker_id: uuid.UUID, *values: Any) -> Statement:
        """A marker holding `values`, in the order of `columns`."""
        if len(values) != len(self.columns):
            raise ValueError(f"a marker of {self.table} holds {len(self.columns)} values, got {len(values)}")
        marks = ", ".join("?" * (3 + len(values)))
        return Statement(f"INSERT INTO {self.table} (shard, bucket, {self._names}) VALUES ({marks})",
                         (*self.key(shard_key, marker_id), marker_id, *values))

    def delete(self, shard_key: int, marker_id: uuid.UUID) -> Statement:
        return Statement(f"DELETE FROM {self.table} WHERE shard = ? AND bucket = ? AND {self.id_column} = ?",
                         (*self.key(shard_key, marker_id), marker_id))

    def select(self, shard_key: int, marker_id: uuid.UUID) -> Statement:
        return Statement(
            f"SELECT {self._names} FROM {self.table} WHERE shard = ? AND bucket = ? AND {self.id_column} = ?",
            (*self.key(shard_key, marker_id), marker_id))

    def select_bucket(self, shard: int, bucket: int) -> Statement:
        return Statement(f"SELECT {self._names} FROM {self.table} WHERE shard = ? AND bucket = ?", (shard, bucket))


@dataclass
class IntentSweeper:
    """Settles the intent markers of one store: every marker older than `help_after_s` (by then a live
    writer is done with it) is handed to `settle`, and each shard's watermark moves past old buckets
    left empty.

    `settle(marker row)` is the store's: it finishes the marker's change if the change committed and
    is not written out yet, and drops the marker; it returns whether it finished anything. One that
    raises leaves its marker, which holds its shard's watermark until a later sweep settles it.
    `name` is how the logs name the store's changes ("graph": "an unfinished graph change"), and
    `described_by` the marker columns a failure to settle one is logged with.
    """

    session: CqlSession
    markers: IntentMarkers
    settle: Callable[[Row], Awaitable[bool]]
    _: KW_ONLY
    clock: Callable[[], float]
    help_after_s: float
    log: BoundLogger
    name: str
    described_by: tuple[str, ...]
    grace_buckets: int = INTENT_GRACE_BUCKETS
    watermarks: ShardWatermarks = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.watermarks = ShardWatermarks(self.session, self.markers.watermark_table, self.markers.shards,
                                          self._open_from)

    def _open_from(self) -> int:
        """The oldest bucket writers may still add to (their clocks may lag); never left behind."""
        return bucket_of(self.clock(), self.markers.bucket_s) - self.grace_buckets

    async def init(self) -> None:
        await self.watermarks.init()

    async def drop(self, shard_key: int, marker_id: uuid.UUID) -> None:
        """Drops the marker of a change that did not commit, best effort: one left behind is only
        dropped later, by a sweep that finds nothing to finish."""
        try:
            await self.session.execute(self.markers.delete(shard_key, marker_id))
        except Exception as exc:
            self.log.warning("could not drop an intent marker", **{self.markers.shard_by: shard_key}, error=repr(exc))

    async def sweep(self) -> int:
        """One pass over every shard; returns how many changes it finished."""
        markers = self.markers
        ripe = self.clock() - self.help_after_s
        keep_open = self._open_from()
        finished = 0
        for shard in range(markers.shards):
            start = await self.watermarks.get(shard)
            advance_to = start
            for bucket in range(start, bucket_of(ripe, markers.bucket_s) + 1):
                left = 0
                for row in await all_rows(self.session, markers.select_bucket(shard, bucket)):
                    if uuid_unix_ns(row[markers.id_column]) / 1e9 > ripe:
                        left += 1  # young: its writer may be alive
                        continue
                    try:
                        finished += await self.settle(row)
                    except Exception as exc:
                        left += 1
                        self.log.warning(f"could not settle an unfinished {self.name} change",
                                         **{column: row.get(column) for column in self.described_by},
                                         error=repr(exc))
                if advance_to == bucket and not left and bucket < keep_open:
                    advance_to = bucket + 1
            if advance_to > start:
                await self.watermarks.advance(shard, advance_to)
        return finished

    async def sweep_forever(self, every_s: float = SWEEP_EVERY_S) -> None:
        """A sweep every `every_s`; a failed one is logged and tried again."""
        while True:
            try:
                await self.sweep()
            except Exception as exc:
                self.log.warning(f"sweeping unfinished {self.name} changes failed; retrying", error=repr(exc))
            await asyncio.sleep(every_s)


# Stores -----------------------------------------------------------------------------------------

BackgroundLoop = Callable[[], Awaitable[None]]


class ScyllaStore:
    """What every service's Scylla adapter is besides its queries: its session (closed with the store
    when the store opened it), the outbox its changes stage events in, and its clock, in nanoseconds
    (tests move it; ids and marker ages come from it).

    A subclass names its tables in `schema`. `connect` makes them and readies the store before
    handing it out (`_ready`: what must exist before the first write), and leaves no connection open
    if that fails.
    """

    schema: ClassVar[Sequence[str]] = ()

    def __init__(self, session: CqlSession, *, outbox: ScyllaOutbox | None = None, owns_session: bool = False,
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._db = session
        self._clock_ns = clock_ns
        self._outbox = outbox or ScyllaOutbox(session, clock=self._now)
        self._owns_session = owns_session

    @classmethod
    async def connect(cls, settings: ScyllaSettings) -> Self:
        """Connects, creates the keyspace and tables if missing, and readies the store."""
        session = await ScyllaSession.connect(settings, cls.schema)
        store = cls(session, owns_session=True)
        try:
            await store._ready()
        except BaseException:
            await session.close()
            raise
        return store

    async def _ready(self) -> None:
        """Each outbox shard's watermark, so that the relay reads from before the first event staged."""
        await self._outbox.init_watermarks()

    def background_loops(self) -> list[BackgroundLoop]:
        """The loops the service must run for this store: none."""
        return []

    @property
    def session(self) -> CqlSession:
        return self._db

    @property
    def outbox(self) -> ScyllaOutbox:
        """The relay's view of this store's outbox (read, delete, pending)."""
        return self._outbox

    def _now(self) -> float:
        return self._clock_ns() / 1e9

    def _stage(self, events: Sequence[OutgoingEvent], key: int, ids: TimeUuids = _TIME_UUIDS) -> list[Statement]:
        """Outbox rows for `events`, in the shard of the aggregate `key` (so one aggregate's events keep
        their order), to go into the logged batch of the change they report."""
        return outbox_inserts(events, key=key, shards=self._outbox.shards, bucket_s=self._outbox.bucket_s, ids=ids)

    async def close(self) -> None:
        if self._owns_session and isinstance(self._db, ScyllaSession):
            await self._db.close()


class SweptScyllaStore(ScyllaStore):
    """A ScyllaStore whose changes leave intent markers (see IntentSweeper): `connect` readies its
    sweeper along with the outbox, and the service runs `sweep_forever`. A subclass makes
    `self._sweeper` in its constructor, with the `settle` that knows what its changes write."""

    _sweeper: IntentSweeper

    async def _ready(self) -> None:
        await super()._ready()
        await self.init_sweeper()

    def background_loops(self) -> list[BackgroundLoop]:
        """The sweeper: nothing else finishes a change that nobody touches again."""
        return [self.sweep_forever]

    async def init_sweeper(self) -> None:
        """Makes each shard's sweep watermark if missing (at start, before anything is written)."""
        await self._sweeper.init()

    async def sweep(self) -> int:
        """Settles every intent marker older than help_after_s; returns how many changes it finished."""
        return await self._sweeper.sweep()

    async def sweep_forever(self, every_s: float = SWEEP_EVERY_S) -> None:
        """The background task: a sweep every `every_s`; a failed one is logged and tried again."""
        await self._sweeper.sweep_forever(every_s)

    @property
    def _sweep_marks(self) -> dict[int, int]:
        """The sweep watermarks as this process last read or moved them."""
        return self._sweeper.watermarks.marks

    async def _sweep_mark(self, shard: int) -> int:
        return await self._sweeper.watermarks.get(shard)


# Opening the store a service's settings chose ---------------------------------------------------


class SqliteStore(Protocol):
    """What a service's SQLite store offers `open_chosen_store`: the database its outbox is in."""

    @property
    def database(self) -> Database: ...

    async def close(self) -> None: ...


class ChosenStore(Protocol):
    """A StoreChoice, or the settings of a service that keep one's two fields."""

    @property
    def store(self) -> str: ...

    @property
    def scylla(self) -> ScyllaSettings | None: ...


async def open_chosen_store(
    choice: ChosenStore, scylla_store: type[ScyllaStore], sqlite_store: Callable[[], SqliteStore],
) -> tuple[Any, OutboxSource, list[BackgroundLoop]]:
    """The store `choice` names (see store_choice), the outbox its relay reads and the loops the
    service must run for it. The SQLite store is made only when chosen (making it creates its file)."""
    if choice.store == "scylla":
        assert choice.scylla is not None  # store_choice refuses scylla without CHIRP_SCYLLA_HOSTS
        store = await scylla_store.connect(choice.scylla)
        return store, store.outbox, store.background_loops()
    sqlite = sqlite_store()
    return sqlite, SqliteOutbox(sqlite.database), []


_Built = TypeVar("_Built")


async def close_on_failure(store: SqliteStore | ScyllaStore, building: Awaitable[_Built]) -> _Built:
    """Awaits what is built on an open store, closing the store if that fails: a service that does not
    start must not keep its store's connections (or its file) open."""
    try:
        return await building
    except BaseException:
        await store.close()
        raise
