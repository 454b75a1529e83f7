"""Bad-input generators for fuzz-style edge tests, derived from the request messages themselves."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway.envoy_config import Rpc

HUGE = "x" * 100_000

_WRONG_SCALARS: dict[int, list[Any]] = {
    FieldDescriptor.TYPE_STRING: [{"nested": 1}, [1, 2], 12.5],
    FieldDescriptor.TYPE_INT64: ["abc", {"a": 1}, 1.5, "99999999999999999999999", [1]],
    FieldDescriptor.TYPE_INT32: ["abc", 1.5, 2**40],
    FieldDescriptor.TYPE_BOOL: ["maybe", {"b": True}, [True]],
    FieldDescriptor.TYPE_ENUM: ["NOT_A_VALUE", {"e": 1}],
    FieldDescriptor.TYPE_MESSAGE: [5, "text", [1, 2]],
}

BAD_IDS = ["0", "-5", "123456789", "abc", "9" * 30, "1.5", "%20"]

MALFORMED_BODIES = [b"{bad json", b"[]", b'"a string"', b"\xff\xfe\x00", b"{" * 2_000, b"null"]


def request_descriptor(rpc: Rpc) -> Descriptor:
    package, service_name, method_name = rpc.grpc_path.strip("/").replace("/", ".").rsplit(".", 2)
    module = importlib.import_module(f"{package}.{rpc.service}_service_pb2")
    return module.DESCRIPTOR.services_by_name[service_name].methods_by_name[method_name].input_type


def wrong_type_bodies(descriptor: Descriptor) -> Iterator[dict[str, Any]]:
    """One body per (field, wrong value): each field given a value of the wrong JSON type."""
    for field in descriptor.fields:
        repeated = field.is_repeated and not (
            field.message_type and field.message_type.GetOptions().map_entry)
        values = ["not-a-list", [{"x": 1}]] if repeated else _WRONG_SCALARS.get(field.type, ["?"])
        if field.message_type and field.message_type.full_name == "google.protobuf.FieldMask":
            values = [5, {"paths": 1}]
        for value in values:
            yield {field.json_name: value}


def huge_bodies(descriptor: Descriptor) -> Iterator[dict[str, Any]]:
    """One body per string field holding 100,000 characters."""
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated:
            yield {field.json_name: HUGE}


def sample_path(template: str, value: str) -> str:
    return "/".join(value if part.startswith("{") else part for part in template.split("/"))


_BAD_QUERY_VALUES: dict[int, list[str]] = {
    FieldDescriptor.TYPE_INT32: ["abc", "1.5", "-1", "0", str(2**40), str(2**31 - 1), ""],
    FieldDescriptor.TYPE_INT64: ["abc", "-5", "9" * 30],
    FieldDescriptor.TYPE_STRING: ["garbage", "%00%ff", "eyJzIjoxLCJ1IjoyfQ", "x" * 30_000],
}


def bad_queries(descriptor: Descriptor, template: str) -> Iterator[dict[str, str]]:
    """Query strings for a GET: each parameter with a wrong, extreme or forged value, and unknown ones."""
    yield {}
    yield {"unknown": "1"}
    bound = {part.strip("{}") for part in template.split("/") if part.startswith("{")}
    for field in descriptor.fields:
        if field.name in bound:
            yield {field.json_name: "5"}  # a path field given again in the query
            continue
        for value in _BAD_QUERY_VALUES.get(field.type, ["?"]):
            yield {field.json_name: value}
