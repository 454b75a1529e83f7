"""Sessions: what signing in creates, refresh rotates, and logout, resets or deletion end.

A session has one live refresh token at a time. Refresh tokens are random, stored only as SHA-256
hashes, and work once: presenting a used one means it was copied, so the whole session ends.
Ending a session marks it in the store (with a SessionRevoked event) and in the shared revocation
list that every service checks, so its access tokens stop working at once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf import timestamp_pb2

from chirp.user.v1 import events_pb2
from services.runtime.errors import Unauthenticated
from services.runtime.events import OutgoingEvent, subject
from services.runtime.revocation import Revocations
from services.user.store.base import RefreshGrant, RefreshOutcome, Session, UserStore
from services.user.tokens import IssuedToken, TokenIssuer


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    session: Session
    refresh_grant: RefreshGrant
    refresh_token: str
    access: IssuedToken


class Sessions:
    def __init__(
        self, store: UserStore, issuer: TokenIssuer, revocations: Revocations, *, session_ttl_s: int,
        access_ttl_s: int,
    ) -> None:
        self._store = store
        self._issuer = issuer
        self._revocations = revocations
        self._session_ttl_s = session_ttl_s
        # A revoked session's id must be remembered as long as one of its access tokens can live.
        self._revocation_ttl_s = access_ttl_s + 60

    def _grant(self, session: Session) -> tuple[RefreshGrant, str]:
        token = secrets.token_urlsafe(32)
        return RefreshGrant(token_hash(token), session.id, session.user_id, session.expires_at), token

    def open(self, user_id: int) -> NewSession:
        """A new session, not yet stored: the caller stores it with whatever else it writes."""
        now = time.time()
        session = Session(id=secrets.token_urlsafe(16), user_id=user_id, created_at=now,
                          expires_at=now + self._session_ttl_s)
        grant, token = self._grant(session)
        return NewSession(session, grant, token, self._issuer.issue(user_id, session.id))

    async def refresh(self, refresh_token: str) -> tuple[IssuedToken, str]:
        now = time.time()
        placeholder = Session("", 0, now, now)
        replacement, new_token = self._grant(placeholder)
        outcome, session = await self._store.rotate_refresh(token_hash(refresh_token), replacement, now)
        if outcome is RefreshOutcome.REUSED and session is not None:
            await self.end(session.user_id, [session.id])
        if outcome is not RefreshOutcome.ROTATED or session is None:
            raise Unauthenticated("INVALID_REFRESH_TOKEN", "The refresh token is not valid; sign in again.")
        return self._issuer.issue(session.user_id, session.id), new_token

    def revocation_events(self, sessions: Sequence[Session]) -> list[OutgoingEvent]:
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        return [
            OutgoingEvent.of(subject("user", "session_revoked"), events_pb2.SessionRevoked(
                user_id=s.user_id, session_id=s.id,
                expires_at=timestamp_pb2.Timestamp(seconds=int(time.time()) + self._revocation_ttl_s),
                occurred_at=now,
            ))
            for s in sessions
        ]

    async def end(self, user_id: int, session_ids: Sequence[str] | None) -> list[Session]:
        """Ends live sessions (all of the user's for None) in the store and everywhere tokens are checked."""
        ended = await self._store.revoke_sessions(user_id, session_ids, time.time(), self.revocation_events)
        await self.publish_revocations([s.id for s in ended] if session_ids is None else list(session_ids))
        return ended

    async def publish_revocations(self, session_ids: Sequence[str]) -> None:
        """Adds sessions to the shared revocation list. Idempotent, so retries are safe."""
        await self._revocations.revoke(session_ids, self._revocation_ttl_s)
