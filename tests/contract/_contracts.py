"""Shared helpers for the contract tests: the compiled contracts and their HTTP bindings.

Everything here reads the protos as protoc compiles them right now (not gen/), except
`public_rpcs()`, which reads the generated modules exactly as the Envoy config does.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterator

from google.api import annotations_pb2 as http_annotations  # registers google.api.http
from google.protobuf import descriptor_pb2

from chirp.api.v1 import annotations_pb2 as access_annotations  # registers chirp.api.v1.access
from tools.protogen import descriptor_set_bytes

Access = access_annotations.Access
ACCESS = access_annotations.access
HTTP = http_annotations.http

# Field numbers used in SourceCodeInfo paths (google/protobuf/descriptor.proto).
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE = 4, 5, 6
MESSAGE_FIELD, MESSAGE_NESTED, MESSAGE_ENUM, MESSAGE_ONEOF = 2, 3, 4, 8
ENUM_VALUE = 2
SERVICE_METHOD = 2


@functools.cache
def descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    """Every proto under protos/ plus its imports, compiled with source info (comments)."""
    # The option extensions are registered by the imports above, so they parse as extensions.
    return descriptor_pb2.FileDescriptorSet.FromString(descriptor_set_bytes(source_info=True))


def chirp_files() -> list[descriptor_pb2.FileDescriptorProto]:
    return [f for f in descriptor_set().file if f.package.startswith("chirp.")]


@functools.cache
def messages_by_name() -> dict[str, descriptor_pb2.DescriptorProto]:
    """Every message of the set (imports too), keyed by its fully qualified name with a leading dot."""
    found: dict[str, descriptor_pb2.DescriptorProto] = {}

    def add(prefix: str, messages) -> None:
        for message in messages:
            name = f"{prefix}.{message.name}"
            found[name] = message
            add(name, message.nested_type)

    for file in descriptor_set().file:
        add(f".{file.package}" if file.package else "", file.message_type)
    return found


@dataclass(frozen=True)
class Element:
    """A named element of a chirp file, with its SourceCodeInfo path."""

    file: str
    kind: str  # service, method, message, field, oneof, enum, enum value
    name: str  # qualified within the file, e.g. SignupRequest.email
    path: tuple[int, ...]


def elements(file: descriptor_pb2.FileDescriptorProto) -> Iterator[Element]:
    """Every element that must be documented. Map entries and proto3 `optional` oneofs are skipped:
    protoc synthesizes them, so no source location can carry a comment for them."""

    def enum(e: descriptor_pb2.EnumDescriptorProto, name: str, path: tuple[int, ...]):
        yield Element(file.name, "enum", name, path)
        for i, value in enumerate(e.value):
            yield Element(file.name, "enum value", f"{name}.{value.name}", (*path, ENUM_VALUE, i))

    def message(m: descriptor_pb2.DescriptorProto, name: str, path: tuple[int, ...]):
        if m.options.map_entry:
            return
        yield Element(file.name, "message", name, path)
        for i, field in enumerate(m.field):
            yield Element(file.name, "field", f"{name}.{field.name}", (*path, MESSAGE_FIELD, i))
        for i, oneof in enumerate(m.oneof_decl):
            members = [f for f in m.field if f.HasField("oneof_index") and f.oneof_index == i]
            if not all(f.proto3_optional for f in members):
                yield Element(file.name, "oneof", f"{name}.{oneof.name}", (*path, MESSAGE_ONEOF, i))
        for i, nested in enumerate(m.nested_type):
            yield from message(nested, f"{name}.{nested.name}", (*path, MESSAGE_NESTED, i))
        for i, nested_enum in enumerate(m.enum_type):
            yield from enum(nested_enum, f"{name}.{nested_enum.name}", (*path, MESSAGE_ENUM, i))

    for i, service in enumerate(file.service):
        yield Element(file.name, "service", service.name, (FILE_SERVICE, i))
        for j, method in enumerate(service.method):
            yield Element(file.name, "method", f"{service.name}.{method.name}", (FILE_SERVICE, i, SERVICE_METHOD, j))
    for i, m in enumerate(file.message_type):
        yield from message(m, m.name, (FILE_MESSAGE, i))
    for i, e in enumerate(file.enum_type):
        yield from enum(e, e.name, (FILE_ENUM, i))


def all_messages(file: descriptor_pb2.FileDescriptorProto) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
    """(qualified name within the file, message) for every message and nested message."""

    def walk(prefix: str, messages):
        for m in messages:
            name = f"{prefix}{m.name}"
            yield name, m
            yield from walk(f"{name}.", m.nested_type)

    yield from walk("", file.message_type)


def all_enums(file: descriptor_pb2.FileDescriptorProto) -> Iterator[tuple[str, descriptor_pb2.EnumDescriptorProto]]:
    for e in file.enum_type:
        yield e.name, e
    for name, m in all_messages(file):
        for e in m.enum_type:
            yield f"{name}.{e.name}", e


# --- HTTP bindings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpBinding:
    verb: str  # GET, POST, ... (or a custom verb)
    template: str
    body: str


def http_bindings(options: descriptor_pb2.MethodOptions) -> list[HttpBinding]:
    """The google.api.http rule of a method and its additional_bindings, in order."""
    if not options.HasExtension(HTTP):
        return []
    top = options.Extensions[HTTP]
    found = []
    for rule in [top, *top.additional_bindings]:
        kind = rule.WhichOneof("pattern")
        if kind == "custom":
            found.append(HttpBinding(rule.custom.kind.upper(), rule.custom.path, rule.body))
        elif kind:
            found.append(HttpBinding(kind.upper(), getattr(rule, kind), rule.body))
    return found


_VARIABLE = re.compile(r"\{([^}=]+)(?:=([^}]*))?\}")


def path_variables(template: str) -> list[str]:
    """Field paths bound by a template: "/a/{b.c=*}/{d}" -> ["b.c", "d"]."""
    return [m.group(1).strip() for m in _VARIABLE.finditer(template)]


def normalize_template(template: str) -> str:
    """A template with each variable reduced to its segment pattern, so equivalent templates compare
    equal: "/users/{id}" and "/users/{user_id}" both become "/users/*"."""
    return _VARIABLE.sub(lambda m: m.group(2) or "*", template)


def normalize_seed_path(path: str) -> str:
    """A seed table path ("/api/v1/users/:id") in normalized template form ("/api/v1/users/*")."""
    return re.sub(r":[A-Za-z_][A-Za-z0-9_]*", "*", path)
