"""SDK providers on in-memory exporters, and readers for what the tests assert on.

Imported as `instrumentation.routing.otel_harness` (tests/ is on pythonpath) by the routing
and MCP tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from routewatch.instrumentation import begin_attempt


@dataclass
class Harness:
    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)

    def __post_init__(self) -> None:
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        found = [s for s in self.spans() if s.name == name]
        assert len(found) == 1, f"expected one span {name!r}, got {[s.name for s in self.spans()]}"
        return found[0]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        parent_id = parent.context.span_id
        return [s for s in self.spans() if s.parent is not None and s.parent.span_id == parent_id]

    def _points(self, name: str) -> Iterator[Any]:
        data = self.reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        yield metric, metric.data.data_points

    def metric(self, name: str) -> Any:
        found = [metric for metric, _ in self._points(name)]
        assert len(found) == 1, f"expected metric {name!r} once, got {len(found)}"
        return found[0]

    def points(self, name: str) -> list[Any]:
        return [point for _, points in self._points(name) for point in points]

    def counts(self, name: str) -> dict[frozenset[tuple[str, Any]], float]:
        """Counter sums (or histogram counts) keyed by their attribute set."""
        return {
            frozenset(point.attributes.items()): getattr(point, "value", None)
            if hasattr(point, "value")
            else point.count
            for point in self.points(name)
        }


def keyed(attributes: dict[str, Any]) -> frozenset[tuple[str, Any]]:
    """An attribute set as `Harness.counts` keys it."""
    return frozenset(attributes.items())


class Throttled(Exception):
    """What an in-test backend raises to fail an attempt."""


def backend_call(
    tracer_provider: TracerProvider,
    path: str,
    fail: type[Exception] | None = None,
    result: Any = "ok",
) -> Callable[..., Any]:
    """A backend call that behaves as a backend extension does: begin_attempt(path), a CLIENT
    span under attempt.context, attempt.end() once."""
    tracer = trace.get_tracer("test.backend", tracer_provider=tracer_provider)

    def call(*_: Any) -> Any:
        attempt = begin_attempt(path)
        with tracer.start_as_current_span(
            f"call {path}", context=attempt.context if attempt else None, kind=SpanKind.CLIENT
        ):
            if fail is not None:
                if attempt:
                    attempt.end("error", fail.__qualname__)
                raise fail(path)
            if attempt:
                attempt.end("success")
            return result

    return call
