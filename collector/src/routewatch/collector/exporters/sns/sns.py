"""The `sns` exporter: the SNS channel inside the exporter helper."""

from __future__ import annotations

from typing import Any

from routewatch.collector.component import CreateSettings
from routewatch.collector.exporterhelper.exporter import Exporter
from routewatch.collector.exporters.alertchannel import (
    backoff_from,
    new_alert_exporter,
    open_notifications,
)
from routewatch.collector.exporters.sns.config import Config
from routewatch.exporters.sns import MessageOptions, SnsNotifier, SnsOptions


def notifier_from(settings: CreateSettings, config: Config, **clocks: Any) -> SnsNotifier:
    """The channel for `config`; `clocks` (clock, wall, sleep, rand) are for tests."""
    options = SnsOptions(
        topic_arn=config.topic_arn,
        topic_arns=dict(config.topic_arns),
        region=config.region,
        endpoint=config.endpoint,
        severities=tuple(config.severities),
        message=MessageOptions(
            format=config.message_format,
            template=config.message_template,
            subject=config.subject_template,
            attributes=dict(config.message_attributes),
        ),
        backoff=backoff_from(config.retry_on_failure),
        timeout=float(config.timeout),
    )
    return SnsNotifier(options, open_notifications=open_notifications(str(settings.id)), **clocks)


def new_sns_exporter(settings: CreateSettings, config: Config, **clocks: Any) -> Exporter:
    return new_alert_exporter(
        settings,
        config,
        notifier_from(settings, config, **clocks),
        history_storage=config.history_storage,
    )
