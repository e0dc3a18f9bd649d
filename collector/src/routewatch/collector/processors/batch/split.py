"""Merging and splitting OTLP requests.

Merging is protobuf's C-level MergeFrom (it concatenates the resource lists). Splitting walks
items one by one, so it runs only when a batch is over `send_batch_max_size`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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


def _metric_pieces(metric: Metric, limit: int) -> Iterator[tuple[Any, int]]:
    kind = metric.WhichOneof("data")
    if kind is None:
        yield metric, 0
        return
    points = getattr(metric, kind).data_points
    if len(points) <= limit:
        yield metric, len(points)
        return
    for start in range(0, len(points), limit):
        piece = Metric()
        piece.CopyFrom(metric)
        piece_points = getattr(piece, kind).data_points
        del piece_points[:]
        piece_points.extend(points[start : start + limit])
        yield piece, len(piece_points)


def split(data: Data, signal: Signal, limit: int) -> list[Data]:
    """`data` cut into requests of at most `limit` items, resources and scopes repeated."""
    res_field, scope_field, item_field = _FIELDS[signal]
    out: list[Data] = []
    current = type(data)()
    filled = 0
    for resource in getattr(data, res_field):
        new_res: Any = None
        for scope in getattr(resource, scope_field):
            new_scope: Any = None
            for item in getattr(scope, item_field):
                pieces = (
                    _metric_pieces(item, limit) if signal is Signal.METRICS else iter([(item, 1)])
                )
                for piece, weight in pieces:
                    if filled and filled + weight > limit:
                        out.append(current)
                        current, filled, new_res, new_scope = type(data)(), 0, None, None
                    if new_res is None:
                        new_res = getattr(current, res_field).add()
                        new_res.resource.CopyFrom(resource.resource)
                        new_res.schema_url = resource.schema_url
                    if new_scope is None:
                        new_scope = getattr(new_res, scope_field).add()
                        new_scope.scope.CopyFrom(scope.scope)
                        new_scope.schema_url = scope.schema_url
                    getattr(new_scope, item_field).add().CopyFrom(piece)
                    filled += weight
    if filled:
        out.append(current)
    return out
