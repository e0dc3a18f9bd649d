"""The entry point that `opentelemetry-instrument` loads."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from routewatch.instrumentation.package import _instruments
from routewatch.instrumentation.patcher import PATCHERS, Patcher

_logger = logging.getLogger("routewatch.instrumentation")


def _load(path: str) -> Patcher:
    module, _, attr = path.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    patcher: Patcher = cls()
    return patcher


class RoutewatchInstrumentor(BaseInstrumentor):
    """Instruments routers, caches, Bedrock Runtime and MCP tool calls."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        self._active: list[Patcher] = []
        for name, path in PATCHERS.items():
            try:
                patcher = _load(path)
                patcher.instrument(kwargs.get("tracer_provider"), kwargs.get("meter_provider"))
            except Exception as err:  # a missing library or bad setting must not stop the app
                _logger.info("routewatch: %s not instrumented: %s", name, err)
                continue
            self._active.append(patcher)

    def _uninstrument(self, **kwargs: Any) -> None:
        for patcher in reversed(getattr(self, "_active", [])):
            try:
                patcher.uninstrument()
            except Exception:
                _logger.debug("routewatch: uninstrument failed", exc_info=True)
        self._active = []
