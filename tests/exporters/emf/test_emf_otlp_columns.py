"""The OTLP reader reads a metric a column at a time when every point has the fields its kind
needs, and point by point otherwise: both give the same events, whatever is missing where."""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Exemplar,
    Histogram,
    HistogramDataPoint,
    Metric,
    ResourceMetrics,
    ScopeMetrics,
)
from otlp_strategies import T0, TEMPORALITIES, attributes, requests

from routewatch.exporters.emf import EmfConfig, EmfEncoder, LogEvent, read_otlp_metrics
from routewatch.exporters.emf.otlp_reader import _column, _columns_reader, _points_metric
from routewatch.exporters.emf.otlp_view import RequestViews


def events(encoder: EmfEncoder, request: ExportMetricsServiceRequest, by_columns: bool) -> Any:
    batch = encoder.batch(stable_attributes=True)
    read_otlp_metrics(batch, request, by_columns=by_columns)
    out: dict[Any, list[LogEvent]] = batch.events()
    return out, encoder.stats.snapshot()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(requests, min_size=1, max_size=3))
def test_columns_and_points_give_the_same_events(
    sequence: list[ExportMetricsServiceRequest],
) -> None:
    config = EmfConfig(namespace="Cols", retain_initial_value_of_delta_metric=True)
    by_columns, by_points = EmfEncoder(config), EmfEncoder(config)
    for request in sequence:
        assert events(by_columns, request, True) == events(by_points, request, False)


def full_histogram_point(**changes: Any) -> HistogramDataPoint:
    fields: dict[str, Any] = {
        "attributes": attributes(["direct"]),
        "start_time_unix_nano": T0,
        "time_unix_nano": T0 + 10**9,
        "count": 3,
        "sum": 4.5,
        "min": 0.5,
        "max": 2.5,
        "explicit_bounds": [1.0, 2.0],
        "bucket_counts": [1, 1, 1],
    }
    fields.update(changes)
    return HistogramDataPoint(**{k: v for k, v in fields.items() if v is not None})


def read_by_columns(*points: HistogramDataPoint, cumulative: bool = False) -> bool:
    """Whether a histogram metric of `points` is read a column at a time."""
    temporality = TEMPORALITIES[1] if cumulative else TEMPORALITIES[0]
    metric = Metric(
        name="h", histogram=Histogram(data_points=points, aggregation_temporality=temporality)
    )
    request = ExportMetricsServiceRequest(
        resource_metrics=[ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=[metric])])]
    )
    views = RequestViews(request)
    columns_metric = views.columns.resource_metrics[0].scope_metrics[0].metrics[0]
    attributes_metric = views.attributes.resource_metrics[0].scope_metrics[0].metrics[0]
    points_of = partial(_points_metric, views, 0, 0, 0)
    return _columns_reader(columns_metric, _column(attributes_metric), points_of) is not None


def test_full_columns_are_read_as_columns_and_others_are_not() -> None:
    full = full_histogram_point()
    assert read_by_columns(full, full)
    # optional fields in no point at all
    bare = full_histogram_point(min=None, max=None, sum=None)
    assert read_by_columns(bare, bare)
    assert read_by_columns(full_histogram_point(start_time_unix_nano=0), full)  # delta
    assert not read_by_columns(full_histogram_point(start_time_unix_nano=0), cumulative=True)
    assert not read_by_columns(full, full_histogram_point(min=None))
    assert not read_by_columns(full, full_histogram_point(count=0, bucket_counts=[0, 0, 0]))
    # exemplars: read per point beside the columns
    assert read_by_columns(full, full_histogram_point(exemplars=[Exemplar(as_int=1)]))
    assert not read_by_columns(full, full_histogram_point(time_unix_nano=0))
    # one bucket layout for all points, or point by point
    assert not read_by_columns(full, full_histogram_point(explicit_bounds=[1.0, 3.0]))
    assert not read_by_columns(full, full_histogram_point(bucket_counts=[1, 2]))
