"""Patch the routers and caches declared in the environment, whenever their module is imported."""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
from dataclasses import dataclass
from enum import Enum
from types import ModuleType
from typing import Any

import wrapt
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from routewatch.instrumentation.routing import telemetry
from routewatch.instrumentation.routing.operation import (
    OperationSource,
    OperationSourceError,
    underlying_function,
)
from routewatch.instrumentation.routing.spec import Target, parse_targets
from routewatch.instrumentation.routing.wrappers import (
    RoutewatchWrapper,
    Wrapper,
    cache_wrapper,
    is_async,
    router_wrapper,
)
from routewatch.instrumentation.semconv import (
    OTEL_PYTHON_ROUTEWATCH_CACHES,
    OTEL_PYTHON_ROUTEWATCH_ROUTERS,
)
from routewatch.instrumentation.utils import safe_invoke, warn_once

_logger = logging.getLogger("routewatch.instrumentation")
_MISSING = object()


class Kind(Enum):
    ROUTER = "router"
    CACHE = "cache"


@dataclass
class _Patch:
    owner: Any
    name: str
    original: Any
    owned: bool  # the attribute was in owner.__dict__ (not inherited) before patching
    wrapper: RoutewatchWrapper


class _Installation:
    """One `instrument()`'s patches; `active` is False once uninstrumented, so an import hook
    that fires later, or a wrapper someone else wrapped over, does nothing."""

    def __init__(self) -> None:
        self.active = True
        self.patches: list[_Patch] = []

    def declare(self, target: Target, kind: Kind) -> None:
        def on_import(module: ModuleType) -> None:
            safe_invoke(self._patch, module, target, kind)

        wrapt.register_post_import_hook(on_import, target.module)
        parent = target.module.rpartition(".")[0]
        if parent:
            # Once the parent package is imported, a missing submodule can be told apart from
            # one that is simply not imported yet, without importing anything ourselves.
            wrapt.register_post_import_hook(
                lambda _: safe_invoke(self._check_exists, target, kind), parent
            )

    def _check_exists(self, target: Target, kind: Kind) -> None:
        if self.active and importlib.util.find_spec(target.module) is None:
            _warn(target, kind, f"module {target.module!r} not found")

    def _patch(self, module: ModuleType, target: Target, kind: Kind) -> None:
        if not self.active:
            return
        owner: Any = module
        *parents, name = target.qualname.split(".")
        for part in parents:
            owner = getattr(owner, part, _MISSING)
            if owner is _MISSING:
                _warn(target, kind, f"{target.module} has no attribute {target.qualname!r}")
                return
        owned = inspect.isclass(owner) and name in vars(owner)
        if inspect.isclass(owner):
            original = vars(owner)[name] if owned else _static_lookup(owner, name)
        else:
            original = getattr(owner, name, _MISSING)
        if original is _MISSING or not callable(underlying_function(original)):
            _warn(target, kind, f"{target.module} has no callable {target.qualname!r}")
            return
        if isinstance(original, RoutewatchWrapper):
            return  # already a router or cache: declared twice, or decorated with the API
        wrapper = _wrapper_for(target, kind, underlying_function(original), self)
        if wrapper is None:
            return
        function_wrapper = RoutewatchWrapper(original, wrapper)
        setattr(owner, name, function_wrapper)
        self.patches.append(_Patch(owner, name, original, owned, function_wrapper))
        _logger.debug("routewatch: %s %s patched", kind.value, target.entry)

    def restore(self) -> None:
        self.active = False
        for patch in reversed(self.patches):
            current = (
                vars(patch.owner).get(patch.name)
                if inspect.isclass(patch.owner)
                else getattr(patch.owner, patch.name, None)
            )
            if current is not patch.wrapper:
                continue  # wrapped over by someone else: left in place, now a pass-through
            if patch.owned or not inspect.isclass(patch.owner):
                setattr(patch.owner, patch.name, patch.original)
            else:
                delattr(patch.owner, patch.name)
        self.patches.clear()


def _static_lookup(owner: type, name: str) -> Any:
    try:
        return inspect.getattr_static(owner, name)
    except AttributeError:
        return _MISSING


def _wrapper_for(
    target: Target, kind: Kind, function: Any, installation: _Installation
) -> Wrapper | None:
    if inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function):
        _warn(target, kind, "generator functions are not supported")
        return None
    asynchronous = is_async(function)
    if kind is Kind.CACHE:
        return cache_wrapper(asynchronous, installation)
    try:
        source = OperationSource(function, target.operation_path, target.entry)
    except (OperationSourceError, TypeError, ValueError) as err:
        _warn(target, kind, str(err))
        return None
    return router_wrapper(source, asynchronous, installation)


def _warn(target: Target, kind: Kind, reason: str) -> None:
    warn_once(
        f"{kind.value}:{target.entry}",
        "routewatch: %s %r not instrumented: %s",
        kind.value,
        target.entry,
        reason,
    )


class RoutingPatcher:
    """Routers from OTEL_PYTHON_ROUTEWATCH_ROUTERS and caches from OTEL_PYTHON_ROUTEWATCH_CACHES."""

    def __init__(self) -> None:
        self._installation: _Installation | None = None

    def instrument(
        self,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        **kwargs: Any,
    ) -> None:
        telemetry.configure(tracer_provider, meter_provider)
        installation = self._installation = _Installation()
        for variable, kind in (
            (OTEL_PYTHON_ROUTEWATCH_ROUTERS, Kind.ROUTER),
            (OTEL_PYTHON_ROUTEWATCH_CACHES, Kind.CACHE),
        ):
            targets, errors = parse_targets(os.environ.get(variable, ""))
            for error in errors:
                warn_once(f"{variable}:{error}", "routewatch: %s: %s", variable, error)
            for target in targets:
                installation.declare(target, kind)

    def uninstrument(self) -> None:
        if self._installation is not None:
            self._installation.restore()
            self._installation = None
        telemetry.reset()
