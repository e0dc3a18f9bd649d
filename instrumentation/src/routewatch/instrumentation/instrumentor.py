"""The entry point that `opentelemetry-instrument` loads.

`opentelemetry-instrument` skips the whole instrumentor when OTEL_PYTHON_DISABLED_INSTRUMENTATIONS
lists `routewatch` (its entry-point name); OTEL_PYTHON_ROUTEWATCH_DISABLED_PATCHERS lists
patchers (`bedrock`, `mcp`, `routing`) to leave out one by one.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from routewatch.instrumentation import semconv
from routewatch.instrumentation.package import _instruments
from routewatch.instrumentation.patcher import PATCHERS, Patcher

_logger = logging.getLogger("routewatch.instrumentation")


def _load(path: str) -> Patcher:
    module, _, attr = path.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    patcher: Patcher = cls()
    return patcher


def _disabled_patchers() -> set[str]:
    value = os.environ.get(semconv.OTEL_PYTHON_ROUTEWATCH_DISABLED_PATCHERS, "")
    return {name.strip() for name in value.split(",") if name.strip()}


class RoutewatchInstrumentor(BaseInstrumentor):
    """Instruments routers, caches, Bedrock Runtime and MCP tool calls."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        self._active: list[Patcher] = []
        try:
            disabled = _disabled_patchers()
            for name, path in PATCHERS.items():
                if name not in disabled:
                    self._start(name, path, kwargs)
        except Exception:  # never let telemetry stop the app
            _logger.warning("routewatch: instrumentation failed", exc_info=True)

    def _start(self, name: str, path: str, kwargs: dict[str, Any]) -> None:
        patcher: Patcher | None = None
        try:
            patcher = _load(path)
            patcher.instrument(kwargs.get("tracer_provider"), kwargs.get("meter_provider"))
        except Exception as err:  # a missing library or bad setting must not stop the app
            _logger.info("routewatch: %s not instrumented: %s", name, err)
            if patcher is not None:  # undo what it patched before it failed
                try:
                    patcher.uninstrument()
                except Exception:
                    _logger.debug("routewatch: undoing %s failed", name, exc_info=True)
            return
        self._active.append(patcher)

    def _uninstrument(self, **kwargs: Any) -> None:
        for patcher in reversed(getattr(self, "_active", [])):
            try:
                patcher.uninstrument()
            except Exception:
                _logger.debug("routewatch: uninstrument failed", exc_info=True)
        self._active = []
