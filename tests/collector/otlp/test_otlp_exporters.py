"""The `otlp` (gRPC) and `otlp_http` exporters against real servers: the shared OTLP/gRPC sink
(faults injected there), our own receiver (RetryInfo, TLS, auth), and a small OTLP/HTTP sink
that answers what each test scripts (429 + Retry-After, 400, 503, partial success)."""

from __future__ import annotations

import datetime
import gzip
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiohttp import web
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from otlp_testkit import (
    Recorder,
    SdkData,
    StartReceiver,
    component_config,
    self_signed_cert,
    settings_for,
)
from support.otlp_sink import otlp_sink
from support.ports import free_port

from routewatch.collector import otlpjson
from routewatch.collector.component import Kind, Signal
from routewatch.collector.confmap import decode
from routewatch.collector.errors import (
    ConfigError,
    PermanentError,
    RetryableError,
    ThrottledError,
)
from routewatch.collector.exporterhelper.exporter import Exporter
from routewatch.collector.exporters.otlp import factory as otlp_factory
from routewatch.collector.exporters.otlp_http import factory as http_factory
from routewatch.collector.exporters.otlp_http.otlp_http import OtlpHttpClient


async def make_exporter(module: Any, signal: Signal, raw: dict[str, Any]) -> Exporter:
    factory = module.FACTORY
    config = component_config(factory, raw)
    exporter: Exporter = factory.create[signal](
        settings_for(Kind.EXPORTER, factory.type), config, None
    )
    await exporter.start(None)  # type: ignore[arg-type]
    return exporter


@pytest.fixture
async def exporters() -> AsyncIterator[list[Exporter]]:
    made: list[Exporter] = []
    yield made
    for exporter in made:
        await exporter.shutdown()


# --- otlp (gRPC) -----------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["gzip", "none"])
async def test_otlp_exporter_delivers_every_signal_unchanged(
    sdk_data: SdkData, exporters: list[Exporter], compression: str
) -> None:
    with otlp_sink() as sink:
        for signal in Signal:
            exporter = await make_exporter(
                otlp_factory,
                signal,
                {"endpoint": sink.endpoint, "tls": {"insecure": True}, "compression": compression},
            )
            exporters.append(exporter)
            await exporter.consume(sdk_data.requests[signal])
        assert sink.traces == [sdk_data.requests[Signal.TRACES]]
        assert sink.metrics == [sdk_data.requests[Signal.METRICS]]
        assert sink.logs == [sdk_data.requests[Signal.LOGS]]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (grpc.StatusCode.UNAVAILABLE, RetryableError),
        (grpc.StatusCode.DEADLINE_EXCEEDED, RetryableError),
        (grpc.StatusCode.ABORTED, RetryableError),
        (grpc.StatusCode.INVALID_ARGUMENT, PermanentError),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, PermanentError),  # no RetryInfo: permanent
        (grpc.StatusCode.PERMISSION_DENIED, PermanentError),
        (grpc.StatusCode.UNIMPLEMENTED, PermanentError),
    ],
)
async def test_otlp_exporter_maps_status_codes(
    sdk_data: SdkData, exporters: list[Exporter], code: grpc.StatusCode, error: type[Exception]
) -> None:
    request = sdk_data.requests[Signal.TRACES]
    with otlp_sink() as sink:
        exporter = await make_exporter(
            otlp_factory, Signal.TRACES, {"endpoint": f"http://{sink.endpoint}"}
        )
        exporters.append(exporter)
        sink.fail_with = code
        with pytest.raises(error) as caught:
            await exporter.consume(request)
        assert code.name in str(caught.value)
        assert not isinstance(caught.value, ThrottledError)
        if error is RetryableError:
            assert not isinstance(caught.value, PermanentError)
        sink.fail_with = None
        await exporter.consume(request)
        assert sink.traces == [request]


async def test_otlp_exporter_unreachable_endpoint_is_retryable(exporters: list[Exporter]) -> None:
    exporter = await make_exporter(
        otlp_factory,
        Signal.TRACES,
        {"endpoint": f"127.0.0.1:{free_port()}", "tls": {"insecure": True}, "timeout": "2s"},
    )
    exporters.append(exporter)
    with pytest.raises(RetryableError):
        await exporter.consume(ExportTraceServiceRequest(resource_spans=[{}]))


