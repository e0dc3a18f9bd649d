"""OTLP protobuf messages -> OTLP/JSON (hex ids, lowerCamelCase keys, int64 as strings,
enums as integers), serialised by orjson. Only fields that are set are written, as the proto3
JSON mapping allows."""

from __future__ import annotations

import base64
import math
import operator
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from routewatch.collector.otlpjson.schema import FLOAT_TYPES, INT64_TYPES, is_id

Convert = Callable[[Any], Any]


def encode(message: Message) -> bytes:
    """The OTLP/JSON form of `message`, as UTF-8 bytes without a trailing newline."""
    return orjson.dumps(to_dict(message))


def to_dict(message: Message) -> dict[str, Any]:
    """The OTLP/JSON form of `message` as plain dicts and lists (before serialising)."""
    result: dict[str, Any] = _encoder(message.DESCRIPTOR)(message)
    return result


_encoders: dict[str, Convert] = {}


def _encoder(descriptor: Descriptor) -> Convert:
    cached = _encoders.get(descriptor.full_name)
    if cached is not None:
        return cached
    table: dict[str, tuple[str, Convert | None]] = {}

    def encode_message(message: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field, value in message.ListFields():
            key, conv = table[field.name]
            out[key] = value if conv is None else conv(value)
        return out

    fast = _FAST_PATHS.get(descriptor.full_name)
    result = encode_message if fast is None else fast(descriptor, encode_message)
    _encoders[descriptor.full_name] = result
    for field in descriptor.fields:
        table[field.name] = (field.json_name, _field_encoder(field))
    return result


def _key_value_fast_path(descriptor: Descriptor, generic: Convert) -> Convert:
    """Attributes are most of a request: a string, int or bool value skips the generic walk.
    Newer fields of KeyValue (`key_strindex`, ...) send it the generic way."""
    others = [f.name for f in descriptor.fields if f.name not in ("key", "value")]
    # Any of the other fields, read in one C call (0 / empty when none is set).
    has_others = operator.attrgetter(*others) if others else None
    single = len(others) == 1

    def encode_key_value(kv: Any) -> Any:
        if has_others is not None:
            found = has_others(kv)
            if found if single else any(found):
                return generic(kv)
        value = kv.value
        kind = value.WhichOneof("value")
        if kind == "string_value":
            return {"key": kv.key, "value": {"stringValue": value.string_value}}
        if kind == "int_value":
            return {"key": kv.key, "value": {"intValue": str(value.int_value)}}
        if kind == "bool_value":
            return {"key": kv.key, "value": {"boolValue": value.bool_value}}
        return generic(kv)

    return encode_key_value


_FAST_PATHS: dict[str, Callable[[Descriptor, Convert], Convert]] = {
    "opentelemetry.proto.common.v1.KeyValue": _key_value_fast_path,
}


def _field_encoder(field: FieldDescriptor) -> Convert | None:
    single = _single_encoder(field)
    if not field.is_repeated:
        return single
    if single is None:
        return list
    conv = single
    return lambda values: [conv(v) for v in values]


def _single_encoder(field: FieldDescriptor) -> Convert | None:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return _encoder(field.message_type)
    if field.type in INT64_TYPES:
        return str
    if field.type in FLOAT_TYPES:
        return _float
    if is_id(field):
        return bytes.hex
    if field.type == FieldDescriptor.TYPE_BYTES:
        return _base64
    # strings, bools, 32-bit integers and enums (as their numbers) pass through.
    return None


def _float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
