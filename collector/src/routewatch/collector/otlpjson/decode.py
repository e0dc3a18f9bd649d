"""OTLP/JSON -> OTLP protobuf messages.

orjson parses the body; one pass over the resulting dicts renames keys to proto field names
and converts the values OTLP/JSON spells differently (hex ids, int64 strings, enum names);
the message is then built in one constructor call, which upb does in C. As lenient as the Go
collector's decoder: lowerCamelCase and snake_case keys, enums as integers or names, 64-bit
integers as strings or numbers, unknown fields and nulls ignored.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from routewatch.collector.otlpjson.schema import (
    FLOAT_TYPES,
    INT32_TYPES,
    INT64_TYPES,
    is_id,
)

M = TypeVar("M", bound=Message)
Convert = Callable[[Any], Any]

_ID_LENGTHS = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}
_FLOAT_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class OtlpJsonError(ValueError):
    """Malformed OTLP/JSON. `str()` names where: `resourceSpans[0].scopeSpans[0]...: reason`."""

    def __init__(self, reason: str, path: list[str] | None = None) -> None:
        self.reason = reason
        self.path = path or []
        super().__init__(reason)

    def __str__(self) -> str:
        if not self.path:
            return self.reason
        where = "".join(p if p.startswith("[") else f".{p}" for p in self.path).lstrip(".")
        return f"{where}: {self.reason}"

    def within(self, step: str) -> OtlpJsonError:
        self.path.insert(0, step)
        return self


def decode(data: bytes | str, message_type: type[M]) -> M:
    """Parse an OTLP/JSON body into `message_type`; OtlpJsonError when malformed."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise OtlpJsonError(f"invalid JSON: {err}") from None
    kwargs = _converter(message_type.DESCRIPTOR)(obj)
    try:
        return message_type(**kwargs)
    except (TypeError, ValueError) as err:
        # Only out-of-range numbers get this far: every type is checked on the way.
        raise OtlpJsonError(f"invalid value: {err}") from None


_converters: dict[str, Convert] = {}


def _converter(descriptor: Descriptor) -> Convert:
    """A function from a JSON object to the constructor kwargs of `descriptor`'s message."""
    cached = _converters.get(descriptor.full_name)
    if cached is not None:
        return cached
    table: dict[str, tuple[str, Convert]] = {}

    def convert(value: Any) -> dict[str, Any]:
        if type(value) is not dict:
            raise OtlpJsonError(f"expected an object, got {_kind(value)}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            entry = table.get(key)
            if entry is None or item is None:
                continue
            name, conv = entry
            try:
                out[name] = conv(item)
            except OtlpJsonError as err:
                raise err.within(key) from None
        return out

    # Registered before the fields are filled so that recursive types (AnyValue ->
    # ArrayValue -> AnyValue) find it.
    fast = _FAST_PATHS.get(descriptor.full_name)
    result = convert if fast is None else fast(convert)
    _converters[descriptor.full_name] = result
    for field in descriptor.fields:
        conv = _field_converter(field)
        table[field.json_name] = (field.name, conv)
        table[field.name] = (field.name, conv)
    return result


def _key_value_fast_path(generic: Convert) -> Convert:
    """Attributes are most of a request: decode `{"key": k, "value": {"stringValue": s}}`
    (and the other scalar AnyValues) without the generic walk; anything else, or anything
    wrong, goes the generic way (which also words the errors)."""

    def convert(value: Any) -> Any:
        if type(value) is dict and len(value) == 2:
            key = value.get("key")
            inner = value.get("value")
            if type(key) is str and type(inner) is dict and len(inner) == 1:
                ((kind, scalar),) = inner.items()
                name = _SCALAR_ANY.get(kind)
                if name is not None and type(scalar) in _SCALAR_TYPES[name]:
                    if name == "int_value" and type(scalar) is str:
                        if not scalar.lstrip("-").isdigit():
                            return generic(value)
                        scalar = int(scalar)
                    return {"key": key, "value": {name: scalar}}
        return generic(value)

    return convert


_SCALAR_ANY = {
    "stringValue": "string_value",
    "string_value": "string_value",
    "intValue": "int_value",
    "int_value": "int_value",
    "boolValue": "bool_value",
    "bool_value": "bool_value",
}
_SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "string_value": (str,),
    "int_value": (int, str),
    "bool_value": (bool,),
}
_FAST_PATHS: dict[str, Callable[[Convert], Convert]] = {
    "opentelemetry.proto.common.v1.KeyValue": _key_value_fast_path,
}