async def test_otlp_exporter_honours_retry_info_as_throttling(
    start_receiver: StartReceiver, sdk_data: SdkData, exporters: list[Exporter]
) -> None:
    recorder = Recorder()
    recorder.failures.append(RetryableError("queue full", retry_after=3.25))
    receiver = await start_receiver(recorder, grpc={})
    assert receiver.grpc is not None
    exporter = await make_exporter(
        otlp_factory, Signal.TRACES, {"endpoint": f"http://127.0.0.1:{receiver.grpc.port}"}
    )
    exporters.append(exporter)
    with pytest.raises(ThrottledError) as caught:
        await exporter.consume(sdk_data.requests[Signal.TRACES])
    assert caught.value.retry_after == 3.25
    await exporter.consume(sdk_data.requests[Signal.TRACES])
    assert recorder.received == [sdk_data.requests[Signal.TRACES]]


async def test_otlp_exporter_tls_ca_file_and_headers(
    start_receiver: StartReceiver, sdk_data: SdkData, exporters: list[Exporter], tmp_path: Path
) -> None:
    cert, key = self_signed_cert(tmp_path)
    recorder = Recorder()
    receiver = await start_receiver(
        recorder,
        grpc={
            "tls": {"cert_file": str(cert), "key_file": str(key)},
            "auth": {"bearer_token": "tok"},
        },
    )
    assert receiver.grpc is not None
    endpoint = f"localhost:{receiver.grpc.port}"
    good = await make_exporter(
        otlp_factory,
        Signal.LOGS,
        {
            "endpoint": endpoint,
            "tls": {"ca_file": str(cert)},
            "headers": {"Authorization": "Bearer tok"},
        },
    )
    exporters.append(good)
    await good.consume(sdk_data.requests[Signal.LOGS])
    assert recorder.received == [sdk_data.requests[Signal.LOGS]]
    bad = await make_exporter(
        otlp_factory,
        Signal.LOGS,
        {
            "endpoint": endpoint,
            "tls": {"ca_file": str(cert)},
            "headers": {"Authorization": "Bearer no"},
        },
    )
    exporters.append(bad)
    with pytest.raises(PermanentError, match="UNAUTHENTICATED"):
        await bad.consume(sdk_data.requests[Signal.LOGS])


def test_otlp_exporter_alias_and_config_errors() -> None:
    assert otlp_factory.FACTORY.type == "otlp"
    assert otlp_factory.FACTORY_GRPC_ALIAS.type == "otlp_grpc"
    assert set(otlp_factory.FACTORY_GRPC_ALIAS.create) == set(Signal)
    default = otlp_factory.create_default_config()
    assert default.compression == "gzip"
    with pytest.raises(ConfigError, match=r'exporters::otlp: requires a non-empty "endpoint"'):
        decode(type(default), {}, "exporters::otlp", default)
    with pytest.raises(ConfigError, match=r"exporters::otlp: compression: unsupported 'br'"):
        decode(type(default), {"endpoint": "x:1", "compression": "br"}, "exporters::otlp", default)
    with pytest.raises(ConfigError, match=r"exporters::otlp: has invalid keys: endpiont"):
        decode(type(default), {"endpiont": "x:1"}, "exporters::otlp", default)


# --- otlp_http -------------------------------------------------------------------------------


@dataclass
class HttpSink:
    """An OTLP/HTTP server answering from a script; records every request."""

    url: str = ""
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    # (status, headers, body) answered in order; then 200 with an empty response.
    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.headers), await request.read()))
        if self.script:
            status, headers, body = self.script.pop(0)
            return web.Response(status=status, headers=headers, body=body)
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(),
            content_type="application/x-protobuf",
        )

    def bodies(self) -> list[bytes]:
        out = []
        for _, headers, body in self.requests:
            out.append(gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body)
        return out


@pytest.fixture
async def http_sink() -> AsyncIterator[HttpSink]:
    sink = HttpSink()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", sink.handle)
    runner = web.AppRunner(app, auto_decompress=False)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sink.url = f"http://127.0.0.1:{port}"
    yield sink
    await runner.cleanup()


