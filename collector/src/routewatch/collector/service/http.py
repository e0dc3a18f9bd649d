"""Small aiohttp servers (health check, internal metrics) started and stopped by components."""

from __future__ import annotations

from aiohttp import web

from routewatch.collector.errors import ConfigError


def split_endpoint(endpoint: str, path: str = "endpoint") -> tuple[str, int]:
    """`host:port` -> (host, port); `:port` binds every interface, as in Go."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{path}: invalid endpoint {endpoint!r}, expected host:port")
    return host.strip("[]") or "0.0.0.0", int(port)


class HttpServer:
    """An aiohttp application served on one endpoint; `stop()` is idempotent."""

    def __init__(self, app: web.Application, endpoint: str) -> None:
        self._app = app
        self._endpoint = endpoint
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        host, port = split_endpoint(self._endpoint)
        runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        # The bound port (differs from `port` when that was 0).
        self.port = int(runner.addresses[0][1]) if runner.addresses else port

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
