"""The support-operations router: cache, then the primary or fallback path per the routing
table, with a circuit breaker per path and a real fallback when an attempt fails.

`SupportRouter.handle(request)` is the callable routewatch instruments as a router
(operation from `request.operation_type`). No OpenTelemetry here: telemetry comes from
`opentelemetry-instrument`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

from routewatch.collector.devservers.sample_app.breaker import CircuitBreaker
from routewatch.collector.devservers.sample_app.cache import SupportCache, task_of
from routewatch.collector.devservers.sample_app.messages import (
    AttemptRecord,
    PathResult,
    RoutingFailed,
    SupportRequest,
    SupportResponse,
)
from routewatch.collector.devservers.sample_app.operations import DIRECT, Operation, operation


class Path(Protocol):
    name: str

    async def call(self, op: Operation, request: SupportRequest, task: str) -> PathResult: ...


def choose_path(op: Operation, healthy: Callable[[str], bool]) -> tuple[str, str]:
    """The original decision rule; returns (path, reason).

    Primary if healthy, else the fallback if healthy, else emergency goes direct anyway and
    everything else uses the primary.
    """
    if healthy(op.primary):
        return op.primary, "primary_healthy"
    if op.fallback is not None and healthy(op.fallback):
        return op.fallback, "primary_unhealthy"
    if op.name == "emergency":
        return DIRECT, "no_healthy_path_emergency_direct"
    return op.primary, "no_healthy_path"


def attempt_order(op: Operation, first: str) -> tuple[str, ...]:
    """The chosen path, then the operation's other path (if it has one) as the fallback."""
    return (first, *(p for p in op.paths() if p != first))


class SupportRouter:
    def __init__(
        self,
        paths: Mapping[str, Path],
        cache: SupportCache | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.paths = dict(paths)
        self.cache = cache if cache is not None else SupportCache(clock=clock)
        self.breakers = {name: CircuitBreaker(clock=clock) for name in self.paths}

    def healthy(self, path: str) -> bool:
        return path in self.paths and self.breakers[path].healthy()

    async def handle(self, request: SupportRequest) -> SupportResponse:
        """Serve one request; raises RoutingFailed when every path tried failed."""
        op = operation(request.operation_type)
        cacheable = self.cache.cacheable(request)
        if cacheable:
            cached = self.cache.get(request)
            if cached is not None:
                return cached
        first, reason = choose_path(op, self.healthy)
        task = task_of(request)
        attempts: list[AttemptRecord] = []
        for name in attempt_order(op, first):
            if name not in self.paths:
                continue
            result = await self._attempt(name, op, request, task)
            attempts.append(
                AttemptRecord(name, "success" if result.success else "error", result.error)
            )
            if result.success:
                response = SupportResponse(
                    operation_type=op.name,
                    route=name,
                    text=result.text,
                    reason=reason,
                    attempts=tuple(attempts),
                    input_tokens=result.input_tokens,
                    output_tokens=result.output_tokens,
                    cost_usd=result.cost_usd,
                    model_id=result.model_id,
                )
                if cacheable:
                    self.cache.put(request, response)
                return response
        raise RoutingFailed(op.name, tuple(attempts))

    async def _attempt(
        self, name: str, op: Operation, request: SupportRequest, task: str
    ) -> PathResult:
        breaker = self.breakers[name]
        breaker.started()
        try:
            result = await self.paths[name].call(op, request, task)
        except Exception as err:  # any failure of a path is a failed attempt that falls back
            breaker.failed()
            return PathResult(success=False, error=_error_type(err))
        (breaker.succeeded if result.success else breaker.failed)()
        return result


def _error_type(err: Exception) -> str:
    """The AWS error code of a botocore ClientError, else the exception's class name."""
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(err).__name__