@pytest.mark.parametrize("encoding", ["proto", "json"])
@pytest.mark.parametrize("compression", ["gzip", "none"])
async def test_otlp_http_exporter_sends_each_signal_to_its_path(
    http_sink: HttpSink,
    sdk_data: SdkData,
    exporters: list[Exporter],
    encoding: str,
    compression: str,
) -> None:
    for signal in Signal:
        exporter = await make_exporter(
            http_factory,
            signal,
            {
                "endpoint": http_sink.url + "/base/",
                "encoding": encoding,
                "compression": compression,
                "headers": {"X-Scope-OrgID": "acme"},
            },
        )
        exporters.append(exporter)
        await exporter.consume(sdk_data.requests[signal])
    paths = [path for path, _, _ in http_sink.requests]
    assert paths == ["/base/v1/traces", "/base/v1/metrics", "/base/v1/logs"]
    for (_, headers, _), signal, body in zip(
        http_sink.requests, Signal, http_sink.bodies(), strict=True
    ):
        assert headers["X-Scope-OrgID"] == "acme"
        want = sdk_data.requests[signal]
        if encoding == "proto":
            assert headers["Content-Type"] == "application/x-protobuf"
            assert type(want).FromString(body) == want
        else:
            assert headers["Content-Type"] == "application/json"
            assert otlpjson.decode(body, type(want)) == want
        assert (headers.get("Content-Encoding") == "gzip") == (compression == "gzip")


async def test_otlp_http_exporter_signal_endpoint_is_used_as_is(
    http_sink: HttpSink, sdk_data: SdkData, exporters: list[Exporter]
) -> None:
    exporter = await make_exporter(
        http_factory,
        Signal.TRACES,
        {"endpoint": http_sink.url, "traces_endpoint": http_sink.url + "/custom/t"},
    )
    exporters.append(exporter)
    await exporter.consume(sdk_data.requests[Signal.TRACES])
    assert http_sink.requests[0][0] == "/custom/t"


def _status_body(code: int, message: str) -> bytes:
    return status_pb2.Status(code=code, message=message).SerializeToString()


PROTO = {"Content-Type": "application/x-protobuf"}


@pytest.mark.parametrize(
    ("answer", "error", "delay"),
    [
        ((429, {"Retry-After": "7", **PROTO}, _status_body(8, "slow down")), ThrottledError, 7.0),
        ((503, {"Retry-After": "2"}, b""), ThrottledError, 2.0),
        ((503, {}, b"overloaded"), RetryableError, None),
        ((502, {}, b""), RetryableError, None),
        ((504, {}, b""), RetryableError, None),
        ((400, PROTO, _status_body(3, "bad span")), PermanentError, None),
        ((401, {}, b"no"), PermanentError, None),
        ((404, {}, b""), PermanentError, None),
        ((500, {}, b""), PermanentError, None),
    ],
)
async def test_otlp_http_exporter_maps_statuses(
    http_sink: HttpSink,
    sdk_data: SdkData,
    exporters: list[Exporter],
    answer: tuple[int, dict[str, str], bytes],
    error: type[Exception],
    delay: float | None,
) -> None:
    http_sink.script.append(answer)
    exporter = await make_exporter(http_factory, Signal.TRACES, {"endpoint": http_sink.url})
    exporters.append(exporter)
    with pytest.raises(error) as caught:
        await exporter.consume(sdk_data.requests[Signal.TRACES])
    assert f"HTTP Status Code {answer[0]}" in str(caught.value)
    if error is RetryableError:
        assert not isinstance(caught.value, ThrottledError)
    if delay is not None:
        assert isinstance(caught.value, ThrottledError)
        assert caught.value.retry_after == delay
    if answer[0] == 400:
        assert "bad span" in str(caught.value)
    await exporter.consume(sdk_data.requests[Signal.TRACES])  # the next one goes through


async def test_otlp_http_retry_after_as_http_date(http_sink: HttpSink, sdk_data: SdkData) -> None:
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    later = "Fri, 02 Jan 2026 03:04:35 GMT"  # 30 s after `now`
    http_sink.script.append((503, {"Retry-After": later}, b""))
    config = component_config(http_factory.FACTORY, {"endpoint": http_sink.url})
    client = OtlpHttpClient(
        settings_for(Kind.EXPORTER, "otlp_http"), config, Signal.TRACES, clock=now.timestamp
    )
    await client.start()
    try:
        with pytest.raises(ThrottledError) as caught:
            await client.push(sdk_data.requests[Signal.TRACES])
    finally:
        await client.shutdown()
    assert caught.value.retry_after == 30.0


