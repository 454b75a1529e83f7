"""The tooling around the contracts: generated code, buf lint, and the Envoy config derived from them."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chirp.api.v1 import annotations_pb2
from gateway.envoy_config import PROVIDER, contract_rpcs, jwt_rules, render, routes, template_regex
from services.runtime.topology import SERVICES
from tools import protogen

ROOT = Path(__file__).resolve().parents[2]
BUF = ROOT / "node_modules" / ".bin" / "buf"
ENVOY = Path(sys.executable).parent / "envoy"
REQUIRE_TOKEN = {"provider_name": PROVIDER}
TOKEN_IF_SENT = {"requires_any": {"requirements": [{"provider_name": PROVIDER}, {"allow_missing": {}}]}}


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_gen_is_fresh():
    problems = protogen.check()
    assert problems == [], "gen/ is stale; run make gen:\n  " + "\n  ".join(problems)


def test_buf_lint_passes(tmp_path: Path):
    assert BUF.exists(), f"{BUF.relative_to(ROOT)} is missing: run make install"
    image = tmp_path / "chirp.binpb"
    image.write_bytes(protogen.descriptor_set_bytes(source_info=True))
    result = _run([str(BUF), "lint", f"{image}#format=binpb", "--path", "chirp", "--config", "buf.yaml"])
    assert result.returncode == 0, f"buf lint exited {result.returncode}:\n{result.stdout}{result.stderr}"


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _render() -> str:
    edge, admin, *service = _free_ports(2 + len(SERVICES))
    return render(edge_port=edge, admin_port=admin, service_ports={s.name: p for s, p in zip(SERVICES, service)})


def test_rendered_envoy_config_validates(tmp_path: Path):
    assert ENVOY.exists(), f"{ENVOY} is missing: run make install"
    config = tmp_path / "envoy.yaml"
    config.write_text(_render())
    result = _run([str(ENVOY), "--mode", "validate", "-c", str(config), "--log-level", "error"])
    assert result.returncode == 0, f"envoy --mode validate exited {result.returncode}:\n{result.stdout}{result.stderr}"


# --- routes and jwt rules ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rpcs():
    return contract_rpcs()


def test_rendered_config_embeds_the_tables_checked_below(rpcs):
    rendered = _render()
    assert json.dumps(routes(rpcs)) in rendered
    assert json.dumps(jwt_rules(rpcs)) in rendered


def test_routes_cover_every_public_rpc_once_and_no_internal_one(rpcs):
    public = {rpc.grpc_path for rpc in rpcs if rpc.public}
    internal = {rpc.grpc_path for rpc in rpcs if not rpc.public}
    assert public and internal, "expected both public and internal RPCs in the contracts"
    routed = [r["match"]["path"] for r in routes(rpcs) if "path" in r["match"]]
    offenders = [f"internal RPC routed: {p}" for p in routed if p in internal]
    offenders += [f"route to an unknown RPC: {p}" for p in routed if p not in public | internal]
    offenders += [f"public RPC routed {routed.count(p)} times: {p}" for p in sorted(public) if routed.count(p) != 1]
    assert not offenders, "\n".join(offenders)


def _expected_requirement(access: int) -> dict | None:
    if access == annotations_pb2.ACCESS_PUBLIC:
        return None
    if access == annotations_pb2.ACCESS_OPTIONAL_USER:
        return TOKEN_IF_SENT
    return REQUIRE_TOKEN  # ACCESS_USER, and ACCESS_UNSPECIFIED, which means ACCESS_USER


def _binding_rules(rules: list[dict], verb: str, regex: str) -> list[dict]:
    return [
        rule for rule in rules
        if rule["match"].get("safe_regex", {}).get("regex") == regex
        and {"name": ":method", "string_match": {"exact": verb}} in rule["match"].get("headers", [])
    ]


def test_jwt_rules_follow_each_rpcs_access(rpcs):
    rules = jwt_rules(rpcs)
    offenders = []
    for rpc in rpcs:
        if not rpc.public:
            if any(rule["match"].get("path") == rpc.grpc_path for rule in rules):
                offenders.append(f"{rpc.grpc_path}: internal RPC has a jwt rule")
            continue
        expected = _expected_requirement(rpc.access)
        access = annotations_pb2.Access.Name(rpc.access)
        grpc_rules = [rule for rule in rules if rule["match"].get("path") == rpc.grpc_path]
        if [rule.get("requires") for rule in grpc_rules] != [expected]:
            offenders.append(f"{rpc.grpc_path} ({access}): gRPC path rules {grpc_rules}, expected requires={expected}")
        for binding in rpc.bindings:
            found = _binding_rules(rules, binding.verb, template_regex(binding.template))
            if [rule.get("requires") for rule in found] != [expected]:
                offenders.append(
                    f"{rpc.grpc_path} ({access}) {binding.verb} {binding.template}: rules {found}, "
                    f"expected one with requires={expected}"
                )
    assert not offenders, f"{len(offenders)} jwt rule problems:\n  " + "\n  ".join(offenders)


def _sample_path(template: str) -> str:
    """A concrete request path for a template: every variable becomes 123."""
    return re.sub(r"\{[^}]*\}", "123", template)


def test_the_first_matching_jwt_rule_grants_each_bindings_access(rpcs):
    """jwt_authn uses the first rule that matches; an earlier, broader rule must not shadow a binding."""
    rules = jwt_rules(rpcs)
    offenders = []
    for rpc in (r for r in rpcs if r.public):
        for binding in rpc.bindings:
            path = _sample_path(binding.template)
            first = next(
                rule for rule in rules
                if ("prefix" in rule["match"] and path.startswith(rule["match"]["prefix"]))
                or rule["match"].get("path") == path
                or ("safe_regex" in rule["match"]
                    and re.search(rule["match"]["safe_regex"]["regex"], path)
                    and {"name": ":method", "string_match": {"exact": binding.verb}} in rule["match"]["headers"])
            )
            if first.get("requires") != _expected_requirement(rpc.access):
                offenders.append(f"{binding.verb} {path} ({rpc.grpc_path}) first matches {first}")
    assert not offenders, "\n".join(offenders)


def test_the_last_jwt_rule_lets_unknown_paths_reach_the_404_but_still_verifies_tokens(rpcs):
    last = jwt_rules(rpcs)[-1]
    assert last["match"] == {"prefix": "/"}, last
    assert last["requires"] == {"requires_any": {"requirements": [{"provider_name": "chirp"}, {"allow_missing": {}}]}}


# --- template_regex ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template, path, matches",
    [
        ("/api/v1/users/{id}/follow", "/api/v1/users/123/follow", True),
        ("/api/v1/users/{id}/follow", "/api/v1/users/123/follow/", True),
        ("/api/v1/users/{id}/follow", "/api/v1/users/123/follow/x", False),
        ("/api/v1/users/{id}/follow", "/api/v1/users//follow", False),
        ("/api/v1/users/{id}/follow", "/api/v1/users/1/2/follow", False),
        ("/api/v1/users/by-username/{username}", "/api/v1/users/by-username/alice_1", True),
        ("/api/v1/users/by-username/{username}", "/api/v1/users/by-username", False),
        ("/.well-known/jwks.json", "/.well-known/jwks.json", True),
        ("/.well-known/jwks.json", "/.well-known/jwksxjson", False),
        ("/api/v1/files/{name=**}", "/api/v1/files/a/b/c", True),
    ],
)
def test_template_regex(template: str, path: str, matches: bool):
    regex = template_regex(template)
    assert bool(re.search(regex, path)) is matches, f"{regex!r} on {path!r}"


def test_template_regex_escapes_the_dot_of_the_jwks_path():
    assert "jwks\\.json" in template_regex("/.well-known/jwks.json")

