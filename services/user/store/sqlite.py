"""The user store on the embedded default: one SQLite file under var/user/."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from services.runtime.events import OutgoingEvent
from services.runtime.outbox import OUTBOX_MIGRATION, stage
from services.runtime.sqlite import Database
from services.user.domain import Account, NotificationPrefs, normalize_email, normalize_username
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

MIGRATIONS = [
    """
    CREATE TABLE accounts (
      id INTEGER PRIMARY KEY,
      username TEXT NOT NULL,
      username_key TEXT NOT NULL UNIQUE,
      email TEXT NOT NULL,
      email_key TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      name TEXT NOT NULL DEFAULT '',
      bio TEXT NOT NULL DEFAULT '',
      location TEXT NOT NULL DEFAULT '',
      website TEXT NOT NULL DEFAULT '',
      avatar_url TEXT NOT NULL DEFAULT '',
      is_private INTEGER NOT NULL DEFAULT 0,
      created_at REAL NOT NULL,
      updated_at REAL NOT NULL,
      deleted_at REAL
    );
    CREATE TABLE sessions (
      id TEXT PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES accounts(id),
      created_at REAL NOT NULL,
      expires_at REAL NOT NULL,
      revoked_at REAL
    );
    CREATE INDEX sessions_by_user ON sessions(user_id);
    CREATE TABLE signing_keys (
      kid TEXT PRIMARY KEY,
      private_key_pem TEXT NOT NULL,
      created_at REAL NOT NULL
    );
    """,
    OUTBOX_MIGRATION,
    """
    CREATE TABLE refresh_tokens (
      token_hash TEXT PRIMARY KEY,
      session_id TEXT NOT NULL REFERENCES sessions(id),
      user_id INTEGER NOT NULL,
      expires_at REAL NOT NULL,
      used_at REAL
    );
    CREATE TABLE password_resets (
      token_hash TEXT PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES accounts(id),
      expires_at REAL NOT NULL,
      used_at REAL
    );
    CREATE INDEX password_resets_by_user ON password_resets(user_id);
    ALTER TABLE accounts ADD COLUMN notification_prefs TEXT NOT NULL DEFAULT '{}'
    """,
]

_ACCOUNT_COLUMNS = "id, username, email, name, bio, location, website, avatar_url, is_private, created_at"


def _account(row: sqlite3.Row) -> Account:
    return Account(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        name=row["name"],
        bio=row["bio"],
        location=row["location"],
        website=row["website"],
        avatar_url=row["avatar_url"],
        is_private=bool(row["is_private"]),
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
    )


def _session(row: sqlite3.Row) -> Session:
    return Session(row["id"], row["user_id"], row["created_at"], row["expires_at"], row["revoked_at"])


class SqliteUserStore:
    def __init__(self, path: Path) -> None:
        self._db = Database(path, MIGRATIONS)

    @property
    def database(self) -> Database:
        return self._db

    async def create_account(
        self, account: Account, password_hash: str, session: Session, refresh: RefreshGrant,
        events: Sequence[OutgoingEvent],
    ) -> None:
        created = account.created_at.timestamp()

        username_key, email_key = normalize_username(account.username), normalize_email(account.email)

        def write(conn: sqlite3.Connection) -> None:
            # Inside the write transaction nothing can slip in between this look and the insert;
            # looking first makes a clash on both report the username, as users expect.
            taken = conn.execute(
                "SELECT username_key = ? AS username_clash FROM accounts WHERE username_key = ? OR email_key = ?",
                (username_key, username_key, email_key),
            ).fetchall()
            if any(row["username_clash"] for row in taken):
                raise UsernameTaken()
            if taken:
                raise EmailTaken()
            try:
                conn.execute(
                    "INSERT INTO accounts (id, username, username_key, email, email_key, password_hash, name,"
                    " bio, location, website, avatar_url, is_private, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        account.id, account.username, username_key, account.email, email_key, password_hash, account.name, account.bio,
                        account.location, account.website, account.avatar_url, int(account.is_private),
                        created, created,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                if "username_key" in str(exc):
                    raise UsernameTaken() from None
                if "email_key" in str(exc):
                    raise EmailTaken() from None
                raise
            _insert_session(conn, session, refresh)
            stage(conn, events)

        await self._db.transaction(write)

    async def get_account(self, user_id: int) -> Account | None:
        row = await self._db.read(
            lambda c: c.execute(
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = ? AND deleted_at IS NULL", (user_id,)
            ).fetchone()
        )
        return _account(row) if row else None

    async def get_accounts(self, user_ids: Iterable[int]) -> dict[int, Account]:
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self._db.read(
            lambda c: c.execute(
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id IN ({marks}) AND deleted_at IS NULL", ids
            ).fetchall()
        )
        return {row["id"]: _account(row) for row in rows}

    async def find_credentials(self, *, username: str | None = None, email: str | None = None) -> Credentials | None:
        if username:
            where, key = "username_key = ?", normalize_username(username)
        elif email:
            where, key = "email_key = ?", normalize_email(email)
        else:
            return None
        row = await self._db.read(
            lambda c: c.execute(
                f"SELECT {_ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE {where} AND deleted_at IS NULL", (key,)
            ).fetchone()
        )
        return Credentials(_account(row), row["password_hash"]) if row else None

    async def resolve_usernames(self, usernames: Iterable[str]) -> dict[str, int]:
        keys = list(dict.fromkeys(normalize_username(u) for u in usernames))
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        rows = await self._db.read(
            lambda c: c.execute(
                f"SELECT id, username_key FROM accounts WHERE username_key IN ({marks}) AND deleted_at IS NULL", keys
            ).fetchall()
        )
        return {row["username_key"]: row["id"] for row in rows}

    async def create_session(self, session: Session, refresh: RefreshGrant) -> None:
        await self._db.transaction(lambda c: _insert_session(c, session, refresh))

    async def get_session(self, session_id: str) -> Session | None:
        row = await self._db.read(
            lambda c: c.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        )
        return _session(row) if row else None

    async def rotate_refresh(
        self, token_hash: str, replacement: RefreshGrant, now: float
    ) -> tuple[RefreshOutcome, Session | None]:
        def write(conn: sqlite3.Connection) -> tuple[RefreshOutcome, Session | None]:
            grant = conn.execute("SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
            if grant is None:
                return RefreshOutcome.INVALID, None
            session = _session(conn.execute("SELECT * FROM sessions WHERE id = ?", (grant["session_id"],)).fetchone())
            if grant["used_at"] is not None:
                return RefreshOutcome.REUSED, session
            if grant["expires_at"] <= now or session.revoked_at is not None or session.expires_at <= now:
                return RefreshOutcome.INVALID, None
            conn.execute("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", (now, token_hash))
            _insert_refresh(conn, dataclasses.replace(replacement, session_id=session.id, user_id=session.user_id))
            return RefreshOutcome.ROTATED, session

        return await self._db.transaction(write)

    async def revoke_sessions(
        self, user_id: int, session_ids: Sequence[str] | None, now: float, events: SessionEvents
    ) -> list[Session]:
        return await self._db.transaction(lambda c: _revoke(c, user_id, session_ids, now, events))

    async def create_password_reset(self, user_id: int, token_hash: str, expires_at: float) -> None:
        await self._db.transaction(
            lambda c: c.execute(
                "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
                (token_hash, user_id, expires_at),
            )
        )

    async def consume_password_reset(
        self, token_hash: str, new_password_hash: str, now: float, events: SessionEvents
    ) -> tuple[int, list[Session]] | None:
        def write(conn: sqlite3.Connection) -> tuple[int, list[Session]] | None:
            row = conn.execute(
                "SELECT r.user_id FROM password_resets r JOIN accounts a ON a.id = r.user_id"
                " WHERE r.token_hash = ? AND r.used_at IS NULL AND r.expires_at > ? AND a.deleted_at IS NULL",
                (token_hash, now),
            ).fetchone()
            if row is None:
                return None
            user_id = row["user_id"]
            conn.execute("UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?",
                         (new_password_hash, now, user_id))
            conn.execute("UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL", (now, user_id))
            return user_id, _revoke(conn, user_id, None, now, events)

        return await self._db.transaction(write)

    async def update_profile(
        self, user_id: int, changes: dict[str, str], events: Callable[[Account], Sequence[OutgoingEvent]]
    ) -> Account | None:
        unknown = set(changes) - {"name", "bio", "location", "website", "avatar_url"}
        if unknown:
            raise ValueError(f"not profile columns: {unknown}")

        def write(conn: sqlite3.Connection) -> Account | None:
            if changes:
                assignments = ", ".join(f"{column} = ?" for column in changes)
                updated = conn.execute(
                    f"UPDATE accounts SET {assignments}, updated_at = ?"
                    " WHERE id = ? AND deleted_at IS NULL",
                    (*changes.values(), time.time(), user_id),
                ).rowcount
                if not updated:
                    return None
            account = _live_account(conn, user_id)
            if account is not None and changes:
                stage(conn, events(account))
            return account

        return await self._db.transaction(write)

    async def get_settings(self, user_id: int) -> AccountSettings | None:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT is_private, notification_prefs FROM accounts WHERE id = ? AND deleted_at IS NULL", (user_id,)
            ).fetchone()
        )
        return _settings(row) if row else None

    async def update_settings(
        self, user_id: int, is_private: bool | None, prefs: NotificationPrefs | None,
        events: Callable[[Account], Sequence[OutgoingEvent]],
    ) -> AccountSettings | None:
        def write(conn: sqlite3.Connection) -> AccountSettings | None:
            row = conn.execute(
                "SELECT is_private, notification_prefs FROM accounts WHERE id = ? AND deleted_at IS NULL", (user_id,)
            ).fetchone()
            if row is None:
                return None
            current = _settings(row)
            new_private = current.is_private if is_private is None else is_private
            new_prefs = current.notification_prefs if prefs is None else prefs
            if (new_private, new_prefs) != (current.is_private, current.notification_prefs):
                conn.execute(
                    "UPDATE accounts SET is_private = ?, notification_prefs = ?, updated_at = ?"
                    " WHERE id = ?",
                    (int(new_private), json.dumps(dataclasses.asdict(new_prefs)), time.time(), user_id),
                )
                account = _live_account(conn, user_id)
                assert account is not None
                stage(conn, events(account))
            return AccountSettings(new_private, new_prefs)

        return await self._db.transaction(write)

    async def delete_account(self, user_id: int, now: float, events: SessionEvents) -> list[Session] | None:
        def write(conn: sqlite3.Connection) -> list[Session] | None:
            deleted = conn.execute(
                "UPDATE accounts SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
                (now, now, user_id),
            ).rowcount
            if not deleted:
                return None
            ended = _revoke(conn, user_id, None, now, None)
            stage(conn, events(ended))  # the deletion is news even when no session was live
            return ended

        return await self._db.transaction(write)

    async def signing_keys(self) -> list[SigningKey]:
        rows = await self._db.read(
            lambda c: c.execute("SELECT kid, private_key_pem, created_at FROM signing_keys").fetchall()
        )
        return [SigningKey(r["kid"], r["private_key_pem"], r["created_at"]) for r in rows]

    async def add_signing_key_if_none(self, key: SigningKey) -> list[SigningKey]:
        def write(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM signing_keys LIMIT 1").fetchone() is None:
                conn.execute(
                    "INSERT INTO signing_keys (kid, private_key_pem, created_at) VALUES (?, ?, ?)",
                    (key.kid, key.private_key_pem, key.created_at),
                )

        await self._db.transaction(write)
        return await self.signing_keys()

    async def close(self) -> None:
        await self._db.close()


def _insert_refresh(conn: sqlite3.Connection, refresh: RefreshGrant) -> None:
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, user_id, expires_at) VALUES (?, ?, ?, ?)",
        (refresh.token_hash, refresh.session_id, refresh.user_id, refresh.expires_at),
    )


def _insert_session(conn: sqlite3.Connection, session: Session, refresh: RefreshGrant) -> None:
    conn.execute(
        "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (session.id, session.user_id, session.created_at, session.expires_at),
    )
    _insert_refresh(conn, refresh)


def _revoke(
    conn: sqlite3.Connection, user_id: int, session_ids: Sequence[str] | None, now: float,
    events: SessionEvents | None,
) -> list[Session]:
    rows = conn.execute(
        "SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?", (user_id, now)
    ).fetchall()
    wanted = None if session_ids is None else set(session_ids)
    ended = [_session(r) for r in rows if wanted is None or r["id"] in wanted]
    if ended:
        conn.executemany("UPDATE sessions SET revoked_at = ? WHERE id = ?", [(now, s.id) for s in ended])
        if events is not None:
            stage(conn, events(ended))
    return ended


def _live_account(conn: sqlite3.Connection, user_id: int) -> Account | None:
    row = conn.execute(
        f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = ? AND deleted_at IS NULL", (user_id,)
    ).fetchone()
    return _account(row) if row else None


def _settings(row: sqlite3.Row) -> AccountSettings:
    prefs = json.loads(row["notification_prefs"] or "{}")
    known = {f.name for f in dataclasses.fields(NotificationPrefs)}
    return AccountSettings(bool(row["is_private"]), NotificationPrefs(**{k: v for k, v in prefs.items() if k in known}))
