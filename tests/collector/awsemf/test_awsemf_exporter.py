"""The `awsemf` collector exporter: config with contrib's keys, lifecycle, outputs, telemetry."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Exemplar,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
    Summary,
    SummaryDataPoint,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from support.moto import MotoServer, moto_server

from routewatch.collector.component import (
    ComponentID,
    CreateSettings,
    Encoded,
    Kind,
    Signal,
    accepts_encoded,
    deliver,
)
from routewatch.collector.confmap import decode
from routewatch.collector.errors import ConfigError, PermanentError, RetryableError
from routewatch.collector.exporters.awsemf import FACTORY, TYPE, Config, create_default_config
from routewatch.collector.telemetry import Telemetry

NOW_NS = time.time_ns()
DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE


def kvs(attrs: dict[str, str]) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in attrs.items()]


def request(resource: dict[str, str], metrics: list[Metric]) -> ExportMetricsServiceRequest:
    return ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=Resource(attributes=kvs(resource)),
                scope_metrics=[ScopeMetrics(metrics=metrics)],
            )
        ]
    )


def counter(name: str, value: float, attrs: dict[str, str], ts: int = NOW_NS) -> Metric:
    return Metric(
        name=name,
        unit="{request}",
        sum=Sum(
            aggregation_temporality=DELTA,
            is_monotonic=True,
            data_points=[
                NumberDataPoint(attributes=kvs(attrs), time_unix_nano=ts, as_double=value)
            ],
        ),
    )


def duration(attrs: dict[str, str], trace_id: bytes = b"") -> Metric:
    point = HistogramDataPoint(
        attributes=kvs(attrs),
        time_unix_nano=NOW_NS,
        count=3,
        sum=2.5,
        min=0.1,
        max=2.0,
        explicit_bounds=[0.5, 1.0],
        bucket_counts=[1, 1, 1],
        exemplars=[Exemplar(trace_id=trace_id, as_double=2.0)] if trace_id else [],
    )
    return Metric(
        name="hybrid_routing.request.duration",
        unit="s",
        histogram=Histogram(aggregation_temporality=DELTA, data_points=[point]),
    )


def settings(telemetry: Telemetry | None = None) -> CreateSettings:
    return CreateSettings(
        id=ComponentID(TYPE), kind=Kind.EXPORTER, telemetry=telemetry or Telemetry()
    )


def config(raw: dict[str, Any]) -> Config:
    # The queue is off so that consume() shows what the exporter itself answered.
    raw = {"sending_queue": {"enabled": False}, **raw}
    return decode(Config, raw, "exporters::awsemf", base=create_default_config())


class _Host:
    def get_extension(self, id: ComponentID) -> None:
        return None


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        yield server


def test_config_keys_and_defaults() -> None:
    cfg = config(
        {
            "namespace": "HybridRouting",
            "log_group_name": "/hybrid-routing/{deployment.environment}",
            "log_stream_name": "{ServiceName}",
            "dimension_rollup_option": "SingleDimensionRollupOnly",
            "metric_declarations": [
                {
                    "dimensions": [["route"], ["route", "operation"]],
                    "metric_name_selectors": ["^hybrid_routing\\."],
                    "label_matchers": [{"label_names": ["route"], "regex": "direct|mcp"}],
                }
            ],
            "metric_descriptors": [{"metric_name": "x", "unit": "Bytes", "overwrite": True}],
            "resource_to_telemetry_conversion": {"enabled": True},
            "retain_initial_value_of_delta_metric": True,
            "detailed_metrics": True,
            "log_retention": 14,
            "tags": {"team": "routing"},
            "region": "eu-west-1",
            "endpoint": "http://localhost:1",
            "timeout": "10s",
            "retry_on_failure": {"max_elapsed_time": "1m"},
        }
    )
    assert cfg.namespace == "HybridRouting" and cfg.log_retention == 14
    assert cfg.timeout == 10.0 and cfg.retry_on_failure.max_elapsed_time == 60.0
    emf = cfg.emf_config()
    assert emf.metric_declarations[0].label_matchers[0].separator == ";"
    default = create_default_config()
    assert default.dimension_rollup_option == "NoDimensionRollup"
    assert default.output_destination == "cloudwatch"
    assert default.log_group_name == "/metrics/default"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"no_such_key": 1}, "exporters::awsemf: has invalid keys: no_such_key"),
        ({"output_destination": "kinesis"}, "output_destination must be one of"),
        ({"output_destination": "file"}, "file_path is required"),
        ({"dimension_rollup_option": "All"}, "dimension_rollup_option must be one of"),
        ({"log_retention": 2}, "log_retention 2 is not a valid retention"),
        ({"namespace": "AWS/Lambda"}, "namespace 'AWS/Lambda' is not a valid CloudWatch namespace"),
        (
            {"metric_declarations": [{"metric_name_selectors": ["("]}]},
            "exporters::awsemf::metric_declarations[0]: metric_name_selectors: invalid regex",
        ),
        (
            {"metric_descriptors": [{"metric_name": "a", "unit": "Furlongs"}]},
            "unit 'Furlongs' is not a CloudWatch unit",
        ),
        ({"resource_to_telemetry_conversion": {"enabld": True}}, "has invalid keys: enabld"),
    ],
)
def test_config_errors_name_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config(raw)
    assert message in str(info.value)


def test_factory_declares_metrics() -> None:
    assert FACTORY.type == "awsemf" and FACTORY.kind is Kind.EXPORTER
    assert FACTORY.signals() == [Signal.METRICS]


async def test_lifecycle_to_cloudwatch_with_placeholders(moto: MotoServer) -> None:
    telemetry = Telemetry()
    cfg = config(
        {
            "namespace": "HybridRouting",
            "log_group_name": "/hybrid-routing/{deployment.environment}",
            "log_stream_name": "{ServiceName}-{TaskId}",
            "endpoint": moto.endpoint_url,
            "region": "us-east-1",
            "log_retention": 7,
            "tags": {"app": "routewatch"},
        }
    )
    exporter = FACTORY.create[Signal.METRICS](settings(telemetry), cfg, None)
    await exporter.start(_Host())
    attrs = {"hybrid_routing.route": "direct", "hybrid_routing.operation": "emergency"}
    trace = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
    await exporter.consume(
        request(
            {"service.name": "router", "deployment.environment": "prod"},
            [counter("hybrid_routing.attempts", 2, attrs), duration(attrs, trace)],
        )
    )
    await exporter.consume(
        request({"service.name": "router"}, [counter("hybrid_routing.nan", float("nan"), attrs)])
    )
    await exporter.shutdown()
    await exporter.shutdown()
    client = moto.client("logs")
    got = client.get_log_events(
        logGroupName="/hybrid-routing/prod", logStreamName="router-undefined", startFromHead=True
    )["events"]
    (event,) = [json.loads(e["message"]) for e in got]
    assert event["hybrid_routing.attempts"] == 2
    assert event["hybrid_routing.request.duration"]["Values"] == [0.3, 0.75, 1.5]
    assert event["traceIds"] == [trace.hex()]
    assert event["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "HybridRouting"
    (group,) = client.describe_log_groups(logGroupNamePrefix="/hybrid-routing/prod")["logGroups"]
    assert group["retentionInDays"] == 7
    labels = {"exporter": "awsemf", "reason": "nan"}
    assert telemetry.value("otelcol_exporter_awsemf_dropped_points", labels) == 1
    assert telemetry.total("otelcol_exporter_awsemf_sent_log_events") == 1


async def test_stdout_output(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config({"output_destination": "stdout", "namespace": "N"})
    exporter = FACTORY.create[Signal.METRICS](settings(), cfg, None)
    await exporter.start(_Host())
    await exporter.consume(request({}, [counter("c", 1, {"route": "cache"})]))
    await exporter.shutdown()
    lines = capsys.readouterr().out.strip().splitlines()
    (event,) = [json.loads(line) for line in lines]
    assert event["c"] == 1 and event["route"] == "cache"


async def test_file_output_with_cumulative_summary(tmp_path: Path) -> None:
    path = tmp_path / "emf.jsonl"
    cfg = config({"output_destination": "file", "file_path": str(path), "namespace": "N"})
    exporter = FACTORY.create[Signal.METRICS](settings(), cfg, None)
    await exporter.start(_Host())
    for step, (count, total) in enumerate([(4, 10.0), (6, 16.0)]):
        summary = Metric(
            name="rt",
            unit="ms",
            summary=Summary(
                data_points=[
                    SummaryDataPoint(
                        start_time_unix_nano=NOW_NS - 10**9,
                        time_unix_nano=NOW_NS + step * 10**9,
                        count=count,
                        sum=total,
                        quantile_values=[
                            SummaryDataPoint.ValueAtQuantile(quantile=0.0, value=1.0),
                            SummaryDataPoint.ValueAtQuantile(quantile=1.0, value=5.0),
                        ],
                    )
                ]
            ),
        )
        await exporter.consume(request({}, [summary]))
    await exporter.shutdown()
    events = [json.loads(line) for line in path.read_text().splitlines()]
    # the first cumulative point is the baseline; the second sends the change
    assert [e["rt"] for e in events] == [{"Count": 2, "Sum": 6.0, "Min": 1.0, "Max": 5.0}]


async def test_buffer_full_refuses_with_retryable_error(moto: MotoServer) -> None:
    cfg = config(
        {
            "endpoint": "http://127.0.0.1:9",  # nothing listens: nothing drains the buffer
            "region": "us-east-1",
            "max_buffered_bytes": 1_048_576,
            "flush_interval": "1h",
        }
    )
    exporter = FACTORY.create[Signal.METRICS](settings(), cfg, None)
    await exporter.start(_Host())
    big = {f"attr{i}": "v" * 1000 for i in range(29)}
    with pytest.raises(RetryableError):
        for i in range(100):
            await exporter.consume(request({}, [counter("c", 1, big, NOW_NS + i * 10**6)]))


async def test_faults_between_exporter_and_cloudwatch_are_retried(moto: MotoServer) -> None:
    from support.fault_proxy import aws_json_error, fault_proxy

    from routewatch.collector.exporters.awsemf.awsemf import AwsEmfExporter

    sleeps: list[float] = []
    with fault_proxy(moto.endpoint_url) as proxy:
        cfg = config({"endpoint": proxy.url, "region": "us-east-1", "log_group_name": "/faulty"})
        exporter = AwsEmfExporter(settings(), cfg, sleep=sleeps.append).component
        await exporter.start(_Host())
        proxy.inject(400, aws_json_error("ThrottlingException"), times=2, match="PutLogEvents")
        proxy.inject(503, aws_json_error("ServiceUnavailableException"), match="PutLogEvents")
        for i in range(30):
            attrs = {"hybrid_routing.route": f"r{i}"}
            await exporter.consume(request({}, [counter("c", i, attrs)]))
        await exporter.shutdown()
    got = moto.client("logs").get_log_events(
        logGroupName="/faulty", logStreamName="otel-stream", startFromHead=True
    )["events"]
    routes = sorted(json.loads(e["message"])["hybrid_routing.route"] for e in got)
    assert routes == sorted(f"r{i}" for i in range(30))  # all there, none twice
    assert len(sleeps) == 3


async def test_refused_request_leaves_delta_state_for_its_retry(moto: MotoServer) -> None:
    from routewatch.collector.exporters.awsemf.awsemf import AwsEmfExporter

    cfg = config(
        {
            "endpoint": moto.endpoint_url,
            "region": "us-east-1",
            "log_group_name": "/refused",
            "max_buffered_bytes": 1_048_576,
            "flush_interval": "1h",
            "retain_initial_value_of_delta_metric": True,
        }
    )
    impl = AwsEmfExporter(settings(), cfg)
    exporter = impl.component
    await exporter.start(_Host())
    padding = {f"pad{i}": " " * 900 for i in range(1000)}  # ~0.9 MB of event properties
    await exporter.consume(request({}, [counter("filler", 1, padding)]))

    def cumulative(value: float, step: int) -> ExportMetricsServiceRequest:
        point = NumberDataPoint(
            attributes=kvs({"route": "direct", "blob": " " * 200_000}),
            start_time_unix_nano=NOW_NS - 10**9,
            time_unix_nano=NOW_NS + step * 10**9,
            as_double=value,
        )
        sum_ = Sum(aggregation_temporality=CUMULATIVE, is_monotonic=True, data_points=[point])
        return request({}, [Metric(name="requests", unit="{request}", sum=sum_)])

    with pytest.raises(RetryableError):
        await exporter.consume(cumulative(10, 1))  # does not fit: refused
    assert impl.buffer is not None
    impl.buffer.flush()  # the buffer drains...
    await exporter.consume(cumulative(10, 1))  # ...and the retry is taken, same delta
    await exporter.consume(cumulative(15, 2))
    await exporter.shutdown()
    got = moto.client("logs").get_log_events(
        logGroupName="/refused", logStreamName="otel-stream", startFromHead=True
    )["events"]
    values = [json.loads(e["message"]).get("requests") for e in got]
    assert [v for v in values if v is not None] == [10, 5]


async def test_request_bytes_give_the_same_events_as_the_message(tmp_path: Path) -> None:
    """Behind the otlp receiver and batch, awsemf is handed the request's wire bytes."""
    data = request(
        {"service.name": "router"},
        [counter("c", 2, {"route": "mcp"}), duration({"route": "direct"}, trace_id=b"\x01" * 16)],
    )
    outputs = []
    for name, form in (
        ("message", data),
        ("bytes", Encoded(Signal.METRICS, data.SerializeToString(), 2)),
    ):
        path = tmp_path / f"{name}.jsonl"
        cfg = config({"output_destination": "file", "file_path": str(path), "namespace": "N"})
        exporter = FACTORY.create[Signal.METRICS](settings(), cfg, None)
        assert accepts_encoded(exporter)
        await exporter.start(_Host())
        if isinstance(form, Encoded):
            await deliver(exporter, None, form)
        else:
            await exporter.consume(form)
        await exporter.shutdown()
        outputs.append([json.loads(line) for line in path.read_text().splitlines()])
    by_message, by_bytes = outputs
    assert len(by_bytes) == 2 and by_bytes == by_message


async def test_malformed_bytes_are_refused_for_good_and_the_next_request_goes_through(
    tmp_path: Path,
) -> None:
    path = tmp_path / "emf.jsonl"
    telemetry = Telemetry()
    cfg = config({"output_destination": "file", "file_path": str(path), "namespace": "N"})
    exporter = FACTORY.create[Signal.METRICS](settings(telemetry), cfg, None)
    await exporter.start(_Host())
    with pytest.raises(PermanentError, match="malformed OTLP metrics request"):
        await deliver(exporter, None, Encoded(Signal.METRICS, b"\x0a\x05\x0a\x03", 1))
    good = request({}, [counter("c", 1, {"route": "cache"})])
    await deliver(exporter, None, Encoded(Signal.METRICS, good.SerializeToString(), 1))
    await exporter.shutdown()
    (event,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert event["c"] == 1
    failed = telemetry.value("otelcol_exporter_send_failed_metric_points", {"exporter": TYPE})
    assert failed == 1