async def test_otlp_http_exporter_logs_partial_success(
    http_sink: HttpSink,
    sdk_data: SdkData,
    exporters: list[Exporter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    partial = ExportTraceServiceResponse(
        partial_success={"rejected_spans": 1, "error_message": "too old"}
    )
    http_sink.script.append((200, {"Content-Type": "application/json"}, otlpjson.encode(partial)))
    exporter = await make_exporter(http_factory, Signal.TRACES, {"endpoint": http_sink.url})
    exporters.append(exporter)
    with caplog.at_level(logging.WARNING):
        await exporter.consume(sdk_data.requests[Signal.TRACES])
    assert "partial success: 1 rejected: too old" in caplog.text


async def test_otlp_http_exporter_unreachable_is_retryable(exporters: list[Exporter]) -> None:
    exporter = await make_exporter(
        http_factory, Signal.TRACES, {"endpoint": f"http://127.0.0.1:{free_port()}"}
    )
    exporters.append(exporter)
    with pytest.raises(RetryableError, match="failed to make an HTTP request"):
        await exporter.consume(ExportTraceServiceRequest())


async def test_otlp_http_exporter_into_our_receiver(
    start_receiver: StartReceiver, sdk_data: SdkData, exporters: list[Exporter]
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={})
    assert receiver.http is not None
    for signal in Signal:
        for encoding in ("proto", "json"):
            exporter = await make_exporter(
                http_factory,
                signal,
                {"endpoint": f"http://127.0.0.1:{receiver.http.port}", "encoding": encoding},
            )
            exporters.append(exporter)
            await exporter.consume(sdk_data.requests[signal])
    want = [sdk_data.requests[s] for s in Signal for _ in range(2)]
    assert recorder.received == want


def test_otlp_http_config_errors() -> None:
    default = http_factory.create_default_config()
    assert (default.encoding, default.compression) == ("proto", "gzip")
    with pytest.raises(ConfigError, match="at least one endpoint must be specified"):
        decode(type(default), {}, "exporters::otlp_http", default)
    with pytest.raises(ConfigError, match="endpoint: invalid URL 'localhost:4318'"):
        decode(type(default), {"endpoint": "localhost:4318"}, "exporters::otlp_http", default)
    with pytest.raises(ConfigError, match=r"exporters::otlp_http::encoding: invalid value 'xml'"):
        decode(
            type(default),
            {"endpoint": "http://x", "encoding": "xml"},
            "exporters::otlp_http",
            default,
        )


async def test_mutual_tls_both_exporters_into_our_receiver(
    start_receiver: StartReceiver, sdk_data: SdkData, exporters: list[Exporter], tmp_path: Path
) -> None:
    cert, key = self_signed_cert(tmp_path)
    tls = {"cert_file": str(cert), "key_file": str(key), "client_ca_file": str(cert)}
    recorder = Recorder()
    receiver = await start_receiver(recorder, grpc={"tls": tls}, http={"tls": tls})
    assert receiver.grpc is not None and receiver.http is not None
    client_tls = {"ca_file": str(cert), "cert_file": str(cert), "key_file": str(key)}
    grpc_endpoint = f"localhost:{receiver.grpc.port}"
    http_endpoint = f"https://localhost:{receiver.http.port}"
    request = sdk_data.requests[Signal.METRICS]
    for module, endpoint in ((otlp_factory, grpc_endpoint), (http_factory, http_endpoint)):
        exporter = await make_exporter(
            module, Signal.METRICS, {"endpoint": endpoint, "tls": client_tls}
        )
        exporters.append(exporter)
        await exporter.consume(request)
        # Without a client certificate the handshake fails: retryable, nothing delivered.
        anonymous = await make_exporter(
            module, Signal.METRICS, {"endpoint": endpoint, "tls": {"ca_file": str(cert)}}
        )
        exporters.append(anonymous)
        with pytest.raises(RetryableError):
            await anonymous.consume(request)
    assert recorder.received == [request, request]


def test_otlp_exporter_refuses_insecure_skip_verify() -> None:
    default = otlp_factory.create_default_config()
    with pytest.raises(ConfigError, match="exporters::otlp: tls: insecure_skip_verify is not"):
        decode(
            type(default),
            {"endpoint": "x:1", "tls": {"insecure_skip_verify": True}},
            "exporters::otlp",
            default,
        )
