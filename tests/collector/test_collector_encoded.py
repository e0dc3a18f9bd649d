"""Requests as wire bytes (`Encoded`): from the otlp receiver through batch to the otlp
exporters without re-encoding, and messages for every consumer that does not take bytes.

The payloads sent are deliberately not in protobuf's canonical field order, so that bytes
arriving unchanged prove nothing parsed and re-serialized them on the way.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans
from rw_testcomponents import Recorder, StubHost, make_registry, metrics, settings, traces
from support.ports import free_port

from routewatch.collector.clock import FakeClock
from routewatch.collector.component import (
    ComponentID,
    Data,
    Encoded,
    Kind,
    Signal,
    accepts_encoded,
    deliver,
)
from routewatch.collector.config import resolve
from routewatch.collector.errors import PermanentError, RetryableError
from routewatch.collector.exporterhelper import ExporterHelperConfig, new_exporter
from routewatch.collector.exporterhelper.config import QueueConfig, RetryConfig
from routewatch.collector.exporterhelper.exporter import Exporter
from routewatch.collector.extensions.file_storage.config import FileStorageConfig
from routewatch.collector.extensions.file_storage.file_storage import FileStorage
from routewatch.collector.obsreport import count_items
from routewatch.collector.processors.batch.batch import BatchProcessor
from routewatch.collector.processors.batch.config import BatchConfig
from routewatch.collector.processors.batch.split import merge
from routewatch.collector.processors.memory_limiter.config import MemoryLimiterConfig
from routewatch.collector.processors.memory_limiter.memory_limiter import MemoryLimiter
from routewatch.collector.service import Service
from routewatch.collector.service.fanout import Fanout, SignalRouter

TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
TRACE_METHOD = f"/{TRACE_SERVICE}/Export"

# -- payloads ----------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def wire_traces(spans: int, name: str, resources: int = 1) -> bytes:
    """An ExportTraceServiceRequest whose resource_spans carry scope_spans (field 2) before
    resource (field 1): valid protobuf that no serializer writes."""
    out = b""
    for rs in traces(spans, resources=resources, name=name).resource_spans:
        scopes = ResourceSpans(scope_spans=rs.scope_spans).SerializeToString()
        resource = ResourceSpans(resource=rs.resource).SerializeToString()
        out += _len_field(1, scopes + resource)
    return out


def encoded(spans: int, name: str, resources: int = 1) -> Encoded:
    return Encoded(Signal.TRACES, wire_traces(spans, name, resources), spans)


def test_payloads_are_not_canonical() -> None:
    payload = wire_traces(2, "a")
    message = ExportTraceServiceRequest.FromString(payload)
    assert count_items(Signal.TRACES, message) == 2
    assert message.SerializeToString() != payload


def test_decode_returns_a_new_message_each_call() -> None:
    e = encoded(2, "a")
    first, second = e.decode(), e.decode()
    assert first == second and first is not second
    first.resource_spans.add()
    assert len(e.decode().resource_spans) == 1


# -- real servers downstream -------------------------------------------------------------------


class RawGrpcSink:
    """An OTLP/gRPC trace server that records the request bytes exactly as they arrive."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.arrived = asyncio.Event()
        self.server = grpc.aio.server()
        self.endpoint = ""

    async def start(self) -> None:
        async def handle(raw: bytes, context: Any) -> bytes:
            self.received.append(raw)
            self.arrived.set()
            return b""  # an empty ExportTraceServiceResponse

        handler = grpc.unary_unary_rpc_method_handler(handle)
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(TRACE_SERVICE, {"Export": handler}),)
        )
        port = self.server.add_insecure_port("127.0.0.1:0")
        await self.server.start()
        self.endpoint = f"127.0.0.1:{port}"

    async def wait(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


class RawHttpSink:
    """An OTLP/HTTP trace endpoint that records bodies and their Content-Encoding."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        self.arrived = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), request.headers.get("Content-Encoding", "")))
        self.arrived.set()
        return web.Response(body=b"", content_type="application/x-protobuf")


@pytest.fixture
async def grpc_sink() -> AsyncIterator[RawGrpcSink]:
    sink = RawGrpcSink()
    await sink.start()
    yield sink
    await sink.server.stop(None)


@pytest.fixture
async def http_sink() -> AsyncIterator[RawHttpSink]:
    sink = RawHttpSink()
    app = web.Application()
    app.router.add_post("/v1/traces", sink.handle)
    runner = web.AppRunner(app, access_log=None, auto_decompress=False)  # the body as sent
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sink.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield sink
    await runner.cleanup()


def _service(doc: dict[str, Any]) -> Service:
    doc.setdefault("service", {})["telemetry"] = {"metrics": {"level": "none"}}
    return Service(resolve(doc, make_registry()))


async def _send_grpc(endpoint: str, payload: bytes) -> None:
    async with grpc.aio.insecure_channel(endpoint) as channel:
        await channel.unary_unary(TRACE_METHOD)(payload, timeout=10)


async def _send_http(endpoint: str, payload: bytes) -> None:
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://{endpoint}/v1/traces", data=gzip.compress(payload), headers=headers
        ) as resp,
    ):
        assert resp.status == 200, await resp.text()


# -- end to end --------------------------------------------------------------------------------


async def test_receiver_batch_otlp_exporter_forward_the_bytes_received(
    grpc_sink: RawGrpcSink,
) -> None:
    grpc_endpoint, http_endpoint = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    service = _service(
        {
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": grpc_endpoint},
                        "http": {"endpoint": http_endpoint},
                    }
                }
            },
            # Sent when the third request is in; the timeout never fires within the test.
            "processors": {"batch": {"send_batch_size": 6, "timeout": "1h"}},
            "exporters": {
                "otlp": {
                    "endpoint": grpc_sink.endpoint,
                    "tls": {"insecure": True},
                    "compression": "none",
                }
            },
            "service": {
                "pipelines": {
                    "traces": {
                        "receivers": ["otlp"],
                        "processors": ["batch"],
                        "exporters": ["otlp"],
                    }
                }
            },
        }
    )
    await service.start()
    payloads = [wire_traces(2, "g1", resources=2), wire_traces(2, "h2"), wire_traces(2, "g3")]
    await _send_grpc(grpc_endpoint, payloads[0])
    await _send_http(http_endpoint, payloads[1])  # gzip on the wire; its inflated bytes go on
    await _send_grpc(grpc_endpoint, payloads[2])
    await grpc_sink.wait(1)
    await service.shutdown()
    assert grpc_sink.received == [b"".join(payloads)]
    telemetry = service.telemetry
    grpc_labels = {"receiver": "otlp", "transport": "grpc"}
    assert telemetry.value("otelcol_receiver_accepted_spans", grpc_labels) == 4
    http_labels = {"receiver": "otlp", "transport": "http"}
    assert telemetry.value("otelcol_receiver_accepted_spans", http_labels) == 2
    assert telemetry.value("otelcol_exporter_sent_spans", {"exporter": "otlp"}) == 6
    batch = {"processor": "batch"}
    assert telemetry.value("otelcol_processor_batch_batch_send_size_sum", batch) == 6


async def test_fanout_gives_bytes_to_otlp_and_messages_to_the_others(
    grpc_sink: RawGrpcSink,
) -> None:
    """One receiver, two pipelines: the otlp exporter gets the bytes, the `record` exporter
    (whose push takes messages) and a connector that reads the data get messages."""
    endpoint = f"127.0.0.1:{free_port()}"
    no_queue = {"sending_queue": {"enabled": False}, "retry_on_failure": {"enabled": False}}
    service = _service(
        {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": endpoint}}}},
            "exporters": {
                "otlp": {
                    "endpoint": grpc_sink.endpoint,
                    "tls": {"insecure": True},
                    "compression": "none",
                    **no_queue,
                },
                "record": no_queue,
                "record/after_connector": no_queue,
            },
            "connectors": {"to_logs": {}},
            "service": {
                "pipelines": {
                    "traces": {"receivers": ["otlp"], "exporters": ["otlp", "record", "to_logs"]},
                    "traces/copy": {
                        "receivers": ["to_logs"],
                        "exporters": ["record/after_connector"],
                    },
                }
            },
        }
    )
    await service.start()
    payload = wire_traces(3, "fan")
    await _send_grpc(endpoint, payload)
    await service.shutdown()
    assert grpc_sink.received == [payload]
    expected = ExportTraceServiceRequest.FromString(payload)
    for id in ("record", "record/after_connector"):
        exporter = service.graph.exporters[(ComponentID.parse(id), Signal.TRACES)]
        assert exporter.recorder.received == [expected]


async def test_otlp_http_exporter_posts_the_bytes_gzipped(http_sink: RawHttpSink) -> None:
    exporter_config = {"endpoint": http_sink.url, "compression": "gzip"}
    endpoint = f"127.0.0.1:{free_port()}"
    service = _service(
        {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": endpoint}}}},
            "processors": {"batch": {"send_batch_size": 4, "timeout": "1h"}},
            "exporters": {"otlp_http": exporter_config},
            "service": {
                "pipelines": {
                    "traces": {
                        "receivers": ["otlp"],
                        "processors": ["batch"],
                        "exporters": ["otlp_http"],
                    }
                }
            },
        }
    )
    await service.start()
    payloads = [wire_traces(2, "a"), wire_traces(2, "b")]
    for payload in payloads:
        await _send_grpc(endpoint, payload)
    async with asyncio.timeout(10):
        await http_sink.arrived.wait()
    await service.shutdown()
    [(body, encoding)] = http_sink.received
    assert encoding == "gzip"
    assert gzip.decompress(body) == b"".join(payloads)


# -- forms through fan-out, routing and memory_limiter -----------------------------------------


class BytesTaker:
    """Takes `Encoded`; records what it got in which form."""

    def __init__(self) -> None:
        self.got: list[Data | Encoded] = []

    async def consume(self, data: Data) -> None:
        self.got.append(data)

    async def consume_encoded(self, encoded: Encoded) -> None:
        self.got.append(encoded)


class MessageTaker:
    """Takes messages only, as any consumer that reads or mutates data."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.got: list[Data] = []
        self.fail = fail

    async def consume(self, data: Data) -> None:
        if self.fail is not None:
            raise self.fail
        self.got.append(data)


async def test_deliver_picks_the_form_each_consumer_takes() -> None:
    e = encoded(2, "d")
    message = e.decode()
    taker, reader = BytesTaker(), MessageTaker()
    assert accepts_encoded(taker) and not accepts_encoded(reader)
    await deliver(taker, message, e)
    await deliver(reader, message, e)
    await deliver(reader, None, e)
    assert taker.got == [e]
    assert reader.got[0] is message  # the parsed message at hand, not parsed again
    assert reader.got[1] == message and reader.got[1] is not message


async def test_fanout_decodes_once_for_every_message_consumer() -> None:
    bytes_taker, reader_a, reader_b = BytesTaker(), MessageTaker(), MessageTaker()
    fan = Fanout([bytes_taker, reader_a, reader_b])
    assert fan.needs_message
    e = encoded(2, "f")
    await fan.consume_encoded(e)
    assert bytes_taker.got == [e]
    assert reader_a.got == [e.decode()]
    assert reader_a.got[0] is reader_b.got[0]
    # Given a message only (a JSON request), every consumer gets it.
    message = e.decode()
    await fan.consume(message)
    assert bytes_taker.got[1] is message and reader_a.got[1] is message


async def test_fanout_of_byte_takers_parses_nothing_and_keeps_error_rules() -> None:
    fan = Fanout([BytesTaker(), BytesTaker()])
    assert not fan.needs_message
    wrapped = Fanout([fan, MessageTaker(fail=PermanentError("bad"))])
    assert wrapped.needs_message
    with pytest.raises(PermanentError, match="bad"):
        await wrapped.consume_encoded(encoded(1, "x"))
    assert [len(t.got) for t in fan.consumers] == [1, 1]


async def test_signal_router_routes_bytes_by_signal() -> None:
    traces_taker, metrics_reader = BytesTaker(), MessageTaker()
    router = SignalRouter({Signal.TRACES: traces_taker, Signal.METRICS: metrics_reader})
    e = encoded(1, "r")
    await router.consume_encoded(e)
    m = Encoded(Signal.METRICS, metrics(["m"], points=2).SerializeToString(), 2)
    await router.consume_encoded(m)
    assert traces_taker.got == [e]
    assert metrics_reader.got == [m.decode()]
    logs_only = SignalRouter({Signal.LOGS: BytesTaker()})
    with pytest.raises(PermanentError, match="no pipeline takes traces"):
        await logs_only.consume_encoded(e)


async def test_memory_limiter_passes_bytes_and_refuses_counting_items() -> None:
    taker = BytesTaker()
    limiter = MemoryLimiter(
        settings("memory_limiter", Kind.PROCESSOR),
        MemoryLimiterConfig(limit_mib=100),
        taker,
        FakeClock(),
        measure_rss=lambda: 0,
    )
    e = encoded(3, "m")
    await deliver(limiter, e.decode(), e)
    assert taker.got == [e]
    assert not limiter.needs_message
    limiter.refusing = True
    with pytest.raises(RetryableError, match="high memory usage"):
        await limiter.consume_encoded(e)
    telemetry = limiter._settings.telemetry
    labels = {"processor": "memory_limiter"}
    assert telemetry.value("otelcol_processor_refused_spans", labels) == 3


# -- batch -------------------------------------------------------------------------------------


async def _batch(consumer: Any, **cfg: Any) -> tuple[BatchProcessor, FakeClock]:
    clock = FakeClock()
    processor = BatchProcessor(
        settings("batch", Kind.PROCESSOR), BatchConfig(**cfg), Signal.TRACES, consumer, clock
    )
    await processor.start(StubHost())
    return processor, clock


async def test_batch_sends_the_concatenation_which_equals_the_merge() -> None:
    taker = BytesTaker()
    processor, _ = await _batch(taker, send_batch_size=6)
    parts = [encoded(2, "a", resources=2), encoded(1, "b"), encoded(3, "c")]
    for part in parts:
        await processor.consume_encoded(part)
    [sent] = taker.got
    assert isinstance(sent, Encoded)
    assert sent.payload == b"".join(p.payload for p in parts) and sent.items == 6
    assert sent.decode() == merge([p.decode() for p in parts])
    await processor.shutdown()


async def test_batch_refuses_bytes_of_another_signal() -> None:
    processor, _ = await _batch(BytesTaker())
    wrong = Encoded(Signal.METRICS, metrics(["m"]).SerializeToString(), 1)
    with pytest.raises(PermanentError, match="batches traces, not metrics"):
        await processor.consume_encoded(wrong)
    assert processor.pending == 0
    await processor.shutdown()


async def test_batch_gives_a_message_consumer_the_merged_message() -> None:
    reader = MessageTaker()
    processor, _ = await _batch(reader, send_batch_size=4)
    parts = [encoded(2, "a"), encoded(2, "b")]
    for part in parts:
        await processor.consume_encoded(part)
    assert reader.got == [merge([p.decode() for p in parts])]
    await processor.shutdown()


async def test_batch_with_bytes_and_messages_merges_messages_in_order() -> None:
    taker = BytesTaker()
    processor, _ = await _batch(taker, send_batch_size=5)
    await processor.consume_encoded(encoded(2, "first"))
    await processor.consume(traces(1, name="second"))
    await processor.consume_encoded(encoded(2, "third"))
    [sent] = taker.got
    assert isinstance(sent, ExportTraceServiceRequest)
    names = [rs.scope_spans[0].spans[0].name for rs in sent.resource_spans]
    assert names == ["first", "second", "third"]
    await processor.shutdown()


async def test_batch_splits_bytes_over_the_max_size() -> None:
    taker = BytesTaker()
    processor, _ = await _batch(taker, send_batch_size=5, send_batch_max_size=7)
    await processor.consume_encoded(encoded(4, "a"))
    await processor.consume_encoded(encoded(12, "b", resources=3))
    sizes = [count_items(Signal.TRACES, m) for m in taker.got]
    assert sizes == [7, 7, 2]
    spans = [
        span.name for m in taker.got for rs in m.resource_spans for span in rs.scope_spans[0].spans
    ]
    assert spans == ["a"] * 4 + ["b"] * 12
    await processor.shutdown()


async def test_batch_with_zero_timeout_passes_bytes_through_or_splits() -> None:
    taker = BytesTaker()
    processor, _ = await _batch(taker, timeout=0, send_batch_max_size=3)
    small, large = encoded(2, "s"), encoded(5, "l")
    await processor.consume_encoded(small)
    await processor.consume_encoded(large)
    assert taker.got[0] is small
    assert [count_items(Signal.TRACES, m) for m in taker.got[1:]] == [3, 2]
    await processor.shutdown()


class FlakyBytesTaker(BytesTaker):
    def __init__(self, failures: list[Exception]) -> None:
        super().__init__()
        self.failures = failures

    async def consume_encoded(self, encoded: Encoded) -> None:
        if self.failures:
            raise self.failures.pop(0)
        await super().consume_encoded(encoded)


async def test_batch_holds_refused_bytes_and_sends_them_again() -> None:
    taker = FlakyBytesTaker([RetryableError("queue full")])
    processor, clock = await _batch(taker, send_batch_size=2, timeout=0.2)
    first = encoded(2, "held")
    await processor.consume_encoded(first)
    assert processor.pending == 2
    with pytest.raises(RetryableError, match="refused the last batch"):
        await processor.consume_encoded(encoded(1, "refused"))
    await clock.wait_for_sleepers(1)
    await clock.advance(0.2)
    assert taker.got == [first]
    await processor.shutdown()


async def test_batch_drops_permanently_refused_bytes_counting_items() -> None:
    taker = FlakyBytesTaker([PermanentError("invalid")])
    processor, _ = await _batch(taker, send_batch_size=3)
    await processor.consume_encoded(encoded(3, "x"))
    assert processor.pending == 0
    telemetry = processor._settings.telemetry
    assert telemetry.value("otelcol_processor_batch_dropped_items", {"processor": "batch"}) == 3
    await processor.shutdown()


# -- exporter helper ---------------------------------------------------------------------------


def _exporter(
    recorder: Recorder,
    accepts: bool,
    queue: QueueConfig | None = None,
    shutdown_timeout: float = 10.0,
) -> Exporter:
    config = ExporterHelperConfig(
        retry_on_failure=RetryConfig(enabled=False),
        sending_queue=queue or QueueConfig(num_consumers=1),
    )
    return new_exporter(
        settings("record", Kind.EXPORTER, shutdown_timeout=shutdown_timeout),
        config,
        Signal.TRACES,
        recorder.push,
        accepts_encoded=accepts,
    )


@pytest.mark.parametrize("accepts", [True, False])
async def test_exporter_pushes_bytes_only_when_it_accepts_them(accepts: bool) -> None:
    recorder = Recorder()
    exporter = _exporter(recorder, accepts)
    await exporter.start(StubHost())
    e = encoded(2, "q")
    await exporter.consume_encoded(e)
    await exporter.shutdown()
    assert recorder.received == ([e] if accepts else [e.decode()])
    telemetry = exporter.settings.telemetry
    assert telemetry.value("otelcol_exporter_sent_spans", {"exporter": "record"}) == 2


@pytest.mark.parametrize("accepts", [True, False])
async def test_exporter_given_both_forms_takes_the_one_its_push_wants(accepts: bool) -> None:
    recorder = Recorder()
    exporter = _exporter(recorder, accepts, QueueConfig(enabled=False))
    await exporter.start(StubHost())
    e = encoded(2, "both")
    message = e.decode()
    await deliver(exporter, message, e)
    await exporter.shutdown()
    assert recorder.received[0] is (e if accepts else message)


async def test_memory_queue_holds_bytes_at_their_size() -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    exporter = _exporter(recorder, True, QueueConfig(num_consumers=1, queue_size=4))
    await exporter.start(StubHost())
    first, second = encoded(2, "a"), encoded(3, "b")
    await exporter.consume_encoded(first)
    await exporter.consume_encoded(second)
    assert exporter.queued_bytes() == len(first.payload) + len(second.payload)
    recorder.gate.set()
    await exporter.shutdown()
    assert recorder.received == [first, second]
    assert exporter.queued_bytes() == 0


async def test_exporter_refuses_bytes_of_another_signal() -> None:
    exporter = _exporter(Recorder(), True)
    await exporter.start(StubHost())
    wrong = Encoded(Signal.METRICS, metrics(["m"]).SerializeToString(), 1)
    with pytest.raises(PermanentError, match="takes traces, not metrics"):
        await exporter.consume_encoded(wrong)
    await exporter.shutdown()


async def _persistent(
    directory: Path, recorder: Recorder, accepts: bool, **kw: Any
) -> tuple[Exporter, FileStorage]:
    storage = FileStorage(
        settings("file_storage", Kind.EXTENSION), FileStorageConfig(directory=str(directory))
    )
    host = StubHost({"file_storage": storage})
    await storage.start(host)
    queue = QueueConfig(num_consumers=1, storage="file_storage")
    exporter = _exporter(recorder, accepts, queue, **kw)
    await exporter.start(host)
    return exporter, storage


@pytest.mark.parametrize("accepts", [True, False])
async def test_persistent_queue_stores_the_bytes_and_replays_them(
    tmp_path: Path, accepts: bool
) -> None:
    down = Recorder()
    down.gate = asyncio.Event()  # the downstream hangs: nothing is delivered
    exporter, storage = await _persistent(tmp_path, down, True, shutdown_timeout=0.05)
    parts = [encoded(1, "one"), encoded(2, "two")]
    for part in parts:
        await exporter.consume_encoded(part)
    await exporter.shutdown()
    client = storage.client("record", "traces")
    stored = client.keys()
    assert [client.get(key) for key in stored] == [p.payload for p in parts]
    await storage.shutdown()

    up = Recorder()
    exporter, storage = await _persistent(tmp_path, up, accepts)
    await exporter.shutdown()  # drains the replayed queue
    assert [count_items(Signal.TRACES, r) for r in up.received] == [1, 2]
    names = [r.resource_spans[0].scope_spans[0].spans[0].name for r in up.received]
    assert names == ["one", "two"]
    assert storage.client("record", "traces").keys() == []
    await storage.shutdown()


async def test_persistent_queue_sends_the_bytes_it_stored_this_run(tmp_path: Path) -> None:
    recorder = Recorder()
    exporter, storage = await _persistent(tmp_path, recorder, True)
    e = encoded(2, "now")
    await exporter.consume_encoded(e)
    await exporter.shutdown()
    assert recorder.received == [e]
    await storage.shutdown()
