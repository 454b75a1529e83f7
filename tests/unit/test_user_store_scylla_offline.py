"""The ScyllaDB user store without a cluster: its schema, statements, parameters, row mapping,
paging, outbox and session plumbing, checked offline.

No ScyllaDB can be installed here, so besides the pure parts this file runs the adapter's flows
(claims, LWTs, logged batches, the outbox) over `FakeCql`: an in-memory stand-in that understands
exactly the CQL this adapter writes, checks it the way the server would where it matters here
(one partition per read, the whole primary key per write, no LWT inside a logged batch, values of
the column's type, `IF c = null` true for a missing row, the old row returned by an LWT), and
interleaves concurrent callers at every statement. The whole store contract suite
(tests/services/test_user_store.py) runs over it too. It proves the adapter's logic, not its
compatibility with a real server: that is what the contract suite does when CHIRP_SCYLLA_HOSTS is
set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from cassandra import ConsistencyLevel, InvalidRequest, OperationTimedOut, Unavailable, WriteTimeout

from services.runtime.errors import InvalidArgument
from services.runtime.events import OutgoingEvent
from services.runtime.scylla import (
    OUTBOX_SCHEMA,
    LwtResult,
    Page,
    ScyllaOutbox,
    ScyllaSession,
    ScyllaSettings,
    Statement,
    TimeUuids,
    all_rows,
    bucket_of,
    build_cluster,
    definitely_not_applied,
    keyspace_cql,
    outbox_inserts,
    pages,
    paging_position,
    paging_state_of,
    parse_hosts,
    shard_of,
    ttl_until,
    uuid_unix_s,
)
from services.runtime.settings import SettingsError
from services.user.domain import Account, NotificationPrefs
from services.user.store import scylla as adapter_module
from services.user.store.base import EmailTaken, RefreshGrant, Session, UsernameTaken
from services.user.store.scylla import (
    SCHEMA,
    ScyllaUserStore,
    account_of,
    claim_statement,
    end_session_statement,
    grant_of,
    insert_account,
    install_first_signing_key_statement,
    prefs_json,
    prefs_of,
    release_claim_statement,
    select_claim,
    session_inserts,
    session_of,
    settings_of,
    signing_key_of,
    take_over_claim_statement,
    update_profile_statement,
    use_refresh_statement,
    use_reset_statement,
)
from services.user.tokens import SigningKey
from tests.scylla_fake import FakeCql, parse_table
from tests.services import test_user_store as contract


def _store(**kwargs: Any) -> tuple[ScyllaUserStore, FakeCql]:
    fake = FakeCql(SCHEMA, **kwargs)
    return ScyllaUserStore(fake), fake


# The contract suite, over the adapter's logic ---------------------------------------------------

globals().update({name: fn for name, fn in vars(contract).items() if name.startswith("test_")})


@pytest.fixture(params=["scylla-lwt-returns", "cassandra-lwt-returns"])
async def adapter(request: pytest.FixtureRequest) -> contract.Adapter:
    store, _ = _store(lwt_style="scylla" if request.param.startswith("scylla") else "cassandra")
    await store.outbox.init_watermarks()
    return contract.Adapter(f"scylla-offline-{request.param}", store, store.outbox)


# Schema ------------------------------------------------------------------------------------------

EXPECTED_KEYS = {
    # table: (partition key, clustering columns)
    "accounts_by_id": (["id"], []),
    "accounts_by_username": (["username_key"], []),
    "accounts_by_email": (["email_key"], []),
    "sessions_by_id": (["id"], []),
    "sessions_by_user": (["user_id"], ["created_at", "session_id"]),
    "refresh_tokens_by_hash": (["token_hash"], []),
    "password_resets_by_hash": (["token_hash"], []),
    "password_resets_by_user": (["user_id"], ["token_hash"]),
    "signing_keys": (["scope"], ["kid"]),
    "outbox": (["shard", "bucket"], ["id"]),
    "outbox_watermark": (["shard"], []),
}


def test_the_schema_has_one_table_per_query_with_the_expected_keys() -> None:
    tables = {t.name: t for t in map(parse_table, SCHEMA)}
    assert {name: (t.partition_key, t.clustering) for name, t in tables.items()} == EXPECTED_KEYS
    assert tables["sessions_by_user"].descending == {"created_at"}  # newest first
    assert tables["outbox"].descending == set() and tables["outbox"].columns["id"] == "timeuuid"
    assert tables["signing_keys"].static == {"installed"}
    assert all(s.startswith("CREATE TABLE IF NOT EXISTS") for s in SCHEMA), "schema application is idempotent"
    assert [parse_table(s).name for s in OUTBOX_SCHEMA] == ["outbox", "outbox_watermark"]


def test_the_keyspace_is_replicated_per_datacenter_with_tablets_off_for_lwts() -> None:
    settings = ScyllaSettings(hosts=(("db", 9042),), keyspace="user")
    assert keyspace_cql(settings) == (
        "CREATE KEYSPACE IF NOT EXISTS \"user\" WITH replication = {'class': 'NetworkTopologyStrategy',"
        " 'replication_factor': 3} AND tablets = {'enabled': false}")
    in_dc = dataclasses.replace(settings, local_dc="eu-west", replication_factor=5, tablets=None)
    assert keyspace_cql(in_dc) == (
        "CREATE KEYSPACE IF NOT EXISTS \"user\" WITH replication = {'class': 'NetworkTopologyStrategy', 'eu-west': 5}")
    with pytest.raises(ValueError):
        keyspace_cql(dataclasses.replace(settings, local_dc="x'; DROP"))


# LWTs where uniqueness or single use matters ----------------------------------------------------


def test_uniqueness_and_single_use_are_lightweight_transactions() -> None:
    now = 1000.0
    grant = RefreshGrant("h", "s", 1, now + 10)
    lwts = {
        "username claim": claim_statement("accounts_by_username", "alice", 1, now),
        "email claim": claim_statement("accounts_by_email", "a@x.io", 1, now),
        "claim takeover": take_over_claim_statement("accounts_by_username", "alice", 2, now, 1, now - 900),
        "claim release": release_claim_statement("accounts_by_username", "alice", 1),
        "refresh use": use_refresh_statement(grant, now, now),
        "session end": end_session_statement(Session("s", 1, now, now + 10), now, now),
        "reset use": use_reset_statement("r", 1, now + 10, now, now),
        "first signing key": install_first_signing_key_statement(SigningKey("k", "pem", now)),
    }
    for what, statement in lwts.items():
        assert statement.is_lwt and not statement.idempotent, what
    assert lwts["username claim"].cql.endswith("IF NOT EXISTS")
    assert lwts["refresh use"].cql.endswith("IF used_at = null AND session_id = ?")
    assert lwts["session end"].cql.endswith("IF user_id = ? AND revoked_at = null")
    assert lwts["reset use"].cql.endswith("IF used_at = null AND user_id = ?")
    assert lwts["first signing key"].cql.endswith("IF installed = null")
    assert not select_claim("accounts_by_username", "alice").is_lwt
    with pytest.raises(ValueError):
        claim_statement("accounts_by_id", "x", 1, now)


async def test_signup_claims_username_then_email_then_writes_one_logged_batch() -> None:
    store, fake = _store()
    signed = await contract._signup(contract.Adapter("t", store, store.outbox), username="Order_Test")
    kinds = [(e.kind, e.statements[0].cql.split()[2]) for e in fake.log]
    assert kinds == [("lwt", "accounts_by_username"), ("lwt", "accounts_by_email"), ("batch", "accounts_by_id")]
    tables = [s.cql.split()[2] for s in fake.log[-1].statements]
    assert tables == ["accounts_by_id", "sessions_by_id", "sessions_by_user", "refresh_tokens_by_hash", "outbox"]
    outbox_row = fake.log[-1].statements[-1]
    assert outbox_row.params[0] == shard_of(signed.account.id) and outbox_row.params[3] == signed.event.event_id


async def test_a_batch_that_surely_failed_releases_the_claims_and_an_ambiguous_one_keeps_them() -> None:
    store, fake = _store()
    adapter = contract.Adapter("t", store, store.outbox)
    fake.fail_batches.append(Unavailable("not enough replicas"))
    with pytest.raises(Unavailable):
        await contract._signup(adapter, username="released", email="released@example.com")
    await contract._signup(adapter, username="released", email="released@example.com")  # free again

    fake.fail_batches.append(WriteTimeout("batchlog written, maybe replayed", write_type=2))
    with pytest.raises(WriteTimeout):
        await contract._signup(adapter, username="kept", email="kept@example.com")
    with pytest.raises(UsernameTaken):  # the batch may yet land: its names stay claimed
        await contract._signup(adapter, username="kept", email="other@example.com")
    with pytest.raises(EmailTaken):
        await contract._signup(adapter, username="other", email="kept@example.com")


async def test_a_claim_left_by_a_dead_signup_is_taken_over_after_the_grace() -> None:
    wall = [10_000.0]
    fake = FakeCql(SCHEMA)
    store = ScyllaUserStore(fake, wall_clock=lambda: wall[0])
    adapter = contract.Adapter("t", store, store.outbox)
    await fake.lwt(claim_statement("accounts_by_username", "ghost", 424242, wall[0]))  # its writer died here
    with pytest.raises(UsernameTaken):
        await contract._signup(adapter, username="Ghost")
    wall[0] += adapter_module.CLAIM_GRACE_S + 1
    me = await contract._signup(adapter, username="Ghost")
    assert (await store.find_credentials(username="ghost")).account == me.account  # type: ignore[union-attr]
    # A deleted account's claim is never stale: it was written, so it is kept.
    wall[0] += adapter_module.CLAIM_GRACE_S + 1
    await store.delete_account(me.account.id, wall[0], contract.SessionEventRecorder())
    with pytest.raises(UsernameTaken):
        await contract._signup(adapter, username="ghost")


# Sessions ended by a writer that died before staging -------------------------------------------


@pytest.mark.parametrize("lwt_style", ["scylla", "cassandra"])
async def test_a_revocation_left_unstaged_is_staged_by_the_next_call_not_returned(lwt_style: str) -> None:
    store, fake = _store(lwt_style=lwt_style)
    adapter = contract.Adapter("t", store, store.outbox)
    me = await contract._signup(adapter)
    await adapter.staged()
    now = time.time()
    # A call ended the session (its LWT applied) and died before its logged batch.
    await fake.lwt(end_session_statement(me.session, now - 5, now))
    recorder = contract.SessionEventRecorder()
    assert await store.revoke_sessions(me.account.id, None, now, recorder) == []
    assert recorder.calls == [] and await adapter.staged() == []  # within the grace: maybe still in flight

    later = now + adapter_module.FINISH_GRACE_S
    recorder = contract.SessionEventRecorder()
    assert await store.revoke_sessions(me.account.id, None, later, recorder) == []  # not ended by this call
    assert recorder.calls == [[me.session]]
    assert contract._ids_of(await adapter.staged()) == contract._ids_of(recorder.made)
    again = contract.SessionEventRecorder()
    assert await store.revoke_sessions(me.account.id, None, later + 1, again) == [] and again.calls == []
    assert (await store.get_session(me.session.id)).revoked_at == now - 5  # type: ignore[union-attr]


# Parameters and rows ----------------------------------------------------------------------------


def _columns(statement: Statement) -> list[str]:
    m = re.search(r"\((.+?)\) VALUES", statement.cql)
    assert m
    return [c.strip() for c in m.group(1).split(",")]


def test_account_rows_round_trip() -> None:
    account = Account(7, "Bob_1", "Bob@Example.com", "Bob", "bio", "Oslo", "https://b.example", "https://a.example/x.png",
                      True, datetime.fromtimestamp(1_700_000_123.456789, UTC))
    statement = insert_account(account, "argon-hash", NotificationPrefs(likes=False), wall=5.0)
    row = dict(zip(_columns(statement), statement.params))
    assert row["password_hash"] == "argon-hash" and row["is_private"] is True
    assert row["created_at"] == 1_700_000_123.456789 and row["updated_at"] == row["created_at"]
    assert account_of(row) == account
    assert settings_of(row).notification_prefs == NotificationPrefs(likes=False)
    assert account_of({**row, "bio": None, "is_private": None}).bio == ""


def test_profile_updates_name_their_columns_in_one_order_and_only_profile_columns() -> None:
    a = update_profile_statement(3, {"website": "w", "bio": "b"}, 9.0)
    b = update_profile_statement(3, {"bio": "b", "website": "w"}, 9.0)
    assert a == b
    assert a.cql == "UPDATE accounts_by_id SET bio = ?, website = ?, updated_at = ? WHERE id = ?"
    assert a.params == ("b", "w", 9.0, 3)
    with pytest.raises(ValueError):
        update_profile_statement(3, {"password_hash": "x"}, 9.0)


def test_sessions_and_grants_round_trip() -> None:
    session = Session("sid", 5, 1_700_000_000.5, 1_702_592_000.5)
    refresh = RefreshGrant("hash", "sid", 5, session.expires_at)
    by_id, by_user, grant = session_inserts(session, refresh, wall=1_700_000_000.0)
    assert session_of(dict(zip(_columns(by_id), by_id.params))) == session
    assert session_of(dict(zip(_columns(by_user), by_user.params))) == session
    assert grant_of(dict(zip(_columns(grant), grant.params))) == refresh
    assert by_id.params[-1] == by_user.params[-1] == 2_592_001 + adapter_module.EXPIRED_ROW_GRACE_S  # TTL


def test_prefs_and_keys_map_back() -> None:
    prefs = NotificationPrefs(follows=False, email=True)
    assert prefs_of(prefs_json(prefs)) == prefs
    assert prefs_of(None) == prefs_of("") == prefs_of("not json") == prefs_of("[1]") == NotificationPrefs()
    assert prefs_of('{"likes": false, "retired_option": true}') == NotificationPrefs(likes=False)
    assert signing_key_of({"kid": "k", "private_key_pem": "p", "created_at": 1.5}) == SigningKey("k", "p", 1.5)


def test_ttls_outlive_expiry_by_the_grace_and_stay_in_range() -> None:
    assert ttl_until(1000.0, 400.0, 60) == 660
    assert ttl_until(1000.0, 999.5, 60) == 61
    assert ttl_until(10.0, 1000.0, 60) == 60  # already expired (or a caller's synthetic time): the grace
    assert ttl_until(1e18, 0.0, 60) == 630_720_000
    assert ttl_until(float("inf"), 0.0, 60) == 630_720_000


# Paging -----------------------------------------------------------------------------------------


async def test_pages_follow_the_paging_state_to_the_end() -> None:
    served: list[bytes | None] = []
    data = list(range(7))

    async def fetch(state: bytes | None) -> Page:
        served.append(state)
        start = int(state or b"0")
        end = start + 3
        return Page([{"n": n} for n in data[start:end]], str(end).encode() if end < len(data) else None)

    rows = [r["n"] async for page in pages(fetch) for r in page.rows]
    assert rows == data and served == [None, b"3", b"6"]
    assert [len(p.rows) async for p in pages(fetch, max_pages=2)] == [3, 3]

    async def stuck(state: bytes | None) -> Page:
        return Page([{"n": 1}], b"same")

    with pytest.raises(RuntimeError):
        async for _ in pages(stuck):
            pass


async def test_all_rows_reads_a_partition_page_by_page() -> None:
    store, fake = _store()
    now = time.time()
    for i in range(7):
        await store.create_session(Session(f"s{i}", 9, now + i, now + 3600), RefreshGrant(f"h{i}", f"s{i}", 9, now + 3600))
    rows = await all_rows(fake, adapter_module.select_user_sessions(9), page_size=2)
    assert [r["session_id"] for r in rows] == [f"s{i}" for i in reversed(range(7))]  # newest first


def test_paging_states_become_cursor_positions_and_back() -> None:
    assert paging_position(None) == {} and paging_state_of(None) is None and paging_state_of({}) is None
    state = bytes(range(40))
    assert paging_state_of(paging_position(state)) == state
    for bad in ({"ps": "%%%"}, {"ps": 3}, {"ps": ""}):
        with pytest.raises(InvalidArgument):
            paging_state_of(bad)


# The outbox -------------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def ns(self) -> int:
        return int(self.now * 1e9)


def _events(n: int) -> list[OutgoingEvent]:
    return [OutgoingEvent(uuid.uuid4().hex, "chirp.user.t", "t", bytes([i])) for i in range(n)]


def test_time_uuids_increase_even_when_the_clock_does_not() -> None:
    clock = Clock(1_800_000_000.0)
    ids = TimeUuids(clock.ns)
    made = [ids.next() for _ in range(5)]
    assert [u.time for u in made] == sorted({u.time for u in made}) and all(u.version == 1 for u in made)
    assert uuid_unix_s(made[0]) == pytest.approx(clock.now)
    clock.now -= 10  # a clock stepping back
    assert ids.next().time > made[-1].time


def test_outbox_rows_go_to_the_aggregates_shard_and_the_bucket_of_their_id() -> None:
    ids = TimeUuids(Clock(1_800_000_000.0).ns)
    statements = outbox_inserts(_events(3), key=21, shards=8, bucket_s=300, ids=ids)
    assert {s.params[0] for s in statements} == {21 % 8}
    for s in statements:
        assert s.params[1] == bucket_of(uuid_unix_s(s.params[2]), 300)
    assert [s.params[2].time for s in statements] == sorted(s.params[2].time for s in statements)


async def test_the_relay_reads_from_the_watermark_and_leaves_old_empty_buckets_behind() -> None:
    fake = FakeCql(OUTBOX_SCHEMA)
    clock = Clock(1_800_000_000.0)
    ids = TimeUuids(clock.ns)
    outbox = ScyllaOutbox(fake, shards=2, bucket_s=60, grace_buckets=2, clock=clock)
    await outbox.init_watermarks()
    start = bucket_of(clock.now, 60) - 2
    assert outbox._watermarks == {} and await outbox._watermark(0) == start

    early = _events(2)
    await fake.batch(outbox_inserts(early, key=0, shards=2, bucket_s=60, ids=ids))
    clock.now += 600  # ten buckets later
    late = _events(1)
    await fake.batch(outbox_inserts(late, key=1, shards=2, bucket_s=60, ids=ids))
    assert await outbox.pending() == 3
    entries = await outbox.read(10)
    assert [e.event for e in entries] == early + late
    # Each watermark moves past the old empty buckets in front of it, and stops at the first one with
    # rows (shard 0) or at the grace behind now (shard 1, whose rows are newer).
    assert outbox._watermarks[0] == start + 2 == bucket_of(clock.now - 600, 60)
    assert outbox._watermarks[1] == bucket_of(clock.now, 60) - 2
    await outbox.delete(entries[:1])
    assert [e.event for e in await outbox.read(10)] == early[1:] + late
    await outbox.delete(await outbox.read(10))
    assert await outbox.read(10) == [] and await outbox.pending() == 0
    assert outbox._watermarks[0] == bucket_of(clock.now, 60) - 2
    # A writer whose clock lags (within the grace) is still read.
    lagging = TimeUuids(Clock(clock.now - 90).ns)
    await fake.batch(outbox_inserts(_events(1), key=0, shards=2, bucket_s=60, ids=lagging))
    assert len(await outbox.read(10)) == 1
    # The watermark is kept in the store, for the next relay.
    fresh = ScyllaOutbox(fake, shards=2, bucket_s=60, grace_buckets=2, clock=clock)
    assert await fresh._watermark(0) == outbox._watermarks[0]


async def test_outbox_reads_respect_the_limit_oldest_first() -> None:
    store, _ = _store()
    adapter = contract.Adapter("t", store, store.outbox)
    signed = [await contract._signup(adapter) for _ in range(12)]
    got = await store.outbox.read(5)
    assert [e.event for e in got] == [s.event for s in signed[:5]]


# Settings -----------------------------------------------------------------------------------------


def test_settings_come_from_the_environment() -> None:
    assert ScyllaSettings.from_env("user", {}) is None
    settings = ScyllaSettings.from_env("user", {
        "CHIRP_SCYLLA_HOSTS": "10.0.0.1, db2:9043,[::1]:9044", "CHIRP_SCYLLA_LOCAL_DC": "dc1",
        "CHIRP_USER_SCYLLA_KEYSPACE": "chirp_user", "CHIRP_SCYLLA_TABLETS": "default",
    })
    assert settings is not None
    assert settings.hosts == (("10.0.0.1", 9042), ("db2", 9043), ("::1", 9044))
    assert (settings.keyspace, settings.local_dc, settings.tablets, settings.replication_factor) == (
        "chirp_user", "dc1", None, 3)
    assert ScyllaSettings.from_env("user", {"CHIRP_SCYLLA_HOSTS": "h"}).keyspace == "user"  # type: ignore[union-attr]


@pytest.mark.parametrize("environ", [
    {"CHIRP_SCYLLA_HOSTS": "h", "CHIRP_USER_SCYLLA_KEYSPACE": "Bad-Name"},
    {"CHIRP_SCYLLA_HOSTS": "h", "CHIRP_SCYLLA_TABLETS": "maybe"},
    {"CHIRP_SCYLLA_HOSTS": "h", "CHIRP_SCYLLA_REPLICATION_FACTOR": "0"},
    {"CHIRP_SCYLLA_HOSTS": "h:port"},
    {"CHIRP_SCYLLA_HOSTS": "h:70000"},
    {"CHIRP_SCYLLA_HOSTS": "[::1"},
    {"CHIRP_SCYLLA_HOSTS": " , "},
])
def test_malformed_settings_stop_the_start_naming_the_variable(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="CHIRP_"):
        ScyllaSettings.from_env("user", environ)


def test_hosts_parse() -> None:
    assert parse_hosts("a") == (("a", 9042),)
    assert parse_hosts("[2001:db8::1]") == (("2001:db8::1", 9042),)


def test_the_cluster_routes_by_token_within_the_local_dc_at_local_quorum() -> None:
    from cassandra.cluster import EXEC_PROFILE_DEFAULT
    from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
    from cassandra.query import dict_factory

    cluster = build_cluster(ScyllaSettings(hosts=(("127.0.0.1", 19042),), keyspace="user", local_dc="dc1",
                                           username="u", password="p"))
    try:
        profile = cluster.profile_manager.profiles[EXEC_PROFILE_DEFAULT]
        assert isinstance(profile.load_balancing_policy, TokenAwarePolicy)
        assert isinstance(profile.load_balancing_policy._child_policy, DCAwareRoundRobinPolicy)
        assert profile.load_balancing_policy._child_policy.local_dc == "dc1"
        assert profile.consistency_level == ConsistencyLevel.LOCAL_QUORUM
        assert profile.serial_consistency_level == ConsistencyLevel.LOCAL_SERIAL
        assert profile.row_factory is dict_factory
        assert cluster.contact_points == [("127.0.0.1", 19042)]
        assert cluster.auth_provider is not None
    finally:
        cluster.shutdown()


def test_only_errors_that_prove_nothing_was_written_count_as_not_applied() -> None:
    from cassandra.cluster import NoHostAvailable

    assert definitely_not_applied(Unavailable("x"))
    assert definitely_not_applied(InvalidRequest("x"))
    assert definitely_not_applied(NoHostAvailable("x", {}))
    assert not definitely_not_applied(WriteTimeout("x", write_type=2))
    assert not definitely_not_applied(OperationTimedOut("x"))
    assert not definitely_not_applied(RuntimeError("x"))


def test_lwt_results_read_applied_and_the_old_row() -> None:
    result = LwtResult.of([{"[applied]": False, "user_id": 4, "claimed_at": 1.0}])
    assert result == LwtResult(False, {"user_id": 4, "claimed_at": 1.0})
    with pytest.raises(ValueError):
        LwtResult.of([])
    with pytest.raises(ValueError):
        LwtResult.of([{"user_id": 4}])


# The asyncio bridge over the driver's futures -----------------------------------------------------


class _DriverFuture:
    """Completes from another thread, as the driver's event loop does."""

    def __init__(self, rows: list[dict[str, Any]], paging_state: bytes | None = None,
                 error: BaseException | None = None) -> None:
        self.rows, self.paging_state, self.error = rows, paging_state, error

    def add_callbacks(self, ok: Any, failed: Any) -> None:
        threading.Timer(0.01, lambda: failed(self.error) if self.error else ok(self.rows)).start()

    def result(self) -> Any:
        return type("ResultSet", (), {"current_rows": self.rows, "paging_state": self.paging_state})()


