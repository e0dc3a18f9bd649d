"""A patcher instruments one library or one kind of user code (Bedrock, MCP, routers, caches).

`RoutewatchInstrumentor` loads each patcher lazily by dotted path; a patcher whose library is
missing says so once in the log and is skipped. Patchers wrap with wrapt and must restore
every callable they patched in `uninstrument` (`wrap` below returns the undo function).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import wrapt
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider


class Patcher(Protocol):
    def instrument(
        self,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        **kwargs: Any,
    ) -> None:
        """Patch; may raise (ImportError when the library is absent): the instrumentor logs it."""
        ...

    def uninstrument(self) -> None:
        """Restore every patched callable."""
        ...


# name -> "module:Class". The name is what OTEL_PYTHON_ROUTEWATCH_DISABLED_PATCHERS lists.
PATCHERS: dict[str, str] = {
    "bedrock": "routewatch.instrumentation.bedrock.patch:BedrockPatcher",
    "mcp": "routewatch.instrumentation.mcp.patch:McpPatcher",
    "routing": "routewatch.instrumentation.routing.patch:RoutingPatcher",
}


def wrap(owner: type, name: str, wrapper: Callable[..., Any]) -> Callable[[], None]:
    """Wrap `owner.name` with a wrapt wrapper; the returned function removes exactly this
    wrapper and puts back the very object that was there, even when another instrumentation
    (opentelemetry-instrumentation-botocore, say) has wrapped over it since."""
    original = owner.__dict__[name]
    proxy = wrapt.FunctionWrapper(original, wrapper)
    setattr(owner, name, proxy)

    def restore() -> None:
        current = owner.__dict__.get(name)
        if current is proxy:
            setattr(owner, name, original)
            return
        node = current
        while isinstance(node, wrapt.FunctionWrapper):
            if node.__wrapped__ is proxy:
                node.__wrapped__ = original
                return
            node = node.__wrapped__

    return restore