def _field_converter(field: FieldDescriptor) -> Convert:
    single = _single_converter(field)
    if not field.is_repeated:
        return single

    def convert_list(value: Any) -> list[Any]:
        if type(value) is not list:
            raise OtlpJsonError(f"expected an array, got {_kind(value)}")
        out = []
        for i, item in enumerate(value):
            try:
                out.append(single(item))
            except OtlpJsonError as err:
                raise err.within(f"[{i}]") from None
        return out

    return convert_list


def _single_converter(field: FieldDescriptor) -> Convert:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return _converter(field.message_type)
    if field.type == FieldDescriptor.TYPE_STRING:
        return _string
    if field.type == FieldDescriptor.TYPE_BOOL:
        return _bool
    if field.type in INT64_TYPES or field.type in INT32_TYPES:
        return _integer
    if field.type in FLOAT_TYPES:
        return _float
    if field.type == FieldDescriptor.TYPE_ENUM:
        return _enum_converter(field)
    if is_id(field):
        return _id_converter(_ID_LENGTHS.get(field.name, 0))
    if field.type == FieldDescriptor.TYPE_BYTES:
        return _base64
    raise TypeError(f"OTLP/JSON: unsupported field type of {field.full_name}")


def _string(value: Any) -> str:
    if type(value) is str:
        return value
    raise OtlpJsonError(f"expected a string, got {_kind(value)}")


def _bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise OtlpJsonError(f"expected a boolean, got {_kind(value)}")


def _integer(value: Any) -> int:
    kind = type(value)
    if kind is int:
        return value
    if kind is str:
        try:
            return int(value)
        except ValueError:
            raise OtlpJsonError(f"invalid integer {value!r}") from None
    if kind is float and value.is_integer():
        return int(value)
    raise OtlpJsonError(f"expected an integer, got {_kind(value)}")


def _float(value: Any) -> float:
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    if kind is str:
        word = _FLOAT_WORDS.get(value)
        if word is not None:
            return word
        try:
            return float(value)
        except ValueError:
            raise OtlpJsonError(f"invalid number {value!r}") from None
    raise OtlpJsonError(f"expected a number, got {_kind(value)}")


def _enum_converter(field: FieldDescriptor) -> Convert:
    by_name = {v.name: v.number for v in field.enum_type.values}
    enum_name = field.enum_type.name

    def convert(value: Any) -> int:
        kind = type(value)
        if kind is int:
            return int(value)
        if kind is str:
            number = by_name.get(value)
            if number is not None:
                return number
            raise OtlpJsonError(f"unknown {enum_name} value {value!r}")
        raise OtlpJsonError(f"expected an integer or a {enum_name} name, got {_kind(value)}")

    return convert


def _id_converter(length: int) -> Convert:
    def convert(value: Any) -> bytes:
        if type(value) is not str:
            raise OtlpJsonError(f"expected a hex string, got {_kind(value)}")
        if not value:
            return b""
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise OtlpJsonError(f"invalid hex id {value!r}") from None
        if length and len(raw) != length:
            raise OtlpJsonError(f"id {value!r} must be {length * 2} hex digits")
        return raw

    return convert


def _base64(value: Any) -> bytes:
    if type(value) is not str:
        raise OtlpJsonError(f"expected a base64 string, got {_kind(value)}")
    # proto3 JSON accepts standard and URL-safe alphabets, with or without padding.
    text = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise OtlpJsonError("invalid base64") from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)
