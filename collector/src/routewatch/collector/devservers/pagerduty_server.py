"""A local PagerDuty Events API v2 server: validates every event against the spec.

For tests, the demo and `routewatch alerts send-test` without a PagerDuty account. It answers
as PagerDuty does (202 `{"status": "success", "message": "Event processed", "dedup_key": ...}`,
400 `{"status": "invalid event", "message": ..., "errors": [...]}`, 429 past the rate limit per
routing key: a token bucket of N per minute, as the exporter's), keeps incidents (a trigger
opens one per routing key and dedup_key, a resolve closes it, a dedup_key reused after a
resolve opens a new one), and injects faults on demand (the next N requests answer
500/502/503/429/400, or drop the connection).

In a test::

    with pagerduty_server() as pd:            # 127.0.0.1, a free port, its own thread
        ... post to pd.url ...
        pd.inject(503, times=2)
        assert pd.open_incidents()[0].dedup_key == "fp"

From a shell: `python -m routewatch.collector.devservers.pagerduty_server --port 8765`.
Inspection over HTTP: GET /_inspect/events, GET /_inspect/incidents[?status=open],
POST /_inspect/faults `{"status": 503, "times": 2}` or `{"drop": true}`, POST /_inspect/reset.
Routing keys are shown masked there; this server never logs one.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from routewatch.exporters.delivery import TokenBuckets
from routewatch.exporters.pagerduty import (
    MAX_BODY_BYTES,
    MAX_DEDUP_KEY,
    MAX_SUMMARY,
    ROUTING_KEY_LENGTH,
    SEVERITIES,
)

ENQUEUE_PATH = "/v2/enqueue"
EVENT_ACTIONS = ("trigger", "acknowledge", "resolve")
DEFAULT_RATE_LIMIT = 120


def mask(routing_key: str) -> str:
    return routing_key[:4] + "…" if routing_key else ""


def _is_iso8601(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def validate_event(body: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """(the event, []) when `body` is a valid Events v2 event; (None, errors) otherwise."""
    if len(body) > MAX_BODY_BYTES:
        return None, [f"Event object is {len(body)} bytes; the limit is {MAX_BODY_BYTES}"]
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, ["Event object is not valid JSON"]
    if not isinstance(event, dict):
        return None, ["Event object must be a JSON object"]
    errors: list[str] = []
    key = event.get("routing_key")
    if not isinstance(key, str) or not key:
        errors.append("'routing_key' is missing or blank")
    elif len(key) != ROUTING_KEY_LENGTH:
        errors.append(f"'routing_key' must be {ROUTING_KEY_LENGTH} characters")
    action = event.get("event_action")
    if action not in EVENT_ACTIONS:
        errors.append("'event_action' must be one of " + ", ".join(EVENT_ACTIONS))
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or not dedup):
        errors.append("'dedup_key' must be a non-empty string")
    elif isinstance(dedup, str) and len(dedup) > MAX_DEDUP_KEY:
        errors.append(f"'dedup_key' must be at most {MAX_DEDUP_KEY} characters")
    if action in ("acknowledge", "resolve") and dedup is None:
        errors.append(f"'dedup_key' is required for {action}")
    if action == "trigger":
        errors += _payload_errors(event.get("payload"))
    for name in ("client", "client_url"):
        if name in event and not isinstance(event[name], str):
            errors.append(f"'{name}' must be a string")
    errors += _list_errors(event, "links", "href")
    errors += _list_errors(event, "images", "src")
    for i, image in enumerate(event.get("images") or []):
        if isinstance(image, dict) and not str(image.get("src", "")).startswith("https://"):
            errors.append(f"'images[{i}].src' must be an https URL")
    return (None, errors) if errors else (event, [])


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is required for trigger and must be an object"]
    errors = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary:
        errors.append("'payload.summary' is required")
    elif len(summary) > MAX_SUMMARY:
        errors.append(f"'payload.summary' must be at most {MAX_SUMMARY} characters")
    source = payload.get("source")
    if not isinstance(source, str) or not source:
        errors.append("'payload.source' is required")
    if payload.get("severity") not in SEVERITIES:
        errors.append("'payload.severity' must be one of " + ", ".join(SEVERITIES))
    timestamp = payload.get("timestamp")
    if timestamp is not None and (not isinstance(timestamp, str) or not _is_iso8601(timestamp)):
        errors.append("'payload.timestamp' must be an ISO 8601 date-time")
    for name in ("component", "group", "class"):
        if name in payload and not isinstance(payload[name], str):
            errors.append(f"'payload.{name}' must be a string")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict | str):
        errors.append("'payload.custom_details' must be an object")
    return errors


def _list_errors(event: dict[str, Any], name: str, required: str) -> list[str]:
    items = event.get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        return [f"'{name}' must be a list"]
    return [
        f"'{name}[{i}].{required}' is required"
        for i, item in enumerate(items)
        if not isinstance(item, dict) or not isinstance(item.get(required), str)
    ]


@dataclass
class Incident:
    id: int
    routing_key: str = field(repr=False)
    dedup_key: str
    status: str  # triggered | acknowledged | resolved
    severity: str
    summary: str
    opened_at: float
    resolved_at: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def open(self) -> bool:
        return self.status != "resolved"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "routing_key": mask(self.routing_key),
            "dedup_key": self.dedup_key,
            "status": self.status,
            "severity": self.severity,
            "summary": self.summary,
            "opened_at": self.opened_at,
            "resolved_at": self.resolved_at,
            "events": len(self.events),
        }


@dataclass
class Received:
    """One request as the server saw it."""

    time: float
    status: int
    event: dict[str, Any] | None
    errors: list[str]


@dataclass
class _Fault:
    status: int  # 0 = drop the connection
    times: int
    retry_after: float | None


class PagerDutyServer:
    def __init__(
        self,
        *,
        rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
        routing_keys: set[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        # 0 disables the rate limit.
        self.rate_limit_per_minute = rate_limit_per_minute
        # Known integration keys; None accepts any well-formed key.
        self.routing_keys = routing_keys
        self.clock = clock
        self.wall = wall
        self.url = ""
        self.base_url = ""
        self.lock = threading.Condition()
        self.received: list[Received] = []
        self.incidents: list[Incident] = []
        self._faults: deque[_Fault] = deque()
        self._buckets = (
            TokenBuckets(rate_limit_per_minute, clock=clock) if rate_limit_per_minute else None
        )
        self._ids = itertools.count(1)

    # -- inspection and faults (any thread) --------------------------------------------

    @property
    def events(self) -> list[dict[str, Any]]:
        """Accepted events, in arrival order."""
        with self.lock:
            return [r.event for r in self.received if r.status == 202 and r.event]

    def open_incidents(self) -> list[Incident]:
        with self.lock:
            return [i for i in self.incidents if i.open]

    def inject(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """The next `times` requests answer `status` (429 with `Retry-After` when given)."""
        with self.lock:
            self._faults.append(_Fault(status, times, retry_after))

    def inject_drop(self, times: int = 1) -> None:
        """The next `times` requests get their connection closed without an answer."""
        self.inject(0, times)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.incidents.clear()
            self._faults.clear()
            if self._buckets is not None:
                self._buckets = TokenBuckets(self.rate_limit_per_minute, clock=self.clock)

    def wait_for(self, predicate: Callable[[PagerDutyServer], bool], timeout: float = 10.0) -> bool:
        with self.lock:
            return self.lock.wait_for(lambda: predicate(self), timeout)

    # -- the API -----------------------------------------------------------------------

    def _take_fault(self) -> _Fault | None:
        if not self._faults:
            return None
        fault = self._faults[0]
        fault.times -= 1
        if fault.times <= 0:
            self._faults.popleft()
        return fault

    def _limited(self, routing_key: str) -> bool:
        return self._buckets is not None and self._buckets.try_acquire(routing_key) > 0.0

    def _apply(self, event: dict[str, Any]) -> str:
        """Update incidents for an accepted event; returns its dedup_key."""
        key = event["routing_key"]
        action = event["event_action"]
        dedup = event.get("dedup_key") or f"generated-{next(self._ids)}"
        current = next(
            (
                i
                for i in reversed(self.incidents)
                if i.routing_key == key and i.dedup_key == dedup and i.open
            ),
            None,
        )
        if action == "trigger":
            payload = event["payload"]
            if current is None:
                current = Incident(
                    id=next(self._ids),
                    routing_key=key,
                    dedup_key=dedup,
                    status="triggered",
                    severity=payload["severity"],
                    summary=payload["summary"],
                    opened_at=self.wall(),
                )
                self.incidents.append(current)
            else:
                current.severity = payload["severity"]
                current.summary = payload["summary"]
        elif current is not None and action == "acknowledge":
            current.status = "acknowledged"
        elif current is not None and action == "resolve":
            current.status = "resolved"
            current.resolved_at = self.wall()
        if current is not None:
            current.events.append(event)
        return dedup

    def _answer(self, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        fault = self._take_fault()
        if fault is not None and fault.status:
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else {}
            doc: dict[str, Any] = {
                "status": "injected fault",
                "message": f"injected HTTP {fault.status}",
            }
            if fault.status == 400:
                doc = {"status": "invalid event", "message": "injected", "errors": ["injected"]}
            self.received.append(Received(self.wall(), fault.status, None, ["injected"]))
            return fault.status, doc, headers
        event, errors = validate_event(body)
        known = self.routing_keys
        if event is not None and known is not None and event["routing_key"] not in known:
            event, errors = None, ["Invalid routing key"]
        if event is None:
            self.received.append(Received(self.wall(), 400, None, errors))
            return (
                400,
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
                {},
            )
        if self._limited(event["routing_key"]):
            self.received.append(Received(self.wall(), 429, event, ["throttled"]))
            return (
                429,
                {
                    "status": "throttle event",
                    "message": "Requests for this service are arriving too quickly. "
                    "Please retry later.",
                },
                {},
            )
        dedup = self._apply(event)
        self.received.append(Received(self.wall(), 202, event, []))
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup}, {}

    async def _enqueue(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        with self.lock:
            if self._faults and self._faults[0].status == 0:
                self._take_fault()
                self.received.append(Received(self.wall(), 0, None, ["dropped"]))
                self.lock.notify_all()
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)
            status, doc, headers = self._answer(body)
            self.lock.notify_all()
        return web.json_response(doc, status=status, headers=headers, dumps=_dumps)

    async def _inspect_events(self, request: web.Request) -> web.StreamResponse:
        with self.lock:
            docs = [
                {
                    "time": r.time,
                    "status": r.status,
                    "errors": r.errors,
                    "event": {**r.event, "routing_key": mask(r.event.get("routing_key", ""))}
                    if r.event
                    else None,
                }
                for r in self.received
            ]
        return web.json_response(docs, dumps=_dumps)

    async def _inspect_incidents(self, request: web.Request) -> web.StreamResponse:
        wanted = request.query.get("status")
        with self.lock:
            docs = [
                i.to_json()
                for i in self.incidents
                if wanted is None or (wanted == "open" and i.open) or i.status == wanted
            ]
        return web.json_response(docs, dumps=_dumps)

    async def _inspect_faults(self, request: web.Request) -> web.StreamResponse:
        try:
            doc = orjson.loads(await request.read())
            times = int(doc.get("times", 1))
            if doc.get("drop"):
                self.inject_drop(times)
            else:
                self.inject(int(doc["status"]), times, doc.get("retry_after"))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            return web.json_response(
                {"message": 'expected {"status": 503, "times": 1} or {"drop": true}'}, status=400
            )
        return web.json_response({"status": "ok"})

    async def _inspect_reset(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return web.json_response({"status": "ok"})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * MAX_BODY_BYTES)
        app.router.add_post(ENQUEUE_PATH, self._enqueue)
        app.router.add_get("/_inspect/events", self._inspect_events)
        app.router.add_get("/_inspect/incidents", self._inspect_incidents)
        app.router.add_post("/_inspect/faults", self._inspect_faults)
        app.router.add_post("/_inspect/reset", self._inspect_reset)
        return app


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


async def _serve(server: PagerDutyServer, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(server.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    server.base_url = f"http://{host}:{bound}"
    server.url = server.base_url + ENQUEUE_PATH
    return runner


@contextmanager
def pagerduty_server(
    host: str = "127.0.0.1", port: int = 0, **kwargs: Any
) -> Iterator[PagerDutyServer]:
    """Run a PagerDutyServer on its own thread and event loop; `server.url` is the enqueue URL."""
    server = PagerDutyServer(**kwargs)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="pagerduty-server", daemon=True)
    thread.start()
    runner = asyncio.run_coroutine_threadsafe(_serve(server, host, port), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m routewatch.collector.devservers.pagerduty_server",
        description="A local PagerDuty Events API v2 server that validates events.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=DEFAULT_RATE_LIMIT,
        help="events per minute per routing key (0: no limit)",
    )
    args = parser.parse_args(argv)
    with pagerduty_server(args.host, args.port, rate_limit_per_minute=args.rate_limit) as pd:
        print(f"PagerDuty Events v2 server: {pd.url}", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