class _Prepared:
    def __init__(self, cql: str) -> None:
        self.cql = cql

    def bind(self, params: tuple[Any, ...]) -> Any:
        return type("Bound", (), {"cql": self.cql, "params": params, "fetch_size": None, "is_idempotent": None})()


class _DriverSession:
    def __init__(self) -> None:
        self.prepared: list[str] = []
        self.executed: list[tuple[Any, bytes | None]] = []
        self.replies: list[_DriverFuture] = []

    def prepare(self, cql: str) -> _Prepared:
        time.sleep(0.01)
        self.prepared.append(cql)
        return _Prepared(cql)

    def execute_async(self, bound: Any, paging_state: bytes | None = None, **_: Any) -> _DriverFuture:
        self.executed.append((bound, paging_state))
        return self.replies.pop(0)


class _Cluster:
    shut = False

    def shutdown(self) -> None:
        self.shut = True


async def test_the_session_prepares_once_binds_pages_and_bridges_results_and_errors() -> None:
    driver, cluster = _DriverSession(), _Cluster()
    session = ScyllaSession(cluster, driver, "user")
    select = Statement("SELECT id FROM accounts_by_id WHERE id = ?", (1,))
    driver.replies = [_DriverFuture([{"id": 1}], b"next") for _ in range(3)]
    pages_ = await asyncio.gather(*(session.execute(select, paging_state=b"p", page_size=2) for _ in range(3)))
    assert pages_ == [Page([{"id": 1}], b"next")] * 3
    assert driver.prepared == [select.cql]  # prepared once for three concurrent callers
    bound, state = driver.executed[0]
    assert (bound.params, bound.fetch_size, bound.is_idempotent, state) == ((1,), 2, True, b"p")

    claim = claim_statement("accounts_by_username", "x", 1, 1.0)
    driver.replies = [_DriverFuture([{"[applied]": False, "user_id": 2, "claimed_at": 0.5}])]
    assert await session.lwt(claim) == LwtResult(False, {"user_id": 2, "claimed_at": 0.5})
    assert driver.executed[-1][0].is_idempotent is False

    driver.replies = [_DriverFuture([], error=Unavailable("down"))]
    with pytest.raises(Unavailable):
        await session.execute(select)
    await session.close()
    assert cluster.shut


async def test_connecting_to_no_server_fails_fast_and_names_the_host() -> None:
    from cassandra.cluster import NoHostAvailable

    from services.runtime.mesh import free_port

    port = free_port()
    settings = ScyllaSettings(hosts=(("127.0.0.1", port),), keyspace="user", connect_timeout_s=2)
    with pytest.raises(NoHostAvailable, match=str(port)):
        await asyncio.wait_for(ScyllaUserStore.connect(settings), 30)
