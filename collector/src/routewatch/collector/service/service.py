"""Start and stop a built graph in order, rolling back a partial start.

Order (as the Go collector): extensions first; then the pipeline components consumers-first
(exporters, then processors and connectors, receivers last), so nothing sends to a component
that is not running. Shutdown runs backwards: receivers stop taking data first, then each
processor flushes into exporters that are still running, exporters drain their queues, and
extensions (storage, health) go last.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from routewatch.collector.component import ComponentID, Kind
from routewatch.collector.config.model import Config
from routewatch.collector.service.graph import DEFAULT_SHUTDOWN_TIMEOUT, Graph, Node, build_graph
from routewatch.collector.service.telemetry_server import TelemetryServer, register_process_metrics
from routewatch.collector.telemetry import Telemetry

_log = logging.getLogger("routewatch.service")


class Service:
    """Implements `component.Host` for the components it runs."""

    def __init__(
        self,
        config: Config,
        telemetry: Telemetry | None = None,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        serve_metrics: bool = True,
    ) -> None:
        self.telemetry = telemetry or Telemetry()
        self.graph: Graph = build_graph(config, self.telemetry, shutdown_timeout)
        self._config = config
        self._started: list[Node] = []
        self._serve_metrics = serve_metrics and config.telemetry.metrics.level != "none"
        self.telemetry_server: TelemetryServer | None = None
        self._running = False
        self._stopped = False

    # -- Host --------------------------------------------------------------------------------

    def get_extension(self, id: ComponentID) -> Any:
        node = self.graph.extensions.get(id)
        return node.component if node else None

    def exporters(self) -> list[Any]:
        """Every exporter instance (one per id and signal)."""
        return list(self.graph.exporters.values())

    def queued_bytes(self) -> int:
        """Bytes held in in-memory sending queues (for memory_limiter)."""
        total = 0
        for exporter in self.graph.exporters.values():
            measure = getattr(exporter, "queued_bytes", None)
            if callable(measure):
                total += int(measure())
        return total

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start everything; on a failure, shut down what started and re-raise."""
        try:
            if self._serve_metrics:
                register_process_metrics(self.telemetry)
                endpoint = self._config.telemetry.metrics.endpoint()
                self.telemetry_server = TelemetryServer(self.telemetry, endpoint)
                try:
                    await self.telemetry_server.start()
                except OSError as err:
                    raise StartError(
                        f"failed to serve internal telemetry on {endpoint}: {err.strerror}"
                    ) from err
            for node in [*self.graph.extensions.values(), *self.graph.nodes]:
                _log.debug("starting %s", node)
                # Listed before start: a component that fails half-way is shut down too
                # (shutdown is safe after a partial start).
                self._started.append(node)
                try:
                    await node.component.start(self)
                except Exception as err:
                    raise StartError(f"failed to start {node}: {err}") from err
        except BaseException:
            await self.shutdown()
            raise
        self._running = True
        for node in self.graph.extensions.values():
            _call_if_present(node.component, "ready")
        _log.info("everything is ready; the collector is running")

    async def shutdown(self) -> None:
        """Stop what started, in reverse order; safe twice and without start."""
        if self._stopped:
            return
        self._stopped = True
        for node in self.graph.extensions.values():
            _call_if_present(node.component, "not_ready")
        # Exporters are leaves: stopping them together bounds the drain by one timeout.
        for group in _groups(list(reversed(self._started))):
            await asyncio.gather(*(_shutdown(node) for node in group))
        self._started.clear()
        if self.telemetry_server is not None:
            await self.telemetry_server.stop()
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    def nodes(self, kind: Kind | None = None) -> list[Node]:
        nodes = [*self.graph.extensions.values(), *self.graph.nodes]
        return [n for n in nodes if kind is None or n.kind is kind]


class StartError(RuntimeError):
    """A component failed to start; the message names it."""


def _groups(nodes: list[Node]) -> list[list[Node]]:
    """Consecutive exporters form one group; every other node is a group of its own."""
    groups: list[list[Node]] = []
    for node in nodes:
        if groups and node.kind is Kind.EXPORTER and groups[-1][0].kind is Kind.EXPORTER:
            groups[-1].append(node)
        else:
            groups.append([node])
    return groups


async def _shutdown(node: Node) -> None:
    try:
        await node.component.shutdown()
    except Exception:
        _log.exception("shutting down %s failed", node)


def _call_if_present(component: Any, method: str) -> None:
    func = getattr(component, method, None)
    if callable(func):
        try:
            func()
        except Exception:
            _log.exception("%s() of %r failed", method, component)
