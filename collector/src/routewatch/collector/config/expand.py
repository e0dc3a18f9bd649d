"""Environment expansion in config values, as the Go collector's `env` provider does it.

`${env:VAR}`, `${VAR}` and `${env:VAR:-default}` are replaced in string values after the YAML
is parsed (so a variable can never inject YAML structure); `$$` is a literal `$`. A value that
is exactly one reference and whose result parses as a YAML int, float or bool takes that type,
so `port: ${env:PORT}` gives an int as in the Go collector.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from routewatch.collector.errors import ConfigError

_REF = re.compile(r"\$\$|\$\{([^}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def expand(value: Any, env: Mapping[str, str], path: str = "") -> Any:
    """Expand every string in `value` (mappings and lists walked recursively)."""
    if isinstance(value, str):
        return _expand_string(value, env, path)
    if isinstance(value, Mapping):
        return {k: expand(v, env, f"{path}::{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, env, path) for v in value]
    return value


def _lookup(ref: str, env: Mapping[str, str], path: str) -> str:
    body = ref
    scheme, sep, rest = body.partition(":")
    if sep and scheme == "env":
        body = rest
    elif sep and scheme != "env" and _NAME.match(scheme) and not rest.startswith("-"):
        raise ConfigError(f"{path or 'config'}: unsupported scheme {scheme!r} in ${{{ref}}}")
    name, has_default, default = body.partition(":-")
    # As the Go env provider: the default applies only when the variable is unset.
    if not _NAME.match(name):
        raise ConfigError(f"{path or 'config'}: invalid environment variable name in ${{{ref}}}")
    if name in env:
        return env[name]
    return default if has_default else ""


def _expand_string(text: str, env: Mapping[str, str], path: str) -> Any:
    if "$" not in text:
        return text
    whole = _REF.fullmatch(text)
    if whole and whole.group(0) != "$$":
        result = _lookup(whole.group(1), env, path)
        return _typed(result)
    return _REF.sub(
        lambda m: "$" if m.group(0) == "$$" else _lookup(m.group(1), env, path),
        text,
    )


def _typed(text: str) -> Any:
    """A whole-value reference keeps a scalar YAML type (int, float, bool), else stays text."""
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(parsed, bool | int | float):
        return parsed
    return text
