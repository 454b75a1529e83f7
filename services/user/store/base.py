"""The user store port: what the user service needs from storage, shaped for one-partition reads.

Every mutation that other services must hear about takes the events to stage with it (or a
function that makes them from what the mutation found), so the change and its events commit in
one transaction or logged batch.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.runtime.errors import AlreadyExists
from services.runtime.events import OutgoingEvent
from services.user.domain import Account, NotificationPrefs
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
class RefreshGrant:
    """A refresh token as stored: only its SHA-256 hash, never the token itself."""

    token_hash: str
    session_id: str
    user_id: int
    expires_at: float


class RefreshOutcome(enum.Enum):
    ROTATED = "rotated"  # the token was live; it is now used and its replacement stored
    REUSED = "reused"  # the token had been used before: a sign of theft
    INVALID = "invalid"  # unknown, expired, or its session has ended


@dataclass(frozen=True)
class Credentials:
    account: Account
    password_hash: str


@dataclass(frozen=True)
class AccountSettings:
    is_private: bool
    notification_prefs: NotificationPrefs


SessionEvents = Callable[[list[Session]], Sequence[OutgoingEvent]]


class UserStore(Protocol):
    async def create_account(
        self, account: Account, password_hash: str, session: Session, refresh: RefreshGrant,
        events: Sequence[OutgoingEvent],
    ) -> None:
        """Stores a new account, its first session and refresh token, and its events, together.

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

    async def create_session(self, session: Session, refresh: RefreshGrant) -> None: ...

    async def get_session(self, session_id: str) -> Session | None: ...

    async def rotate_refresh(self, token_hash: str, replacement: RefreshGrant, now: float) -> tuple[RefreshOutcome, Session | None]:
        """Uses a refresh token once, atomically: ROTATED stores `replacement` (same session),
        REUSED and INVALID change nothing. The session is returned for ROTATED and REUSED."""

    async def revoke_sessions(
        self, user_id: int, session_ids: Sequence[str] | None, now: float, events: SessionEvents
    ) -> list[Session]:
        """Ends the given live sessions of a user (all of them for None) with their events;
        returns the sessions this call ended."""

    async def create_password_reset(self, user_id: int, token_hash: str, expires_at: float) -> None: ...

    async def consume_password_reset(
        self, token_hash: str, new_password_hash: str, now: float, events: SessionEvents
    ) -> tuple[int, list[Session]] | None:
        """Sets the new password if the token is live, marks every reset token of the account
        used, and ends all its sessions; returns (user id, ended sessions), or None for a bad token."""

    async def update_profile(
        self, user_id: int, changes: dict[str, str], events: Callable[[Account], Sequence[OutgoingEvent]]
    ) -> Account | None:
        """Applies the profile changes and stages the events made from the updated account."""

    async def get_settings(self, user_id: int) -> AccountSettings | None: ...

    async def update_settings(
        self, user_id: int, is_private: bool | None, prefs: NotificationPrefs | None,
        events: Callable[[Account], Sequence[OutgoingEvent]],
    ) -> AccountSettings | None: ...

    async def delete_account(self, user_id: int, now: float, events: SessionEvents) -> list[Session] | None:
        """Marks the account deleted and ends its sessions; None if it was unknown or gone."""

    async def signing_keys(self) -> list[SigningKey]: ...

    async def add_signing_key_if_none(self, key: SigningKey) -> list[SigningKey]:
        """Stores `key` unless a key exists already; returns the keys now stored."""

    async def close(self) -> None: ...
