"""Conventions of DESIGN.md section 4 that every file under protos/chirp/ must follow.

Each test collects every offender before failing, so one run shows everything to fix.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from google.protobuf import descriptor_pb2

from services.runtime.topology import SERVICES

from ._contracts import (
    ACCESS,
    HTTP,
    Access,
    all_enums,
    all_messages,
    chirp_files,
    elements,
    http_bindings,
    messages_by_name,
    normalize_template,
    path_variables,
)

FieldType = descriptor_pb2.FieldDescriptorProto
JWKS = ("GET", "/.well-known/jwks.json")


def _fail_if(offenders: list[str], what: str) -> None:
    assert not offenders, f"{len(offenders)} {what}:\n  " + "\n  ".join(offenders)


def _domain(file: descriptor_pb2.FileDescriptorProto) -> str:
    return file.package.split(".")[1]


def _camel(domain: str) -> str:
    return "".join(part.capitalize() for part in domain.split("_"))


def _upper_snake(name: str) -> str:
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()


def _methods():
    """(file, service, method) for every RPC declared in a chirp file."""
    for file in chirp_files():
        for service in file.service:
            for method in service.method:
                yield file, service, method


def _rpc_name(file, service, method) -> str:
    return f"{file.package}.{service.name}.{method.name}"


def test_the_contracts_compile_into_chirp_files():
    domains = {_domain(f) for f in chirp_files()}
    assert {info.name for info in SERVICES} | {"api"} <= domains, f"domains with protos: {sorted(domains)}"


def test_every_element_has_a_leading_comment():
    offenders = []
    for file in chirp_files():
        comments = {
            tuple(location.path): location.leading_comments.strip()
            for location in file.source_code_info.location
        }
        assert comments, f"{file.name}: no SourceCodeInfo; was the set built with source_info=True?"
        for element in elements(file):
            if not comments.get(element.path):
                offenders.append(f"{element.file}: {element.kind} {element.name}")
    _fail_if(offenders, "elements without a leading comment")


def test_package_matches_directory_and_file_names_follow_the_layout():
    offenders = []
    for file in chirp_files():
        path = PurePosixPath(file.name)
        directory = ".".join(path.parent.parts)
        if file.package != directory:
            offenders.append(f"{file.name}: package {file.package} is not the directory {directory}")
        parts = path.parts
        if len(parts) != 4 or parts[0] != "chirp" or parts[2] != "v1":
            offenders.append(f"{file.name}: not at chirp/<domain>/v1/<file>.proto")
            continue
        domain = parts[1]
        allowed = {"annotations.proto"} if domain == "api" else {
            f"{domain}.proto", f"{domain}_service.proto", "events.proto"}
        if path.name not in allowed:
            offenders.append(f"{file.name}: file name not one of {sorted(allowed)}")
    _fail_if(offenders, "files out of layout")


def test_services_are_named_after_their_domain_and_match_the_topology():
    offenders = []
    declared = set()
    for file in chirp_files():
        domain = _domain(file)
        for service in file.service:
            declared.add(f"{file.package}.{service.name}")
            expected = f"{_camel(domain)}Service"
            if service.name != expected:
                offenders.append(f"{file.name}: service {service.name} should be named {expected}")
            if PurePosixPath(file.name).name != f"{domain}_service.proto":
                offenders.append(f"{file.name}: service {service.name} belongs in {domain}_service.proto")
    for info in SERVICES:
        if info.proto_service not in declared:
            offenders.append(f"topology names {info.proto_service}, which no proto declares")
    for name in sorted(declared - {info.proto_service for info in SERVICES}):
        offenders.append(f"{name} is declared but not in services/runtime/topology.py")
    _fail_if(offenders, "service naming problems")


def test_every_rpc_takes_its_own_request_message_from_its_package():
    offenders = []
    for file, service, method in _methods():
        expected = f".{file.package}.{method.name}Request"
        if method.input_type != expected:
            offenders.append(f"{_rpc_name(file, service, method)} takes {method.input_type}, expected {expected}")
        elif expected not in messages_by_name():
            offenders.append(f"{_rpc_name(file, service, method)}: {expected} is not declared")
    _fail_if(offenders, "RPCs with a misnamed request")


def test_every_rpc_declares_access_and_internal_means_no_http_rule():
    offenders = []
    for file, service, method in _methods():
        name = _rpc_name(file, service, method)
        options = method.options
        if not options.HasExtension(ACCESS):
            offenders.append(f"{name}: no (chirp.api.v1.access) option")
            continue
        access = options.Extensions[ACCESS]
        if access == Access.ACCESS_UNSPECIFIED:
            offenders.append(f"{name}: access is ACCESS_UNSPECIFIED; say who may call it")
        internal = access == Access.ACCESS_INTERNAL
        has_http = options.HasExtension(HTTP)
        if internal and has_http:
            offenders.append(f"{name}: ACCESS_INTERNAL but has a google.api.http rule")
        if not internal and not has_http:
            offenders.append(f"{name}: {Access.Name(access)} but has no google.api.http rule (make it ACCESS_INTERNAL?)")
    _fail_if(offenders, "RPCs whose access and HTTP rule disagree")


def _resolve_field_path(message_name: str, field_path: str) -> str | None:
    """None when field_path (dotted) names a field of the message; otherwise why not."""
    messages = messages_by_name()
    message = messages.get(message_name)
    if message is None:
        return f"request type {message_name.lstrip('.')} is not declared"
    for depth, part in enumerate(field_path.split(".")):
        if message is None:
            return f"{'.'.join(field_path.split('.')[:depth])} is not a message"
        field = next((f for f in message.field if f.name == part), None)
        if field is None:
            return f"{message_name.lstrip('.')} has no field {part!r}"
        message = messages.get(field.type_name) if field.type == FieldType.TYPE_MESSAGE else None
    return None


def test_http_variables_and_bodies_name_request_fields():
    offenders = []
    for file, service, method in _methods():
        for binding in http_bindings(method.options):
            where = f"{_rpc_name(file, service, method)} {binding.verb} {binding.template}"
            for variable in path_variables(binding.template):
                problem = _resolve_field_path(method.input_type, variable)
                if problem:
                    offenders.append(f"{where}: {{{variable}}}: {problem}")
            if binding.body not in ("", "*"):
                problem = _resolve_field_path(method.input_type, binding.body)
                if problem:
                    offenders.append(f"{where}: body {binding.body!r}: {problem}")
    _fail_if(offenders, "HTTP rules naming missing fields")


def test_public_paths_are_under_api_v1():
    offenders = []
    for file, service, method in _methods():
        for binding in http_bindings(method.options):
            if (binding.verb, binding.template) == JWKS:
                continue
            if not binding.template.startswith("/api/v1/"):
                offenders.append(f"{_rpc_name(file, service, method)}: {binding.verb} {binding.template}")
    _fail_if(offenders, "public paths outside /api/v1/ (only the JWKS may be elsewhere)")


def test_no_two_bindings_share_a_verb_and_an_equivalent_template():
    seen: dict[tuple[str, str], list[str]] = {}
    for file, service, method in _methods():
        for binding in http_bindings(method.options):
            key = (binding.verb, normalize_template(binding.template))
            seen.setdefault(key, []).append(f"{_rpc_name(file, service, method)} ({binding.template})")
    offenders = [f"{verb} {template}: {', '.join(rpcs)}" for (verb, template), rpcs in seen.items() if len(rpcs) > 1]
    _fail_if(offenders, "ambiguous HTTP bindings")


def test_enums_start_with_unspecified_zero_and_prefix_every_value():
    offenders = []
    for file in chirp_files():
        for name, enum in all_enums(file):
            prefix = _upper_snake(enum.name)
            first = enum.value[0] if enum.value else None
            if first is None or first.name != f"{prefix}_UNSPECIFIED" or first.number != 0:
                got = f"{first.name} = {first.number}" if first else "no values"
                offenders.append(f"{file.name}: {name}: first value is {got}, expected {prefix}_UNSPECIFIED = 0")
            for value in enum.value:
                if not value.name.startswith(f"{prefix}_"):
                    offenders.append(f"{file.name}: {name}.{value.name} is not prefixed with {prefix}_")
    _fail_if(offenders, "enum convention problems")


def test_every_event_has_an_occurred_at_timestamp():
    offenders = []
    event_files = [f for f in chirp_files() if PurePosixPath(f.name).name == "events.proto"]
    assert event_files, "no events.proto found"
    for file in event_files:
        for name, message in all_messages(file):
            if message.options.map_entry:
                continue
            field = next((f for f in message.field if f.name == "occurred_at"), None)
            if field is None:
                offenders.append(f"{file.name}: {name} has no occurred_at")
            elif field.type_name != ".google.protobuf.Timestamp" or field.label == FieldType.LABEL_REPEATED:
                offenders.append(f"{file.name}: {name}.occurred_at is not a google.protobuf.Timestamp")
    _fail_if(offenders, "events without occurred_at")


# Fields whose names end in _id but that do not hold a Snowflake id (DESIGN section 4 lists the
# Snowflake-identified entities: users, tweets, messages, notifications, and the ids built like them).
NOT_SNOWFLAKE_IDS = {
    # A client-chosen idempotency key (DESIGN section 4, "Retries are safe").
    "request_id",
    # The opaque session id carried as the `sid` claim of an access token.
    "session_id",
}


def _is_id_name(name: str) -> bool:
    return name == "id" or name.endswith("_id") or name.endswith("_ids")


def test_ids_are_int64():
    offenders = []
    messages = messages_by_name()
    for file in chirp_files():
        for name, message in all_messages(file):
            if message.options.map_entry:
                continue
            for field in message.field:
                if not _is_id_name(field.name) or field.name in NOT_SNOWFLAKE_IDS:
                    continue
                field_type = field.type
                entry = messages.get(field.type_name) if field.type == FieldType.TYPE_MESSAGE else None
                if entry is not None and entry.options.map_entry:
                    field_type = entry.field[1].type  # map<K, id>: the ids are the values
                if field_type != FieldType.TYPE_INT64:
                    type_name = FieldType.Type.Name(field_type).removeprefix("TYPE_").lower()
                    offenders.append(f"{file.name}: {name}.{field.name} is {type_name}, not int64")
    _fail_if(offenders, "id fields that are not int64 Snowflakes")
