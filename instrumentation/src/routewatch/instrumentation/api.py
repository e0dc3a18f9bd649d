"""The explicit API, for code that prefers to say where its routes and caches are.

It drives the same machinery as routers and caches declared in the environment: a decorated
function opens the same route span, backend calls inside it become attempts, and cache
lookups count the same way. Without the instrumentor it records to the global providers.

    @route(operation_from="request.operation_type")
    async def handle(request): ...

    @route(operation="triage")
    def triage(ticket): ...
        set_route("fallback")           # name the path that served it, when it is not implied
        record_cache_lookup(hit=False)  # for a cache that is not declared
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

from routewatch.instrumentation.routing import route as _route
from routewatch.instrumentation.routing.attempts import Attempt, begin_attempt
from routewatch.instrumentation.routing.operation import OperationSource, underlying_function
from routewatch.instrumentation.routing.wrappers import (
    ALWAYS_ON,
    RoutewatchWrapper,
    cache_wrapper,
    is_async,
    router_wrapper,
)
from routewatch.instrumentation.utils import safe_invoke

__all__ = ["Attempt", "begin_attempt", "cached", "record_cache_lookup", "route", "set_route"]

F = TypeVar("F", bound=Callable[..., Any])


def _constant(operation: str) -> Callable[[Any, Any, Any], str]:
    return lambda instance, args, kwargs: operation


@overload
def route(function: F, /) -> F: ...
@overload
def route(
    *, operation: str | None = None, operation_from: str | None = None
) -> Callable[[F], F]: ...
def route(
    function: Any = None,
    /,
    *,
    operation: str | None = None,
    operation_from: str | None = None,
) -> Any:
    """Run each call of the decorated router (sync or async) inside a route span.

    `operation` names the operation; `operation_from` reads it from the call, as
    `argument[.attribute_or_key...]`; with neither, the function's name is used.
    """
    if operation is not None and operation_from is not None:
        raise ValueError("route(): give operation or operation_from, not both")

    def decorate(target: F) -> F:
        function = underlying_function(target)
        resolve = (
            _constant(operation)
            if operation is not None
            else OperationSource(
                function,
                operation_from.split(".") if operation_from else None,
                getattr(function, "__qualname__", repr(function)),
            )
        )
        wrapper = router_wrapper(resolve, is_async(function), ALWAYS_ON)
        return cast(F, RoutewatchWrapper(target, wrapper))

    return decorate(function) if function is not None else decorate


def cached(function: F) -> F:
    """Count each call of the decorated cache lookup (sync or async); non-None is a hit."""
    wrapper = cache_wrapper(is_async(underlying_function(function)), ALWAYS_ON)
    return cast(F, RoutewatchWrapper(function, wrapper))


def set_route(path: str) -> None:
    """Name the path (direct, mcp, agent, cache, fallback, other) that served the current
    route, when the attempts do not imply it. Outside a route it does nothing."""
    safe_invoke(_route.set_route, path)


def record_cache_lookup(hit: bool) -> None:
    """Count a lookup in a cache that is not declared; a hit inside a route with no backend
    call makes `cache` the route that served it."""
    safe_invoke(_route.record_cache_lookup, hit)
