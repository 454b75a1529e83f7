"""UserService over gRPC: proto in, domain rules, store, proto out. No driver imports here."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from google.api import httpbody_pb2
from google.protobuf import timestamp_pb2

from chirp.user.v1 import events_pb2, user_pb2, user_service_pb2, user_service_pb2_grpc
from services.runtime.errors import InvalidArgument, NotFound, Unauthenticated
from services.runtime.events import OutgoingEvent, subject
from services.runtime.ids import SnowflakeGenerator
from services.runtime.outbox import OutboxRelay
from services.user import domain
from services.user.passwords import Passwords
from services.user.store.base import Session, UserStore
from services.user.tokens import IssuedToken, TokenIssuer

BATCH_LIMIT = 500


def _timestamp(value: datetime | float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    if isinstance(value, datetime):
        ts.FromDatetime(value.astimezone(UTC))
    else:
        ts.FromNanoseconds(int(value * 1_000_000_000))
    return ts


def profile_of(account: domain.Account) -> user_pb2.Profile:
    return user_pb2.Profile(
        id=account.id,
        username=account.username,
        name=account.name,
        bio=account.bio,
        location=account.location,
        website=account.website,
        avatar_url=account.avatar_url,
        is_private=account.is_private,
        created_at=_timestamp(account.created_at),
    )


class UserServicer(user_service_pb2_grpc.UserServiceServicer):
    """Signup, login, profiles and the JWKS. RPCs not overridden here answer UNIMPLEMENTED."""

    def __init__(
        self,
        store: UserStore,
        issuer: TokenIssuer,
        passwords: Passwords,
        ids: SnowflakeGenerator,
        relay: OutboxRelay,
        *,
        session_ttl_s: int,
    ) -> None:
        self._store = store
        self._issuer = issuer
        self._passwords = passwords
        self._ids = ids
        self._relay = relay
        self._session_ttl_s = session_ttl_s

    def _new_session(self, user_id: int) -> tuple[Session, IssuedToken]:
        now = time.time()
        session = Session(id=secrets.token_urlsafe(16), user_id=user_id, created_at=now,
                          expires_at=now + self._session_ttl_s)
        return session, self._issuer.issue(user_id, session.id)

    async def Signup(self, request: user_service_pb2.SignupRequest, context: object) -> user_service_pb2.SignupResponse:
        form = domain.validate_signup(request.email, request.username, request.password, request.name)
        password_hash = await self._passwords.hash(form.password)
        account = domain.Account(
            id=self._ids.next_id(), username=form.username, email=form.email, name=form.name, bio="",
            location="", website="", avatar_url="", is_private=False, created_at=datetime.now(UTC),
        )
        session, token = self._new_session(account.id)
        profile = profile_of(account)
        event = OutgoingEvent.of(
            subject("user", "created"),
            events_pb2.UserCreated(profile=profile, occurred_at=_timestamp(account.created_at)),
        )
        await self._store.create_account(account, password_hash, session, [event])
        self._relay.notify()
        return user_service_pb2.SignupResponse(
            user_id=account.id, token=token.token, profile=profile, expires_at=_timestamp(token.expires_at)
        )

    async def Login(self, request: user_service_pb2.LoginRequest, context: object) -> user_service_pb2.LoginResponse:
        if not request.username and not request.email:
            raise InvalidArgument("LOGIN_REQUIRED", "Give a username or an email to sign in.", {"field": "username"})
        login = request.username or request.email
        # Web forms send one "email or username" box; an @ can only be in an email.
        by_email = "@" in login
        credentials = await self._store.find_credentials(
            username=None if by_email else login, email=login if by_email else None
        )
        ok = await self._passwords.verify(credentials.password_hash if credentials else None, request.password)
        if not ok or credentials is None:
            raise Unauthenticated("INVALID_CREDENTIALS", "The username, email or password is wrong.")
        session, token = self._new_session(credentials.account.id)
        await self._store.create_session(session)
        return user_service_pb2.LoginResponse(
            token=token.token, user=profile_of(credentials.account), expires_at=_timestamp(token.expires_at)
        )

    async def GetUser(self, request: user_service_pb2.GetUserRequest, context: object) -> user_pb2.Profile:
        account = await self._store.get_account(request.id)
        if account is None:
            raise NotFound("USER_NOT_FOUND", "No such user.")
        return profile_of(account)

    async def LookupUser(self, request: user_service_pb2.LookupUserRequest, context: object) -> user_pb2.Profile:
        credentials = await self._store.find_credentials(username=request.username) if request.username else None
        if credentials is None:
            raise NotFound("USER_NOT_FOUND", "No such user.")
        return profile_of(credentials.account)

    async def GetJwks(self, request: user_service_pb2.GetJwksRequest, context: object) -> httpbody_pb2.HttpBody:
        return httpbody_pb2.HttpBody(content_type="application/json", data=self._issuer.jwks_json().encode())

    async def BatchGetUsers(
        self, request: user_service_pb2.BatchGetUsersRequest, context: object
    ) -> user_service_pb2.BatchGetUsersResponse:
        if len(request.ids) > BATCH_LIMIT:
            raise InvalidArgument("TOO_MANY_IDS", f"Ask for at most {BATCH_LIMIT} users at once.")
        accounts = await self._store.get_accounts(request.ids)
        return user_service_pb2.BatchGetUsersResponse(
            profiles={user_id: profile_of(account) for user_id, account in accounts.items()}
        )

    async def ResolveUsernames(
        self, request: user_service_pb2.ResolveUsernamesRequest, context: object
    ) -> user_service_pb2.ResolveUsernamesResponse:
        if len(request.usernames) > BATCH_LIMIT:
            raise InvalidArgument("TOO_MANY_USERNAMES", f"Resolve at most {BATCH_LIMIT} usernames at once.")
        return user_service_pb2.ResolveUsernamesResponse(
            user_ids=await self._store.resolve_usernames(request.usernames)
        )

    async def GetSessionState(
        self, request: user_service_pb2.GetSessionStateRequest, context: object
    ) -> user_service_pb2.GetSessionStateResponse:
        session = await self._store.get_session(request.session_id)
        if session is None:
            raise NotFound("SESSION_NOT_FOUND", "No such session.")
        active = session.revoked_at is None and session.expires_at > time.time()
        return user_service_pb2.GetSessionStateResponse(user_id=session.user_id, active=active)
