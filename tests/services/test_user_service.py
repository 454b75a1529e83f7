"""The user service over a real grpc.aio server on port 0, with a real NATS for its events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from chirp.user.v1 import events_pb2, user_service_pb2, user_service_pb2_grpc
from services.runtime import events
from services.runtime.server import RunningService, serve
from services.user.app import build
from services.user.settings import Settings
from tests.support import error_info


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("user-svc")


@pytest.fixture(scope="module")
async def user_service(nats_url: str, valkey_url: str, data_dir: Path) -> AsyncIterator[RunningService]:
    settings = Settings.from_env({
        "CHIRP_DATA_DIR": str(data_dir), "CHIRP_NATS_URL": nats_url, "CHIRP_VALKEY_URL": valkey_url,
        "CHIRP_USER_PORT": "0",
        # No graph service here: profile counts degrade to zero, which these tests do not read.
        "CHIRP_GRAPH_ADDR": "127.0.0.1:1", "CHIRP_TWEET_ADDR": "127.0.0.1:1",
    })
    running = await serve(settings.common, await build(settings), port=0)
    yield running
    await running.stop(1.0)


@pytest.fixture(scope="module")
async def stub(user_service: RunningService) -> AsyncIterator[user_service_pb2_grpc.UserServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{user_service.port}") as channel:
        yield user_service_pb2_grpc.UserServiceStub(channel)


async def _signup(stub: user_service_pb2_grpc.UserServiceStub, username: str) -> user_service_pb2.SignupResponse:
    return await stub.Signup(user_service_pb2.SignupRequest(
        email=f"{username}@example.com", username=username, password="s3cret-pass", name=username.title()))


async def test_signup_then_login_by_username_or_email(stub: user_service_pb2_grpc.UserServiceStub) -> None:
    signed_up = await _signup(stub, "Carol")
    assert signed_up.user_id > 0 and signed_up.token and signed_up.profile.username == "Carol"
    by_name = await stub.Login(user_service_pb2.LoginRequest(username="carol", password="s3cret-pass"))
    by_email = await stub.Login(user_service_pb2.LoginRequest(email="CAROL@example.com", password="s3cret-pass"))
    in_one_box = await stub.Login(user_service_pb2.LoginRequest(username="carol@example.com", password="s3cret-pass"))
    assert by_name.user.id == by_email.user.id == in_one_box.user.id == signed_up.user_id


async def test_duplicate_username_in_any_case_and_duplicate_email(stub: user_service_pb2_grpc.UserServiceStub) -> None:
    await _signup(stub, "dave")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Signup(user_service_pb2.SignupRequest(email="other@example.com", username="DAVE", password="s3cret-pass"))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(caught.value).reason == "USERNAME_TAKEN"
    assert error_info(caught.value).domain == "user.chirp"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Signup(user_service_pb2.SignupRequest(email="Dave@Example.com", username="dave2", password="s3cret-pass"))
    assert error_info(caught.value).reason == "EMAIL_TAKEN"


async def test_concurrent_signups_for_one_username_make_one_account(stub: user_service_pb2_grpc.UserServiceStub) -> None:
    attempts = [
        stub.Signup(user_service_pb2.SignupRequest(email=f"race{i}@example.com", username="racer", password="s3cret-pass"))
        for i in range(8)
    ]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    winners = [r for r in results if isinstance(r, user_service_pb2.SignupResponse)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1 and len(losers) == 7
    assert {error_info(e).reason for e in losers} == {"USERNAME_TAKEN"}


async def test_wrong_password_and_unknown_account_answer_alike(stub: user_service_pb2_grpc.UserServiceStub) -> None:
    await _signup(stub, "erin")
    answers = []
    for request in (
        user_service_pb2.LoginRequest(username="erin", password="wrong-pass"),
        user_service_pb2.LoginRequest(username="nobody_here", password="wrong-pass"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Login(request)
        answers.append((caught.value.code(), caught.value.details(), error_info(caught.value).reason))
    assert answers[0] == answers[1] == (grpc.StatusCode.UNAUTHENTICATED, answers[0][1], "INVALID_CREDENTIALS")


async def test_protected_rpcs_need_a_valid_token(stub: user_service_pb2_grpc.UserServiceStub) -> None:
    me = await _signup(stub, "frank")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetUser(user_service_pb2.GetUserRequest(id=me.user_id))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetUser(user_service_pb2.GetUserRequest(id=me.user_id), metadata=[("authorization", "Bearer junk")])
    assert error_info(caught.value).reason == "INVALID_TOKEN"
    profile = await stub.GetUser(user_service_pb2.GetUserRequest(id=me.user_id),
                                 metadata=[("authorization", f"Bearer {me.token}")])
    assert profile.username == "frank"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetUser(user_service_pb2.GetUserRequest(id=1), metadata=[("authorization", f"Bearer {me.token}")])
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_internal_batch_rpcs(stub: user_service_pb2_grpc.UserServiceStub) -> None:
    a, b = await _signup(stub, "gina"), await _signup(stub, "hank")
    found = await stub.BatchGetUsers(user_service_pb2.BatchGetUsersRequest(ids=[a.user_id, b.user_id, 12345]))
    assert set(found.profiles) == {a.user_id, b.user_id}
    resolved = await stub.ResolveUsernames(user_service_pb2.ResolveUsernamesRequest(usernames=["GINA", "hank", "zed"]))
    assert dict(resolved.user_ids) == {"gina": a.user_id, "hank": b.user_id}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.BatchGetUsers(user_service_pb2.BatchGetUsersRequest(ids=list(range(501))))
    assert error_info(caught.value).reason == "TOO_MANY_IDS"


async def test_session_state_of_a_fresh_session_is_active(stub: user_service_pb2_grpc.UserServiceStub) -> None:
    import jwt

    me = await _signup(stub, "ivy")
    sid = jwt.decode(me.token, options={"verify_signature": False})["sid"]
    state = await stub.GetSessionState(user_service_pb2.GetSessionStateRequest(session_id=sid))
    assert state.active and state.user_id == me.user_id


async def test_signup_publishes_user_created_through_the_outbox(
    stub: user_service_pb2_grpc.UserServiceStub, nats_url: str
) -> None:
    me = await _signup(stub, "kate")
    nc = await events.connect(nats_url, "tests")
    try:
        js = nc.jetstream()
        subscription = await js.pull_subscribe("chirp.user.created", stream="CHIRP_USER")
        created = []
        while not any(e.profile.id == me.user_id for e in created):
            for msg in await subscription.fetch(50, timeout=5):
                created.append(events_pb2.UserCreated.FromString(msg.data))
                assert msg.headers[events.MSG_ID_HEADER]
                await msg.ack()
        assert [e.profile.username for e in created if e.profile.id == me.user_id] == ["kate"]
    finally:
        await nc.drain()


def test_settings_name_a_malformed_variable(tmp_path: Path) -> None:
    from services.runtime.settings import SettingsError

    with pytest.raises(SettingsError, match="CHIRP_USER_PORT"):
        Settings.from_env({"CHIRP_USER_PORT": "eighty"})
