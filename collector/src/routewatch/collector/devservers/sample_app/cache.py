"""The support operations cache: per-task TTLs, at most 1000 entries (least recently used
out first), key = operation + sha256 of the canonical JSON of the request context.

`SupportCache.get` is what routewatch instruments as a cache (a non-None return is a hit).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from routewatch.collector.devservers.sample_app.messages import SupportRequest, SupportResponse
from routewatch.collector.devservers.sample_app.operations import operation

# Production TTLs of the original, in seconds (its names: infrastructureAudit,
# metaMonitoring, implementationGaps, complianceValidation, securityAudit, costAnalysis).
# A task without a TTL (emergency answers, generic support answers) is never cached.
TTL_SECONDS: dict[str, float] = {
    "infrastructure_audit": 300,
    "meta_monitoring": 60,
    "implementation_gaps": 600,
    "compliance_validation": 1800,
    "security_audit": 900,
    "cost_analysis": 300,
}
MAX_ENTRIES = 1000
# The original's health rule: unhealthy when the hit rate is below 0.5 after more than 10 lookups.
HEALTHY_HIT_RATE = 0.5
HEALTH_MIN_LOOKUPS = 10


def task_of(request: SupportRequest) -> str:
    return request.task or operation(request.operation_type).default_task


def cache_key(request: SupportRequest) -> str:
    canonical = json.dumps(
        {"task": task_of(request), "context": request.context},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return f"{request.operation_type}:{hashlib.sha256(canonical.encode()).hexdigest()}"


class SupportCache:
    def __init__(
        self,
        ttls: Mapping[str, float] = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttls = dict(ttls)
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, SupportResponse]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def cacheable(self, request: SupportRequest) -> bool:
        return self.ttls.get(task_of(request), 0) > 0

    def get(self, request: SupportRequest) -> SupportResponse | None:
        """The cached response (route `cache`) or None on a miss or an expired entry."""
        key = cache_key(request)
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._clock():
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1].from_cache()
        if entry is not None:
            del self._entries[key]
        self.misses += 1
        return None

    def put(self, request: SupportRequest, response: SupportResponse) -> None:
        ttl = self.ttls.get(task_of(request), 0)
        if ttl <= 0:
            return
        key = cache_key(request)
        self._entries[key] = (self._clock() + ttl, response)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def hit_rate(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0

    def healthy(self) -> bool:
        return self.hits + self.misses <= HEALTH_MIN_LOOKUPS or self.hit_rate >= HEALTHY_HIT_RATE
