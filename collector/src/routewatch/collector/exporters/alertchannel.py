"""What the `sns` and `pagerduty` exporters share: an alert channel inside the exporter helper.

The channel (routewatch.exporters.delivery) retries each notification itself, with the
exporter's `retry_on_failure` settings, and applies `timeout` to each attempt, as the Go
helper applies it per attempt; the helper is therefore given neither, so a notification is
never retried twice over or cut short by a timeout around all its retries. What is left after
the channel's retries goes to the helper as a RetryableError (some notification may succeed
later; those already delivered are not sent again) or a PermanentError (refused: 400).
Every delivery is recorded in the shared delivery history and counted.
"""

from __future__ import annotations

import dataclasses

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from routewatch.collector.alerting.history import (
    STORAGE_OWNER,
    Delivery,
    DeliveryHistory,
    shared_history,
)
from routewatch.collector.component import ComponentID, CreateSettings, Data, Host, Signal
from routewatch.collector.confmap import Duration
from routewatch.collector.errors import ConfigError, PermanentError, RetryableError
from routewatch.collector.exporterhelper import ExporterHelperConfig, RetryConfig, new_exporter
from routewatch.collector.exporterhelper.exporter import Exporter
from routewatch.exporters.delivery import Backoff, OpenNotifications, redact
from routewatch.exporters.delivery.channel import Channel
from routewatch.exporters.delivery.dispatch import Deliverer
from routewatch.exporters.delivery.result import DeliveryResult

NOTIFICATIONS_METRIC = "routewatch_exporter_alert_notifications"
ATTEMPTS_METRIC = "routewatch_exporter_alert_notification_attempts"


def backoff_from(retry: RetryConfig) -> Backoff:
    return Backoff(
        enabled=retry.enabled,
        initial_interval=float(retry.initial_interval),
        multiplier=retry.multiplier,
        max_interval=float(retry.max_interval),
        max_elapsed_time=float(retry.max_elapsed_time),
        randomization_factor=retry.randomization_factor,
    )


def open_notifications(receiver: str, history: DeliveryHistory | None = None) -> OpenNotifications:
    """What `receiver` left firing, seeded from the (possibly persisted) history."""
    store = history or shared_history()
    return OpenNotifications(seed=lambda fp: store.open_destinations(receiver, fp))


def describe(result: DeliveryResult, channel: str) -> str:
    what = (
        f"{channel} {result.action or 'notification'} of {result.alertname} ({result.fingerprint})"
    )
    if result.outcome == "dropped":
        return f"{what} dropped: {result.error}"
    return f"{what} failed after {result.attempts} attempt(s): {result.error}"


class AlertChannelExporter:
    def __init__(
        self,
        settings: CreateSettings,
        channel: Channel,
        *,
        history_storage: str | None = None,
        secret: str = "",
        history: DeliveryHistory | None = None,
    ) -> None:
        self.settings = settings
        self.channel = channel
        self.deliverer = Deliverer(channel)
        self.history = history or shared_history()
        self._history_storage = history_storage
        self._secret = secret
        self._receiver = str(settings.id)
        settings.telemetry.describe(NOTIFICATIONS_METRIC, "Alert notifications by outcome.")
        settings.telemetry.describe(ATTEMPTS_METRIC, "Attempts made to deliver alerts.")

    async def start(self, host: Host) -> None:
        if not self._history_storage:
            return
        ext = host.get_extension(ComponentID.parse(self._history_storage))
        client_of = getattr(ext, "client", None)
        if client_of is None:
            raise ConfigError(
                f"exporters::{self._receiver}::history_storage: "
                f"extension {self._history_storage!r} is not a configured storage extension"
            )
        self.history.attach(client_of(STORAGE_OWNER))

    async def push(self, data: Data) -> None:
        if not isinstance(data, ExportLogsServiceRequest):
            raise PermanentError(
                f"{self._receiver}: alert exporters take logs, not {type(data).__name__}"
            )
        outcome = await self.deliverer.deliver(data)
        labels = {"exporter": self._receiver, "channel": self.channel.channel}
        for result in outcome.results:
            self.history.record(Delivery.from_result(self._receiver, self.channel.channel, result))
            self.settings.telemetry.add(
                NOTIFICATIONS_METRIC, 1, {**labels, "outcome": result.outcome}
            )
            self.settings.telemetry.add(ATTEMPTS_METRIC, result.attempts, labels)
            if not result.ok:
                # Once per notification, not per attempt: the retries are in `attempts`.
                self.settings.logger.warning(
                    "%s: %s",
                    self._receiver,
                    redact(describe(result, self.channel.channel), self._secret),
                )
        if outcome.retryable:
            first = outcome.retryable[0]
            raise RetryableError(
                redact(
                    f"{len(outcome.retryable)} alert notification(s) not delivered; first: "
                    + describe(first, self.channel.channel),
                    self._secret,
                )
            )
        if outcome.permanent:
            first = outcome.permanent[0]
            raise PermanentError(
                redact(
                    f"{len(outcome.permanent)} alert notification(s) refused; first: "
                    + describe(first, self.channel.channel),
                    self._secret,
                )
            )

    async def shutdown(self) -> None:
        await self.channel.close()


def new_alert_exporter(
    settings: CreateSettings,
    config: ExporterHelperConfig,
    channel: Channel,
    *,
    history_storage: str | None = None,
    secret: str = "",
) -> Exporter:
    component = AlertChannelExporter(
        settings, channel, history_storage=history_storage, secret=secret
    )
    helper_config = dataclasses.replace(
        config, timeout=Duration(0.0), retry_on_failure=RetryConfig(enabled=False)
    )
    return new_exporter(
        settings,
        helper_config,
        Signal.LOGS,
        component.push,
        start=component.start,
        shutdown=component.shutdown,
    )
