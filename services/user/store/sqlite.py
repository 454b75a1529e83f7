"""The user store on the embedded default: one SQLite file under var/user/."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from services.runtime.events import OutgoingEvent
from services.runtime.outbox import OUTBOX_MIGRATION, stage
from services.runtime.sqlite import Database
from services.user.domain import Account, normalize_email, normalize_username
from services.user.store.base import Credentials, EmailTaken, Session, UsernameTaken
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
        self, account: Account, password_hash: str, session: Session, events: Sequence[OutgoingEvent]
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
            conn.execute(
                "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (session.id, session.user_id, session.created_at, session.expires_at),
            )
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

    async def create_session(self, session: Session) -> None:
        await self._db.transaction(
            lambda c: c.execute(
                "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (session.id, session.user_id, session.created_at, session.expires_at),
            )
        )

    async def get_session(self, session_id: str) -> Session | None:
        row = await self._db.read(
            lambda c: c.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        )
        return _session(row) if row else None

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
