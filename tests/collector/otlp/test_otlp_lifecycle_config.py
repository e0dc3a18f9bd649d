"""Lifecycle of every component of this package (create -> start -> consume -> shutdown, twice,
and shutdown without start), and the receiver's config as a user writes it."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import grpc
import pytest
from otlp_testkit import Recorder, SdkData, component_config, settings_for
from support.otlp_sink import otlp_sink
from support.ports import free_port

from routewatch.collector.component import Component, Consumer, Factory, Kind, Signal
from routewatch.collector.errors import ConfigError
from routewatch.collector.exporters.debug.factory import FACTORY as DEBUG
from routewatch.collector.exporters.file.factory import FACTORY as FILE
from routewatch.collector.exporters.otlp.factory import FACTORY as OTLP
from routewatch.collector.exporters.otlp.factory import FACTORY_GRPC_ALIAS as OTLP_GRPC
from routewatch.collector.exporters.otlp_http.factory import FACTORY as OTLP_HTTP
from routewatch.collector.receivers.otlp.config import OtlpReceiverConfig
from routewatch.collector.receivers.otlp.factory import FACTORY as RECEIVER
from routewatch.collector.receivers.otlp.otlp import OtlpReceiver

_config = component_config


@pytest.mark.parametrize("signal", list(Signal))
@pytest.mark.parametrize("factory", [OTLP, OTLP_GRPC, OTLP_HTTP, DEBUG, FILE], ids=lambda f: f.type)
async def test_exporter_lifecycle(
    factory: Factory, signal: Signal, sdk_data: SdkData, tmp_path: Path
) -> None:
    assert factory.kind == Kind.EXPORTER
    with otlp_sink() as sink:
        raw = {
            "otlp": {"endpoint": f"http://{sink.endpoint}"},
            "otlp_grpc": {"endpoint": f"http://{sink.endpoint}"},
            # Nothing listens there: only the lifecycle is under test for this one.
            "otlp_http": {"endpoint": f"http://127.0.0.1:{free_port()}"},
            "debug": {},
            "file": {"path": str(tmp_path / "out.jsonl")},
        }[factory.type]
        settings = settings_for(Kind.EXPORTER, factory.type)
        never_started = factory.create[signal](settings, _config(factory, raw), None)
        await never_started.shutdown()
        exporter = factory.create[signal](settings, _config(factory, raw), None)
        assert isinstance(exporter, Component) and isinstance(exporter, Consumer)
        await exporter.start(None)
        if factory.type != "otlp_http":
            await exporter.consume(sdk_data.requests[signal])
        await exporter.shutdown()
        await exporter.shutdown()
    if factory.type.startswith("otlp") and factory.type != "otlp_http":
        assert len(sink.traces) + len(sink.metrics) + len(sink.logs) == 1


async def test_receiver_lifecycle_and_rollback_of_a_partial_start(sdk_data: SdkData) -> None:
    recorder = Recorder()
    never_started = RECEIVER.create[Signal.TRACES](
        settings_for(Kind.RECEIVER, "otlp"),
        _config(RECEIVER, {"protocols": {"grpc": None}}),
        recorder,
    )
    await never_started.shutdown()

    grpc_port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        http_port = busy.getsockname()[1]
        config = _config(
            RECEIVER,
            {
                "protocols": {
                    "grpc": {"endpoint": f"127.0.0.1:{grpc_port}"},
                    "http": {"endpoint": f"127.0.0.1:{http_port}"},
                }
            },
        )
        receiver = RECEIVER.create[Signal.TRACES](
            settings_for(Kind.RECEIVER, "otlp"), config, recorder
        )
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{http_port} \\(http\\)"):
            await receiver.start(None)
    # The gRPC server that did start was stopped again: its port is free.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", grpc_port))
    await receiver.shutdown()

    receiver = RECEIVER.create[Signal.TRACES](settings_for(Kind.RECEIVER, "otlp"), config, recorder)
    await receiver.start(None)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        call = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        await call(sdk_data.requests[Signal.TRACES].SerializeToString())
    with pytest.raises(RuntimeError, match="add_consumer after start"):
        receiver.add_consumer(Signal.LOGS, recorder)
    await receiver.shutdown()
    await receiver.shutdown()
    assert recorder.received == [sdk_data.requests[Signal.TRACES]]


def test_receiver_config_as_written_in_yaml() -> None:
    default = RECEIVER.create_default_config()
    assert not default.protocols.grpc.enabled and not default.protocols.http.enabled
    # `grpc:` with nothing under it turns gRPC on with the defaults, as in the Go collector.
    config = _config(RECEIVER, {"protocols": {"grpc": None}})
    assert config.protocols.grpc.enabled and not config.protocols.http.enabled
    assert config.protocols.grpc.endpoint == "localhost:4317"
    assert config.protocols.grpc.max_recv_msg_size_mib == 4
    config = _config(RECEIVER, {"protocols": {"http": {"logs_url_path": "/logs"}}})
    http = config.protocols.http
    assert (http.endpoint, http.max_request_body_size) == ("localhost:4318", 20 * 1024 * 1024)
    assert (http.traces_url_path, http.logs_url_path) == ("/v1/traces", "/logs")
    assert "s3cret" not in repr(
        _config(RECEIVER, {"protocols": {"http": {"auth": {"bearer_token": "s3cret"}}}})
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "receivers::otlp: must specify at least one protocol when using the OTLP receiver"),
        ({"protocols": {}}, "must specify at least one protocol"),
        (
            {"protocols": {"grpc": {"endpoint": "localhost"}}},
            "grpc: endpoint: 'localhost': expected host:port",
        ),
        ({"protocols": {"grpc": {"max_recv_msg_size_mib": 0}}}, "max_recv_msg_size_mib must be"),
        ({"protocols": {"http": {"max_request_body_size": -1}}}, "max_request_body_size must be"),
        ({"protocols": {"http": {"traces_url_path": "v1/t"}}}, "traces_url_path must start with"),
        ({"protocols": {"grpc": {"enabled": True}}}, "protocols::grpc: has invalid keys: enabled"),
        ({"protocols": {"thrift": {}}}, "receivers::otlp::protocols: has invalid keys: thrift"),
    ],
)
def test_receiver_config_errors_name_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _config(RECEIVER, raw)


def test_factory_declarations() -> None:
    assert (RECEIVER.type, RECEIVER.kind) == ("otlp", Kind.RECEIVER)
    for factory in (RECEIVER, OTLP, OTLP_GRPC, OTLP_HTTP, DEBUG, FILE):
        assert set(factory.signals()) == set(Signal)
        assert set(factory.stability) == set(Signal)
    assert isinstance(RECEIVER.create_default_config(), OtlpReceiverConfig)
    assert isinstance(
        RECEIVER.create[Signal.LOGS](
            settings_for(Kind.RECEIVER, "otlp"),
            _config(RECEIVER, {"protocols": {"http": None}}),
            Recorder(),
        ),
        OtlpReceiver,
    )


async def test_receiver_grpc_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = _config(RECEIVER, {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{port}"}}})
        receiver = RECEIVER.create[Signal.TRACES](
            settings_for(Kind.RECEIVER, "otlp"), config, Recorder()
        )
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port} \\(grpc\\)"):
            await receiver.start(None)
        await receiver.shutdown()
