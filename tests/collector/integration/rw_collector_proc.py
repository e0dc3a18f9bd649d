"""A real `routewatch run` process for the integration tests, and helpers to talk to it.

`Collector(tmp_path, doc)` writes `doc` as YAML with its own health and metrics ports;
`start()` spawns `routewatch run` and waits until the health check answers 200 (the service
reports ready only after every component, receivers last, has started). Stopping, killing and
the log come from `support.collector_process.CollectorProcess`.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.collector_process import CollectorProcess
from support.ports import free_port

from routewatch.collector.component import Factory, Host, Kind

ROUTEWATCH = str(Path(sys.executable).parent / "routewatch")
ROOT = Path(__file__).resolve().parents[3]


def get(url: str, timeout: float = 5) -> tuple[int, str]:
    """(status, body) of a GET; connection errors are status 0."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError:
        return 0, ""


def request(
    url: str, body: bytes | None = None, method: str = "POST", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of an HTTP request."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return int(response.status), dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def post(
    url: str, body: bytes, content_type: str = "application/x-protobuf", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    return request(url, body, "POST", **{"Content-Type": content_type, **headers})


_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when there is none)."""
    total = 0.0
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if not match or match["name"] != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(match["value"])
    return total


def wait_until(predicate: Any, timeout: float = 15, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Collector(CollectorProcess):
    def __init__(self, tmp_path: Path, doc: dict[str, Any], name: str = "collector") -> None:
        super().__init__(tmp_path, name)
        self.health_port = free_port()
        self.metrics_port = free_port()
        doc = dict(doc)
        extensions = doc.setdefault("extensions", {})
        extensions["health_check"] = {
            **extensions.get("health_check", {}),
            "endpoint": f"127.0.0.1:{self.health_port}",
        }
        service = doc.setdefault("service", {})
        # health_check first: it answers (503) while the others start.
        others = [e for e in service.get("extensions", []) if e != "health_check"]
        service["extensions"] = ["health_check", *others]
        service.setdefault("telemetry", {})["metrics"] = {
            "address": f"127.0.0.1:{self.metrics_port}"
        }
        self.write_config(doc)

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.health_port}"

    def start(self, *args: str, wait: bool = True, gated: bool = False) -> Collector:
        """The `routewatch` console script; `gated`: this module's CLI, which knows the `gate`
        extension."""
        self.launch(
            *args,
            command=[sys.executable, __file__] if gated else [ROUTEWATCH],
            env={"PYTHONPATH": str(ROOT / "tests")},
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        self.wait_until(lambda: get(self.health_url + "/", timeout=1)[0] == 200, "healthy", timeout)

    def metrics(self) -> str:
        status, text = get(f"http://127.0.0.1:{self.metrics_port}/metrics")
        assert status == 200
        return text

    def wait_metric(self, name: str, value: float, **labels: str) -> None:
        """Until the internal metric `name` (summed over `labels`) equals `value`."""
        wait_until(
            lambda: metric(self.metrics(), name, **labels) == value, what=f"{name} == {value}"
        )


def otlp_receiver(
    grpc_port: int | None = None, http_port: int | None = None, **http: Any
) -> dict[str, Any]:
    """The `otlp` receiver's config: gRPC and/or HTTP (with `http` settings) on 127.0.0.1."""
    protocols: dict[str, Any] = {}
    if grpc_port is not None:
        protocols["grpc"] = {"endpoint": f"127.0.0.1:{grpc_port}"}
    if http_port is not None:
        protocols["http"] = {"endpoint": f"127.0.0.1:{http_port}", **http}
    return {"protocols": protocols}


def span_ids_of(requests: Any) -> list[str]:
    return [
        span.span_id.hex()
        for request in requests
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]


# -- a collector that starts slowly ------------------------------------------------------------


@dataclass
class GateConfig:
    pass


class Gate:
    """An extension whose start() waits for SIGUSR1: the collector stays in its starting phase
    for as long as a test wants. The handler is set when the collector builds its components,
    before anything starts, so a signal sent once health answers is never lost."""

    def __init__(self) -> None:
        self.opened = False
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        signal.signal(signal.SIGUSR1, self._open)

    def _open(self, signum: int, frame: object) -> None:
        self.opened = True
        if self._wake is not None:
            loop, event = self._wake
            loop.call_soon_threadsafe(event.set)

    async def start(self, host: Host) -> None:
        event = asyncio.Event()
        self._wake = (asyncio.get_running_loop(), event)
        if not self.opened:
            await event.wait()

    async def shutdown(self) -> None:
        pass


GATE = Factory("gate", Kind.EXTENSION, GateConfig, create_extension=lambda settings, config: Gate())


if __name__ == "__main__":
    from routewatch.collector.cli import main
    from routewatch.collector.registry import registry_with

    sys.exit(main(sys.argv[1:], registry=registry_with([GATE])))
