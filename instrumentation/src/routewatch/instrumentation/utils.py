"""Helpers that keep telemetry from ever breaking the instrumented app."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

_logger = logging.getLogger("routewatch.instrumentation")
_warned: set[str] = set()
T = TypeVar("T")


def safe_invoke(func: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Call an instrumentation hook; log and swallow whatever it raises."""
    try:
        return func(*args, **kwargs)
    except Exception:
        _logger.debug("routewatch: %s failed", getattr(func, "__qualname__", func), exc_info=True)
        return None


def warn_once(key: str, message: str, *args: Any) -> None:
    """Log a warning once per key for the life of the process (missing price, bad setting)."""
    if key in _warned:
        return
    _warned.add(key)
    _logger.warning(message, *args)
