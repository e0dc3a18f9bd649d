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
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from collector_throughput import STEADY_RATE, trace_request
from support.ports import free_port

SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
METHOD = f"/{SERVICE}/Export"
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
    """The load: a client in its own process, so its CPU is not counted."""
    cmd = [sys.executable, __file__, "--client", str(port), "--spans", str(spans)]
    return subprocess.Popen([*cmd, "--seconds", str(seconds)])


def run_client(port: int, spans: int, seconds: float) -> None:
    body = trace_request(spans).SerializeToString()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(METHOD)
        interval = spans / STEADY_RATE
        next_at = time.monotonic()
        end = next_at + seconds
        while time.monotonic() < end:
            call(body, timeout=10)
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def measure_sync(spans: int, seconds: float) -> float:
    port = free_port()
    server = grpc.server(futures.ThreadPoolExecutor(4))
    server.add_generic_rpc_handlers([_handlers(_parse)])
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        time.sleep(0.5)
        cpu, start = _cpu(), time.monotonic()
        _client(port, spans, seconds).wait()
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
        client = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--client", str(port), "--spans", str(spans),
            "--seconds", str(seconds),
        )  # fmt: skip
        await client.wait()
        return 100 * (_cpu() - cpu) / (time.monotonic() - start)
    finally:
        await server.stop(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sizes", default="100,256,512", help="spans per request")
    parser.add_argument("--client", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--spans", type=int, default=512, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        run_client(args.client, args.spans, args.seconds)
        return
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"bare OTLP trace server at {STEADY_RATE:,} spans/s, CPU % of one core (load {load})")
    for spans in (int(s) for s in args.sizes.split(",")):
        aio = asyncio.run(measure_aio(spans, args.seconds))
        sync = measure_sync(spans, args.seconds)
        print(f"  {spans:4d} spans/request  grpc.aio {aio:5.1f} %   grpc.server {sync:5.1f} %")


if __name__ == "__main__":
    main()
