"""Factory of the `otlp` receiver: traces, metrics and logs, one instance per id.

The create function of each signal returns a new `OtlpReceiver` holding that signal's
consumer. A collector that routes several signals of one id to one receiver creates it for
the first signal and calls `receiver.add_consumer(signal, next_consumer)` for the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from routewatch.collector.component import (
    Consumer,
    CreateSettings,
    Factory,
    Kind,
    Signal,
    Stability,
)
from routewatch.collector.receivers.otlp.config import OtlpReceiverConfig
from routewatch.collector.receivers.otlp.otlp import OtlpReceiver

TYPE = "otlp"


def create_default_config() -> OtlpReceiverConfig:
    return OtlpReceiverConfig()


def _create_for(signal: Signal) -> Callable[[CreateSettings, Any, Consumer | None], OtlpReceiver]:
    def create(
        settings: CreateSettings, config: OtlpReceiverConfig, next_consumer: Consumer | None
    ) -> OtlpReceiver:
        if next_consumer is None:
            raise ValueError(f"receiver {settings.id}: a next consumer is required")
        receiver = OtlpReceiver(settings, config)
        receiver.add_consumer(signal, next_consumer)
        return receiver

    return create


FACTORY = Factory(
    type=TYPE,
    kind=Kind.RECEIVER,
    create_default_config=create_default_config,
    create={signal: _create_for(signal) for signal in Signal},
    stability={signal: Stability.BETA for signal in Signal},
)
