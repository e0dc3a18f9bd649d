"""HTTP API of the alert connector, shaped after Alertmanager's v2 API.

    GET    /api/v2/alerts                    current alert states (pending, firing, resolved)
    GET    /api/v2/silences                  silences (config and API)
    POST   /api/v2/silences                  create: {matchers, startsAt?, endsAt, createdBy,
                                             comment}
    GET    /api/v2/silence/{id}              one silence
    DELETE /api/v2/silence/{id}              expire it now
    GET    /api/v2/notifications             delivery history of the alert exporters (501
                                             when `routewatch.collector.alerting.history` is
                                             not installed)
    GET    /api/v2/notifications/emitted     what this connector emitted (its notification log)

Bind it to localhost: it changes what pages people.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from aiohttp import web

from routewatch.collector.alerting.clock import Clock
from routewatch.collector.alerting.engine import Engine
from routewatch.collector.alerting.silence import format_time, silence_from_api
from routewatch.collector.alerting.state import AlertState, State

HISTORY_MODULE = "routewatch.collector.alerting.history"


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, default=_jsonable),
        status=status,
        content_type="application/json",
    )


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    for name in ("to_api", "to_dict"):
        method = getattr(obj, name, None)
        if callable(method):
            return method()
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return str(obj)


def delivery_history() -> Any | None:
    """The process-wide delivery history of the alert exporters, if that module exists."""
    try:
        module = importlib.import_module(HISTORY_MODULE)
    except ImportError:
        return None
    for name in ("shared_history", "default_history", "get_history", "delivery_history"):
        func = getattr(module, name, None)
        if callable(func):
            return func()
    cls = getattr(module, "DeliveryHistory", None)
    if cls is not None:
        for value in vars(module).values():
            if isinstance(value, cls):
                return value
    return None


def alert_view(engine: Engine, st: AlertState, now: float) -> dict[str, Any]:
    muted = engine.muted_by(st, now) if st.state == State.FIRING else None
    return {
        "fingerprint": st.fingerprint,
        "alertname": st.rule,
        "state": st.state.value,
        "insufficientData": st.insufficient,
        "severity": st.severity,
        "labels": st.labels,
        "annotations": engine.annotations_of(st),
        "value": st.value,
        "threshold": st.threshold,
        "samples": st.samples,
        "activeAt": format_time(st.active_at),
        "startsAt": format_time(st.fired_at) if st.fired_at is not None else None,
        "endsAt": format_time(st.resolved_at) if st.resolved_at is not None else None,
        "exemplarTraceIds": st.exemplars,
        "status": {
            "state": "suppressed" if muted else "active",
            "mutedBy": muted.value if muted else None,
        },
    }


class AlertsApi:
    def __init__(self, engine: Callable[[], Engine | None], clock: Clock, lock: asyncio.Lock):
        self._engine = engine
        self._clock = clock
        self._lock = lock
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v2/alerts", self.alerts)
        app.router.add_get("/api/v2/silences", self.list_silences)
        app.router.add_post("/api/v2/silences", self.create_silence)
        app.router.add_get("/api/v2/silence/{id}", self.get_silence)
        app.router.add_delete("/api/v2/silence/{id}", self.expire_silence)
        app.router.add_get("/api/v2/notifications", self.notifications)
        app.router.add_get("/api/v2/notifications/emitted", self.emitted)
        return app

    async def start(self, endpoint: str) -> None:
        host, _, port = endpoint.rpartition(":")
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host or "localhost", int(port))
        try:
            await site.start()
        except BaseException:
            await self.stop()
            raise
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else int(port)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def _require(self) -> Engine:
        engine = self._engine()
        if engine is None:
            raise web.HTTPServiceUnavailable(text="alert engine not started")
        return engine

    async def alerts(self, request: web.Request) -> web.Response:
        engine = self._require()
        now = self._clock()
        async with self._lock:
            views = [alert_view(engine, st, now) for st in engine.states.values()]
        state = request.query.get("state")
        if state:
            views = [v for v in views if v["state"] == state]
        return _json(sorted(views, key=lambda v: (v["alertname"], v["fingerprint"])))

    async def list_silences(self, request: web.Request) -> web.Response:
        engine = self._require()
        now = self._clock()
        return _json([s.to_api(now) for s in engine.silences.list()])

    async def get_silence(self, request: web.Request) -> web.Response:
        engine = self._require()
        silence = engine.silences.get(request.match_info["id"])
        if silence is None:
            return _error(404, "silence not found")
        return _json(silence.to_api(self._clock()))

    async def create_silence(self, request: web.Request) -> web.Response:
        """Create a silence; with the `id` of an existing one, replace it (Alertmanager's
        update: the old one is expired, the new one gets a new id)."""
        engine = self._require()
        now = self._clock()
        try:
            body = orjson.loads(await request.read())
            silence = silence_from_api(body, now)
            replaces = body.get("id") if isinstance(body, dict) else None
            if replaces is not None and engine.silences.get(str(replaces)) is None:
                return _error(404, f"silence {replaces} not found")
        except (orjson.JSONDecodeError, ValueError, TypeError) as err:
            return _error(400, str(err))
        try:
            async with self._lock:
                if replaces is not None:
                    old = engine.silences.get(str(replaces))
                    if old is not None and old.from_config:
                        return _error(400, "silence is defined in the config file")
                    if old is not None and old.ends_at > now:
                        engine.silences.expire(old.id, now)
                engine.silences.add(silence)
        except Exception as err:  # storage: the silence is not saved, say so
            return _error(503, f"could not save the silence: {err}")
        return _json({"silenceID": silence.id})

    async def expire_silence(self, request: web.Request) -> web.Response:
        engine = self._require()
        try:
            async with self._lock:
                engine.silences.expire(request.match_info["id"], self._clock())
        except KeyError:
            return _error(404, "silence not found")
        except ValueError as err:
            return _error(400, str(err))
        except Exception as err:
            return _error(503, f"could not save the silence: {err}")
        return _json({})

    async def notifications(self, request: web.Request) -> web.Response:
        """`?fingerprint=&receiver=&since=<epoch s>&limit=` are passed to the history."""
        history = delivery_history()
        if history is None:
            return _error(
                501, "delivery history is not available; see /api/v2/notifications/emitted"
            )
        filters: dict[str, Any] = {
            k: request.query[k] for k in ("fingerprint", "receiver") if k in request.query
        }
        try:
            for key, cast in (("since", float), ("limit", int)):
                if key in request.query:
                    filters[key] = cast(request.query[key])
        except ValueError:
            return _error(400, "since must be a number and limit an integer")
        return _json(list(history.query(**filters)))

    async def emitted(self, request: web.Request) -> web.Response:
        engine = self._require()
        items = list(reversed(engine.emitted.items))
        for key in ("alertname", "fingerprint", "status"):
            wanted = request.query.get(key)
            if wanted:
                items = [i for i in items if getattr(i, key) == wanted]
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return _error(400, "limit must be an integer")
        return _json([i.to_api() for i in items[: max(limit, 0)]])
