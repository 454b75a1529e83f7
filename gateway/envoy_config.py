"""Renders envoy/envoy.yaml.tmpl: ports and paths from arguments, everything else from the contracts.

For every RPC of every service in the topology it reads the google.api.http rule and the
chirp.api.v1.access option, and derives:
- the route table: one exact route per public gRPC method (what transcoded JSON becomes, and what
  native gRPC clients call); internal RPCs get no route, so the edge answers 404 for them;
- the jwt_authn rules: public RPCs need no token, optional ones verify a token if sent, everything
  else (and any path nobody declared) requires one;
- the transcoded services.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api import annotations_pb2 as http_annotations
from google.protobuf.descriptor import MethodDescriptor

from chirp.api.v1 import annotations_pb2
from services.runtime.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "envoy" / "envoy.yaml.tmpl"
DESCRIPTOR = ROOT / "gen" / "chirp" / "chirp.binpb"
PROVIDER = "chirp"
ERROR_DOMAIN = "edge.chirp"

# HTTP status of an Envoy local reply -> (google.rpc.Code, ErrorInfo reason).
LOCAL_REPLY_CODES: dict[int, tuple[int, str]] = {
    400: (3, "BAD_REQUEST"),
    401: (16, "AUTHENTICATION_REQUIRED"),
    403: (7, "FORBIDDEN"),
    404: (5, "ROUTE_NOT_FOUND"),
    405: (12, "METHOD_NOT_ALLOWED"),
    408: (4, "REQUEST_TIMEOUT"),
    413: (3, "REQUEST_TOO_LARGE"),
    429: (8, "RATE_LIMITED"),
    431: (3, "HEADERS_TOO_LARGE"),
    501: (12, "NOT_IMPLEMENTED"),
    502: (14, "BAD_GATEWAY"),
    503: (14, "SERVICE_UNAVAILABLE"),
    504: (4, "UPSTREAM_TIMEOUT"),
}


@dataclass(frozen=True)
class Binding:
    verb: str  # GET, POST, ...
    template: str  # /api/v1/users/{id}


@dataclass(frozen=True)
class Rpc:
    service: str  # topology name: "user"
    grpc_path: str  # /chirp.user.v1.UserService/Signup
    access: int
    bindings: tuple[Binding, ...]
    server_streaming: bool

    @property
    def public(self) -> bool:
        return bool(self.bindings) and self.access != annotations_pb2.ACCESS_INTERNAL


def _bindings(method: MethodDescriptor) -> tuple[Binding, ...]:
    options = method.GetOptions()
    if not options.HasExtension(http_annotations.http):
        return ()
    rules = [options.Extensions[http_annotations.http]]
    rules += list(rules[0].additional_bindings)
    found = []
    for rule in rules:
        kind = rule.WhichOneof("pattern")
        if kind and kind != "custom":
            found.append(Binding(kind.upper(), getattr(rule, kind)))
    return tuple(found)


def contract_rpcs() -> list[Rpc]:
    """Every RPC of every service in the topology, as the generated descriptors declare it."""
    rpcs = []
    for info in SERVICES:
        package, service_name = info.proto_service.rsplit(".", 1)
        module = importlib.import_module(f"{package}.{info.name}_service_pb2")
        service = module.DESCRIPTOR.services_by_name[service_name]
        for method in service.methods:
            access = method.GetOptions().Extensions[annotations_pb2.access] or annotations_pb2.ACCESS_USER
            rpcs.append(Rpc(
                service=info.name,
                grpc_path=f"/{service.full_name}/{method.name}",
                access=access,
                bindings=_bindings(method),
                server_streaming=method.server_streaming,
            ))
    return rpcs


def template_regex(template: str) -> str:
    """A RE2 regex matching the request paths a google.api.http template matches."""
    path, _, verb = template.partition(":") if ":" in template.rsplit("/", 1)[-1] else (template, "", "")
    parts = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{"):
            parts.append(".+" if segment.endswith("=**}") else "[^/]+")
        elif segment == "**":
            parts.append(".+")
        elif segment == "*":
            parts.append("[^/]+")
        else:
            parts.append(re.escape(segment))
    regex = "/" + "/".join(parts)
    if verb:
        regex += re.escape(":" + verb)
    return f"^{regex}/?$"


def _requirement(access: int) -> dict[str, Any] | None:
    if access == annotations_pb2.ACCESS_PUBLIC:
        return None
    if access == annotations_pb2.ACCESS_OPTIONAL_USER:
        return {"requires_any": {"requirements": [{"provider_name": PROVIDER}, {"allow_missing": {}}]}}
    return {"provider_name": PROVIDER}


def _rule(match: dict[str, Any], access: int) -> dict[str, Any]:
    rule: dict[str, Any] = {"match": match}
    requirement = _requirement(access)
    if requirement is not None:
        rule["requires"] = requirement
    return rule


def jwt_rules(rpcs: list[Rpc]) -> list[dict[str, Any]]:
    rules = []
    for rpc in rpcs:
        if not rpc.public:
            continue
        rules.append(_rule({"path": rpc.grpc_path}, rpc.access))
        for binding in rpc.bindings:
            rules.append(_rule(
                {
                    "safe_regex": {"regex": template_regex(binding.template)},
                    "headers": [{"name": ":method", "string_match": {"exact": binding.verb}}],
                },
                rpc.access,
            ))
    # Any other path is no RPC: it goes on to the transcoder, which answers 404, rather than
    # "Jwt is missing". A token sent with it is still verified. Every routed RPC has its own
    # rule above (paths are normalised before matching), and the services verify tokens again.
    rules.append({"match": {"prefix": "/"}, "requires": _requirement(annotations_pb2.ACCESS_OPTIONAL_USER)})
    return rules


def routes(rpcs: list[Rpc]) -> list[dict[str, Any]]:
    table = []
    for rpc in rpcs:
        if not rpc.public:
            continue
        route: dict[str, Any] = {
            "cluster": rpc.service,
            # Streams stay open as long as the client wants; unary calls get a deadline.
            "timeout": "0s" if rpc.server_streaming else "30s",
            "retry_policy": {"retry_on": "connect-failure,refused-stream", "num_retries": 2},
        }
        table.append({"match": {"path": rpc.grpc_path}, "route": route})
    # JSON paths need a route with an upstream for the CORS filter to answer their preflights
    # (it skips direct responses). Nothing else reaches it: the transcoder rewrites known JSON
    # paths to gRPC paths above and rejects unknown ones with 404 before routing.
    for prefix in sorted({"/" + b.template.strip("/").split("/")[0] + "/" for rpc in rpcs for b in rpc.bindings}):
        table.append({"match": {"prefix": prefix}, "route": {"cluster": "user", "timeout": "5s"}})
    table.append({
        "match": {"prefix": "/"},
        "direct_response": {"status": 404, "body": {"inline_string": "No such route."}},
    })
    return table


def clusters(service_ports: dict[str, int], edge_port: int) -> list[dict[str, Any]]:
    def static(name: str, port: int, *, http2: bool) -> dict[str, Any]:
        cluster: dict[str, Any] = {
            "name": name,
            "type": "STATIC",
            "connect_timeout": "1s",
            "load_assignment": {
                "cluster_name": name,
                "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                    "socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}],
            },
        }
        if http2:
            cluster["typed_extension_protocol_options"] = {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": {"http2_protocol_options": {}},
                }
            }
        return cluster

    result = [static(info.name, service_ports[info.name], http2=True) for info in SERVICES]
    result.append(static("edge_self", edge_port, http2=False))
    return result


def local_reply_config() -> dict[str, Any]:
    """JSON bodies for Envoy's own replies to JSON clients; gRPC clients keep plain grpc-status."""
    # A JSON client is one that did not send gRPC, or whose request the transcoder rewrote into
    # gRPC (it sets x-envoy-original-path, and rejects bad bodies only after the rewrite).
    not_grpc = {"or_filter": {"filters": [
        {"header_filter": {"header": {
            "name": "content-type", "string_match": {"prefix": "application/grpc"}, "invert_match": True,
            "treat_missing_header_as_empty": True}}},
        {"header_filter": {"header": {"name": "x-envoy-original-path", "present_match": True}}},
    ]}}

    def body(code: int, reason: str) -> dict[str, Any]:
        return {
            "json_format": {
                "code": code,
                "message": "%LOCAL_REPLY_BODY%",
                "details": [{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": ERROR_DOMAIN,
                    "metadata": {"envoyDetails": "%RESPONSE_CODE_DETAILS%"},
                }],
            },
            "content_type": "application/json",
        }

    def status_is(op: str, value: int) -> dict[str, Any]:
        return {"status_code_filter": {"comparison": {"op": op, "value": {"default_value": value, "runtime_key": "_"}}}}

    mappers = [
        {"filter": {"and_filter": {"filters": [status_is("EQ", status), not_grpc]}},
         "body_format_override": body(code, reason)}
        for status, (code, reason) in LOCAL_REPLY_CODES.items()
    ]
    mappers.append({
        "filter": {"and_filter": {"filters": [status_is("GE", 400), not_grpc]}},
        "body_format_override": body(2, "EDGE_ERROR"),
    })
    return {"mappers": mappers}


