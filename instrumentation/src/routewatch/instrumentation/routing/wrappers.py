"""wrapt wrappers for routers and caches, shared by the declared targets and the explicit API.

The user's call always runs and its result or exception passes through unchanged; the
telemetry around it goes through `safe_invoke`, so a failure there is logged and swallowed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol

import wrapt
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from routewatch.instrumentation.routing.route import OpenRoute, open_route, record_cache_lookup
from routewatch.instrumentation.semconv import OTHER_VALUE
from routewatch.instrumentation.utils import safe_invoke

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
OperationResolver = Callable[[Any, tuple[Any, ...], dict[str, Any]], str]


class Switch(Protocol):
    """Lets `uninstrument` turn wrappers it could not remove into plain pass-throughs."""

    active: bool


class AlwaysOn:
    active = True


ALWAYS_ON = AlwaysOn()


class RoutewatchWrapper(wrapt.FunctionWrapper):
    """A router or cache wrapper of ours, so nothing is wrapped twice (a decorated function
    that is also declared, a declaration listed twice, a second instrument())."""


def _open(resolve: OperationResolver, instance: Any, args: Any, kwargs: Any) -> OpenRoute:
    operation = safe_invoke(resolve, instance, args, kwargs) or OTHER_VALUE
    return open_route(operation)


def _enter(
    switch: Switch, resolve: OperationResolver, instance: Any, args: Any, kwargs: Any
) -> OpenRoute | None:
    if not switch.active or not is_instrumentation_enabled():
        return None
    return safe_invoke(_open, resolve, instance, args, kwargs)


def _close(route: OpenRoute | None, error: BaseException | None) -> None:
    if route is not None:
        safe_invoke(route.close, error)


def is_async(function: Any) -> bool:
    return inspect.iscoroutinefunction(function)


def router_wrapper(resolve: OperationResolver, asynchronous: bool, switch: Switch) -> Wrapper:
    """A wrapper that runs each call of a router inside a route."""
    if asynchronous:

        async def route_async(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            route = _enter(switch, resolve, instance, args, kwargs)
            try:
                result = await wrapped(*args, **kwargs)
            except BaseException as error:
                _close(route, error)
                raise
            _close(route, None)
            return result

        return route_async

    def route_sync(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        route = _enter(switch, resolve, instance, args, kwargs)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as error:
            _close(route, error)
            raise
        _close(route, None)
        return result

    return route_sync


def _record(switch: Switch, hit: bool) -> None:
    if switch.active and is_instrumentation_enabled():
        safe_invoke(record_cache_lookup, hit)


def cache_wrapper(asynchronous: bool, switch: Switch) -> Wrapper:
    """A wrapper that counts each call of a cache lookup: a non-None result is a hit."""
    if asynchronous:

        async def lookup_async(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            try:
                result = await wrapped(*args, **kwargs)
            except BaseException:
                _record(switch, False)
                raise
            _record(switch, result is not None)
            return result

        return lookup_async

    def lookup_sync(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            result = wrapped(*args, **kwargs)
        except BaseException:
            _record(switch, False)
            raise
        _record(switch, result is not None)
        return result

    return lookup_sync
