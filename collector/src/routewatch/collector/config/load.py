"""Read one or more YAML config files into one mapping: maps merge, lists replace, later wins."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from routewatch.collector.config.expand import expand
from routewatch.collector.errors import ConfigError


def read_file(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read config file {str(path)!r}: {err.strerror}") from err
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str = "config") -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: invalid YAML: {err}") from err
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping")
    return raw


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key; lists and scalars from `override` replace."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load(paths: Iterable[str | Path], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read, merge in order, then expand environment references."""
    merged: dict[str, Any] = {}
    for path in paths:
        merged = merge(merged, read_file(path))
    return expand(merged, os.environ if env is None else env)
