"""Merging and splitting OTLP requests.

Merging is protobuf's C-level MergeFrom (it concatenates the resource lists). Splitting walks
items one by one, so it runs only when a batch is over `send_batch_max_size`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric

from routewatch.collector.component import Data, Signal

# (resource list, scope list, item list) field names per signal.
_FIELDS = {
    Signal.TRACES: ("resource_spans", "scope_spans", "spans"),
    Signal.METRICS: ("resource_metrics", "scope_metrics", "metrics"),
    Signal.LOGS: ("resource_logs", "scope_logs", "log_records"),
}


def merge(requests: Sequence[Data]) -> Data:
    """One request holding every resource of `requests` (the first one itself if alone)."""
    if len(requests) == 1:
        return requests[0]
    out = type(requests[0])()
    for request in requests:
        out.MergeFrom(request)
    return out


def _metric_slice(metric: Metric, kind: str, start: int, stop: int) -> Metric:
    piece = Metric()
    piece.CopyFrom(metric)
    points = getattr(piece, kind).data_points
    del points[:]
    points.extend(getattr(metric, kind).data_points[start:stop])
    return piece


class _Builder:
    """Fills requests up to `limit` items, repeating resource and scope headers."""

    def __init__(self, template: Data, signal: Signal, limit: int) -> None:
        self.fields = _FIELDS[signal]
        self.template = template
        self.limit = limit
        self.out: list[Data] = []
        self._new_request()

    def _new_request(self) -> None:
        self.current = type(self.template)()
        self.filled = 0
        self.res: Any = None
        self.scope: Any = None

    def room(self) -> int:
        if self.filled >= self.limit:
            self.out.append(self.current)
            self._new_request()
        return self.limit - self.filled

    def enter_resource(self) -> None:
        self.res = None

    def enter_scope(self) -> None:
        self.scope = None

    def add(self, resource: Any, scope: Any, piece: Any, weight: int) -> None:
        res_field, scope_field, item_field = self.fields
        if self.res is None:
            self.res = getattr(self.current, res_field).add()
            self.res.resource.CopyFrom(resource.resource)
            self.res.schema_url = resource.schema_url
            self.scope = None
        if self.scope is None:
            self.scope = getattr(self.res, scope_field).add()
            self.scope.scope.CopyFrom(scope.scope)
            self.scope.schema_url = scope.schema_url
        getattr(self.scope, item_field).add().CopyFrom(piece)
        self.filled += weight

    def finish(self) -> list[Data]:
        # Metrics without points carry no items but are still data: keep them.
        if self.filled or len(getattr(self.current, self.fields[0])):
            self.out.append(self.current)
        return self.out


def split(data: Data, signal: Signal, limit: int) -> list[Data]:
    """`data` cut into requests of at most `limit` items, resources and scopes repeated.
    A metric with more points than fit is cut into several metrics of the same identity."""
    res_field, scope_field, item_field = _FIELDS[signal]
    builder = _Builder(data, signal, limit)
    for resource in getattr(data, res_field):
        for scope in getattr(resource, scope_field):
            for item in getattr(scope, item_field):
                kind: str | None = None
                total = 1
                if signal is Signal.METRICS:
                    kind = item.WhichOneof("data")
                    total = len(getattr(item, kind).data_points) if kind else 0
                start = 0
                while start < total:
                    take = min(builder.room(), total - start)
                    whole = start == 0 and take == total
                    piece = (
                        item
                        if whole or kind is None
                        else _metric_slice(item, kind, start, start + take)
                    )
                    builder.add(resource, scope, piece, take)
                    start += take
                if total == 0:
                    builder.add(resource, scope, item, 0)
            builder.enter_scope()
        builder.enter_resource()
    return builder.finish()
