"""Native gRPC clients through Envoy with the generated stubs, and the mesh's own resilience."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from chirp.dm.v1 import dm_service_pb2, dm_service_pb2_grpc
from chirp.notification.v1 import notification_service_pb2, notification_service_pb2_grpc
from chirp.user.v1 import user_service_pb2, user_service_pb2_grpc
from services.runtime.mesh import Mesh, grpc_serving
from services.runtime.topology import SERVICES
from tests.conftest import start_mesh
from tests.support import error_info, eventually

pytestmark = pytest.mark.e2e
_names = itertools.count()


@pytest.fixture
async def channel(mesh: Mesh) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(mesh.edge_target) as edge:
        yield edge


def _signup_request(prefix: str = "g") -> user_service_pb2.SignupRequest:
    name = f"{prefix}{next(_names)}"
    return user_service_pb2.SignupRequest(email=f"{name}@example.com", username=name, password="correct horse")


async def test_signup_login_and_an_authenticated_call_over_grpc(channel: grpc.aio.Channel) -> None:
    users = user_service_pb2_grpc.UserServiceStub(channel)
    request = _signup_request()
    signed_up = await users.Signup(request, timeout=10)
    login = await users.Login(user_service_pb2.LoginRequest(username=request.username, password="correct horse"))
    profile = await users.GetUser(user_service_pb2.GetUserRequest(id=signed_up.user_id),
                                  metadata=[("authorization", f"Bearer {login.token}")], timeout=10)
    assert profile.username == request.username


async def test_errors_over_grpc_carry_status_and_error_info(channel: grpc.aio.Channel) -> None:
    users = user_service_pb2_grpc.UserServiceStub(channel)
    request = _signup_request()
    await users.Signup(request)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await users.Signup(request)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(caught.value).reason == "USERNAME_TAKEN"


async def test_missing_token_over_grpc_is_unauthenticated_at_the_edge(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await user_service_pb2_grpc.UserServiceStub(channel).GetUser(user_service_pb2.GetUserRequest(id=1))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_unbuilt_rpcs_answer_unimplemented_over_grpc(channel: grpc.aio.Channel) -> None:
    token = (await user_service_pb2_grpc.UserServiceStub(channel).Signup(_signup_request())).token
    metadata = [("authorization", f"Bearer {token}")]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await dm_service_pb2_grpc.DmServiceStub(channel).ListConversations(
            dm_service_pb2.ListConversationsRequest(), metadata=metadata)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert error_info(caught.value).reason == "NOT_IMPLEMENTED"
    stream = notification_service_pb2_grpc.NotificationServiceStub(channel).StreamNotifications(
        notification_service_pb2.StreamNotificationsRequest(), metadata=metadata)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stream:
            pass
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_internal_rpcs_are_not_reachable_from_outside(channel: grpc.aio.Channel, mesh: Mesh) -> None:
    users = user_service_pb2_grpc.UserServiceStub(channel)
    token = (await users.Signup(_signup_request())).token
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await users.BatchGetUsers(user_service_pb2.BatchGetUsersRequest(ids=[1]),
                                  metadata=[("authorization", f"Bearer {token}")])
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED  # Envoy's 404, as gRPC sees it
    # ...while the same RPC works for a service calling the user service directly.
    async with grpc.aio.insecure_channel(f"127.0.0.1:{mesh.ports.services['user']}") as direct:
        await user_service_pb2_grpc.UserServiceStub(direct).BatchGetUsers(user_service_pb2.BatchGetUsersRequest(ids=[1]))


async def test_every_service_reports_serving(mesh: Mesh) -> None:
    for info in SERVICES:
        assert await grpc_serving(mesh.ports.services[info.name]), info.name


async def test_envoy_admin_is_on_loopback_only(mesh: Mesh) -> None:
    config = (mesh.data_dir / "envoy" / "envoy.yaml").read_text()
    assert f"address: 127.0.0.1, port_value: {mesh.ports.admin}" in config


async def test_a_killed_service_is_restarted_and_keeps_its_data(mesh: Mesh, channel: grpc.aio.Channel) -> None:
    users = user_service_pb2_grpc.UserServiceStub(channel)
    request = _signup_request("crash")
    await users.Signup(request)
    old_pid = mesh.supervisor.pid("user")
    assert old_pid is not None
    mesh.supervisor.kill("user")
    await mesh.supervisor.wait_restarted("user", old_pid)

    async def login_works() -> bool:
        reply = await users.Login(user_service_pb2.LoginRequest(username=request.username, password="correct horse"),
                                  timeout=5)
        return bool(reply.token)

    await eventually(login_works, timeout_s=30, what="login after the user service restarted")


async def test_a_second_run_finds_the_accounts_of_the_first(tmp_path: Path) -> None:
    first = await start_mesh(tmp_path / "var")
    try:
        async with httpx.AsyncClient(base_url=first.edge_url, timeout=10) as http:
            response = await http.post("/api/v1/signup", json={
                "email": "persist@example.com", "username": "persist", "password": "correct horse"})
            assert response.status_code == 200, response.text
    finally:
        await first.stop()
    second = await start_mesh(tmp_path / "var")
    try:
        async with httpx.AsyncClient(base_url=second.edge_url, timeout=10) as http:
            response = await http.post("/api/v1/login", json={"username": "persist", "password": "correct horse"})
            assert response.status_code == 200, response.text
            token = response.json()["token"]
            me = await http.get(f"/api/v1/users/{response.json()['user']['id']}",
                                headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200, "a token signed before the restart's key must verify after it"
    finally:
        await second.stop()
