"""UserService over gRPC: proto in, domain rules, store, proto out. No driver imports here."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from datetime import UTC, datetime

from google.api import httpbody_pb2
from google.protobuf import timestamp_pb2

from chirp.user.v1 import events_pb2, user_pb2, user_service_pb2, user_service_pb2_grpc
from services.runtime.auth import current_principal, optional_principal
from services.runtime.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from services.runtime.events import OutgoingEvent, subject
from services.runtime.ids import SnowflakeGenerator
from services.runtime.logging import get_logger
from services.runtime.outbox import OutboxRelay
from services.user import domain
from services.user.counts import Counts, ProfileCounts
from services.user.graph_client import GraphClient
from services.user.mail import Mailer, password_reset_message
from services.user.passwords import Passwords
from services.user.sessions import Sessions, token_hash
from services.user.store.base import AccountSettings, UserStore
from services.user.tokens import TokenIssuer

log = get_logger("chirp.user")

BATCH_LIMIT = 500
PRIVACY_LIST_LIMIT = 5000
_PREF_FIELDS = [f.name for f in dataclasses.fields(domain.NotificationPrefs)]


def _timestamp(value: datetime | float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    if isinstance(value, datetime):
        ts.FromDatetime(value.astimezone(UTC))
    else:
        ts.FromNanoseconds(int(value * 1_000_000_000))
    return ts


def _now() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return ts


def profile_of(account: domain.Account, counts: Counts = Counts()) -> user_pb2.Profile:
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
        followers_count=counts.followers,
        following_count=counts.following,
        tweets_count=counts.tweets,
    )


def _prefs_proto(prefs: domain.NotificationPrefs) -> user_pb2.NotificationPrefs:
    return user_pb2.NotificationPrefs(**dataclasses.asdict(prefs))


def _changed_paths(mask_paths: list[str], present: list[str], allowed: set[str]) -> list[str]:
    if not mask_paths:
        return present
    unknown = [p for p in mask_paths if p not in allowed]
    if unknown:
        raise InvalidArgument("UNKNOWN_FIELD", f"update_mask names fields that cannot be changed: {', '.join(unknown)}.",
                              {"field": unknown[0]})
    return list(dict.fromkeys(mask_paths))


class UserServicer(user_service_pb2_grpc.UserServiceServicer):
    def __init__(
        self,
        store: UserStore,
        issuer: TokenIssuer,
        sessions: Sessions,
        passwords: Passwords,
        ids: SnowflakeGenerator,
        relay: OutboxRelay,
        graph: GraphClient,
        counts: ProfileCounts,
        mailer: Mailer,
        *,
        public_url: str,
        mail_from: str,
        password_reset_ttl_s: int,
    ) -> None:
        self._store = store
        self._issuer = issuer
        self._sessions = sessions
        self._passwords = passwords
        self._ids = ids
        self._relay = relay
        self._graph = graph
        self._counts = counts
        self._mailer = mailer
        self._public_url = public_url
        self._mail_from = mail_from
        self._reset_ttl_s = password_reset_ttl_s
        self._mail_tasks: set[asyncio.Task[None]] = set()

    # Signing up and in ----------------------------------------------------------------------

    async def Signup(self, request: user_service_pb2.SignupRequest, context: object) -> user_service_pb2.SignupResponse:
        form = domain.validate_signup(request.email, request.username, request.password, request.name)
        password_hash = await self._passwords.hash(form.password)
        account = domain.Account(
            id=self._ids.next_id(), username=form.username, email=form.email, name=form.name, bio="",
            location="", website="", avatar_url="", is_private=False, created_at=datetime.now(UTC),
        )
        opened = self._sessions.open(account.id)
        profile = profile_of(account)
        event = OutgoingEvent.of(
            subject("user", "created"),
            events_pb2.UserCreated(profile=profile, occurred_at=_timestamp(account.created_at)),
        )
        await self._store.create_account(account, password_hash, opened.session, opened.refresh_grant, [event])
        self._relay.notify()
        return user_service_pb2.SignupResponse(
            user_id=account.id, token=opened.access.token, profile=profile, refresh_token=opened.refresh_token,
            expires_at=_timestamp(opened.access.expires_at),
        )

    async def Login(self, request: user_service_pb2.LoginRequest, context: object) -> user_service_pb2.LoginResponse:
        login = request.username or request.email
        if not login:
            raise InvalidArgument("LOGIN_REQUIRED", "Give a username or an email to sign in.", {"field": "username"})
        # Web forms send one "email or username" box; an @ can only be in an email.
        by_email = "@" in login
        credentials = await self._store.find_credentials(
            username=None if by_email else login, email=login if by_email else None
        )
        ok = await self._passwords.verify(credentials.password_hash if credentials else None, request.password)
        if not ok or credentials is None:
            raise Unauthenticated("INVALID_CREDENTIALS", "The username, email or password is wrong.")
        opened = self._sessions.open(credentials.account.id)
        await self._store.create_session(opened.session, opened.refresh_grant)
        return user_service_pb2.LoginResponse(
            token=opened.access.token, user=await self._with_counts(credentials.account),
            refresh_token=opened.refresh_token, expires_at=_timestamp(opened.access.expires_at),
        )

    async def Logout(self, request: user_service_pb2.LogoutRequest, context: object) -> user_service_pb2.LogoutResponse:
        me = current_principal()
        await self._sessions.end(me.user_id, [me.session_id])
        self._relay.notify()
        return user_service_pb2.LogoutResponse(message="Logged out")

    async def RefreshToken(
        self, request: user_service_pb2.RefreshTokenRequest, context: object
    ) -> user_service_pb2.RefreshTokenResponse:
        if not request.refresh_token:
            raise InvalidArgument("REFRESH_TOKEN_REQUIRED", "Send the refresh token.", {"field": "refresh_token"})
        access, refresh = await self._sessions.refresh(request.refresh_token)
        self._relay.notify()
        return user_service_pb2.RefreshTokenResponse(
            token=access.token, refresh_token=refresh, expires_at=_timestamp(access.expires_at)
        )

    # Password reset -------------------------------------------------------------------------

    async def RequestPasswordReset(
        self, request: user_service_pb2.RequestPasswordResetRequest, context: object
    ) -> user_service_pb2.RequestPasswordResetResponse:
        email = domain.validate_email(request.email)
        credentials = await self._store.find_credentials(email=email)
        if credentials is not None:
            # The token is stored and mailed after answering, so the answer takes as long
            # whether or not the account exists.
            task = asyncio.create_task(self._send_reset(credentials.account))
            self._mail_tasks.add(task)
            task.add_done_callback(self._mail_tasks.discard)
        return user_service_pb2.RequestPasswordResetResponse(message="Reset email sent")

    async def _send_reset(self, account: domain.Account) -> None:
        try:
            token = secrets.token_urlsafe(32)
            await self._store.create_password_reset(account.id, token_hash(token), time.time() + self._reset_ttl_s)
            await self._mailer.send(password_reset_message(
                sender=self._mail_from, to=account.email,
                link=f"{self._public_url}/reset-password?token={token}", valid_minutes=max(self._reset_ttl_s // 60, 1),
            ))
        except Exception:
            log.exception("password reset mail not sent", user_id=account.id)

    async def ConfirmPasswordReset(
        self, request: user_service_pb2.ConfirmPasswordResetRequest, context: object
    ) -> user_service_pb2.ConfirmPasswordResetResponse:
        password = domain.validate_password(request.new_password, "new_password")
        if not request.token:
            raise InvalidArgument("INVALID_RESET_TOKEN", "The reset link is not valid.", {"field": "token"})
        new_hash = await self._passwords.hash(password)
        outcome = await self._store.consume_password_reset(
            token_hash(request.token), new_hash, time.time(), self._sessions.revocation_events
        )
        if outcome is None:
            raise InvalidArgument("INVALID_RESET_TOKEN", "The reset link is not valid, was used, or has expired.",
                                  {"field": "token"})
        _, ended = outcome
        await self._sessions.publish_revocations([s.id for s in ended])
        self._relay.notify()
        return user_service_pb2.ConfirmPasswordResetResponse(message="Password reset successful")

    # Profiles -------------------------------------------------------------------------------

    async def _with_counts(self, account: domain.Account) -> user_pb2.Profile:
        return profile_of(account, (await self._counts.for_users([account.id]))[account.id])

    async def _visible_profile(self, account: domain.Account | None) -> user_pb2.Profile:
        viewer = optional_principal()
        if account is not None and viewer is not None and viewer.user_id != account.id:
            if await self._graph.is_blocked_by(viewer.user_id, account.id):
                account = None  # hidden exactly like a missing account
        if account is None:
            raise NotFound("USER_NOT_FOUND", "No such user.")
        return await self._with_counts(account)

    async def GetUser(self, request: user_service_pb2.GetUserRequest, context: object) -> user_pb2.Profile:
        return await self._visible_profile(await self._store.get_account(request.id))

    async def LookupUser(self, request: user_service_pb2.LookupUserRequest, context: object) -> user_pb2.Profile:
        credentials = await self._store.find_credentials(username=request.username) if request.username else None
        return await self._visible_profile(credentials.account if credentials else None)

    async def UpdateUser(self, request: user_service_pb2.UpdateUserRequest, context: object) -> user_pb2.Profile:
        me = current_principal()
        if request.id != me.user_id:
            raise PermissionDenied("NOT_PROFILE_OWNER", "You can only change your own profile.")
        present = [f for f in domain.PROFILE_FIELDS if request.HasField(f)]
        paths = _changed_paths(list(request.update_mask.paths), present, set(domain.PROFILE_FIELDS))
        changes = domain.validate_profile_changes({p: getattr(request, p) for p in paths})

        def updated_events(account: domain.Account) -> list[OutgoingEvent]:
            return [OutgoingEvent.of(subject("user", "updated"), events_pb2.UserUpdated(
                profile=profile_of(account), changed_fields=[_camel(p) for p in changes], occurred_at=_now()))]

        account = await self._store.update_profile(me.user_id, changes, updated_events)
        if account is None:
            raise NotFound("USER_NOT_FOUND", "No such user.")
        self._relay.notify()
        return await self._with_counts(account)

    # Privacy --------------------------------------------------------------------------------

    async def _privacy(self, user_id: int, settings: AccountSettings) -> user_pb2.PrivacySettings:
        blocked, muted = await asyncio.gather(self._graph.blocked_ids(user_id), self._graph.muted_ids(user_id))
        return user_pb2.PrivacySettings(
            is_private=settings.is_private, muted_users=muted, blocked_users=blocked,
            notification_prefs=_prefs_proto(settings.notification_prefs),
        )

    async def GetPrivacySettings(
        self, request: user_service_pb2.GetPrivacySettingsRequest, context: object
    ) -> user_pb2.PrivacySettings:
        me = current_principal()
        settings = await self._store.get_settings(me.user_id)
        if settings is None:
            raise NotFound("USER_NOT_FOUND", "No such user.")
        return await self._privacy(me.user_id, settings)

    async def UpdatePrivacySettings(
        self, request: user_service_pb2.UpdatePrivacySettingsRequest, context: object
    ) -> user_pb2.PrivacySettings:
        me = current_principal()
        present = [name for name, given in (
            ("is_private", request.HasField("is_private")),
            ("muted_users", bool(request.muted_users)),
            ("blocked_users", bool(request.blocked_users)),
            ("notification_prefs", request.HasField("notification_prefs")),
        ) if given]
        paths = _changed_paths(list(request.update_mask.paths), present,
                               {"is_private", "muted_users", "blocked_users", "notification_prefs"})
        for field in ("muted_users", "blocked_users"):
            ids = getattr(request, field)
            if len(ids) > PRIVACY_LIST_LIMIT:
                raise InvalidArgument("TOO_MANY_IDS", f"{field} can name at most {PRIVACY_LIST_LIMIT} accounts.",
                                      {"field": field})
            if any(i <= 0 for i in ids):
                raise InvalidArgument("INVALID_USER_ID", f"{field} must hold account ids.", {"field": field})
        # The graph service validates the lists (unknown ids, yourself) before anything changes
        # here, and its replacements are idempotent, so a failed call can simply be retried.
        if "blocked_users" in paths:
            await self._graph.replace_blocks(me.user_id, list(request.blocked_users))
        if "muted_users" in paths:
            await self._graph.replace_mutes(me.user_id, list(request.muted_users))
        is_private = request.is_private if "is_private" in paths else None
        prefs = (domain.NotificationPrefs(**{f: getattr(request.notification_prefs, f) for f in _PREF_FIELDS})
                 if "notification_prefs" in paths else None)

        def updated_events(account: domain.Account) -> list[OutgoingEvent]:
            changed = [_camel(p) for p in paths if p in ("is_private", "notification_prefs")]
            return [OutgoingEvent.of(subject("user", "updated"), events_pb2.UserUpdated(
                profile=profile_of(account), changed_fields=changed, occurred_at=_now()))]

        settings = await self._store.update_settings(me.user_id, is_private, prefs, updated_events)
        if settings is None:
            raise NotFound("USER_NOT_FOUND", "No such user.")
        if is_private is False:
            await self._graph.approve_pending(me.user_id)
        self._relay.notify()
        return await self._privacy(me.user_id, settings)

    # Deletion -------------------------------------------------------------------------------

    async def DeleteAccount(
        self, request: user_service_pb2.DeleteAccountRequest, context: object
    ) -> user_service_pb2.DeleteAccountResponse:
        me = current_principal()

        def deletion_events(ended: list) -> list[OutgoingEvent]:  # type: ignore[type-arg]
            deleted = OutgoingEvent.of(subject("user", "deleted"),
                                       events_pb2.UserDeleted(user_id=me.user_id, occurred_at=_now()))
            return [deleted, *self._sessions.revocation_events(ended)]

        ended = await self._store.delete_account(me.user_id, time.time(), deletion_events)
        if ended is None:
            raise NotFound("USER_NOT_FOUND", "No such user.")
        await self._sessions.publish_revocations([s.id for s in ended] + [me.session_id])
        self._relay.notify()
        return user_service_pb2.DeleteAccountResponse(message="Account deleted")

    # Keys and internal RPCs -----------------------------------------------------------------

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


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)

