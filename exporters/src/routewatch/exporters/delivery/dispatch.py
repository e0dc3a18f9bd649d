"""Deliver the alerts of one OTLP logs request through a channel, one notification at a time.

Each notification is retried by the channel itself (backoff, rate limit); what is left is
reported in a `RequestOutcome` that the collector turns into a permanent or retryable error.
Notifications already delivered are remembered (by notification id), so that when the whole
request is tried again only the ones that failed are sent again. One request at a time, as
Alertmanager runs one pipeline per receiver: with parallel queue consumers a resolve could
otherwise overtake its trigger and leave an incident open.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from routewatch.exporters.alerts import Alert, alerts_from_request
from routewatch.exporters.delivery.result import DeliveryResult


class Notifier(Protocol):
    channel: str

    async def notify(self, alert: Alert) -> list[DeliveryResult]:
        """Send what the channel sends for `alert`; one result per destination (or one
        `filtered`/`dropped` result). Never raises for a delivery failure."""
        ...

    async def close(self) -> None: ...


def notification_key(alert: Alert) -> str:
    """Identity of one notification: its id, or a digest of what distinguishes it."""
    if alert.notification_id:
        return alert.notification_id
    parts = (
        alert.fingerprint,
        alert.status,
        alert.severity,
        repr(alert.starts_at),
        repr(alert.ends_at),
        repr(alert.value),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass
class RequestOutcome:
    results: list[DeliveryResult] = field(default_factory=list)

    @property
    def retryable(self) -> list[DeliveryResult]:
        return [r for r in self.results if r.outcome == "failed" and r.retryable]

    @property
    def permanent(self) -> list[DeliveryResult]:
        return [
            r
            for r in self.results
            if r.outcome == "dropped" or (r.outcome == "failed" and not r.retryable)
        ]


class Deliverer:
    def __init__(self, notifier: Notifier, remember: int = 10_000) -> None:
        self.notifier = notifier
        self._remember = remember
        self._done: OrderedDict[str, None] = OrderedDict()
        self._lock = asyncio.Lock()

    async def deliver_alerts(self, alerts: Iterable[Alert]) -> RequestOutcome:
        async with self._lock:
            return await self._deliver(alerts)

    async def _deliver(self, alerts: Iterable[Alert]) -> RequestOutcome:
        outcome = RequestOutcome()
        for alert in alerts:
            key = notification_key(alert)
            if key in self._done:
                continue
            results = await self.notifier.notify(alert)
            outcome.results.extend(results)
            if all(r.outcome != "failed" for r in results):
                self._done[key] = None
                while len(self._done) > self._remember:
                    self._done.popitem(last=False)
        return outcome

    async def deliver(self, request: ExportLogsServiceRequest) -> RequestOutcome:
        return await self.deliver_alerts(alerts_from_request(request))
