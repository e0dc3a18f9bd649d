"""The emit stage: the only place the connector sends anything.

It turns the engine's decisions into one `routewatch.alert` log record per notification, hands
them to the next consumer, and reports whether they were accepted; only then may the engine
record them in its notification log.
"""

from __future__ import annotations

from collections.abc import Sequence

from routewatch.collector.alerting.clock import Tick
from routewatch.collector.alerting.engine import Notification
from routewatch.collector.component import Consumer, CreateSettings
from routewatch.exporters.alerts import alerts_to_request

NOTIFICATIONS_METRIC = "routewatch_alerts_notifications"
EMIT_FAILED_METRIC = "routewatch_alerts_emit_failed"


class EmitStage:
    def __init__(self, settings: CreateSettings, next_consumer: Consumer) -> None:
        self.settings = settings
        self.next_consumer = next_consumer

    async def exec(self, notifications: Sequence[Notification], tick: Tick) -> bool:
        """True when the next consumer accepted every record (or there were none)."""
        if not notifications:
            return True
        request = alerts_to_request([n.alert for n in notifications], tick.now)
        t, attrs = self.settings.telemetry, self.settings.attributes
        try:
            await self.next_consumer.consume(request)
        except Exception as err:  # retried at the group's next flush: nothing was recorded
            t.add(EMIT_FAILED_METRIC, len(notifications), attrs)
            self.settings.logger.warning(
                "%s: emitting %d alert notification(s) failed, will retry: %s",
                self.settings.id,
                len(notifications),
                err,
            )
            return False
        for n in notifications:
            t.add(NOTIFICATIONS_METRIC, 1, {**attrs, "reason": n.reason.value})
        return True
