"""The floor under the collector's CPU figure: a bare Python gRPC OTLP trace server.

A server that only parses each ExportTraceServiceRequest and answers, with grpc.aio (what the
otlp receiver uses) and with the thread-pool `grpc.server`, at a steady 10,000 spans/s sent
by a client in another process, for several request sizes. What `collector_throughput.py`
measures above this is routewatch's own cost; what this prints is the cost of Python gRPC
per request, which no receiver written on it avoids.

    .tools/bin/uv run --no-sync python benchmarks/grpc_server_floor.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time
from concurrent import futures
from pathlib import Path

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from collector_throughput import STEADY_RATE, loadgen  # (it puts tests/ on the path)
from support.ports import free_port

SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
RESPONSE = ExportTraceServiceResponse().SerializeToString()


def _parse(request: bytes, context: object) -> bytes:
    ExportTraceServiceRequest.FromString(request)
    return RESPONSE


async def _parse_async(request: bytes, context: object) -> bytes:
    return _parse(request, context)


def _handlers(handler: object) -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        SERVICE, {"Export": grpc.unary_unary_rpc_method_handler(handler)}
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _client(port: int, spans: int, seconds: float) -> subprocess.Popen[bytes]:
    """The load: collector_throughput's paced client, in its own process (its CPU is not
    counted)."""
    return loadgen(f"127.0.0.1:{port}", "traces", seconds, STEADY_RATE, 1, spans)


def measure_sync(spans: int, seconds: float) -> float:
    port = free_port()
    server = grpc.server(futures.ThreadPoolExecutor(4))
    server.add_generic_rpc_handlers([_handlers(_parse)])
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        time.sleep(0.5)
        cpu, start = _cpu(), time.monotonic()
        _client(port, spans, seconds).communicate()
        return 100 * (_cpu() - cpu) / (time.monotonic() - start)
    finally:
        server.stop(None)


async def measure_aio(spans: int, seconds: float) -> float:
    port = free_port()
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([_handlers(_parse_async)])
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        await asyncio.sleep(0.5)
        cpu, start = _cpu(), time.monotonic()
        await asyncio.to_thread(_client(port, spans, seconds).communicate)
        return 100 * (_cpu() - cpu) / (time.monotonic() - start)
    finally:
        await server.stop(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sizes", default="100,256,512", help="spans per request")
    args = parser.parse_args()
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"bare OTLP trace server at {STEADY_RATE:,} spans/s, CPU % of one core (load {load})")
    for spans in (int(s) for s in args.sizes.split(",")):
        aio = asyncio.run(measure_aio(spans, args.seconds))
        sync = measure_sync(spans, args.seconds)
        print(f"  {spans:4d} spans/request  grpc.aio {aio:5.1f} %   grpc.server {sync:5.1f} %")


if __name__ == "__main__":
    main()
