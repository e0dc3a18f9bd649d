"""Coexistence with opentelemetry-instrumentation-botocore: one span per Bedrock call.

When both instrumentations are active, routewatch keeps the span and upstream yields the
Bedrock calls routewatch traces, whichever of the two was instrumented first. Upstream asks
each call's extension `should_trace_service_call()` before it starts a span (its documented
hook for skipping calls); routewatch registers, for the traced services, an extension that
answers False for the traced operations and defers to upstream's own extension for every
other operation. The extension table is read on each call, so the order of instrumentation
does not matter, and `restore()` puts upstream's table back as it was.

Why not the issue's two other options:
- Enriching upstream's span would depend on the order: when upstream's wrapper is the outer
  one its span is started before routewatch runs, so the model span could not be the child
  of the routing attempt; and upstream would still record its own duration and token metrics
  (tokens without the cached input, `gen_ai.system` instead of `gen_ai.provider.name`).
- Yielding to upstream would lose what routewatch adds: async clients, time to first chunk,
  cost, cached input tokens, the routing attempt.
Neither has a way to stop upstream counting the metrics a second time; this one does, since
upstream's metrics are recorded by the same extension that now declines the call.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Collection, Mapping
from functools import cache
from typing import Any

_logger = logging.getLogger("routewatch.instrumentation")
_UPSTREAM = "opentelemetry.instrumentation.botocore.extensions"
_REGISTRIES = ("_BOTOCORE_EXTENSIONS", "_AIOBOTOCORE_EXTENSIONS")
_MISSING = object()


def _nothing() -> None:
    return None


def yield_upstream(traced: Mapping[str, Collection[str]]) -> Callable[[], None]:
    """Make upstream skip the operations in `traced` (service -> operation names); returns
    the function that undoes it. Does nothing when upstream is not installed."""
    try:
        extensions = importlib.import_module(_UPSTREAM)
        base: type = importlib.import_module(f"{_UPSTREAM}.types")._AwsSdkExtension
    except ImportError:
        return _nothing
    except Exception:  # upstream installed but broken: nothing to yield
        _logger.debug("routewatch: cannot load %s", _UPSTREAM, exc_info=True)
        return _nothing

    saved: list[tuple[dict[str, Any], str, Any]] = []
    for name in _REGISTRIES:
        registry = getattr(extensions, name, None)
        if not isinstance(registry, dict):
            _logger.info(
                "routewatch: %s.%s not found; if opentelemetry-instrumentation-botocore also "
                "traces Bedrock, calls may get two spans",
                _UPSTREAM,
                name,
            )
            continue
        for service, operations in traced.items():
            previous = registry.get(service, _MISSING)
            saved.append((registry, service, previous))
            registry[service] = _yielding_loader(previous, base, frozenset(operations))

    def restore() -> None:
        for registry, service, previous in reversed(saved):
            if previous is _MISSING:
                registry.pop(service, None)
            else:
                registry[service] = previous

    return restore


def _yielding_loader(previous: Any, base: type, operations: frozenset[str]) -> Callable[[], type]:
    def loader() -> type:
        extension = previous() if callable(previous) else None
        return _yielding_extension(extension or base, operations)

    return loader


@cache
def _yielding_extension(extension: Any, operations: frozenset[str]) -> type:
    def should_trace_service_call(self: Any) -> bool:
        operation = getattr(getattr(self, "_call_context", None), "operation", None)
        if operation in operations:
            return False
        return bool(extension.should_trace_service_call(self))

    return type(
        f"RoutewatchTraced{extension.__name__}",
        (extension,),
        {"should_trace_service_call": should_trace_service_call},
    )
