"""Tiny components for the collector core's tests (never shipped).

- `push` receiver: tests call `await receiver.push(request)`.
- `http_push` receiver: POST a protobuf OTLP request to http://endpoint/v1/{traces,metrics,logs};
  200 accepted, 503 + Retry-After refused retryably, 400 refused permanently.
- `record` exporter (all signals) and `record_traces` (traces only): requests go to
  `exporter.recorder`, through the real exporter helper; `recorder.failures` injects errors.
- `file_out` exporter: appends one JSON line per request to `path`; while the file `down_marker`
  exists every send fails retryably (the "downstream" is down).
- `to_logs` connector: metrics -> logs (one log record per metric) and traces -> traces.
- `fail_start` extension: start() raises.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from routewatch.collector.component import (
    REQUEST_TYPES,
    ComponentID,
    Consumer,
    CreateSettings,
    Data,
    Factory,
    Host,
    Kind,
    Signal,
    Stability,
)
from routewatch.collector.errors import PermanentError, RetryableError
from routewatch.collector.exporterhelper import ExporterHelperConfig, new_exporter
from routewatch.collector.exporterhelper.exporter import Exporter
from routewatch.collector.obsreport import count_items, receiver_result, signal_of
from routewatch.collector.registry import Registry, registry_with
from routewatch.collector.service.http import HttpServer
from routewatch.collector.telemetry import Telemetry

ALL = {s: Stability.DEVELOPMENT for s in Signal}


# -- receivers ---------------------------------------------------------------------------------


@dataclass
class PushConfig:
    pass


class PushReceiver:
    def __init__(self, settings: CreateSettings, next_consumer: Consumer) -> None:
        self.settings = settings
        self.next = next_consumer
        self.started = False
        self.stopped = False

    async def start(self, host: Host) -> None:
        self.started = True

    async def push(self, data: Data) -> None:
        signal = signal_of(data)
        try:
            await self.next.consume(data)
        except Exception as err:
            receiver_result(
                self.settings.telemetry,
                self.settings.id,
                "test",
                signal,
                count_items(signal, data),
                err,
            )
            raise
        receiver_result(
            self.settings.telemetry, self.settings.id, "test", signal, count_items(signal, data)
        )

    async def shutdown(self) -> None:
        self.stopped = True


def _create_push(settings: CreateSettings, config: Any, next_consumer: Consumer | None) -> Any:
    assert next_consumer is not None
    return PushReceiver(settings, next_consumer)


PUSH = Factory("push", Kind.RECEIVER, PushConfig, {s: _create_push for s in Signal}, ALL)


class PerSignalReceiver(PushReceiver):
    """A receiver that keeps one consumer per signal (`add_consumer`), as the OTLP one does."""

    def __init__(self, settings: CreateSettings, signal: Signal, first: Consumer) -> None:
        super().__init__(settings, first)
        self.consumers: dict[Signal, Consumer] = {signal: first}

    def add_consumer(self, signal: Signal, consumer: Consumer) -> None:
        self.consumers[signal] = consumer

    async def push(self, data: Data) -> None:
        await self.consumers[signal_of(data)].consume(data)


def _per_signal(signal: Signal) -> Any:
    def create(settings: CreateSettings, config: Any, nxt: Consumer | None) -> Any:
        assert nxt is not None
        return PerSignalReceiver(settings, signal, nxt)

    return create


PER_SIGNAL = Factory(
    "per_signal", Kind.RECEIVER, PushConfig, {s: _per_signal(s) for s in Signal}, ALL
)


@dataclass
class HttpPushConfig:
    endpoint: str = "127.0.0.1:0"


class HttpPushReceiver:
    def __init__(self, settings: CreateSettings, config: HttpPushConfig, nxt: Consumer) -> None:
        self.settings = settings
        self.next = nxt
        app = web.Application()
        app.router.add_post("/v1/{signal}", self._handle)
        self.server = HttpServer(app, config.endpoint)

    async def _handle(self, request: web.Request) -> web.Response:
        signal = Signal(request.match_info["signal"])
        data = REQUEST_TYPES[signal]()
        data.ParseFromString(await request.read())
        count = count_items(signal, data)
        telemetry, id = self.settings.telemetry, self.settings.id
        try:
            await self.next.consume(data)
        except PermanentError as err:
            receiver_result(telemetry, id, "http", signal, count, err)
            return web.Response(status=400, text=str(err))
        except Exception as err:
            receiver_result(telemetry, id, "http", signal, count, err)
            return web.Response(status=503, text=str(err), headers={"Retry-After": "1"})
        receiver_result(telemetry, id, "http", signal, count)
        return web.Response(status=200)

    async def start(self, host: Host) -> None:
        await self.server.start()

    async def shutdown(self) -> None:
        await self.server.stop()


def _create_http(settings: CreateSettings, config: Any, nxt: Consumer | None) -> Any:
    assert nxt is not None
    return HttpPushReceiver(settings, config, nxt)


HTTP_PUSH = Factory(
    "http_push", Kind.RECEIVER, HttpPushConfig, {s: _create_http for s in Signal}, ALL
)


# -- exporters ---------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.received: list[Data] = []
        # Raised one per push, in order, before anything is recorded.
        self.failures: list[Exception] = []
        self.calls = 0
        self.gate: asyncio.Event | None = None  # when set, pushes wait for it
        self._called = asyncio.Event()

    async def wait_calls(self, count: int) -> None:
        """Until push was called `count` times."""
        while self.calls < count:
            self._called.clear()
            await self._called.wait()

    async def push(self, data: Data) -> None:
        self.calls += 1
        self._called.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.received.append(data)

    def items(self) -> int:
        return sum(count_items(signal_of(d), d) for d in self.received)


@dataclass
class RecordConfig(ExporterHelperConfig):
    label: str = ""

    def validate(self) -> None:
        super().validate()
        if self.label == "invalid":
            raise ValueError("label must not be 'invalid'")


def _create_record(settings: CreateSettings, config: Any, nxt: Consumer | None) -> Exporter:
    recorder = Recorder()
    assert settings.signal is not None
    exporter = new_exporter(settings, config, settings.signal, recorder.push)
    exporter.recorder = recorder  # type: ignore[attr-defined]
    return exporter


RECORD = Factory("record", Kind.EXPORTER, RecordConfig, {s: _create_record for s in Signal}, ALL)
RECORD_TRACES = Factory(
    "record_traces",
    Kind.EXPORTER,
    RecordConfig,
    {Signal.TRACES: _create_record},
    {Signal.TRACES: Stability.ALPHA},
)


@dataclass
class FileOutConfig(ExporterHelperConfig):
    path: str = ""
    down_marker: str = ""


def _create_file_out(settings: CreateSettings, config: Any, nxt: Consumer | None) -> Exporter:
    assert settings.signal is not None

    def write(data: Data) -> None:
        if config.down_marker and os.path.exists(config.down_marker):
            raise RetryableError("downstream is down")
        ids = [
            span.span_id.hex()
            for rs in data.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]
        with open(config.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"span_ids": ids}) + "\n")

    async def push(data: Data) -> None:
        await asyncio.to_thread(write, data)

    return new_exporter(settings, config, settings.signal, push)


FILE_OUT = Factory(
    "file_out",
    Kind.EXPORTER,
    FileOutConfig,
    {Signal.TRACES: _create_file_out},
    {Signal.TRACES: Stability.DEVELOPMENT},
)


@dataclass
class GrpcOutConfig(ExporterHelperConfig):
    endpoint: str = ""


_RETRYABLE_CODES = {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "ABORTED"}


def _create_grpc_out(settings: CreateSettings, config: Any, nxt: Consumer | None) -> Exporter:
    """A bare OTLP/gRPC traces exporter (the real one comes from the OTLP branch)."""
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    channel: list[Any] = []

    async def start(host: Host) -> None:
        channel.append(grpc.aio.insecure_channel(config.endpoint))

    async def push(data: Data) -> None:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel[0])
        try:
            await stub.Export(data)
        except grpc.aio.AioRpcError as err:
            if err.code().name in _RETRYABLE_CODES:
                raise RetryableError(f"{err.code().name}: {err.details()}") from err
            raise PermanentError(f"{err.code().name}: {err.details()}") from err

    async def shutdown() -> None:
        for ch in channel:
            await ch.close()

    assert settings.signal is not None
    return new_exporter(settings, config, settings.signal, push, start=start, shutdown=shutdown)


GRPC_OUT = Factory(
    "grpc_out",
    Kind.EXPORTER,
    GrpcOutConfig,
    {Signal.TRACES: _create_grpc_out},
    {Signal.TRACES: Stability.DEVELOPMENT},
)


# -- connector ---------------------------------------------------------------------------------


class ToLogs:
    """metrics -> logs: one log record per metric, body = the metric name."""

    def __init__(self, nxt: Consumer) -> None:
        self.next = nxt

    async def start(self, host: Host) -> None:
        pass

    async def consume(self, data: Data) -> None:
        if isinstance(data, ExportTraceServiceRequest):
            await self.next.consume(data)
            return
        assert isinstance(data, ExportMetricsServiceRequest)
        out = ExportLogsServiceRequest()
        scope_logs = out.resource_logs.add().scope_logs.add()
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    scope_logs.log_records.add().body.CopyFrom(AnyValue(string_value=metric.name))
        await self.next.consume(out)

    async def shutdown(self) -> None:
        pass


def _create_to_logs(settings: CreateSettings, config: Any, nxt: Consumer | None) -> Any:
    assert nxt is not None
    return ToLogs(nxt)


TO_LOGS = Factory(
    "to_logs",
    Kind.CONNECTOR,
    PushConfig,
    {
        (Signal.METRICS, Signal.LOGS): _create_to_logs,
        (Signal.TRACES, Signal.TRACES): _create_to_logs,
    },
    {
        (Signal.METRICS, Signal.LOGS): Stability.ALPHA,
        (Signal.TRACES, Signal.TRACES): Stability.ALPHA,
    },
)


# -- extensions --------------------------------------------------------------------------------


@dataclass
class FailStartConfig:
    message: str = "boom"


class FailStart:
    def __init__(self, config: FailStartConfig) -> None:
        self.config = config
        self.shutdowns = 0

    async def start(self, host: Host) -> None:
        raise RuntimeError(self.config.message)

    async def shutdown(self) -> None:
        self.shutdowns += 1


FAIL_START = Factory(
    "fail_start",
    Kind.EXTENSION,
    FailStartConfig,
    create_extension=lambda settings, config: FailStart(config),
)

# Not in TEST_FACTORIES: loaded through the entry-point group by test_collector_registry.
PLUGIN = Factory(
    "plugin_exporter",
    Kind.EXPORTER,
    RecordConfig,
    {Signal.LOGS: _create_record},
    {Signal.LOGS: Stability.ALPHA},
)

TEST_FACTORIES = [
    PUSH,
    PER_SIGNAL,
    HTTP_PUSH,
    RECORD,
    RECORD_TRACES,
    FILE_OUT,
    GRPC_OUT,
    TO_LOGS,
    FAIL_START,
]


def make_registry() -> Registry:
    """The built-ins plus the test components."""
    return registry_with(TEST_FACTORIES)


# -- request builders --------------------------------------------------------------------------


def traces(spans: int, resources: int = 1, name: str = "op") -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    n = 0
    for r in range(resources):
        rs = request.resource_spans.add()
        rs.resource.attributes.add(key="service.name").value.string_value = f"svc{r}"
        ss = rs.scope_spans.add()
        ss.scope.name = "test"
        per = spans // resources + (1 if r < spans % resources else 0)
        for _ in range(per):
            span = ss.spans.add(name=name)
            span.trace_id = n.to_bytes(16, "big")
            span.span_id = (n + 1).to_bytes(8, "big")
            n += 1
    return request


def metrics(names: list[str], points: int = 1) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    sm = request.resource_metrics.add().scope_metrics.add()
    for name in names:
        metric = sm.metrics.add(name=name)
        for i in range(points):
            metric.gauge.data_points.add(as_int=i)
    return request


def logs(records: int) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    sl = request.resource_logs.add().scope_logs.add()
    for i in range(records):
        sl.log_records.add().body.string_value = f"r{i}"
    return request


# -- talking to a collector subprocess ------------------------------------------------------------


def request_bytes(batch: int, spans: int) -> bytes:
    """A serialized traces request; span ids are unique per (batch, index)."""
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i in range(spans):
        span = scope.spans.add(name="op")
        span.trace_id = batch.to_bytes(16, "big")
        span.span_id = (batch * 1000 + i + 1).to_bytes(8, "big")
    return request.SerializeToString()


def span_ids(batch: int, spans: int) -> set[str]:
    return {(batch * 1000 + i + 1).to_bytes(8, "big").hex() for i in range(spans)}


def post_traces(port: int, body: bytes) -> int:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/traces",
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-protobuf"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"collector did not listen on {port}")


def echo_main(argv: list[str]) -> int:
    """A delegate target for the CLI tests: prints its arguments, returns 3."""
    print(" ".join(argv))
    return 3


def main() -> int:
    """`python rw_testcomponents.py run --config X`: the CLI with the test components."""
    from routewatch.collector.cli import main as cli_main

    return cli_main(sys.argv[1:], registry=make_registry())


if __name__ == "__main__":
    sys.exit(main())


class StubHost:
    """A Host holding given extensions (for tests that run one component alone)."""

    def __init__(self, extensions: dict[str, Any] | None = None) -> None:
        self._extensions = {ComponentID.parse(k): v for k, v in (extensions or {}).items()}

    def get_extension(self, id: ComponentID) -> Any:
        return self._extensions.get(id)


def settings(id: str, kind: Kind, telemetry: Telemetry | None = None, **kw: Any) -> CreateSettings:
    return CreateSettings(ComponentID.parse(id), kind, telemetry or Telemetry(), **kw)
