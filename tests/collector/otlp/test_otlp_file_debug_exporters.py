"""The `file` and `debug` exporters, and the round trip real client -> receiver -> file
exporter -> file read back."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import orjson
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetrics,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from otlp_testkit import SdkData, StartReceiver, component_config, post, settings_for

from routewatch.collector import otlpjson
from routewatch.collector.component import Kind, Signal
from routewatch.collector.confmap import decode
from routewatch.collector.errors import ConfigError
from routewatch.collector.exporterhelper.exporter import Exporter
from routewatch.collector.exporters.debug import factory as debug_factory
from routewatch.collector.exporters.debug.config import DebugExporterConfig
from routewatch.collector.exporters.debug.debug import DebugWriter
from routewatch.collector.exporters.debug.sampling import Sampler
from routewatch.collector.exporters.file import factory as file_factory
from routewatch.collector.exporters.file.config import FileExporterConfig, RotationConfig
from routewatch.collector.exporters.file.file import encode_record, read_records
from routewatch.collector.exporters.file.writer import RotatingWriter


def file_exporter(signal: Signal, raw: dict[str, Any]) -> Exporter:
    config = component_config(file_factory.FACTORY, raw)
    exporter: Exporter = file_factory.FACTORY.create[signal](
        settings_for(Kind.EXPORTER, "file"), config, None
    )
    return exporter


@pytest.mark.parametrize("format", ["json", "proto"])
async def test_clients_to_receiver_to_file_and_back(
    start_receiver: StartReceiver, sdk_data: SdkData, tmp_path: Path, format: str
) -> None:
    """SDK exporters (gRPC and HTTP) and an OTLP/JSON post -> receiver -> file exporter:
    what the file holds equals what was sent."""
    paths = {signal: tmp_path / f"{signal.value}.{format}" for signal in Signal}
    exporters = {
        signal: file_exporter(signal, {"path": str(paths[signal]), "format": format})
        for signal in Signal
    }
    for exporter in exporters.values():
        await exporter.start(None)  # type: ignore[arg-type]
    receiver = await start_receiver(exporters, grpc={}, http={})
    assert receiver.grpc is not None and receiver.http is not None
    clients = [
        (GrpcSpans(endpoint=f"127.0.0.1:{receiver.grpc.port}", insecure=True), sdk_data.spans),
        (
            HttpMetrics(endpoint=f"http://127.0.0.1:{receiver.http.port}/v1/metrics"),
            sdk_data.metrics,
        ),
        (HttpLogs(endpoint=f"http://127.0.0.1:{receiver.http.port}/v1/logs"), sdk_data.logs),
    ]
    for client, payload in clients:
        try:
            assert (await asyncio.to_thread(client.export, payload)).name == "SUCCESS"
        finally:
            client.shutdown()
    status, _, _, _ = await post(
        receiver, otlpjson.encode(sdk_data.requests[Signal.TRACES]), "application/json"
    )
    assert status == 200
    await receiver.shutdown()
    for exporter in exporters.values():
        await exporter.shutdown()

    assert (
        list(read_records(paths[Signal.TRACES], format, Signal.TRACES))
        == [  # type: ignore[arg-type]
            sdk_data.requests[Signal.TRACES]
        ]
        * 2
    )
    for signal in (Signal.METRICS, Signal.LOGS):
        assert list(read_records(paths[signal], format, signal)) == [sdk_data.requests[signal]]  # type: ignore[arg-type]


async def test_file_json_lines_are_otlp_json(sdk_data: SdkData, tmp_path: Path) -> None:
    path = tmp_path / "out" / "traces.jsonl"
    exporter = file_exporter(Signal.TRACES, {"path": str(path)})
    await exporter.start(None)  # type: ignore[arg-type]
    await exporter.consume(sdk_data.requests[Signal.TRACES])
    await exporter.consume(sdk_data.requests[Signal.TRACES])
    await exporter.shutdown()
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2
    doc = orjson.loads(lines[0])
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(span["traceId"]) == 32 and int(span["traceId"], 16)
    assert isinstance(span["startTimeUnixNano"], str)
    assert isinstance(span["kind"], int)


async def test_file_append_keeps_and_default_truncates(sdk_data: SdkData, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"old\n")
    request = sdk_data.requests[Signal.TRACES]
    exporter = file_exporter(Signal.TRACES, {"path": str(path), "append": True})
    await exporter.start(None)  # type: ignore[arg-type]
    await exporter.consume(request)
    await exporter.shutdown()
    assert path.read_bytes().splitlines()[0] == b"old"
    exporter = file_exporter(Signal.TRACES, {"path": str(path)})
    await exporter.start(None)  # type: ignore[arg-type]
    await exporter.consume(request)
    await exporter.shutdown()
    assert list(read_records(path, "json", Signal.TRACES)) == [request]


async def test_two_signals_share_one_path_without_clobbering(
    sdk_data: SdkData, tmp_path: Path
) -> None:
    path = tmp_path / "all.jsonl"
    traces = file_exporter(Signal.TRACES, {"path": str(path)})
    logs = file_exporter(Signal.LOGS, {"path": str(path)})
    await traces.start(None)  # type: ignore[arg-type]
    await logs.start(None)  # type: ignore[arg-type]
    await traces.consume(sdk_data.requests[Signal.TRACES])
    await logs.consume(sdk_data.requests[Signal.LOGS])
    await traces.shutdown()
    await logs.shutdown()
    lines = path.read_bytes().splitlines()
    assert sorted(len(line) for line in lines) == sorted(
        len(otlpjson.encode(sdk_data.requests[s])) for s in (Signal.TRACES, Signal.LOGS)
    )


def test_rotation_keeps_max_backups_and_drops_old_ones(tmp_path: Path) -> None:
    now = [1_767_225_600.0]  # 2026-01-01T00:00:00Z
    rotation = RotationConfig(max_megabytes=1, max_backups=2, max_days=1)
    writer = RotatingWriter(tmp_path / "data.jsonl", rotation, append=False, clock=lambda: now[0])
    record = b"x" * (600 * 1024) + b"\n"
    for _ in range(5):
        writer.write(record)
        writer.flush()
        now[0] += 3600
    writer.close()
    backups = writer.backups()
    # Five records of 600 KiB in 1 MiB files: rotations at 1h, 2h, 3h, 4h; two backups kept.
    assert [p.name for _, p in backups] == [
        "data-2026-01-01T03-00-00.000.jsonl",
        "data-2026-01-01T04-00-00.000.jsonl",
    ]
    assert (tmp_path / "data.jsonl").stat().st_size == len(record)
    # A day later, the next rotation drops both (older than max_days).
    writer = RotatingWriter(tmp_path / "data.jsonl", rotation, append=True, clock=lambda: now[0])
    now[0] += 2 * 86400
    writer.write(record + record)
    writer.flush()
    writer.close()
    assert [p.name for _, p in writer.backups()] == ["data-2026-01-03T05-00-00.000.jsonl"]


def test_proto_record_format(sdk_data: SdkData) -> None:
    request = sdk_data.requests[Signal.LOGS]
    record = encode_record(request, "proto")
    assert int.from_bytes(record[:4], "big") == len(record) - 4
    assert type(request).FromString(record[4:]) == request


def test_file_config_errors() -> None:
    default = file_factory.create_default_config()
    assert (default.format, float(default.flush_interval), default.append) == ("json", 1.0, False)
    cases = {
        "path must be non-empty": {},
        "append and rotation enabled at the same time is not supported": {
            "path": "x",
            "append": True,
            "rotation": {"max_megabytes": 1},
        },
        r"exporters::file::format: invalid value 'xml'": {"path": "x", "format": "xml"},
        "flush_interval must be larger than zero": {"path": "x", "flush_interval": "0s"},
        r"exporters::file::rotation: max_megabytes must be positive": {
            "path": "x",
            "rotation": {"max_megabytes": 0},
        },
    }
    for message, raw in cases.items():
        with pytest.raises(ConfigError, match=message):
            decode(FileExporterConfig, raw, "exporters::file", default)


# --- debug -----------------------------------------------------------------------------------


def debug_lines(verbosity: str, data: Any) -> list[str]:
    out: list[str] = []
    config = decode(DebugExporterConfig, {"verbosity": verbosity})
    writer = DebugWriter(settings_for(Kind.EXPORTER, "debug"), config, write=out.append)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(writer.push(data))
    finally:
        loop.close()
    return "\n".join(out).splitlines()


def test_debug_basic_is_one_line_of_counts(sdk_data: SdkData) -> None:
    assert debug_lines("basic", sdk_data.requests[Signal.TRACES]) == [
        'Traces {"resource spans":1,"spans":2}'
    ]
    assert debug_lines("basic", sdk_data.requests[Signal.METRICS]) == [
        'Metrics {"resource metrics":1,"metrics":5,"data points":6}'
    ]
    assert debug_lines("basic", sdk_data.requests[Signal.LOGS]) == [
        'Logs {"resource logs":1,"log records":2}'
    ]


def test_debug_normal_is_one_line_per_item(sdk_data: SdkData) -> None:
    lines = debug_lines("normal", sdk_data.requests[Signal.TRACES])
    spans = [s for s in sdk_data.spans]
    for span in spans:
        trace_id = f"{span.context.trace_id:032x}"
        span_id = f"{span.context.span_id:016x}"
        assert sum(line.startswith(f"{span.name} {trace_id} {span_id}") for line in lines) == 1
    assert any("hybrid_routing.route=direct" in line for line in lines)
    metric_lines = debug_lines("normal", sdk_data.requests[Signal.METRICS])
    assert "hybrid_routing.attempts{hybrid_routing.route=mcp} 3" in metric_lines
    assert "inflight{} -2" in metric_lines
    log_lines = debug_lines("normal", sdk_data.requests[Signal.LOGS])
    assert "plain" in log_lines
    assert any(line.startswith("{alertname:HighLatency") for line in log_lines)


def test_debug_detailed_dumps_every_field(sdk_data: SdkData) -> None:
    request = sdk_data.requests[Signal.TRACES]
    lines = debug_lines("detailed", request)
    assert lines[0] == 'Traces {"resource spans":1,"spans":2}'
    dumped = orjson.loads("\n".join(lines[1:]))
    assert otlpjson.decode(orjson.dumps(dumped), ExportTraceServiceRequest) == request


def test_debug_sampling_per_second() -> None:
    now = [100.0]
    sampler = Sampler(initial=2, thereafter=3, clock=lambda: now[0])
    assert [sampler.allow() for _ in range(8)] == [
        True,
        True,
        False,
        False,
        True,
        False,
        False,
        True,
    ]
    now[0] = 101.2
    assert [sampler.allow() for _ in range(3)] == [True, True, False]


async def test_debug_exporter_logs_through_the_collector_logger(
    sdk_data: SdkData, caplog: pytest.LogCaptureFixture
) -> None:
    config = component_config(
        debug_factory.FACTORY, {"verbosity": "basic", "sampling_initial": 100}
    )
    exporter = debug_factory.FACTORY.create[Signal.LOGS](
        settings_for(Kind.EXPORTER, "debug"), config, None
    )
    await exporter.start(None)
    with caplog.at_level(logging.INFO, logger="test.debug"):
        await exporter.consume(sdk_data.requests[Signal.LOGS])
    await exporter.shutdown()
    assert 'Logs {"resource logs":1,"log records":2}' in caplog.text


def test_debug_config_errors() -> None:
    with pytest.raises(ConfigError, match="exporters::debug::verbosity: invalid value 'loud'"):
        decode(DebugExporterConfig, {"verbosity": "loud"}, "exporters::debug")
    with pytest.raises(ConfigError, match="sampling_thereafter must be at least 1"):
        decode(DebugExporterConfig, {"sampling_thereafter": 0}, "exporters::debug")


async def test_debug_exporter_to_stdout(
    sdk_data: SdkData, capsys: pytest.CaptureFixture[str]
) -> None:
    config = component_config(
        debug_factory.FACTORY, {"verbosity": "normal", "use_internal_logger": False}
    )
    exporter = debug_factory.FACTORY.create[Signal.TRACES](
        settings_for(Kind.EXPORTER, "debug"), config, None
    )
    await exporter.start(None)
    await exporter.consume(sdk_data.requests[Signal.TRACES])
    await exporter.shutdown()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == 'Traces {"resource spans":1,"spans":2}'
    assert out[1].startswith("ResourceSpans #0 ")
    assert sum(line.startswith(("route chat ", "chat claude ")) for line in out) == 2
