"""What operators rely on: JSON logs that carry the request id and user id, and the Valkey helper."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from services.runtime import valkey
from services.runtime.mesh import Mesh
from tests.support import eventually

pytestmark = pytest.mark.e2e


async def test_service_logs_are_json_with_request_and_user_ids(mesh: Mesh) -> None:
    request_id = f"test-{uuid.uuid4().hex}"
    name = f"logs{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=10) as http:
        signed_up = (await http.post("/api/v1/signup", json={
            "email": f"{name}@example.com", "username": name, "password": "correct horse"})).json()
        response = await http.get(f"/api/v1/users/{signed_up['userId']}", headers={
            "Authorization": f"Bearer {signed_up['token']}", "x-request-id": request_id})
        assert response.status_code == 200

    log_path = mesh.log_dir / "user.log"

    async def access_line() -> dict | None:
        for line in log_path.read_text().splitlines():
            if request_id in line and json.loads(line)["event"] == "rpc":
                return json.loads(line)
        return None

    entry = await eventually(access_line, what="the access-log line of the request")
    assert entry["event"] == "rpc" and entry["rpc"] == "/chirp.user.v1.UserService/GetUser"
    assert entry["code"] == "OK" and entry["service"] == "user"
    assert entry["user_id"] == int(signed_up["userId"])


async def test_valkey_helper_talks_to_the_meshs_valkey(mesh: Mesh) -> None:
    client = valkey.connect(mesh.valkey_url)
    try:
        key = f"test:{uuid.uuid4().hex}"
        await client.set(key, b"1", ex=60)
        assert await client.get(key) == b"1"
    finally:
        await client.aclose()


async def test_each_service_exposes_prometheus_metrics(mesh: Mesh) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        await http.post(f"{mesh.edge_url}/api/v1/login", json={"username": "nobody", "password": "whatever1"})
        metrics = (await http.get(mesh.metrics_url("user"))).text
    assert 'chirp_rpc_started_total{method="/chirp.user.v1.UserService/Login"}' in metrics
    assert "chirp_rpc_duration_seconds_bucket" in metrics
