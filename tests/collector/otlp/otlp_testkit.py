"""Test kit of the OTLP tests: a recording consumer, component settings, and telemetry made
by the real OpenTelemetry SDK with the SDK's own OTLP encoding of it as the expected request."""

from __future__ import annotations

import datetime
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.rpc import status_pb2
from opentelemetry import trace as trace_api
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from routewatch.collector import otlpjson
from routewatch.collector.component import (
    ComponentID,
    CreateSettings,
    Data,
    Factory,
    Kind,
    Signal,
)
from routewatch.collector.receivers.otlp.otlp import OtlpReceiver
from routewatch.collector.telemetry import Telemetry

# `await start_receiver(consumer, grpc={...}, http={...})`: the conftest fixture.
StartReceiver = Callable[..., Awaitable[OtlpReceiver]]

RESOURCE = Resource.create({"service.name": "router", "deployment.environment.name": "test"})


class Recorder:
    """A Consumer that keeps what it gets; `failures` are raised by the next calls, in order."""

    def __init__(self) -> None:
        self.received: list[Data] = []
        self.failures: list[BaseException] = []
        self.calls = 0

    async def consume(self, data: Data) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.received.append(data)


def settings_for(kind: Kind, type_: str, name: str = "") -> CreateSettings:
    return CreateSettings(
        id=ComponentID(type_, name),
        kind=kind,
        telemetry=Telemetry(),
        logger=logging.getLogger(f"test.{type_}"),
    )


def make_spans() -> list[Any]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("routewatch.test", "1.2.3")
    with tracer.start_as_current_span(
        "route chat",
        kind=SpanKind.SERVER,
        attributes={
            "hybrid_routing.route": "direct",
            "hybrid_routing.attempt": 2,
            "ratio": 0.25,
            "ok": True,
            "tags": ["a", "b"],
            "counts": [1, 2, 3],
        },
    ) as root:
        root.add_event("decision", {"hybrid_routing.reason": "healthy"})
        other = trace_api.SpanContext(
            0x0102030405060708090A0B0C0D0E0F10, 0x1112131415161718, is_remote=True
        )
        with tracer.start_as_current_span(
            "chat claude", kind=SpanKind.CLIENT, links=[Link(other, {"link.kind": "retry"})]
        ) as child:
            child.set_status(Status(StatusCode.ERROR, "throttled"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def make_metrics() -> Any:
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader],
        resource=RESOURCE,
        views=[
            View(instrument_name="tokens.exp", aggregation=ExponentialBucketHistogramAggregation())
        ],
    )
    meter = provider.get_meter("routewatch.test", "1.2.3")
    counter = meter.create_counter("hybrid_routing.attempts")
    counter.add(3, {"hybrid_routing.route": "mcp"})
    counter.add(1, {"hybrid_routing.route": "direct"})
    meter.create_up_down_counter("inflight").add(-2)
    hist = meter.create_histogram("hybrid_routing.request.duration", unit="s")
    for v in (0.01, 0.2, 3.5):
        hist.record(v, {"hybrid_routing.route": "cache"})
    exp = meter.create_histogram("tokens.exp")
    for v in (1, 10, 100, 1000):
        exp.record(v)
    meter.create_gauge("temperature").set(21.5)
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


def make_logs() -> list[Any]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("routewatch.test", "1.2.3")
    logger.emit(
        LogRecord(
            timestamp=1_700_000_000_000_000_000,
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            body={"alertname": "HighLatency", "values": [1, 2.5, "x"]},
            attributes={"severity": "warning"},
        )
    )
    logger.emit(LogRecord(timestamp=1_700_000_000_000_000_001, body="plain"))
    provider.shutdown()
    return list(exporter.get_finished_logs())


class SdkData:
    """SDK telemetry and the OTLP requests the SDK encodes it to."""

    def __init__(self) -> None:
        self.spans = make_spans()
        self.metrics = make_metrics()
        self.logs = make_logs()
        self.requests: dict[Signal, Data] = {
            Signal.TRACES: encode_spans(self.spans),
            Signal.METRICS: encode_metrics(self.metrics),
            Signal.LOGS: encode_logs(self.logs),
        }


TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


async def post(
    receiver: OtlpReceiver,
    body: bytes,
    content_type: str = "application/x-protobuf",
    method: str = "POST",
    path: str = "/v1/traces",
    headers: dict[str, str] | None = None,
) -> tuple[int, str, bytes, Any]:
    assert receiver.http is not None
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.request(
            method,
            f"http://127.0.0.1:{receiver.http.port}{path}",
            data=body,
            headers={"Content-Type": content_type, **(headers or {})},
        ) as resp,
    ):
        return resp.status, resp.content_type, await resp.read(), resp.headers


def status_of(content_type: str, body: bytes) -> status_pb2.Status:
    if content_type == "application/json":
        return otlpjson.decode(body, status_pb2.Status)
    return status_pb2.Status.FromString(body)


async def grpc_call(
    receiver: OtlpReceiver,
    payload: bytes,
    method: str = TRACE_METHOD,
    compression: grpc.Compression | None = None,
) -> tuple[grpc.StatusCode, str, dict[str, Any]]:
    assert receiver.grpc is not None
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{receiver.grpc.port}",
        options=[("grpc.max_send_message_length", 64 * 1024 * 1024)],
    ) as channel:
        call = channel.unary_unary(method)(payload, compression=compression)
        try:
            await call
        except grpc.aio.AioRpcError as err:
            return err.code(), err.details() or "", dict(err.trailing_metadata() or ())
        return grpc.StatusCode.OK, "", dict(await call.trailing_metadata() or ())


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: (cert_file, key_file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        # Key usage and key identifiers: OpenSSL 3's strict verification (urllib3 2) wants them.
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "server.crt", directory / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


# Exporters under test send synchronously: with no sending queue and no retries, as in the Go
# exporterhelper, `consume` raises what `push` raised (whatever the helper's internals become).
SYNC_EXPORTER = {"sending_queue": {"enabled": False}, "retry_on_failure": {"enabled": False}}


def component_config(factory: Factory, raw: dict[str, Any]) -> Any:
    """`raw` (YAML) decoded over the factory's default config; exporters made synchronous."""
    from routewatch.collector.confmap import decode

    if factory.kind == Kind.EXPORTER:
        raw = {**SYNC_EXPORTER, **raw}
    default = factory.create_default_config()
    return decode(type(default), raw, f"{factory.kind}s::{factory.type}", default)
