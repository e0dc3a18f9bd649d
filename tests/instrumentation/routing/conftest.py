from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from instrumentation.routing.otel_harness import Harness, backend_call

from routewatch.instrumentation.routing.patch import RoutingPatcher

_HERE = Path(__file__).parent


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture
def sample(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Puts routing_sample on sys.path, and forgets its modules so each test imports anew."""
    monkeypatch.syspath_prepend(str(_HERE))
    _forget_sample()
    yield
    _forget_sample()


def _forget_sample() -> None:
    for name in [
        m for m in sys.modules if m == "routing_sample" or m.startswith("routing_sample.")
    ]:
        del sys.modules[name]


@pytest.fixture
def instrument(
    harness: Harness, sample: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., RoutingPatcher]]:
    """`instrument(routers=..., caches=...)` sets the environment and instruments."""
    patchers: list[RoutingPatcher] = []

    def start(routers: str = "", caches: str = "") -> RoutingPatcher:
        monkeypatch.setenv("OTEL_PYTHON_ROUTEWATCH_ROUTERS", routers)
        monkeypatch.setenv("OTEL_PYTHON_ROUTEWATCH_CACHES", caches)
        patcher = RoutingPatcher()
        patcher.instrument(harness.tracer_provider, harness.meter_provider)
        patchers.append(patcher)
        return patcher

    yield start
    for patcher in patchers:
        patcher.uninstrument()


@pytest.fixture
def backend(harness: Harness) -> Callable[..., Callable[..., Any]]:
    """`backend(path, fail=None, result="ok")`: see otel_harness.backend_call."""
    return functools.partial(backend_call, harness.tracer_provider)


@pytest.fixture
def async_backend(backend: Callable[..., Callable[..., Any]]) -> Callable[..., Any]:
    def make(path: str, fail: type[Exception] | None = None, result: Any = "ok") -> Any:
        call = backend(path, fail, result)

        async def acall(*args: Any) -> Any:
            return call(*args)

        return acall

    return make