def render(
    *,
    edge_port: int,
    admin_port: int,
    service_ports: dict[str, int],
    descriptor_path: Path = DESCRIPTOR,
    edge_host: str = "127.0.0.1",
    cors_origin_regex: str = ".*",
    jwt_issuer: str = "chirp",
    jwt_audience: str = "chirp",
) -> str:
    rpcs = contract_rpcs()
    transcoded = sorted({rpc.grpc_path.split("/")[1] for rpc in rpcs if rpc.public})
    values = {
        "edge_host": edge_host,
        "edge_port": edge_port,
        "admin_port": admin_port,
        "descriptor_path": str(descriptor_path),
        "cors_origin_regex": cors_origin_regex,
        "jwt_issuer": jwt_issuer,
        "jwt_audience": jwt_audience,
        # YAML is a superset of JSON: the generated blocks go in as one-line JSON.
        "routes": json.dumps(routes(rpcs)),
        "jwt_rules": json.dumps(jwt_rules(rpcs)),
        "transcoded_services": json.dumps(transcoded),
        "clusters": json.dumps(clusters(service_ports, edge_port)),
        "local_reply_config": json.dumps(local_reply_config()),
    }
    return string.Template(TEMPLATE.read_text()).substitute(values)


def main() -> None:
    parser = argparse.ArgumentParser(description="Render Chirp's Envoy config from the contracts.")
    parser.add_argument("--edge-port", type=int, default=8080)
    parser.add_argument("--admin-port", type=int, default=9901)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    ports = {info.name: info.default_port for info in SERVICES}
    args.out.write_text(render(edge_port=args.edge_port, admin_port=args.admin_port, service_ports=ports))


if __name__ == "__main__":
    main()
