"""Helpers for end-to-end tests: an HTTP client on the edge, signups, and error-body checks."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.runtime.mesh import Mesh

_names = itertools.count()


@pytest.fixture
async def http(mesh: Mesh) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=10) as client:
        yield client


def unique(prefix: str = "u") -> str:
    return f"{prefix}{next(_names)}"


async def signup(http: httpx.AsyncClient, username: str | None = None, **fields: Any) -> dict[str, Any]:
    username = username or unique()
    body = {"email": f"{username}@example.com", "username": username, "password": "correct horse", "name": "N"}
    response = await http.post("/api/v1/signup", json={**body, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, reason: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert body["message"], body
    if reason is not None:
        reasons = [d.get("reason") for d in body.get("details", [])]
        assert reason in reasons, body
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
