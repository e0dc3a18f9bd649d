"""Metric attribute dicts built once per distinct combination and reused on every record.

Every metric attribute value routewatch records comes from a bounded set (operations and error
types are bounded, routes fixed, unpriced models `_OTHER`), so the combinations are few; the
hot path looks a dict up by a tuple instead of building one per record. The dicts handed out
are shared: callers must never modify them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, Final

Attributes = Mapping[str, Any]

# Past this many combinations, dicts are built per call and not kept: memory stays bounded
# even if a bound elsewhere were to give way.
MAX_SETS: Final = 4096


class AttributeSets:
    """Interns attribute dicts by key. Safe without a lock: a race builds a dict twice and
    one of the equal copies is kept."""

    __slots__ = ("_limit", "_sets")

    def __init__(self, limit: int = MAX_SETS) -> None:
        self._sets: dict[Hashable, Attributes] = {}
        self._limit = limit

    def get(self, key: Hashable, make: Callable[[], Attributes]) -> Attributes:
        found = self._sets.get(key)
        if found is None:
            found = make()
            if len(self._sets) < self._limit:
                self._sets[key] = found
        return found
