"""The user store contract: every adapter of the UserStore port, held to the port's docstrings.

SQLite always runs. ScyllaDB runs when CHIRP_SCYLLA_HOSTS names a cluster (a keyspace of the
suite's own is made and dropped; CHIRP_SCYLLA_REPLICATION_FACTOR defaults to 1 here, for a single
test node); otherwise its tests are reported skipped, with the reason.

Staged events are read back through the adapter-neutral outbox interface the relay is to use
(`read`, `delete`, `pending`), so the same assertions hold whatever stores the outbox.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.runtime.events import OutgoingEvent
from services.runtime.outbox import OutboxSource, SqliteOutbox
from services.user.domain import Account, NotificationPrefs
from services.user.store.base import (
    AccountSettings,
    EmailTaken,
    RefreshGrant,
    RefreshOutcome,
    Session,
    UsernameTaken,
    UserStore,
)
from services.user.store.sqlite import SqliteUserStore
from services.user.tokens import SigningKey
from tests.scylla_keyspace import SCYLLA_SKIP_REASON, throwaway_keyspace



# The adapter-neutral outbox --------------------------------------------------------------------


@dataclass
class Adapter:
    name: str
    store: UserStore
    outbox: OutboxSource

    async def staged(self) -> list[OutgoingEvent]:
        """Every event staged since the last look, oldest first; taken out as a relay would."""
        taken: list[OutgoingEvent] = []
        while True:
            entries = await self.outbox.read(500)
            if not entries:
                return taken
            taken.extend(e.event for e in entries)
            await self.outbox.delete(entries)


# Fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
async def sqlite_adapter(tmp_path: Path) -> AsyncIterator[Adapter]:
    store = SqliteUserStore(tmp_path / "user.db")
    yield Adapter("sqlite", store, SqliteOutbox(store.database))
    await store.close()


@pytest.fixture(scope="module")
async def scylla_store() -> AsyncIterator[Any]:
    from services.user.store.scylla import ScyllaUserStore

    async with throwaway_keyspace("user", ScyllaUserStore.connect) as store:
        yield store


@pytest.fixture
async def scylla_adapter(request: pytest.FixtureRequest) -> Adapter:
    if not os.environ.get("CHIRP_SCYLLA_HOSTS"):
        pytest.skip(SCYLLA_SKIP_REASON)
    store = request.getfixturevalue("scylla_store")
    adapter = Adapter("scylla", store, store.outbox)
    await adapter.staged()  # the keyspace is shared by the module: start each test with nothing staged
    return adapter


@pytest.fixture(params=["sqlite", "scylla"])
def adapter(request: pytest.FixtureRequest) -> Adapter:
    return request.getfixturevalue(f"{request.param}_adapter")


# Helpers ----------------------------------------------------------------------------------------

# Unique across tests and runs, so a store shared by a module (Scylla) never sees a clash by chance.
_ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)


def _new_id() -> int:
    return next(_ids)


def _account(uid: int, *, username: str | None = None, email: str | None = None) -> Account:
    username = username or f"u{uid % 10**12}"
    return Account(
        id=uid, username=username, email=email or f"{username.lower()}@example.com", name=f"Name {uid}", bio="",
        location="", website="", avatar_url="", is_private=False,
        created_at=datetime.fromtimestamp(1_700_000_000.25 + uid % 1000, UTC),
    )


def _session(uid: int, *, now: float | None = None, ttl: float = 3600.0) -> tuple[Session, RefreshGrant]:
    now = time.time() if now is None else now
    session = Session(id=uuid.uuid4().hex, user_id=uid, created_at=now, expires_at=now + ttl)
    return session, RefreshGrant(uuid.uuid4().hex, session.id, uid, session.expires_at)


def _event(kind: str, detail: str = "") -> OutgoingEvent:
    return OutgoingEvent(uuid.uuid4().hex, f"chirp.user.{kind}", f"chirp.test.{kind}", f"{kind}:{detail}".encode())


@dataclass
class SessionEventRecorder:
    """A SessionEvents function that records what it was given: one event per session, plus `extra`."""

    extra: list[str] = field(default_factory=list)
    calls: list[list[Session]] = field(default_factory=list)
    made: list[OutgoingEvent] = field(default_factory=list)

    def __call__(self, sessions: list[Session]) -> list[OutgoingEvent]:
        self.calls.append(list(sessions))
        events = [_event(kind) for kind in self.extra] + [_event("session_revoked", s.id) for s in sessions]
        self.made.extend(events)
        return events


@dataclass
class AccountEventRecorder:
    calls: list[Account] = field(default_factory=list)
    made: list[OutgoingEvent] = field(default_factory=list)

    def __call__(self, account: Account) -> list[OutgoingEvent]:
        self.calls.append(account)
        event = _event("updated", str(account.id))
        self.made.append(event)
        return [event]


@dataclass
class Signed:
    account: Account
    session: Session
    refresh: RefreshGrant
    event: OutgoingEvent


async def _signup(adapter: Adapter, *, username: str | None = None, email: str | None = None,
                  password_hash: str = "hash-1") -> Signed:
    uid = _new_id()
    account = _account(uid, username=username, email=email)
    session, refresh = _session(uid)
    event = _event("created", str(uid))
    await adapter.store.create_account(account, password_hash, session, refresh, [event])
    return Signed(account, session, refresh, event)


def _ids_of(events: Sequence[OutgoingEvent]) -> list[str]:
    return [e.event_id for e in events]


# Accounts ---------------------------------------------------------------------------------------


async def test_a_new_account_reads_back_with_its_session_and_event(adapter: Adapter) -> None:
    me = await _signup(adapter, username="Alice_Store")
    store = adapter.store
    assert await store.get_account(me.account.id) == me.account
    assert await store.get_accounts([me.account.id, me.account.id, _new_id()]) == {me.account.id: me.account}
    assert await store.get_session(me.session.id) == me.session
    by_name = await store.find_credentials(username="alice_STORE")
    by_mail = await store.find_credentials(email="  ALICE_STORE@Example.COM ")
    assert by_name is not None and by_mail is not None
    assert by_name.account == by_mail.account == me.account
    assert by_name.password_hash == "hash-1"
    assert await store.resolve_usernames(["ALICE_store", "nobody_here"]) == {"alice_store": me.account.id}
    assert await adapter.staged() == [me.event]


async def test_usernames_are_unique_without_case(adapter: Adapter) -> None:
    first = await _signup(adapter, username="CaseName")
    await adapter.staged()
    uid = _new_id()
    session, refresh = _session(uid)
    with pytest.raises(UsernameTaken):
        await adapter.store.create_account(_account(uid, username="casename", email="other@example.com"),
                                           "h", session, refresh, [_event("created")])
    # Nothing of the refused signup was stored.
    assert await adapter.store.get_account(uid) is None
    assert await adapter.store.get_session(session.id) is None
    assert await adapter.store.rotate_refresh(refresh.token_hash, _session(uid)[1], time.time()) == (
        RefreshOutcome.INVALID, None)
    assert await adapter.staged() == []
    assert (await adapter.store.find_credentials(username="CASENAME")).account.id == first.account.id  # type: ignore[union-attr]


async def test_emails_are_unique_without_case(adapter: Adapter) -> None:
    await _signup(adapter, email="Same.Mail@Example.com")
    await adapter.staged()
    uid = _new_id()
    session, refresh = _session(uid)
    with pytest.raises(EmailTaken):
        await adapter.store.create_account(_account(uid, email=" same.mail@EXAMPLE.com"), "h", session, refresh,
                                           [_event("created")])
    assert await adapter.store.get_account(uid) is None
    assert await adapter.store.get_session(session.id) is None
    assert await adapter.staged() == []


async def test_a_clash_on_both_names_the_username(adapter: Adapter) -> None:
    me = await _signup(adapter)
    with pytest.raises(UsernameTaken):
        await _signup(adapter, username=me.account.username.upper(), email=me.account.email.upper())


async def test_a_refused_signup_holds_nothing_back(adapter: Adapter) -> None:
    """A signup refused for its email must not keep its username (nor the reverse)."""
    taken = await _signup(adapter)
    username = f"free{_new_id() % 10**9}"
    with pytest.raises(EmailTaken):
        await _signup(adapter, username=username, email=taken.account.email)
    email = f"{username}@example.org"
    with pytest.raises(UsernameTaken):
        await _signup(adapter, username=taken.account.username, email=email)
    me = await _signup(adapter, username=username, email=email)
    assert (await adapter.store.find_credentials(username=username)).account == me.account  # type: ignore[union-attr]
    assert (await adapter.store.find_credentials(email=email)).account == me.account  # type: ignore[union-attr]


async def test_concurrent_signups_for_one_username_let_exactly_one_in(adapter: Adapter) -> None:
    base = f"race{_new_id() % 10**9}"
    spellings = [base, base.upper(), base.capitalize(), base.swapcase(), base, base.upper()]
    results = await asyncio.gather(
        *(_signup(adapter, username=name, email=f"{i}.{base}@example.com") for i, name in enumerate(spellings)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Signed)]
    assert len(winners) == 1, results
    assert all(isinstance(r, UsernameTaken) for r in results if not isinstance(r, Signed)), results
    found = await adapter.store.find_credentials(username=base)
    assert found is not None and found.account == winners[0].account
    assert await adapter.staged() == [winners[0].event]


async def test_concurrent_signups_for_one_email_let_exactly_one_in(adapter: Adapter) -> None:
    email = f"race{_new_id() % 10**9}@example.com"
    results = await asyncio.gather(
        *(_signup(adapter, email=spelling) for spelling in [email, email.upper(), email, f" {email} "]),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Signed)]
    assert len(winners) == 1, results
    assert all(isinstance(r, EmailTaken) for r in results if not isinstance(r, Signed)), results
    found = await adapter.store.find_credentials(email=email)
    assert found is not None and found.account == winners[0].account


async def test_unknown_accounts_are_none_everywhere(adapter: Adapter) -> None:
    store, uid = adapter.store, _new_id()
    assert await store.get_account(uid) is None
    assert await store.get_accounts([]) == {}
    assert await store.get_accounts([uid]) == {}
    assert await store.find_credentials() is None
    assert await store.find_credentials(username="nobody_at_all") is None
    assert await store.find_credentials(email="nobody@nowhere.example") is None
    assert await store.resolve_usernames([]) == {}
    assert await store.resolve_usernames(["nobody_at_all"]) == {}
    assert await store.get_settings(uid) is None
    assert await store.update_profile(uid, {"bio": "x"}, AccountEventRecorder()) is None
    assert await store.update_settings(uid, True, None, AccountEventRecorder()) is None
    assert await store.delete_account(uid, time.time(), SessionEventRecorder()) is None
    assert await store.get_session("no-such-session") is None
    assert await adapter.staged() == []


async def test_a_deleted_account_is_gone_but_keeps_its_names(adapter: Adapter) -> None:
    me = await _signup(adapter)
    other = await _signup(adapter)
    store, uid = adapter.store, me.account.id
    assert await store.delete_account(uid, time.time(), SessionEventRecorder()) is not None
    assert await store.get_account(uid) is None
    assert await store.get_accounts([uid, other.account.id]) == {other.account.id: other.account}
    assert await store.find_credentials(username=me.account.username) is None
    assert await store.find_credentials(email=me.account.email) is None
    assert await store.resolve_usernames([me.account.username, other.account.username]) == {
        other.account.username.lower(): other.account.id}
    assert await store.get_settings(uid) is None
    recorder = AccountEventRecorder()
    assert await store.update_profile(uid, {"bio": "back"}, recorder) is None
    assert await store.update_settings(uid, True, None, recorder) is None
    assert recorder.calls == []
    assert await store.delete_account(uid, time.time(), SessionEventRecorder()) is None  # gone already
    # The handle and the address stay reserved: nobody can take over a deleted user's name.
    with pytest.raises(UsernameTaken):
        await _signup(adapter, username=me.account.username)
    with pytest.raises(EmailTaken):
        await _signup(adapter, email=me.account.email)


async def test_delete_account_ends_live_sessions_with_its_events(adapter: Adapter) -> None:
    me = await _signup(adapter)
    uid, now = me.account.id, time.time()
    second, second_refresh = _session(uid)
    ended_before, ended_refresh = _session(uid)
    for s, r in [(second, second_refresh), (ended_before, ended_refresh)]:
        await adapter.store.create_session(s, r)
    assert await adapter.store.revoke_sessions(uid, [ended_before.id], now, SessionEventRecorder()) == [ended_before]
    await adapter.staged()

    recorder = SessionEventRecorder(extra=["deleted"])
    ended = await adapter.store.delete_account(uid, now + 1, recorder)
    assert ended is not None
    assert {s.id for s in ended} == {me.session.id, second.id}
    assert recorder.calls and {s.id for s in recorder.calls[-1]} == {me.session.id, second.id}
    assert sorted(_ids_of(await adapter.staged())) == sorted(_ids_of(recorder.made))
    for session_id in (me.session.id, second.id):
        assert (await adapter.store.get_session(session_id)).revoked_at == now + 1  # type: ignore[union-attr]
    assert (await adapter.store.get_session(ended_before.id)).revoked_at == now  # type: ignore[union-attr]
    outcome, _ = await adapter.store.rotate_refresh(second_refresh.token_hash, _session(uid)[1], now + 2)
    assert outcome is RefreshOutcome.INVALID


async def test_deleting_an_account_with_no_live_session_still_stages_its_events(adapter: Adapter) -> None:
    me = await _signup(adapter)
    now = time.time()
    await adapter.store.revoke_sessions(me.account.id, None, now, SessionEventRecorder())
    await adapter.staged()
    recorder = SessionEventRecorder(extra=["deleted"])
    assert await adapter.store.delete_account(me.account.id, now + 1, recorder) == []
    assert recorder.calls == [[]]
    assert _ids_of(await adapter.staged()) == _ids_of(recorder.made)


# Sessions and refresh tokens --------------------------------------------------------------------


async def test_sessions_round_trip_exactly(adapter: Adapter) -> None:
    me = await _signup(adapter)
    session, refresh = _session(me.account.id, now=1_750_000_000.123456, ttl=30 * 24 * 3600.5)
    await adapter.store.create_session(session, refresh)
    assert await adapter.store.get_session(session.id) == session
    assert await adapter.staged() == [me.event]  # a plain sign-in stages nothing


async def test_refresh_rotates_once_and_a_reuse_is_reported(adapter: Adapter) -> None:
    me = await _signup(adapter)
    store, now = adapter.store, time.time()
    placeholder = RefreshGrant(uuid.uuid4().hex, "", 0, now + 3600)
    assert await store.rotate_refresh(me.refresh.token_hash, placeholder, now) == (RefreshOutcome.ROTATED, me.session)
    # The replacement is stored for the same session, whatever session the caller put in it.
    second = RefreshGrant(uuid.uuid4().hex, "", 0, now + 3600)
    assert await store.rotate_refresh(placeholder.token_hash, second, now) == (RefreshOutcome.ROTATED, me.session)
    # The first token again: REUSED, with its session, and nothing changes.
    unused = RefreshGrant(uuid.uuid4().hex, "", 0, now + 3600)
    assert await store.rotate_refresh(me.refresh.token_hash, unused, now) == (RefreshOutcome.REUSED, me.session)
    assert await store.rotate_refresh(unused.token_hash, _session(0)[1], now) == (RefreshOutcome.INVALID, None)
    assert (await store.get_session(me.session.id)).revoked_at is None  # type: ignore[union-attr]
    assert await store.rotate_refresh(second.token_hash, _session(0)[1], now) == (RefreshOutcome.ROTATED, me.session)


async def test_refresh_is_invalid_when_unknown_expired_or_its_session_ended(adapter: Adapter) -> None:
    store, now = adapter.store, time.time()
    assert await store.rotate_refresh("no-such-hash", _session(0)[1], now) == (RefreshOutcome.INVALID, None)

    me = await _signup(adapter)
    uid = me.account.id
    short, short_refresh = _session(uid, now=now - 100, ttl=50)  # session and grant expired
    await store.create_session(short, short_refresh)
    live, _ = _session(uid)
    expired_grant = RefreshGrant(uuid.uuid4().hex, live.id, uid, now - 1)
    await store.create_session(live, expired_grant)
    ended, ended_refresh = _session(uid)
    await store.create_session(ended, ended_refresh)
    await store.revoke_sessions(uid, [ended.id], now, SessionEventRecorder())

    for token_hash in (short_refresh.token_hash, expired_grant.token_hash, ended_refresh.token_hash):
        replacement = RefreshGrant(uuid.uuid4().hex, "", 0, now + 3600)
        assert await store.rotate_refresh(token_hash, replacement, now) == (RefreshOutcome.INVALID, None)
        # INVALID changes nothing: the replacement was not stored...
        assert await store.rotate_refresh(replacement.token_hash, _session(0)[1], now) == (RefreshOutcome.INVALID, None)
    # ...nor was the token used up.
    assert await store.rotate_refresh(expired_grant.token_hash, _session(0)[1], now - 10) == (
        RefreshOutcome.ROTATED, live)


async def test_concurrent_use_of_one_refresh_token_rotates_exactly_once(adapter: Adapter) -> None:
    me = await _signup(adapter)
    now = time.time()
    replacements = [RefreshGrant(uuid.uuid4().hex, "", 0, now + 3600) for _ in range(5)]
    results = await asyncio.gather(*(adapter.store.rotate_refresh(me.refresh.token_hash, r, now) for r in replacements))
    outcomes = [outcome for outcome, _ in results]
    assert outcomes.count(RefreshOutcome.ROTATED) == 1, outcomes
    assert outcomes.count(RefreshOutcome.REUSED) == 4, outcomes
    assert all(session == me.session for _, session in results)
    # Only the winner's replacement works.
    works = [await adapter.store.rotate_refresh(r.token_hash, _session(0)[1], now) for r in replacements]
    assert [w[0] for w in works].count(RefreshOutcome.ROTATED) == 1


async def test_revoke_sessions_returns_only_what_it_ended(adapter: Adapter) -> None:
    me = await _signup(adapter)
    uid, now = me.account.id, time.time()
    second, r2 = _session(uid)
    third, r3 = _session(uid)
    expired, r4 = _session(uid, now=now - 100, ttl=10)
    for s, r in [(second, r2), (third, r3), (expired, r4)]:
        await adapter.store.create_session(s, r)
    await adapter.staged()

    one = SessionEventRecorder()
    assert await adapter.store.revoke_sessions(uid, [second.id], now, one) == [second]
    assert one.calls == [[second]]
    assert _ids_of(await adapter.staged()) == _ids_of(one.made)
    assert (await adapter.store.get_session(second.id)).revoked_at == now  # type: ignore[union-attr]

    again = SessionEventRecorder()
    assert await adapter.store.revoke_sessions(uid, [second.id, expired.id], now + 1, again) == []
    assert again.calls == [] and await adapter.staged() == []  # nothing ended, nothing staged
    assert (await adapter.store.get_session(second.id)).revoked_at == now  # type: ignore[union-attr]

    rest = SessionEventRecorder()
    ended = await adapter.store.revoke_sessions(uid, None, now + 2, rest)
    assert {s.id for s in ended} == {me.session.id, third.id}
    assert all(s.revoked_at is None for s in ended)  # as they were before this call ended them
    assert sorted(_ids_of(await adapter.staged())) == sorted(_ids_of(rest.made))
    assert (await adapter.store.get_session(expired.id)).revoked_at is None  # type: ignore[union-attr]
    assert await adapter.store.revoke_sessions(uid, None, now + 3, SessionEventRecorder()) == []


async def test_revoke_sessions_touches_only_that_users_sessions(adapter: Adapter) -> None:
    me, other = await _signup(adapter), await _signup(adapter)
    now = time.time()
    assert await adapter.store.revoke_sessions(me.account.id, [other.session.id], now, SessionEventRecorder()) == []
    assert (await adapter.store.get_session(other.session.id)).revoked_at is None  # type: ignore[union-attr]
    assert await adapter.store.revoke_sessions(me.account.id, [], now, SessionEventRecorder()) == []
    assert (await adapter.store.get_session(me.session.id)).revoked_at is None  # type: ignore[union-attr]


async def test_concurrent_revokes_end_each_session_once(adapter: Adapter) -> None:
    me = await _signup(adapter)
    uid, now = me.account.id, time.time()
    sessions = [me.session]
    for _ in range(3):
        s, r = _session(uid)
        await adapter.store.create_session(s, r)
        sessions.append(s)
    results = await asyncio.gather(
        *(adapter.store.revoke_sessions(uid, None, now, SessionEventRecorder()) for _ in range(4)))
    ended = [s.id for result in results for s in result]
    assert sorted(ended) == sorted(s.id for s in sessions), "each session ended by exactly one call"


# Password resets --------------------------------------------------------------------------------


async def test_a_password_reset_works_once_uses_every_token_and_ends_sessions(adapter: Adapter) -> None:
    me = await _signup(adapter)
    uid, now = me.account.id, time.time()
    second, r2 = _session(uid)
    await adapter.store.create_session(second, r2)
    first_token, second_token = uuid.uuid4().hex, uuid.uuid4().hex
    await adapter.store.create_password_reset(uid, first_token, now + 3600)
    await adapter.store.create_password_reset(uid, second_token, now + 3600)
    await adapter.staged()

    recorder = SessionEventRecorder()
    result = await adapter.store.consume_password_reset(first_token, "hash-2", now, recorder)
    assert result is not None
    user_id, ended = result
    assert user_id == uid and {s.id for s in ended} == {me.session.id, second.id}
    assert (await adapter.store.find_credentials(username=me.account.username)).password_hash == "hash-2"  # type: ignore[union-attr]
    assert sorted(_ids_of(await adapter.staged())) == sorted(_ids_of(recorder.made))
    assert (await adapter.store.get_session(second.id)).revoked_at == now  # type: ignore[union-attr]

    assert await adapter.store.consume_password_reset(first_token, "hash-3", now, SessionEventRecorder()) is None
    assert await adapter.store.consume_password_reset(second_token, "hash-3", now, SessionEventRecorder()) is None
    assert (await adapter.store.find_credentials(username=me.account.username)).password_hash == "hash-2"  # type: ignore[union-attr]

    # A reset with no live session still changes the password, and stages nothing.
    third_token = uuid.uuid4().hex
    await adapter.store.create_password_reset(uid, third_token, now + 3600)
    quiet = SessionEventRecorder()
    assert await adapter.store.consume_password_reset(third_token, "hash-4", now + 1, quiet) == (uid, [])
    assert quiet.calls == [] and await adapter.staged() == []


async def test_a_password_reset_token_unknown_expired_or_for_a_deleted_account_is_refused(adapter: Adapter) -> None:
    me = await _signup(adapter)
    uid, now = me.account.id, time.time()
    assert await adapter.store.consume_password_reset("unknown", "h", now, SessionEventRecorder()) is None
    expiring = uuid.uuid4().hex
    await adapter.store.create_password_reset(uid, expiring, now + 60)
    assert await adapter.store.consume_password_reset(expiring, "h", now + 60, SessionEventRecorder()) is None
    live = uuid.uuid4().hex
    await adapter.store.create_password_reset(uid, live, now + 3600)
    await adapter.store.delete_account(uid, now, SessionEventRecorder())
    assert await adapter.store.consume_password_reset(live, "h", now + 1, SessionEventRecorder()) is None
    assert (await adapter.store.get_session(me.session.id)).revoked_at == now  # type: ignore[union-attr]


async def test_concurrent_use_of_one_reset_token_succeeds_once(adapter: Adapter) -> None:
    me = await _signup(adapter)
    token, now = uuid.uuid4().hex, time.time()
    await adapter.store.create_password_reset(me.account.id, token, now + 3600)
    results = await asyncio.gather(*(
        adapter.store.consume_password_reset(token, f"hash-{i}", now, SessionEventRecorder()) for i in range(4)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1, results
    assert winners[0][1] == [me.session]


# Profile and settings ---------------------------------------------------------------------------


async def test_update_profile_stages_events_only_when_something_changes(adapter: Adapter) -> None:
    me = await _signup(adapter)
    await adapter.staged()
    uid = me.account.id
    nothing = AccountEventRecorder()
    assert await adapter.store.update_profile(uid, {}, nothing) == me.account
    assert nothing.calls == [] and await adapter.staged() == []

    recorder = AccountEventRecorder()
    changes = {"bio": "Hello there", "website": "https://example.com/me", "name": "New Name"}
    updated = await adapter.store.update_profile(uid, changes, recorder)
    expected = dataclasses.replace(me.account, bio="Hello there", website="https://example.com/me", name="New Name")
    assert updated == expected
    assert recorder.calls == [expected]
    assert await adapter.store.get_account(uid) == expected
    assert _ids_of(await adapter.staged()) == _ids_of(recorder.made)

    with pytest.raises(ValueError):
        await adapter.store.update_profile(uid, {"username": "sneaky"}, AccountEventRecorder())
    assert await adapter.store.get_account(uid) == expected


async def test_settings_change_stages_events_only_when_they_differ(adapter: Adapter) -> None:
    me = await _signup(adapter)
    await adapter.staged()
    uid = me.account.id
    assert await adapter.store.get_settings(uid) == AccountSettings(False, NotificationPrefs())

    unchanged = AccountEventRecorder()
    assert await adapter.store.update_settings(uid, None, None, unchanged) == AccountSettings(False, NotificationPrefs())
    assert await adapter.store.update_settings(uid, False, NotificationPrefs(), unchanged) == AccountSettings(
        False, NotificationPrefs())
    assert unchanged.calls == [] and await adapter.staged() == []

    private = AccountEventRecorder()
    assert await adapter.store.update_settings(uid, True, None, private) == AccountSettings(True, NotificationPrefs())
    assert [a.is_private for a in private.calls] == [True]
    assert _ids_of(await adapter.staged()) == _ids_of(private.made)
    assert (await adapter.store.get_account(uid)).is_private is True  # type: ignore[union-attr]

    prefs = NotificationPrefs(likes=False, email=True)
    prefs_changed = AccountEventRecorder()
    assert await adapter.store.update_settings(uid, None, prefs, prefs_changed) == AccountSettings(True, prefs)
    assert len(prefs_changed.calls) == 1
    assert await adapter.store.get_settings(uid) == AccountSettings(True, prefs)
    assert _ids_of(await adapter.staged()) == _ids_of(prefs_changed.made)


# Signing keys -----------------------------------------------------------------------------------


async def test_the_first_signing_key_wins(adapter: Adapter) -> None:
    """Two processes starting on an empty store at once must agree on one key."""
    store = adapter.store
    assert await store.signing_keys() == []
    first, second = SigningKey("kid-a", "pem-a", 1000.5), SigningKey("kid-b", "pem-b", 1001.5)
    results = await asyncio.gather(store.add_signing_key_if_none(first), store.add_signing_key_if_none(second))
    assert results[0] == results[1] and len(results[0]) == 1 and results[0][0] in (first, second)
    winner = results[0][0]
    assert await store.add_signing_key_if_none(SigningKey("kid-c", "pem-c", 1002.5)) == [winner]
    assert await store.signing_keys() == [winner]


# The outbox, through the relay's interface ------------------------------------------------------


async def test_the_outbox_hands_out_staged_events_oldest_first_until_deleted(adapter: Adapter) -> None:
    signed = [await _signup(adapter) for _ in range(3)]
    assert await adapter.outbox.pending() == 3
    first_two = await adapter.outbox.read(2)
    assert [e.event for e in first_two] == [s.event for s in signed[:2]]
    assert [e.event for e in await adapter.outbox.read(2)] == [s.event for s in signed[:2]]  # not gone until deleted
    await adapter.outbox.delete(first_two)
    assert await adapter.outbox.pending() == 1
    assert [e.event for e in await adapter.outbox.read(10)] == [signed[2].event]
    assert await adapter.staged() == [signed[2].event]
    assert await adapter.outbox.pending() == 0
