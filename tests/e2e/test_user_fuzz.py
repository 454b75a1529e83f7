"""Every user-service route through Envoy with malformed JSON, wrong types, huge values and bad ids:
never a 5xx, and the probe account is exactly as it was afterwards."""

from __future__ import annotations

import json

import httpx
import pytest

from gateway.envoy_config import contract_rpcs
from tests.e2e.conftest import bearer, signup
from tests.e2e.fuzz import MALFORMED_BODIES, huge_bodies, request_descriptor, sample_path, wrong_type_bodies

pytestmark = pytest.mark.e2e

# These end the probe's session whatever the body says; their refusals are tested elsewhere.
SESSION_ENDING = {"/chirp.user.v1.UserService/Logout", "/chirp.user.v1.UserService/DeleteAccount"}


async def _snapshot(http: httpx.AsyncClient, probe: dict) -> tuple[str, str]:
    auth = bearer(probe["token"])
    profile = await http.get(f"/api/v1/users/{probe['userId']}", headers=auth)
    privacy = await http.get("/api/v1/account/privacy", headers=auth)
    assert profile.status_code == privacy.status_code == 200, (profile.text, privacy.text)
    return profile.text, privacy.text


async def test_user_routes_survive_bad_input(http: httpx.AsyncClient) -> None:
    probe, other = await signup(http), await signup(http)
    before = await _snapshot(http, probe)
    failures: list[str] = []
    sent = 0
    for rpc in contract_rpcs():
        if rpc.service != "user" or not rpc.public or rpc.grpc_path in SESSION_ENDING:
            continue
        descriptor = request_descriptor(rpc)
        for binding in rpc.bindings:
            ids = [probe["userId"], other["userId"], "0", "-5", "123456789", "abc", "9" * 30]
            paths = {sample_path(binding.template, i) for i in ids} if "{" in binding.template else {binding.template}
            bodies: list[bytes] = list(MALFORMED_BODIES)
            bodies += [json.dumps(b).encode() for b in wrong_type_bodies(descriptor)]
            bodies += [json.dumps(b).encode() for b in huge_bodies(descriptor)]
            for path in sorted(paths):
                for body in bodies if binding.verb in ("POST", "PUT") else [b""]:
                    response = await http.request(
                        binding.verb, path, content=body,
                        headers={**bearer(probe["token"]), "content-type": "application/json"})
                    sent += 1
                    if response.status_code >= 500:
                        failures.append(f"{binding.verb} {path} {body[:60]!r}: {response.status_code} {response.text[:150]}")
    assert sent > 200
    assert not failures, f"{len(failures)} of {sent} requests got a 5xx:\n" + "\n".join(failures[:30])
    assert await _snapshot(http, probe) == before, "bad input changed the probe's profile or privacy settings"
