"""The user store on ScyllaDB: a keyspace of its own, one table per query, LWTs where uniqueness or
single use matters, and the outbox written in the same logged batch as each change.

Tables, and the query each one answers:
- accounts_by_id            an account by id (profile, settings, password hash, soft delete)
- accounts_by_username      username (lowercased) -> id; claimed by LWT, so usernames are unique
- accounts_by_email         email (normalised) -> id; claimed by LWT, so emails are unique
- sessions_by_id            a session by id; the authority on whether it has ended (LWT)
- sessions_by_user          a user's sessions, newest first (what "end all my sessions" reads)
- refresh_tokens_by_hash    a refresh grant by token hash; used once (LWT on used_at)
- password_resets_by_hash   a reset token by hash; used once (LWT on used_at)
- password_resets_by_user   a user's reset tokens (what "mark every reset token used" reads)
- signing_keys              the token-signing keys, one partition; the first is installed by LWT
- outbox, outbox_watermark  staged events for the relay (services/runtime/scylla.py)

How the multi-partition changes hold together without transactions:
- Signup claims the username, then the email, each by LWT in its own table (LWTs cannot share a
  batch across partitions), then writes account, session, refresh grant and events in one logged
  batch. A clash or a failure before the batch releases the claims (a delete conditional on still
  being ours); a batch failure releases them only when the write surely did not land. A claim whose
  account never appeared (its writer died) is taken over once it is CLAIM_GRACE_S old.
- Ending a session is an LWT on sessions_by_id (so each session is ended by exactly one call, which
  alone returns it), marked "revocation not yet staged"; the same call's logged batch then updates
  sessions_by_user, stages the events and marks it staged. If a writer dies between the two, the
  next call that ends that user's sessions finds it unstaged (after FINISH_GRACE_S) and stages its
  events then: an event may be sent twice (consumers are idempotent), never lost.
- Password reset: the token is used by LWT, sessions are ended as above, and the new password, the
  other tokens marked used, the session updates and the events go in one logged batch.

Times are float seconds (double), as the domain and the SQLite adapter have them, so values round
trip exactly. Tokens and sessions carry a TTL that outlives their expiry by a grace period.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.runtime.events import OutgoingEvent
from services.runtime.logging import get_logger
from services.runtime.scylla import (
    OUTBOX_SCHEMA,
    CqlSession,
    ScyllaOutbox,
    ScyllaStore,
    Statement,
    all_rows,
    definitely_not_applied,
    first_row,
    gather_limited,
    ttl_until,
)
from services.user.domain import PROFILE_FIELDS, Account, NotificationPrefs, normalize_email, normalize_username
from services.user.store.base import (
    AccountSettings,
    Credentials,
    EmailTaken,
    RefreshGrant,
    RefreshOutcome,
    Session,
    SessionEvents,
    UsernameTaken,
)
from services.user.tokens import SigningKey

log = get_logger("chirp.user.store")

# A claim older than this whose account does not exist was left by a signup that died; it may be
# taken over. Far longer than a signup's writes can take, even replayed from the batchlog.
CLAIM_GRACE_S = 600
# A session ended this long ago whose revocation is still unstaged was left by a writer that died.
FINISH_GRACE_S = 30
# How long tokens and sessions are kept past their expiry (so a reused refresh token is still
# recognised as reused for a while, not merely unknown).
EXPIRED_ROW_GRACE_S = 7 * 24 * 3600
SIGNING_KEY_SCOPE = "jwt"

USERNAME_CLAIMS = "accounts_by_username"
EMAIL_CLAIMS = "accounts_by_email"

SCHEMA: list[str] = [
    """CREATE TABLE IF NOT EXISTS accounts_by_id (
  id bigint PRIMARY KEY,
  username text,
  email text,
  password_hash text,
  name text,
  bio text,
  location text,
  website text,
  avatar_url text,
  is_private boolean,
  notification_prefs text,
  created_at double,
  updated_at double,
  deleted_at double
)""",
    """CREATE TABLE IF NOT EXISTS accounts_by_username (
  username_key text PRIMARY KEY,
  user_id bigint,
  claimed_at double
)""",
    """CREATE TABLE IF NOT EXISTS accounts_by_email (
  email_key text PRIMARY KEY,
  user_id bigint,
  claimed_at double
)""",
    """CREATE TABLE IF NOT EXISTS sessions_by_id (
  id text PRIMARY KEY,
  user_id bigint,
  created_at double,
  expires_at double,
  revoked_at double,
  revocation_staged boolean
)""",
    """CREATE TABLE IF NOT EXISTS sessions_by_user (
  user_id bigint,
  created_at double,
  session_id text,
  expires_at double,
  revoked_at double,
  PRIMARY KEY (user_id, created_at, session_id)
) WITH CLUSTERING ORDER BY (created_at DESC, session_id ASC)""",
    """CREATE TABLE IF NOT EXISTS refresh_tokens_by_hash (
  token_hash text PRIMARY KEY,
  session_id text,
  user_id bigint,
  expires_at double,
  used_at double
)""",
    """CREATE TABLE IF NOT EXISTS password_resets_by_hash (
  token_hash text PRIMARY KEY,
  user_id bigint,
  expires_at double,
  used_at double
)""",
    """CREATE TABLE IF NOT EXISTS password_resets_by_user (
  user_id bigint,
  token_hash text,
  expires_at double,
  PRIMARY KEY (user_id, token_hash)
)""",
    """CREATE TABLE IF NOT EXISTS signing_keys (
  scope text,
  kid text,
  private_key_pem text,
  created_at double,
  installed text STATIC,
  PRIMARY KEY (scope, kid)
)""",
    *OUTBOX_SCHEMA,
]


# Statements: pure functions of their arguments --------------------------------------------------

_ACCOUNT_COLUMNS = (
    "id, username, email, password_hash, name, bio, location, website, avatar_url, is_private,"
    " notification_prefs, created_at, deleted_at"
)
_SESSION_COLUMNS = "id, user_id, created_at, expires_at, revoked_at, revocation_staged"


def select_account(user_id: int) -> Statement:
    return Statement(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts_by_id WHERE id = ?", (user_id,))


def insert_account(account: Account, password_hash: str, prefs: NotificationPrefs, wall: float) -> Statement:
    created = account.created_at.timestamp()
    return Statement(
        "INSERT INTO accounts_by_id (id, username, email, password_hash, name, bio, location, website,"
        " avatar_url, is_private, notification_prefs, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (account.id, account.username, account.email, password_hash, account.name, account.bio, account.location,
         account.website, account.avatar_url, account.is_private, prefs_json(prefs), created, created),
    )


def update_profile_statement(user_id: int, changes: Mapping[str, str], wall: float) -> Statement:
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile columns: {unknown}")
    columns = sorted(changes)  # one statement text per set of columns, whatever the order asked
    assignments = ", ".join(f"{c} = ?" for c in columns)
    return Statement(
        f"UPDATE accounts_by_id SET {assignments}, updated_at = ? WHERE id = ?",
        (*(changes[c] for c in columns), wall, user_id),
    )


def update_settings_statement(user_id: int, settings: AccountSettings, wall: float) -> Statement:
    return Statement(
        "UPDATE accounts_by_id SET is_private = ?, notification_prefs = ?, updated_at = ? WHERE id = ?",
        (settings.is_private, prefs_json(settings.notification_prefs), wall, user_id),
    )


def update_password_statement(user_id: int, password_hash: str, now: float) -> Statement:
    return Statement(
        "UPDATE accounts_by_id SET password_hash = ?, updated_at = ? WHERE id = ?", (password_hash, now, user_id)
    )


def mark_deleted_statement(user_id: int, now: float) -> Statement:
    return Statement("UPDATE accounts_by_id SET deleted_at = ?, updated_at = ? WHERE id = ?", (now, now, user_id))


def _claim_key_column(table: str) -> str:
    if table == USERNAME_CLAIMS:
        return "username_key"
    if table == EMAIL_CLAIMS:
        return "email_key"
    raise ValueError(f"not a claim table: {table}")


def claim_statement(table: str, key: str, user_id: int, wall: float) -> Statement:
    column = _claim_key_column(table)
    return Statement(
        f"INSERT INTO {table} ({column}, user_id, claimed_at) VALUES (?, ?, ?) IF NOT EXISTS",
        (key, user_id, wall), idempotent=False,
    )


def take_over_claim_statement(table: str, key: str, user_id: int, wall: float, stale_user_id: int,
                              stale_claimed_at: float) -> Statement:
    column = _claim_key_column(table)
    return Statement(
        f"UPDATE {table} SET user_id = ?, claimed_at = ? WHERE {column} = ? IF user_id = ? AND claimed_at = ?",
        (user_id, wall, key, stale_user_id, stale_claimed_at), idempotent=False,
    )


def release_claim_statement(table: str, key: str, user_id: int) -> Statement:
    column = _claim_key_column(table)
    return Statement(f"DELETE FROM {table} WHERE {column} = ? IF user_id = ?", (key, user_id), idempotent=False)


def select_claim(table: str, key: str) -> Statement:
    column = _claim_key_column(table)
    return Statement(f"SELECT user_id, claimed_at FROM {table} WHERE {column} = ?", (key,))


def session_inserts(session: Session, refresh: RefreshGrant, wall: float) -> list[Statement]:
    ttl = ttl_until(session.expires_at, wall, EXPIRED_ROW_GRACE_S)
    return [
        Statement(
            "INSERT INTO sessions_by_id (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?) USING TTL ?",
            (session.id, session.user_id, session.created_at, session.expires_at, ttl),
        ),
        Statement(
            "INSERT INTO sessions_by_user (user_id, created_at, session_id, expires_at) VALUES (?, ?, ?, ?)"
            " USING TTL ?",
            (session.user_id, session.created_at, session.id, session.expires_at, ttl),
        ),
        refresh_insert(refresh, wall),
    ]


def refresh_insert(refresh: RefreshGrant, wall: float) -> Statement:
    return Statement(
        "INSERT INTO refresh_tokens_by_hash (token_hash, session_id, user_id, expires_at) VALUES (?, ?, ?, ?)"
        " USING TTL ?",
        (refresh.token_hash, refresh.session_id, refresh.user_id, refresh.expires_at,
         ttl_until(refresh.expires_at, wall, EXPIRED_ROW_GRACE_S)),
    )


def select_session(session_id: str) -> Statement:
    return Statement(f"SELECT {_SESSION_COLUMNS} FROM sessions_by_id WHERE id = ?", (session_id,))


def select_user_sessions(user_id: int) -> Statement:
    return Statement(
        "SELECT session_id, created_at, expires_at, revoked_at FROM sessions_by_user WHERE user_id = ?", (user_id,)
    )


def end_session_statement(session: Session, now: float, wall: float) -> Statement:
    """The LWT that ends a session: only while it is live, and only a session of that user (a row
    that does not exist has a null user_id, so it cannot match)."""
    return Statement(
        "UPDATE sessions_by_id USING TTL ? SET revoked_at = ?, revocation_staged = false WHERE id = ?"
        " IF user_id = ? AND revoked_at = null",
        (ttl_until(session.expires_at, wall, EXPIRED_ROW_GRACE_S), now, session.id, session.user_id),
        idempotent=False,
    )


def revocation_staged_statements(session: Session, revoked_at: float, wall: float) -> list[Statement]:
    ttl = ttl_until(session.expires_at, wall, EXPIRED_ROW_GRACE_S)
    return [
        Statement(
            "UPDATE sessions_by_user USING TTL ? SET revoked_at = ? WHERE user_id = ? AND created_at = ?"
            " AND session_id = ?",
            (ttl, revoked_at, session.user_id, session.created_at, session.id),
        ),
        Statement("UPDATE sessions_by_id USING TTL ? SET revocation_staged = true WHERE id = ?", (ttl, session.id)),
    ]


def select_refresh(token_hash: str) -> Statement:
    return Statement(
        "SELECT token_hash, session_id, user_id, expires_at, used_at FROM refresh_tokens_by_hash WHERE token_hash = ?",
        (token_hash,),
    )


def use_refresh_statement(grant: RefreshGrant, now: float, wall: float) -> Statement:
    """Atomic single use: applies only if the grant is unused (and still exists: session_id matches)."""
    return Statement(
        "UPDATE refresh_tokens_by_hash USING TTL ? SET used_at = ? WHERE token_hash = ?"
        " IF used_at = null AND session_id = ?",
        (ttl_until(grant.expires_at, wall, EXPIRED_ROW_GRACE_S), now, grant.token_hash, grant.session_id),
        idempotent=False,
    )


def delete_refresh_statement(token_hash: str) -> Statement:
    return Statement("DELETE FROM refresh_tokens_by_hash WHERE token_hash = ?", (token_hash,))


def reset_inserts(user_id: int, token_hash: str, expires_at: float, wall: float) -> list[Statement]:
    ttl = ttl_until(expires_at, wall, EXPIRED_ROW_GRACE_S)
    return [
        Statement(
            "INSERT INTO password_resets_by_hash (token_hash, user_id, expires_at) VALUES (?, ?, ?) USING TTL ?",
            (token_hash, user_id, expires_at, ttl),
        ),
        Statement(
            "INSERT INTO password_resets_by_user (user_id, token_hash, expires_at) VALUES (?, ?, ?) USING TTL ?",
            (user_id, token_hash, expires_at, ttl),
        ),
    ]


def select_reset(token_hash: str) -> Statement:
    return Statement(
        "SELECT token_hash, user_id, expires_at, used_at FROM password_resets_by_hash WHERE token_hash = ?",
        (token_hash,),
    )


def select_user_resets(user_id: int) -> Statement:
    return Statement("SELECT token_hash, expires_at FROM password_resets_by_user WHERE user_id = ?", (user_id,))


def use_reset_statement(token_hash: str, user_id: int, expires_at: float, now: float, wall: float) -> Statement:
    return Statement(
        "UPDATE password_resets_by_hash USING TTL ? SET used_at = ? WHERE token_hash = ?"
        " IF used_at = null AND user_id = ?",
        (ttl_until(expires_at, wall, EXPIRED_ROW_GRACE_S), now, token_hash, user_id),
        idempotent=False,
    )


def retire_reset_statements(user_id: int, token_hash: str, expires_at: float, now: float, wall: float,
                            *, mark_used: bool) -> list[Statement]:
    statements = [Statement(
        "DELETE FROM password_resets_by_user WHERE user_id = ? AND token_hash = ?", (user_id, token_hash))]
    if mark_used:
        statements.append(Statement(
            "UPDATE password_resets_by_hash USING TTL ? SET used_at = ? WHERE token_hash = ?",
            (ttl_until(expires_at, wall, EXPIRED_ROW_GRACE_S), now, token_hash),
        ))
    return statements


def select_signing_keys() -> Statement:
    return Statement(
        "SELECT kid, private_key_pem, created_at FROM signing_keys WHERE scope = ?", (SIGNING_KEY_SCOPE,)
    )


def install_first_signing_key_statement(key: SigningKey) -> Statement:
    """Writes the key only if no key was ever installed: the condition is on a static column, which
    the whole partition shares, so two processes starting at once cannot both install theirs."""
    return Statement(
        "UPDATE signing_keys SET installed = ?, private_key_pem = ?, created_at = ? WHERE scope = ? AND kid = ?"
        " IF installed = null",
        (key.kid, key.private_key_pem, key.created_at, SIGNING_KEY_SCOPE, key.kid), idempotent=False,
    )


# Rows -> domain ---------------------------------------------------------------------------------


def prefs_json(prefs: NotificationPrefs) -> str:
    return json.dumps(dataclasses.asdict(prefs), sort_keys=True)


def prefs_of(text: str | None) -> NotificationPrefs:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        data = {}
    known = {f.name for f in dataclasses.fields(NotificationPrefs)}
    return NotificationPrefs(**{k: v for k, v in (data if isinstance(data, dict) else {}).items() if k in known})


def account_of(row: Mapping[str, Any]) -> Account:
    return Account(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        name=row.get("name") or "",
        bio=row.get("bio") or "",
        location=row.get("location") or "",
        website=row.get("website") or "",
        avatar_url=row.get("avatar_url") or "",
        is_private=bool(row.get("is_private")),
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
    )


def is_live(row: Mapping[str, Any] | None) -> bool:
    """An account row that exists completely (not only cells an update left) and is not deleted."""
    return row is not None and row.get("username") is not None and row.get("deleted_at") is None


def settings_of(row: Mapping[str, Any]) -> AccountSettings:
    return AccountSettings(bool(row.get("is_private")), prefs_of(row.get("notification_prefs")))


def session_of(row: Mapping[str, Any]) -> Session:
    return Session(
        id=row.get("id") or row["session_id"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row.get("revoked_at"),
    )


def grant_of(row: Mapping[str, Any]) -> RefreshGrant:
    return RefreshGrant(row["token_hash"], row["session_id"], row["user_id"], row["expires_at"])


def signing_key_of(row: Mapping[str, Any]) -> SigningKey:
    return SigningKey(row["kid"], row["private_key_pem"], row["created_at"])


def claim_is_stale(claim: Mapping[str, Any], wall: float) -> bool:
    """Old enough to have been left by a signup that died (the caller also checks its account)."""
    claimed_at = claim.get("claimed_at")
    return claimed_at is not None and claimed_at < wall - CLAIM_GRACE_S


def unstaged_revocation(existing: Mapping[str, Any], user_id: int, now: float) -> float | None:
    """When an LWT to end a session did not apply: the time it was ended, if its revocation was never
    staged and the writer that ended it has had time to (so it must have died); else None."""
    if existing.get("user_id") != user_id:
        return None
    revoked_at = existing.get("revoked_at")
    if revoked_at is None or existing.get("revocation_staged") is not False:
        return None
    return revoked_at if revoked_at <= now - FINISH_GRACE_S else None


@dataclass(frozen=True)
class Ending:
    """Sessions one call ended (`won`) and sessions it found ended but never staged (`finished`)."""

    won: list[Session]
    finished: list[tuple[Session, float]]

    @property
    def all(self) -> list[Session]:
        return [*self.won, *(s for s, _ in self.finished)]

    def statements(self, now: float, wall: float) -> list[Statement]:
        out: list[Statement] = []
        for session in self.won:
            out.extend(revocation_staged_statements(session, now, wall))
        for session, revoked_at in self.finished:
            out.extend(revocation_staged_statements(session, revoked_at, wall))
        return out


# The adapter ------------------------------------------------------------------------------------


class ScyllaUserStore(ScyllaStore):
    """Session, outbox, connect and close: ScyllaStore's. `wall_clock` is the time rows are written at
    (TTLs, claims), in seconds as the domain has times; the outbox keeps to the real clock."""

    schema = SCHEMA

    def __init__(self, session: CqlSession, *, outbox: ScyllaOutbox | None = None, owns_session: bool = False,
                 wall_clock: Callable[[], float] = time.time) -> None:
        super().__init__(session, outbox=outbox, owns_session=owns_session)
        self._wall = wall_clock

    # Accounts -----------------------------------------------------------------------------------

    async def create_account(
        self, account: Account, password_hash: str, session: Session, refresh: RefreshGrant,
        events: Sequence[OutgoingEvent],
    ) -> None:
        wall = self._wall()
        claims = [(USERNAME_CLAIMS, normalize_username(account.username)), (EMAIL_CLAIMS, normalize_email(account.email))]
        made: list[tuple[str, str]] = []
        try:
            # Username first, as users expect a clash on both to name the username; and the same
            # order everywhere, so two signups cannot each hold what the other needs.
            for table, key in claims:
                made.append((table, key))
                await self._claim(table, key, account.id, wall)
        except BaseException:
            # Nothing was written but claims, so they may all go (the delete is conditional on
            # their still being ours, so a claim that was not made is left alone).
            await self._release(made, account.id)
            raise
        statements = [
            insert_account(account, password_hash, NotificationPrefs(), wall),
            *session_inserts(session, refresh, wall),
            *self._stage(events, account.id),
        ]
        try:
            await self._db.batch(statements)
        except BaseException as exc:
            if definitely_not_applied(exc):
                await self._release(claims, account.id)
            raise

    async def _claim(self, table: str, key: str, user_id: int, wall: float) -> None:
        result = await self._db.lwt(claim_statement(table, key, user_id, wall))
        if result.applied:
            return
        holder = result.existing
        if holder.get("user_id") == user_id:
            return  # our own claim, from an attempt that was retried
        if holder.get("user_id") is not None and claim_is_stale(holder, wall):
            if not is_live_or_deleted(await first_row(self._db, select_account(holder["user_id"]))):
                taken = await self._db.lwt(take_over_claim_statement(
                    table, key, user_id, wall, holder["user_id"], holder["claimed_at"]))
                if taken.applied:
                    log.warning("took over a claim left by a failed signup", table=table, stale_user_id=holder["user_id"])
                    return
        raise UsernameTaken() if table == USERNAME_CLAIMS else EmailTaken()

    async def _release(self, claims: Sequence[tuple[str, str]], user_id: int) -> None:
        for table, key in claims:
            try:
                await self._db.lwt(release_claim_statement(table, key, user_id))
            except Exception as exc:  # best effort: a stale claim is taken over later
                log.warning("could not release a claim", table=table, error=repr(exc))

    async def _account_row(self, user_id: int) -> dict[str, Any] | None:
        return await first_row(self._db, select_account(user_id))

    async def get_account(self, user_id: int) -> Account | None:
        row = await self._account_row(user_id)
        return account_of(row) if is_live(row) else None  # type: ignore[arg-type]

    async def get_accounts(self, user_ids: Iterable[int]) -> dict[int, Account]:
        ids = list(dict.fromkeys(user_ids))
        rows = await gather_limited(self._account_row(i) for i in ids)
        return {row["id"]: account_of(row) for row in rows if is_live(row)}

    async def find_credentials(self, *, username: str | None = None, email: str | None = None) -> Credentials | None:
        if username:
            table, key = USERNAME_CLAIMS, normalize_username(username)
        elif email:
            table, key = EMAIL_CLAIMS, normalize_email(email)
        else:
            return None
        claim = await first_row(self._db, select_claim(table, key))
        if claim is None or claim.get("user_id") is None:
            return None
        row = await self._account_row(claim["user_id"])
        if not is_live(row) or _claim_key(table, row) != key:  # type: ignore[arg-type]
            return None
        return Credentials(account_of(row), row["password_hash"])  # type: ignore[index,arg-type]

    async def resolve_usernames(self, usernames: Iterable[str]) -> dict[str, int]:
        keys = list(dict.fromkeys(normalize_username(u) for u in usernames))
        claims = await gather_limited(first_row(self._db, select_claim(USERNAME_CLAIMS, k)) for k in keys)
        claimed = {k: c["user_id"] for k, c in zip(keys, claims) if c and c.get("user_id") is not None}
        accounts = await self.get_accounts(claimed.values())
        return {k: i for k, i in claimed.items() if i in accounts and normalize_username(accounts[i].username) == k}

    # Sessions -----------------------------------------------------------------------------------

    async def create_session(self, session: Session, refresh: RefreshGrant) -> None:
        await self._db.batch(session_inserts(session, refresh, self._wall()))

    async def get_session(self, session_id: str) -> Session | None:
        row = await first_row(self._db, select_session(session_id))
        return session_of(row) if row and row.get("user_id") is not None else None

    async def rotate_refresh(
        self, token_hash: str, replacement: RefreshGrant, now: float
    ) -> tuple[RefreshOutcome, Session | None]:
        row = await first_row(self._db, select_refresh(token_hash))
        if row is None or row.get("session_id") is None:
            return RefreshOutcome.INVALID, None
        grant = grant_of(row)
        session = await self.get_session(grant.session_id)
        if session is None:
            return RefreshOutcome.INVALID, None
        if row.get("used_at") is not None:
            return RefreshOutcome.REUSED, session
        if grant.expires_at <= now or session.revoked_at is not None or session.expires_at <= now:
            return RefreshOutcome.INVALID, None
        wall = self._wall()
        # The replacement goes in first: if the use below wins, the client's new token already
        # works; if it loses, the replacement (whose token only this caller knows) is dropped.
        successor = dataclasses.replace(replacement, session_id=session.id, user_id=session.user_id)
        await self._db.execute(refresh_insert(successor, wall))
        used = await self._db.lwt(use_refresh_statement(grant, now, wall))
        if used.applied:
            return RefreshOutcome.ROTATED, session
        await self._db.execute(delete_refresh_statement(successor.token_hash))
        if used.existing.get("used_at") is not None:
            return RefreshOutcome.REUSED, session  # another call used it between our read and our write
        return RefreshOutcome.INVALID, None

    async def _end_sessions(self, user_id: int, session_ids: Sequence[str] | None, now: float) -> Ending:
        wanted = None if session_ids is None else set(session_ids)
        rows = await all_rows(self._db, select_user_sessions(user_id))
        candidates = [
            session_of({**r, "user_id": user_id}) for r in rows
            if r.get("revoked_at") is None and r["expires_at"] > now and (wanted is None or r["session_id"] in wanted)
        ]
        wall = self._wall()
        results = await gather_limited(self._db.lwt(end_session_statement(s, now, wall)) for s in candidates)
        won: list[Session] = []
        finished: list[tuple[Session, float]] = []
        for session, result in zip(candidates, results):
            if result.applied:
                won.append(session)
                continue
            existing = result.existing
            if "revocation_staged" not in existing:  # Cassandra returns only the condition's columns
                existing = await first_row(self._db, select_session(session.id)) or {}
            revoked_at = unstaged_revocation(existing, user_id, now)
            if revoked_at is not None:
                finished.append((session, revoked_at))
        return Ending(won, finished)

    async def revoke_sessions(
        self, user_id: int, session_ids: Sequence[str] | None, now: float, events: SessionEvents
    ) -> list[Session]:
        ending = await self._end_sessions(user_id, session_ids, now)
        if ending.all:
            await self._db.batch([
                *ending.statements(now, self._wall()),
                *self._stage(events(ending.all), user_id),
            ])
        return ending.won

    # Password resets ----------------------------------------------------------------------------

    async def create_password_reset(self, user_id: int, token_hash: str, expires_at: float) -> None:
        await self._db.batch(reset_inserts(user_id, token_hash, expires_at, self._wall()))

    async def consume_password_reset(
        self, token_hash: str, new_password_hash: str, now: float, events: SessionEvents
    ) -> tuple[int, list[Session]] | None:
        reset = await first_row(self._db, select_reset(token_hash))
        if reset is None or reset.get("user_id") is None or reset.get("used_at") is not None:
            return None
        if reset["expires_at"] <= now:
            return None
        user_id = reset["user_id"]
        if not is_live(await self._account_row(user_id)):
            return None
        wall = self._wall()
        used = await self._db.lwt(use_reset_statement(token_hash, user_id, reset["expires_at"], now, wall))
        if not used.applied:
            return None
        others = await all_rows(self._db, select_user_resets(user_id))
        ending = await self._end_sessions(user_id, None, now)
        statements = [update_password_statement(user_id, new_password_hash, now)]
        for other in others:
            statements.extend(retire_reset_statements(
                user_id, other["token_hash"], other["expires_at"], now, wall, mark_used=other["token_hash"] != token_hash))
        statements.extend(ending.statements(now, wall))
        if ending.all:
            statements.extend(self._stage(events(ending.all), user_id))
        await self._db.batch(statements)
        return user_id, ending.won

    # Profile and settings -----------------------------------------------------------------------

    async def update_profile(
        self, user_id: int, changes: dict[str, str], events: Callable[[Account], Sequence[OutgoingEvent]]
    ) -> Account | None:
        wall = self._wall()
        statement = update_profile_statement(user_id, changes, wall) if changes else None  # checks the columns
        row = await self._account_row(user_id)
        if not is_live(row):
            return None
        account = account_of(row)  # type: ignore[arg-type]
        if statement is None:
            return account
        updated = dataclasses.replace(account, **changes)
        await self._db.batch([statement, *self._stage(events(updated), user_id)])
        return updated

    async def get_settings(self, user_id: int) -> AccountSettings | None:
        row = await self._account_row(user_id)
        return settings_of(row) if is_live(row) else None  # type: ignore[arg-type]

    async def update_settings(
        self, user_id: int, is_private: bool | None, prefs: NotificationPrefs | None,
        events: Callable[[Account], Sequence[OutgoingEvent]],
    ) -> AccountSettings | None:
        row = await self._account_row(user_id)
        if not is_live(row):
            return None
        current = settings_of(row)  # type: ignore[arg-type]
        wanted = AccountSettings(
            current.is_private if is_private is None else is_private,
            current.notification_prefs if prefs is None else prefs,
        )
        if wanted != current:
            account = dataclasses.replace(account_of(row), is_private=wanted.is_private)  # type: ignore[arg-type]
            await self._db.batch([
                update_settings_statement(user_id, wanted, self._wall()),
                *self._stage(events(account), user_id),
            ])
        return wanted

    async def delete_account(self, user_id: int, now: float, events: SessionEvents) -> list[Session] | None:
        if not is_live(await self._account_row(user_id)):
            return None
        ending = await self._end_sessions(user_id, None, now)
        # The deletion is itself the news (UserDeleted), so its events are staged even when no
        # session was live.
        await self._db.batch([
            mark_deleted_statement(user_id, now),
            *ending.statements(now, self._wall()),
            *self._stage(events(ending.all), user_id),
        ])
        return ending.won

    # Signing keys -------------------------------------------------------------------------------

    async def signing_keys(self) -> list[SigningKey]:
        rows = await all_rows(self._db, select_signing_keys())
        return sorted((signing_key_of(r) for r in rows if r.get("kid") is not None), key=lambda k: k.created_at)

    async def add_signing_key_if_none(self, key: SigningKey) -> list[SigningKey]:
        await self._db.lwt(install_first_signing_key_statement(key))
        return await self.signing_keys()


def is_live_or_deleted(row: Mapping[str, Any] | None) -> bool:
    """Whether an account was ever written (deleted ones keep their username and email)."""
    return row is not None and row.get("username") is not None


def _claim_key(table: str, row: Mapping[str, Any]) -> str:
    return normalize_username(row["username"]) if table == USERNAME_CLAIMS else normalize_email(row["email"])

