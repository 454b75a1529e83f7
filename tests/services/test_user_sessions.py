"""Sessions, password resets, profile updates and deletion in the user service (port 0, real NATS
and Valkey). The SMTP path is tested against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
import mailbox
import re
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from aiosmtpd.controller import Controller
from google.protobuf import field_mask_pb2

from chirp.user.v1 import events_pb2, user_service_pb2, user_service_pb2_grpc
from services.runtime import events
from services.runtime.mesh import free_port
from services.runtime.server import RunningService, serve
from services.user.app import build
from services.user.settings import Settings
from tests.support import error_info, eventually

Stub = user_service_pb2_grpc.UserServiceStub


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture(scope="module")
def smtp_inbox() -> AsyncIterator[tuple[_Inbox, int]]:
    inbox, port = _Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _env(data: Path, nats_url: str, valkey_url: str, **extra: str) -> dict[str, str]:
    return {"CHIRP_DATA_DIR": str(data), "CHIRP_NATS_URL": nats_url, "CHIRP_VALKEY_URL": valkey_url,
            "CHIRP_GRAPH_ADDR": "127.0.0.1:1", "CHIRP_TWEET_ADDR": "127.0.0.1:1", "CHIRP_PUBLIC_URL": "https://chirp.test", **extra}


async def _running(env: dict[str, str]) -> RunningService:
    settings = Settings.from_env(env)
    return await serve(settings.common, await build(settings), port=0)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("user-sessions")


@pytest.fixture(scope="module")
async def stub(nats_url: str, valkey_url: str, data_dir: Path) -> AsyncIterator[Stub]:
    running = await _running(_env(data_dir, nats_url, valkey_url))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield user_service_pb2_grpc.UserServiceStub(channel)
    await running.stop(1.0)


_count = iter(range(10**6))


async def _signup(stub: Stub) -> user_service_pb2.SignupResponse:
    name = f"s{next(_count)}"
    return await stub.Signup(user_service_pb2.SignupRequest(email=f"{name}@example.com", username=name,
                                                            password="first password"))


def _auth(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


async def _get_self(stub: Stub, me: user_service_pb2.SignupResponse, token: str) -> object:
    return await stub.GetUser(user_service_pb2.GetUserRequest(id=me.user_id), metadata=_auth(token))


async def _assert_refused(call: object, reason: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(caught.value).reason == reason


async def test_logout_revokes_the_access_token_at_once(stub: Stub) -> None:
    me = await _signup(stub)
    other_session = await stub.Login(user_service_pb2.LoginRequest(username=me.profile.username, password="first password"))
    await _get_self(stub, me, me.token)
    reply = await stub.Logout(user_service_pb2.LogoutRequest(), metadata=_auth(me.token))
    assert reply.message == "Logged out"
    await _assert_refused(_get_self(stub, me, me.token), "SESSION_REVOKED")
    await _assert_refused(stub.RefreshToken(user_service_pb2.RefreshTokenRequest(refresh_token=me.refresh_token)),
                          "INVALID_REFRESH_TOKEN")
    await _get_self(stub, me, other_session.token)  # only the one session ended


async def test_refresh_rotates_and_a_reused_token_ends_the_session(stub: Stub) -> None:
    me = await _signup(stub)
    first = await stub.RefreshToken(user_service_pb2.RefreshTokenRequest(refresh_token=me.refresh_token))
    assert first.token and first.refresh_token and first.refresh_token != me.refresh_token
    await _get_self(stub, me, first.token)
    # The old refresh token again: somebody copied it. The whole session ends.
    await _assert_refused(stub.RefreshToken(user_service_pb2.RefreshTokenRequest(refresh_token=me.refresh_token)),
                          "INVALID_REFRESH_TOKEN")
    await _assert_refused(_get_self(stub, me, first.token), "SESSION_REVOKED")
    await _assert_refused(stub.RefreshToken(user_service_pb2.RefreshTokenRequest(refresh_token=first.refresh_token)),
                          "INVALID_REFRESH_TOKEN")


async def test_concurrent_use_of_one_refresh_token_rotates_once(stub: Stub) -> None:
    me = await _signup(stub)
    results = await asyncio.gather(
        *(stub.RefreshToken(user_service_pb2.RefreshTokenRequest(refresh_token=me.refresh_token)) for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, user_service_pb2.RefreshTokenResponse) for r in results) == 1


async def test_unknown_refresh_token_is_refused(stub: Stub) -> None:
    await _assert_refused(stub.RefreshToken(user_service_pb2.RefreshTokenRequest(refresh_token="made-up")),
                          "INVALID_REFRESH_TOKEN")


def _maildir_link(data_dir: Path, email: str) -> str | None:
    box = mailbox.Maildir(data_dir / "user" / "maildir", create=False)
    for message in box:
        if message["To"] == email:
            match = re.search(r"token=([A-Za-z0-9_-]+)", message.get_payload(decode=True).decode())
            if match:
                return match.group(1)
    return None


async def test_password_reset_through_the_maildir(stub: Stub, data_dir: Path) -> None:
    me = await _signup(stub)
    email = f"{me.profile.username}@example.com"
    known = await stub.RequestPasswordReset(user_service_pb2.RequestPasswordResetRequest(email=email))
    unknown = await stub.RequestPasswordReset(user_service_pb2.RequestPasswordResetRequest(email="nobody@example.com"))
    assert known == unknown  # the answer does not tell whether the account exists

    async def link() -> str | None:
        return _maildir_link(data_dir, email)

    token = await eventually(link, what="the reset mail in the maildir")
    reply = await stub.ConfirmPasswordReset(user_service_pb2.ConfirmPasswordResetRequest(token=token,
                                                                                          new_password="second password"))
    assert reply.message == "Password reset successful"
    # Every session ended; the new password works, the old one does not; the link works once.
    await _assert_refused(_get_self(stub, me, me.token), "SESSION_REVOKED")
    await stub.Login(user_service_pb2.LoginRequest(username=me.profile.username, password="second password"))
    await _assert_refused(stub.Login(user_service_pb2.LoginRequest(username=me.profile.username,
                                                                   password="first password")), "INVALID_CREDENTIALS")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ConfirmPasswordReset(user_service_pb2.ConfirmPasswordResetRequest(token=token,
                                                                                     new_password="third password"))
    assert error_info(caught.value).reason == "INVALID_RESET_TOKEN"


async def test_reset_tokens_are_stored_hashed(stub: Stub, data_dir: Path) -> None:
    import sqlite3

    me = await _signup(stub)
    email = f"{me.profile.username}@example.com"
    await stub.RequestPasswordReset(user_service_pb2.RequestPasswordResetRequest(email=email))

    async def link() -> str | None:
        return _maildir_link(data_dir, email)

    token = await eventually(link, what="the reset mail")
    rows = sqlite3.connect(data_dir / "user" / "user.db").execute("SELECT token_hash FROM password_resets").fetchall()
    assert rows and all(token not in row[0] for row in rows)


async def test_expired_reset_token_is_refused(nats_url: str, valkey_url: str, tmp_path: Path) -> None:
    running = await _running(_env(tmp_path, nats_url, valkey_url, CHIRP_USER_PASSWORD_RESET_TTL_S="0"))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            short = user_service_pb2_grpc.UserServiceStub(channel)
            me = await _signup(short)
            email = f"{me.profile.username}@example.com"
            await short.RequestPasswordReset(user_service_pb2.RequestPasswordResetRequest(email=email))

            async def link() -> str | None:
                return _maildir_link(tmp_path, email)

            token = await eventually(link, what="the reset mail")
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await short.ConfirmPasswordReset(user_service_pb2.ConfirmPasswordResetRequest(
                    token=token, new_password="second password"))
            assert error_info(caught.value).reason == "INVALID_RESET_TOKEN"
    finally:
        await running.stop(1.0)


async def test_reset_mail_goes_over_smtp_when_configured(
    nats_url: str, valkey_url: str, tmp_path: Path, smtp_inbox: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp_inbox
    running = await _running(_env(tmp_path, nats_url, valkey_url, CHIRP_SMTP_HOST="127.0.0.1",
                                  CHIRP_SMTP_PORT=str(port), CHIRP_SMTP_STARTTLS="false"))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            smtp_stub = user_service_pb2_grpc.UserServiceStub(channel)
            me = await _signup(smtp_stub)
            email = f"{me.profile.username}@example.com"
            await smtp_stub.RequestPasswordReset(user_service_pb2.RequestPasswordResetRequest(email=email))

            async def delivered() -> bool:
                return any(email.encode() in m and b"https://chirp.test/reset-password?token=" in m
                           for m in inbox.messages)

            await eventually(delivered, what="the reset mail over SMTP")
    finally:
        await running.stop(1.0)


async def test_request_reset_refuses_a_malformed_email(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RequestPasswordReset(user_service_pb2.RequestPasswordResetRequest(email="nope"))
    assert error_info(caught.value).reason == "INVALID_EMAIL"


async def test_update_profile_with_and_without_a_mask(stub: Stub) -> None:
    me = await _signup(stub)
    request = user_service_pb2.UpdateUserRequest(id=me.user_id, bio="hello", website="https://example.com/me")
    updated = await stub.UpdateUser(request, metadata=_auth(me.token))
    assert (updated.bio, updated.website, updated.name) == ("hello", "https://example.com/me", me.profile.name)
    masked = user_service_pb2.UpdateUserRequest(id=me.user_id, bio="ignored", location="Lisbon",
                                                update_mask=field_mask_pb2.FieldMask(paths=["location"]))
    updated = await stub.UpdateUser(masked, metadata=_auth(me.token))
    assert (updated.bio, updated.location) == ("hello", "Lisbon")
    cleared = user_service_pb2.UpdateUserRequest(id=me.user_id, update_mask=field_mask_pb2.FieldMask(paths=["website"]))
    assert (await stub.UpdateUser(cleared, metadata=_auth(me.token))).website == ""


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"bio": "b" * 161}, "BIO_TOO_LONG"),
        ({"name": "n" * 51}, "NAME_TOO_LONG"),
        ({"location": "l" * 31}, "LOCATION_TOO_LONG"),
        ({"website": "javascript:alert(1)"}, "INVALID_WEBSITE"),
        ({"website": "http://"}, "INVALID_WEBSITE"),
        ({"avatar_url": "ftp://example.com/a.png"}, "INVALID_AVATAR_URL"),
        ({"name": ""}, "NAME_REQUIRED"),
    ],
)
async def test_update_profile_validates(stub: Stub, fields: dict[str, str], reason: str) -> None:
    me = await _signup(stub)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UpdateUser(user_service_pb2.UpdateUserRequest(id=me.user_id, **fields), metadata=_auth(me.token))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value).reason == reason
    assert (await _get_self(stub, me, me.token)).bio == ""  # nothing was written


async def test_unknown_mask_path_and_someone_elses_profile(stub: Stub) -> None:
    me, other = await _signup(stub), await _signup(stub)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UpdateUser(user_service_pb2.UpdateUserRequest(
            id=me.user_id, update_mask=field_mask_pb2.FieldMask(paths=["email"])), metadata=_auth(me.token))
    assert error_info(caught.value).reason == "UNKNOWN_FIELD"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UpdateUser(user_service_pb2.UpdateUserRequest(id=other.user_id, bio="hacked"), metadata=_auth(me.token))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(caught.value).reason == "NOT_PROFILE_OWNER"


async def test_delete_account_is_soft_ends_sessions_and_publishes(stub: Stub, nats_url: str) -> None:
    me = await _signup(stub)
    reply = await stub.DeleteAccount(user_service_pb2.DeleteAccountRequest(), metadata=_auth(me.token))
    assert reply.message == "Account deleted"
    await _assert_refused(_get_self(stub, me, me.token), "SESSION_REVOKED")
    await _assert_refused(stub.Login(user_service_pb2.LoginRequest(username=me.profile.username,
                                                                   password="first password")), "INVALID_CREDENTIALS")
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # the username stays reserved
        await stub.Signup(user_service_pb2.SignupRequest(email="fresh@example.org", username=me.profile.username,
                                                         password="first password"))
    assert error_info(caught.value).reason == "USERNAME_TAKEN"

    nc = await events.connect(nats_url, "tests")
    try:
        subscription = await nc.jetstream().pull_subscribe("chirp.user.deleted", stream="CHIRP_USER")

        async def published() -> bool:
            msgs = await subscription.fetch(100, timeout=1)
            return any(events_pb2.UserDeleted.FromString(m.data).user_id == me.user_id for m in msgs)

        await eventually(published, what="UserDeleted on JetStream")
    finally:
        await nc.drain()
