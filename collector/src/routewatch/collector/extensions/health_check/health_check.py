"""The health check: liveness in the Go collector's shape, and readiness from exporters.

`path` (default `/`) answers 200 `{"status":"Server available","upSince":...,"uptime":...}`
once every pipeline started, and 503 `{"status":"Server not available",...}` while starting and
shutting down. `readiness.path` (default `/ready`) also turns 503 when an exporter's recent
sends mostly fail or its sending queue is nearly full. Bodies hold component ids and numbers
only: never config values, so no secret can leak through them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from routewatch.collector.component import CreateSettings, Host
from routewatch.collector.exporterhelper.health import ExporterHealth
from routewatch.collector.extensions.health_check.config import HealthCheckConfig
from routewatch.collector.service.http import HttpServer

ZERO_TIME = "0001-01-01T00:00:00Z"


def go_duration(seconds: float) -> str:
    """A duration as Go's time.Duration.String() writes it (`1h2m3.5s`)."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms" if seconds else "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text


class HealthCheck:
    def __init__(
        self,
        settings: CreateSettings,
        config: HealthCheckConfig,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._config = config
        self._wall = wall_clock
        self._available = False
        self._up_since = 0.0
        self._exporters: Callable[[], Iterable[Any]] = list
        app = web.Application()
        app.router.add_get(config.path, self._health)
        app.router.add_get(config.readiness.path, self._ready)
        self._server = HttpServer(app, config.endpoint)

    @property
    def port(self) -> int:
        return self._server.port

    async def start(self, host: Host) -> None:
        exporters = getattr(host, "exporters", None)
        if callable(exporters):
            self._exporters = exporters
        await self._server.start()

    # The service calls these (the Go collector's PipelineWatcher).
    def ready(self) -> None:
        self._available = True
        self._up_since = self._wall()

    def not_ready(self) -> None:
        self._available = False

    async def shutdown(self) -> None:
        self._available = False
        await self._server.stop()

    # -- answers -----------------------------------------------------------------------------

    def _status_body(self, available: bool) -> dict[str, Any]:
        if not available:
            return {"status": "Server not available", "upSince": ZERO_TIME, "uptime": ""}
        up_since = datetime.fromtimestamp(self._up_since, UTC)
        return {
            "status": "Server available",
            "upSince": up_since.isoformat().replace("+00:00", "Z"),
            "uptime": go_duration(max(0.0, self._wall() - self._up_since)),
        }

    def _respond(self, available: bool, extra: dict[str, Any] | None = None) -> web.Response:
        custom = self._config.response_body
        status = 200 if available else 503
        if custom is not None and (custom.healthy if available else custom.unhealthy):
            return web.Response(
                status=status, text=custom.healthy if available else custom.unhealthy
            )
        body = self._status_body(available)
        if extra:
            body.update(extra)
        return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")

    def _health_of_exporters(self, window: float) -> list[ExporterHealth]:
        out = []
        for exporter in self._exporters():
            health = getattr(exporter, "health", None)
            if callable(health):
                try:
                    out.append(health(window))
                except Exception:  # a broken exporter must not break the endpoint
                    continue
        return out

    def _pipeline_failing(self) -> bool:
        check = self._config.check_collector_pipeline
        if not check.enabled:
            return False
        return any(
            h.failed > check.exporter_failure_threshold
            for h in self._health_of_exporters(float(check.interval))
        )

    async def _health(self, request: web.Request) -> web.Response:
        return self._respond(self._available and not self._pipeline_failing())

    def readiness(self) -> tuple[bool, list[dict[str, Any]]]:
        """(ready, per-exporter detail)."""
        cfg = self._config.readiness
        detail = []
        ready = self._available
        for h in self._health_of_exporters(float(cfg.window)):
            failing = h.sent + h.failed >= cfg.min_sends and h.failure_ratio > cfg.max_failure_ratio
            full = h.queue_fill > cfg.max_queue_fill
            healthy = not failing and not full
            ready = ready and healthy
            detail.append(
                {
                    "exporter": h.exporter,
                    "data_type": h.signal,
                    "healthy": healthy,
                    "sent": h.sent,
                    "failed": h.failed,
                    "failure_ratio": round(h.failure_ratio, 4),
                    "queue_size": h.queue_size,
                    "queue_capacity": h.queue_capacity,
                }
            )
        return ready, detail

    async def _ready(self, request: web.Request) -> web.Response:
        ready, detail = self.readiness()
        return self._respond(ready, {"exporters": detail})
