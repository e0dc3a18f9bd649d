"""Keep metric attribute values to a bounded set, so one noisy app cannot explode cardinality."""

from __future__ import annotations

import threading
from typing import Final

from routewatch.instrumentation.semconv import (
    OTHER_VALUE,
    ROUTE_AGENT,
    ROUTE_CACHE,
    ROUTE_DIRECT,
    ROUTE_FALLBACK,
    ROUTE_MCP,
    ROUTE_OTHER,
)

KNOWN_ROUTES: Final = frozenset(
    {ROUTE_DIRECT, ROUTE_MCP, ROUTE_AGENT, ROUTE_CACHE, ROUTE_FALLBACK, ROUTE_OTHER}
)
_MAX_VALUE_LENGTH: Final = 128


class BoundedValues:
    """Admits the first `limit` distinct values it sees; every later new value is `_OTHER`."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def bound(self, value: str) -> str:
        if value in self._seen:
            return value
        if not value or len(value) > _MAX_VALUE_LENGTH:
            return OTHER_VALUE
        with self._lock:
            if len(self._seen) >= self._limit:
                return OTHER_VALUE
            self._seen.add(value)
        return value


def bound_route(path: str) -> str:
    """A route path from the fixed set in DESIGN.md; anything else is `other`."""
    return path if path in KNOWN_ROUTES else ROUTE_OTHER
