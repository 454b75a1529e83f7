"""The user store port: what the user service needs from storage, shaped for one-partition reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.runtime.errors import AlreadyExists
from services.runtime.events import OutgoingEvent
from services.user.domain import Account
from services.user.tokens import SigningKey


class UsernameTaken(AlreadyExists):
    def __init__(self) -> None:
        super().__init__("USERNAME_TAKEN", "That username is taken.", {"field": "username"})


class EmailTaken(AlreadyExists):
    def __init__(self) -> None:
        super().__init__("EMAIL_TAKEN", "An account with that email already exists.", {"field": "email"})


@dataclass(frozen=True)
class Session:
    id: str
    user_id: int
    created_at: float
    expires_at: float
    revoked_at: float | None = None


@dataclass(frozen=True)
class Credentials:
    account: Account
    password_hash: str


class UserStore(Protocol):
    async def create_account(
        self, account: Account, password_hash: str, session: Session, events: Sequence[OutgoingEvent]
    ) -> None:
        """Stores a new account, its first session and its events together.

        Raises UsernameTaken or EmailTaken when either is registered already (without case).
        """

    async def get_account(self, user_id: int) -> Account | None:
        """The account, or None when unknown or deleted."""

    async def get_accounts(self, user_ids: Iterable[int]) -> dict[int, Account]:
        """The live accounts among user_ids, by id."""

    async def find_credentials(self, *, username: str | None = None, email: str | None = None) -> Credentials | None:
        """The live account with this username or email (without case) and its password hash."""

    async def resolve_usernames(self, usernames: Iterable[str]) -> dict[str, int]:
        """Live account ids by lowercased username."""

    async def create_session(self, session: Session) -> None: ...

    async def get_session(self, session_id: str) -> Session | None: ...

    async def signing_keys(self) -> list[SigningKey]: ...

    async def add_signing_key_if_none(self, key: SigningKey) -> list[SigningKey]:
        """Stores `key` unless a key exists already; returns the keys now stored."""

    async def close(self) -> None: ...
