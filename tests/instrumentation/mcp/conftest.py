from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mcp.shared._otel
import pytest
from instrumentation.routing.otel_harness import Harness

from routewatch.instrumentation.mcp.patch import McpPatcher
from routewatch.instrumentation.routing.patch import RoutingPatcher


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Harness:
    harness = Harness()
    # mcp 2.x records its spans with a module-level tracer on the global provider; point it
    # at this test's provider instead of installing a process-wide global.
    monkeypatch.setattr(
        mcp.shared._otel, "_tracer", harness.tracer_provider.get_tracer("mcp-python-sdk")
    )
    return harness


@pytest.fixture
def instrument(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., McpPatcher]]:
    """`instrument(**kwargs)`: routing (no declarations) and MCP on the test's providers."""
    monkeypatch.delenv("OTEL_PYTHON_ROUTEWATCH_ROUTERS", raising=False)
    monkeypatch.delenv("OTEL_PYTHON_ROUTEWATCH_CACHES", raising=False)
    routing, patchers = RoutingPatcher(), []

    def start(**kwargs: Any) -> McpPatcher:
        routing.instrument(harness.tracer_provider, harness.meter_provider)
        patcher = McpPatcher()
        patcher.instrument(harness.tracer_provider, harness.meter_provider, **kwargs)
        patchers.append(patcher)
        return patcher

    yield start
    for patcher in patchers:
        patcher.uninstrument()
    routing.uninstrument()


@pytest.fixture
def server_log(tmp_path: Path) -> Iterator[Any]:
    with (tmp_path / "server.log").open("w") as log:
        yield log
