"""Decode a raw mapping into a config dataclass, naming the key path in every error.

Configs are dataclasses whose defaults live in the factory's `create_default_config`. `decode`
starts from that default and overlays what the user wrote, as the Go collector unmarshals into
the default struct: unknown keys are errors, nested dataclasses decode recursively, and a
dataclass may define `validate()` (raising ValueError) which is called after decoding.

Durations use the Go notation (`200ms`, `5s`, `1m30s`, `1h`) and are held as `Duration`, a
float of seconds. A bare number is taken as seconds.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from routewatch.collector.errors import ConfigError

T = TypeVar("T")


class Duration(float):
    """Seconds, written in config as a Go duration string."""

    def __repr__(self) -> str:
        return f"Duration({float(self)!r})"


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def duration_from(value: Any) -> Duration:
    """Parse `5s`, `200ms`, `1m30s` or a number of seconds; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        return Duration(value)
    if not isinstance(value, str):
        raise ValueError(f"invalid duration {value!r}")
    text = value.strip()
    if text == "0":
        return Duration(0.0)
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f'time: invalid duration "{value}"')
    return Duration(total)


def join_path(path: str, key: object) -> str:
    return f"{path}::{key}" if path else str(key)


def decode(cls: type[T], raw: Any, path: str = "", base: T | None = None) -> T:
    """Decode `raw` into `cls`, overlaying `base` (the default config) when given.

    Raises ConfigError whose message starts with the key path, e.g.
    `exporters::otlp::retry_on_failure: has invalid keys: foo`.
    """
    result = _decode_value(cls, raw, path, base)
    return typing.cast(T, result)


def _decode_dataclass(cls: type, raw: Any, path: str, base: Any) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path or 'config'}: expected a mapping, got {_kind(raw)}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(str(k) for k in raw if k not in fields)
    if unknown:
        raise ConfigError(f"{path or 'config'}: has invalid keys: {', '.join(unknown)}")
    if base is None:
        try:
            base = cls()
        except TypeError:
            base = None
    values: dict[str, Any] = {}
    for name, f in fields.items():
        current = getattr(base, name) if base is not None else dataclasses.MISSING
        if name in raw:
            values[name] = _decode_value(
                hints[name],
                raw[name],
                join_path(path, name),
                current if current is not dataclasses.MISSING else None,
            )
        elif current is not dataclasses.MISSING:
            values[name] = current
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{join_path(path, name)}: is required")
    try:
        obj = cls(**values)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{path or 'config'}: {err}") from err
    validate = getattr(obj, "validate", None)
    if callable(validate):
        try:
            validate()
        except ConfigError:
            raise
        except ValueError as err:
            raise ConfigError(f"{path or 'config'}: {err}") from err
    return obj


def _decode_value(tp: Any, raw: Any, path: str, base: Any) -> Any:
    if tp is Any or tp is object:
        return raw
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _decode_dataclass(tp, raw, path, base)
    origin = get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = get_args(tp)
        if raw is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode_value(arg, raw, path, base)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{path}: invalid value {raw!r}")
    if origin is typing.Literal:
        if raw in get_args(tp):
            return raw
        allowed = ", ".join(repr(a) for a in get_args(tp))
        raise ConfigError(f"{path}: invalid value {raw!r}, expected one of {allowed}")
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(raw, list | tuple):
            raise ConfigError(f"{path}: expected a list, got {_kind(raw)}")
        args = get_args(tp)
        item = args[0] if args else Any
        items = [_decode_value(item, v, f"{path}[{i}]", None) for i, v in enumerate(raw)]
        return tuple(items) if origin is tuple or tp is tuple else items
    if origin in (dict, Mapping) or tp is dict:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: expected a mapping, got {_kind(raw)}")
        args = get_args(tp)
        value_tp = args[1] if len(args) == 2 else Any
        return {
            str(k): _decode_value(value_tp, v, join_path(path, k), None) for k, v in raw.items()
        }
    if tp is Duration:
        try:
            return duration_from(raw)
        except ValueError as err:
            raise ConfigError(f"{path}: {err}") from err
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        raise ConfigError(f"{path}: expected a boolean, got {_kind(raw)}")
    if tp is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raise ConfigError(f"{path}: expected an integer, got {_kind(raw)}")
    if tp is float:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        raise ConfigError(f"{path}: expected a number, got {_kind(raw)}")
    if tp is str:
        if isinstance(raw, str):
            return raw
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return str(raw)
        raise ConfigError(f"{path}: expected a string, got {_kind(raw)}")
    if isinstance(tp, type) and not isinstance(raw, tp):
        raise ConfigError(f"{path}: expected {tp.__name__}, got {_kind(raw)}")
    return raw


def _kind(raw: Any) -> str:
    if raw is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(raw), type(raw).__name__
    )
