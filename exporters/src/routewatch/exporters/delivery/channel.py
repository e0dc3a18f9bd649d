"""The delivery loop both alert channels share: plan, then send each step with retries.

A channel says where an alert goes (`home`), where an unknown resolve goes, and how one step
is sent (`send`, raising DeliveryError); this base turns that into `DeliveryResult`s and keeps
the record of what is left firing (see `plan`).
"""

from __future__ import annotations

import asyncio
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from routewatch.exporters.alerts import Alert
from routewatch.exporters.delivery.plan import OpenNotifications, Step, plan
from routewatch.exporters.delivery.result import DeliveryResult, Outcome
from routewatch.exporters.delivery.retry import (
    Backoff,
    Clock,
    DeliveryError,
    Sleep,
    call_with_retry,
)


class Channel(ABC):
    channel = ""

    def __init__(
        self,
        backoff: Backoff,
        *,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        open_notifications: OpenNotifications | None = None,
    ) -> None:
        self.backoff = backoff
        self.clock = clock
        self.wall = wall
        self.sleep = sleep
        self.rand = rand
        self.open = open_notifications or OpenNotifications()

    @abstractmethod
    def home(self, alert: Alert) -> str | None:
        """The destination for the alert's severity; None when the channel is not for it."""

    @abstractmethod
    def unknown_resolve_to(self, alert: Alert) -> str | None:
        """Where a resolve goes when nothing is known about the alert."""

    @abstractmethod
    async def send(self, alert: Alert, step: Step) -> tuple[str, bool]:
        """Send one step once: (remote id, truncated); DeliveryError on failure."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def _result(self, alert: Alert, step: Step | None, outcome: Outcome) -> DeliveryResult:
        return DeliveryResult(
            fingerprint=alert.fingerprint,
            alertname=alert.alertname,
            status=alert.status,
            severity=step.severity if step else alert.severity,
            action=step.action.value if step else "",
            destination=step.destination if step else "",
            outcome=outcome,
            notification_id=alert.notification_id,
            time=self.wall(),
        )

    async def notify(self, alert: Alert) -> list[DeliveryResult]:
        if not alert.fingerprint:
            result = self._result(alert, None, "dropped")
            return [replace(result, error="alert has no fingerprint")]
        steps = plan(
            alert,
            self.home(alert),
            self.open.get(alert.fingerprint),
            self.unknown_resolve_to(alert),
        )
        if not steps:
            self.open.filtered(alert.fingerprint)
            return [self._result(alert, None, "filtered")]
        results = []
        for step in steps:
            started = self.clock()
            try:
                (remote_id, truncated), attempts = await call_with_retry(
                    partial(self.send, alert, step),
                    self.backoff,
                    clock=self.clock,
                    sleep=self.sleep,
                    rand=self.rand,
                )
            except DeliveryError as err:
                failed = self._result(alert, step, "failed")
                results.append(
                    replace(
                        failed,
                        attempts=err.attempts,
                        error=str(err),
                        retryable=err.retryable,
                        latency_s=self.clock() - started,
                    )
                )
                continue
            self.open.delivered(alert.fingerprint, step)
            delivered = self._result(alert, step, "delivered")
            results.append(
                replace(
                    delivered,
                    attempts=attempts,
                    remote_id=remote_id,
                    truncated=truncated,
                    latency_s=self.clock() - started,
                )
            )
        return results
