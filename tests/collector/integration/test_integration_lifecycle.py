"""The running collector's lifecycle as an operator sees it: health 503 while starting and while
shutting down, 200 with the Go collector's body when up; SIGTERM stops the receivers, drains the
batch and the queues, and flushes."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from rw_collector_proc import Collector, get, metric, otlp_receiver, post, wait_until
from support.otlp_sink import otlp_sink
from support.ports import free_port


def _request(first_id: int, spans: int) -> bytes:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i in range(spans):
        span = scope.spans.add(name="op")
        span.trace_id = b"\1" * 16
        span.span_id = (first_id + i).to_bytes(8, "big")
    return request.SerializeToString()


def _pipeline(http_port: int, sink_endpoint: str, **exporter: Any) -> dict[str, Any]:
    return {
        "receivers": {"otlp": otlp_receiver(http_port=http_port)},
        # A long timeout and a big batch: what is sent sits in the batch until shutdown.
        "processors": {"batch": {"timeout": "60s", "send_batch_size": 100_000}},
        "exporters": {"otlp": {"endpoint": sink_endpoint, "tls": {"insecure": True}, **exporter}},
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["otlp"]}
            }
        },
    }


def test_health_is_503_while_starting_then_200_with_the_go_body(tmp_path: Path) -> None:
    doc = _pipeline(free_port(), "127.0.0.1:1")
    doc["extensions"] = {"gate": {}}
    doc["service"]["extensions"] = ["gate"]
    with Collector(tmp_path, doc) as collector:
        collector.start(gated=True, wait=False)  # health_check starts, the gate waits
        wait_until(lambda: get(collector.health_url + "/")[0] != 0, what="health endpoint")
        status, body = get(collector.health_url + "/")
        assert status == 503
        assert json.loads(body)["status"] == "Server not available"
        assert get(collector.health_url + "/ready")[0] == 503
        assert collector.proc is not None
        collector.proc.send_signal(signal.SIGUSR1)  # the gate opens
        wait_until(lambda: get(collector.health_url + "/")[0] == 200, what="healthy")
        status, body = get(collector.health_url + "/")
        doc = json.loads(body)
        assert doc["status"] == "Server available"
        assert doc["upSince"].endswith("Z") and doc["uptime"].endswith("s")
        assert collector.stop() == 0


def test_sigterm_drains_the_batch_into_the_downstream(tmp_path: Path) -> None:
    http_port = free_port()
    with otlp_sink() as sink:
        with Collector(tmp_path, _pipeline(http_port, sink.endpoint)) as collector:
            collector.start()
            url = f"http://127.0.0.1:{http_port}/v1/traces"
            for n in range(5):
                assert post(url, _request(100 * n + 1, 20))[0] == 200
            text = collector.metrics()
            assert metric(text, "otelcol_receiver_accepted_spans", transport="http") == 100
            assert sink.span_count() == 0  # all of it is in the batch
            assert collector.stop() == 0
        assert sink.span_count() == 100
        assert len({span.span_id for span in sink.spans()}) == 100
    assert "Traceback" not in collector.log()


def test_health_is_503_while_shutting_down(tmp_path: Path) -> None:
    """Downstream down, one request queued and retrying: the bounded drain is the window."""
    http_port = free_port()
    doc = _pipeline(
        http_port,
        "127.0.0.1:1",
        retry_on_failure={"initial_interval": "50ms", "max_elapsed_time": 0},
    )
    doc["processors"]["batch"] = {"timeout": "10ms"}
    with Collector(tmp_path, doc) as collector:
        collector.start("--shutdown-timeout", "2s")
        assert post(f"http://127.0.0.1:{http_port}/v1/traces", _request(1, 3))[0] == 200
        assert collector.proc is not None
        collector.proc.terminate()
        seen = []
        while collector.proc.poll() is None and 503 not in seen:
            seen.append(get(collector.health_url + "/", timeout=1)[0])
        assert 503 in seen, seen
        assert collector.stop() == 0
    # The undelivered in-memory request is dropped, and said so.
    assert "dropped 1 request(s), 3 item(s): the collector shut down" in collector.log()
