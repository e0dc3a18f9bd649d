"""Where a router's operation name comes from: an argument, a path into one, or the name."""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from routewatch.instrumentation.semconv import OTHER_VALUE
from routewatch.instrumentation.utils import warn_once

_MISSING = object()


class OperationSourceError(ValueError):
    """The declared path names no parameter of the function."""


def underlying_function(target: Any) -> Any:
    """The plain function behind a classmethod/staticmethod, else the target itself."""
    if isinstance(target, classmethod | staticmethod):
        return target.__func__
    return target


class OperationSource:
    """Reads the operation name of one call.

    `path` is `argument[.attribute_or_key...]`; each step after the argument reads a mapping
    key when the value is a mapping and an attribute otherwise. Without a path the operation
    is the function's own name. Built once per declared router, so each call only indexes.
    """

    def __init__(
        self, function: Callable[..., Any], path: Sequence[str] | None, label: str
    ) -> None:
        self._label = label
        self._constant: str | None = None
        self._steps: tuple[str, ...] = ()
        self._index: int | None = None
        self._default: Any = _MISSING
        if not path:
            self._constant = getattr(function, "__name__", None) or OTHER_VALUE
            return
        self._name, *rest = path
        self._steps = tuple(rest)
        parameters = list(inspect.signature(function).parameters.values())
        for index, parameter in enumerate(parameters):
            if parameter.name != self._name:
                continue
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                self._index = index
            if parameter.default is not parameter.empty:
                self._default = parameter.default
            return
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            raise OperationSourceError(
                f"{getattr(function, '__qualname__', function)!s} has no parameter {self._name!r}"
            )

    def __call__(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """The operation of a call as wrapt sees it: `instance` is the bound self or class."""
        if self._constant is not None:
            return self._constant
        value = self._root(instance, args, kwargs)
        for step in self._steps:
            if value is _MISSING or value is None:
                break
            if isinstance(value, Mapping):
                value = value.get(step, _MISSING)
            else:
                value = getattr(value, step, _MISSING)
        name = _as_name(value)
        if name is None:
            warn_once(
                f"operation:{self._label}",
                "routewatch: %s: no operation name at %s in a call; recorded as %s",
                self._label,
                ".".join((self._name, *self._steps)),
                OTHER_VALUE,
            )
            return OTHER_VALUE
        return name

    def _root(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        value = kwargs.get(self._name, _MISSING)
        if value is not _MISSING or self._index is None:
            return self._default if value is _MISSING else value
        # wrapt strips the bound self/cls from args and hands it over as `instance`.
        index = self._index - 1 if instance is not None else self._index
        if index < 0:
            return instance
        return args[index] if index < len(args) else self._default


def _as_name(value: Any) -> str | None:
    if type(value) is str:  # the common case, without the checks below
        return value or None
    if value is _MISSING or value is None:
        return None
    if isinstance(value, enum.Enum):
        value = value.value if isinstance(value.value, str) else value.name
    text = value if isinstance(value, str) else str(value)
    return text or None
