"""Run the local Bedrock server: in a background thread (tests) or in the foreground (CLI)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from routewatch.collector.devservers.bedrock.app import create_app
from routewatch.collector.devservers.bedrock.faults import Fault
from routewatch.collector.devservers.bedrock.state import (
    Behaviour,
    Incident,
    RequestRecord,
    ServerState,
)

REGION = "us-east-1"


async def start(
    state: ServerState, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Bind and serve on the running loop; returns the runner (for cleanup) and the base URL."""
    # No access log: the demo and tests print their own summaries.
    runner = web.AppRunner(create_app(state), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


@dataclass
class BedrockServer:
    """Handle on a server running in this process: its URL and the Python control API."""

    url: str
    state: ServerState
    region: str = REGION

    def inject(self, kind: str, **fields: Any) -> Fault:
        """Inject a fault, e.g. `inject("throttling", times=2, operation="converse")`."""
        return self.state.inject(Fault(kind, **fields))  # type: ignore[arg-type]

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def incident(
        self, add_latency: float, duration: float = 0.0, throttle_rate: float = 0.0
    ) -> None:
        self.state.start_incident(Incident(add_latency, duration, throttle_rate))

    def end_incident(self) -> None:
        self.state.end_incident()

    def configure(self, **changes: Any) -> Behaviour:
        return self.state.configure(**changes)

    def reset(self) -> None:
        self.state.reset()

    def records(self) -> list[RequestRecord]:
        return self.state.records()

    def client(self, service: str = "bedrock-runtime", **kwargs: Any) -> Any:
        """A boto3 client pointed at this server (dummy credentials)."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **kwargs,
        )


@contextmanager
def bedrock_server(
    behaviour: Behaviour | None = None, state: ServerState | None = None, port: int = 0
) -> Iterator[BedrockServer]:
    """Serve on 127.0.0.1 (a free port unless given) in a daemon thread for the block's length.

    `state` lets a test pass a ServerState with its own clock (incidents); otherwise one is
    made from `behaviour`.
    """
    state = state or ServerState(behaviour or Behaviour())
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            box["runner"], box["url"] = loop.run_until_complete(start(state, port=port))
        except BaseException as err:  # reported to the starting thread below
            box["error"] = err
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(box["runner"].cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="bedrock-devserver", daemon=True)
    thread.start()
    ready.wait()
    if "error" in box:
        raise box["error"]
    try:
        yield BedrockServer(url=box["url"], state=state)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
