"""Internal metrics in Prometheus text format at `service.telemetry.metrics` (/metrics)."""

from __future__ import annotations

import time

import psutil
from aiohttp import web

from routewatch.collector.service.http import HttpServer
from routewatch.collector.telemetry import Telemetry

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def register_process_metrics(telemetry: Telemetry) -> None:
    """otelcol_process_* gauges, read at scrape time."""
    process = psutil.Process()
    started = time.time()
    telemetry.describe("otelcol_process_memory_rss", "Total physical memory (resident set size)")
    telemetry.gauge_func("otelcol_process_memory_rss", lambda: float(process.memory_info().rss))
    telemetry.gauge_func("otelcol_process_uptime", lambda: time.time() - started)
    telemetry.gauge_func(
        "otelcol_process_cpu_seconds",
        lambda: float(sum(process.cpu_times()[:2])),
    )


class TelemetryServer:
    def __init__(self, telemetry: Telemetry, endpoint: str) -> None:
        self._telemetry = telemetry
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._server = HttpServer(app, endpoint)

    @property
    def port(self) -> int:
        return self._server.port

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self._telemetry.render_prometheus()
        return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})

    async def start(self) -> None:
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()
