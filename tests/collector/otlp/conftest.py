"""Fixtures of the OTLP receiver and exporter tests (helpers live in otlp_testkit)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from otlp_testkit import SdkData, StartReceiver, settings_for
from support.ports import free_port

from routewatch.collector.component import Kind, Signal
from routewatch.collector.confmap import decode
from routewatch.collector.receivers.otlp.config import OtlpReceiverConfig
from routewatch.collector.receivers.otlp.factory import FACTORY
from routewatch.collector.receivers.otlp.otlp import OtlpReceiver


@pytest.fixture
async def start_receiver() -> AsyncIterator[StartReceiver]:
    """`await start_receiver(consumer, grpc={...}, http={...})` -> a started receiver.

    The protocol dicts are the YAML config of each protocol (None leaves it off); endpoints
    default to free ports on 127.0.0.1. `consumer` is one Consumer for all signals or a
    {Signal: Consumer} map.
    """
    started: list[OtlpReceiver] = []

    async def start(
        consumer: Any,
        grpc: dict[str, Any] | None = None,
        http: dict[str, Any] | None = None,
    ) -> OtlpReceiver:
        protocols: dict[str, Any] = {}
        if grpc is not None:
            protocols["grpc"] = {"endpoint": f"127.0.0.1:{free_port()}", **grpc}
        if http is not None:
            protocols["http"] = {"endpoint": f"127.0.0.1:{free_port()}", **http}
        config = decode(
            OtlpReceiverConfig,
            {"protocols": protocols},
            "receivers::otlp",
            FACTORY.create_default_config(),
        )
        consumers = consumer if isinstance(consumer, dict) else dict.fromkeys(Signal, consumer)
        settings = settings_for(Kind.RECEIVER, "otlp")
        signals = list(consumers)
        receiver = FACTORY.create[signals[0]](settings, config, consumers[signals[0]])
        for signal in signals[1:]:
            receiver.add_consumer(signal, consumers[signal])
        await receiver.start(None)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        await receiver.shutdown()


@pytest.fixture(scope="session")
def sdk_data() -> SdkData:
    return SdkData()
