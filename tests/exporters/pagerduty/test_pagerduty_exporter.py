"""The `pagerduty` collector exporter: config, lifecycle, history, errors, secrets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support.alert_delivery import ROUTING_KEY, DeliveryClock, sample_alert

from routewatch.collector.alerting.history import reset_shared_history, shared_history
from routewatch.collector.component import ComponentID, CreateSettings, Kind, Signal
from routewatch.collector.confmap import decode
from routewatch.collector.devservers.pagerduty_server import PagerDutyServer, pagerduty_server
from routewatch.collector.errors import ConfigError, PermanentError, RetryableError
from routewatch.collector.exporters.pagerduty.config import Config
from routewatch.collector.exporters.pagerduty.factory import FACTORY
from routewatch.collector.exporters.pagerduty.pagerduty import new_pagerduty_exporter
from routewatch.collector.storage import SQLiteStorageClient
from routewatch.collector.telemetry import Telemetry
from routewatch.exporters.alerts import alerts_to_request

FAST_RETRY = {"initial_interval": "1s", "max_elapsed_time": "10s", "randomization_factor": 0}


class NoExtensions:
    def get_extension(self, id: ComponentID) -> Any:
        return None


class FileStorageHost:
    """A host with one storage extension backed by SQLite (as `file_storage` is)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clients: list[SQLiteStorageClient] = []

    def get_extension(self, id: ComponentID) -> Any:
        if str(id) != "file_storage":
            return None
        host = self

        class Extension:
            def client(self, owner: str, name: str = "") -> SQLiteStorageClient:
                client = SQLiteStorageClient(host.path, f"{owner}{name}")
                host.clients.append(client)
                return client

        return Extension()


@pytest.fixture(autouse=True)
def fresh_history() -> Iterator[None]:
    reset_shared_history()
    yield
    reset_shared_history()


@pytest.fixture
def pd() -> Iterator[PagerDutyServer]:
    with pagerduty_server() as server:
        yield server


def settings(name: str = "", telemetry: Telemetry | None = None) -> CreateSettings:
    return CreateSettings(
        id=ComponentID("pagerduty", name),
        kind=Kind.EXPORTER,
        telemetry=telemetry or Telemetry(),
        logger=logging.getLogger("routewatch.test.pagerduty"),
        signal=Signal.LOGS,
    )


def config(raw: dict[str, Any]) -> Config:
    # No sending queue (unless a test sets one): `consume` returns or raises what the send did.
    raw = {"sending_queue": {"enabled": False}, **raw}
    return decode(Config, raw, "exporters::pagerduty", FACTORY.create_default_config())


def test_routing_key_is_required_and_never_echoed() -> None:
    with pytest.raises(ConfigError, match=r"^exporters::pagerduty: routing_key is required$"):
        config({})
    with pytest.raises(ConfigError, match="routing_key must be 32 characters, got 33") as err:
        config({"routing_key": ROUTING_KEY + "x"})
    assert ROUTING_KEY not in str(err.value)
    with pytest.raises(ConfigError, match="exporters::pagerduty: has invalid keys: routingkey"):
        config({"routingkey": ROUTING_KEY})
    with pytest.raises(ConfigError, match="unknown severity 'page'"):
        config({"routing_key": ROUTING_KEY, "severities": ["page"]})
    cfg = config({"routing_key": ROUTING_KEY})
    assert ROUTING_KEY not in repr(cfg)
    assert cfg.severities == ["critical", "error"]
    assert cfg.url == "https://events.pagerduty.com/v2/enqueue"


async def test_lifecycle_through_the_factory_records_history(pd: PagerDutyServer) -> None:
    telemetry = Telemetry()
    cfg = config({"routing_key": ROUTING_KEY, "url": pd.url})
    exporter = FACTORY.create[Signal.LOGS](settings("eu", telemetry), cfg, None)
    await exporter.start(NoExtensions())
    await exporter.consume(alerts_to_request([sample_alert()], now=1_700_000_001.0))
    resolved = sample_alert(status="resolved", notification_id="n-2", ends_at=1_700_000_300.0)
    await exporter.consume(alerts_to_request([resolved], now=1_700_000_301.0))
    await exporter.shutdown()
    await exporter.shutdown()  # idempotent
    assert [e["event_action"] for e in pd.events] == ["trigger", "resolve"]
    assert pd.open_incidents() == []
    history = shared_history().query(fingerprint="7f3a9c1e5b2d4f60")
    assert [(d.receiver, d.channel, d.action, d.outcome) for d in history] == [
        ("pagerduty/eu", "pagerduty", "resolve", "delivered"),
        ("pagerduty/eu", "pagerduty", "trigger", "delivered"),
    ]
    assert history[1].remote_id == "7f3a9c1e5b2d4f60" and history[1].attempts == 1
    labels = {"exporter": "pagerduty/eu", "channel": "pagerduty", "outcome": "delivered"}
    assert telemetry.value("routewatch_exporter_alert_notifications", labels) == 2


async def test_a_400_is_permanent_logged_once_and_no_secret_anywhere(
    pd: PagerDutyServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cfg = config({"routing_key": ROUTING_KEY, "url": pd.url, "retry_on_failure": FAST_RETRY})
    clock = DeliveryClock()
    exporter = new_pagerduty_exporter(settings(), cfg, **clock.clocks())
    await exporter.start(NoExtensions())
    pd.inject(400, times=3)
    with pytest.raises(PermanentError) as err:
        await exporter.consume(alerts_to_request([sample_alert()], now=1.0))
    assert "HTTP 400" in str(err.value) and ROUTING_KEY not in str(err.value)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    # Once by the channel, once by the exporter helper's drop log (once per cause).
    drops = [w for w in warnings if w.getMessage().startswith("exporting failed, dropping 1")]
    channel = [w for w in warnings if w not in drops]
    assert len(channel) == 1 and "failed after 1 attempt(s)" in channel[0].getMessage()
    assert len(drops) == 1
    assert len(pd.received) == 1  # never retried
    [delivery] = shared_history().query()
    assert (delivery.outcome, delivery.attempts) == ("failed", 1)
    for record in caplog.records:
        assert ROUTING_KEY not in record.getMessage()
    await exporter.shutdown()


async def test_network_errors_are_retryable_and_redacted(caplog: pytest.LogCaptureFixture) -> None:
    from support.ports import free_port

    caplog.set_level(logging.DEBUG)
    # A URL that would echo the key in an error if it were ever put there.
    url = f"http://127.0.0.1:{free_port()}/v2/enqueue?k={ROUTING_KEY}"
    cfg = config({"routing_key": ROUTING_KEY, "url": url, "retry_on_failure": FAST_RETRY})
    clock = DeliveryClock()
    exporter = new_pagerduty_exporter(settings(), cfg, **clock.clocks())
    await exporter.start(NoExtensions())
    with pytest.raises(RetryableError) as err:
        await exporter.consume(alerts_to_request([sample_alert()], now=1.0))
    assert ROUTING_KEY not in str(err.value)
    assert clock.sleeps  # it did back off
    for record in caplog.records:
        assert ROUTING_KEY not in record.getMessage()
    assert ROUTING_KEY not in shared_history().query()[0].error
    await exporter.shutdown()


async def test_a_retried_request_resends_only_what_failed(pd: PagerDutyServer) -> None:
    cfg = config(
        {
            "routing_key": ROUTING_KEY,
            "url": pd.url,
            "retry_on_failure": {**FAST_RETRY, "max_elapsed_time": "2s"},
        }
    )
    exporter = new_pagerduty_exporter(settings(), cfg, **DeliveryClock().clocks())
    await exporter.start(NoExtensions())
    first = sample_alert(fingerprint="fp-a", notification_id="a-1")
    second = sample_alert(fingerprint="fp-b", notification_id="b-1")
    request = alerts_to_request([first, second], now=1.0)
    # first delivered; then the server fails long enough for the second to give up
    await exporter.consume(alerts_to_request([first], now=1.0))
    pd.inject(503, times=50)
    with pytest.raises(RetryableError):
        await exporter.consume(request)
    pd.reset()
    await exporter.consume(request)  # what the helper does on retry
    assert [e["dedup_key"] for e in pd.events] == ["fp-b"]
    await exporter.shutdown()


async def test_history_survives_a_restart_so_a_downgrade_still_resolves(
    pd: PagerDutyServer, tmp_path: Path
) -> None:
    raw = {"routing_key": ROUTING_KEY, "url": pd.url, "history_storage": "file_storage"}
    host = FileStorageHost(tmp_path / "storage.db")
    before = new_pagerduty_exporter(settings(), config(raw), **DeliveryClock().clocks())
    await before.start(host)
    await before.consume(alerts_to_request([sample_alert()], now=1.0))
    await before.shutdown()
    shared_history().detach()
    reset_shared_history()  # the collector restarts

    after = new_pagerduty_exporter(settings(), config(raw), **DeliveryClock().clocks())
    await after.start(host)
    downgrade = sample_alert(severity="warning", notification_id="n-2")
    await after.consume(alerts_to_request([downgrade], now=2.0))
    assert [e["event_action"] for e in pd.events] == ["trigger", "resolve"]
    assert pd.open_incidents() == []
    assert len(shared_history().query()) == 2  # the trigger came back from storage
    await after.shutdown()
    for client in host.clients:
        client.close()


async def test_concurrent_requests_keep_trigger_before_resolve(pd: PagerDutyServer) -> None:
    # Parallel queue consumers: the trigger's request is slowed by a 503 and a retry; its
    # resolve, pushed meanwhile, must not overtake it (or the incident would stay open).
    cfg = config({"routing_key": ROUTING_KEY, "url": pd.url, "retry_on_failure": FAST_RETRY})
    exporter = new_pagerduty_exporter(settings(), cfg, **DeliveryClock().clocks())
    await exporter.start(NoExtensions())
    pd.inject(503)
    trigger = alerts_to_request([sample_alert()], now=1.0)
    resolve = alerts_to_request([sample_alert(status="resolved", notification_id="n-2")], now=2.0)
    await asyncio.gather(exporter.consume(trigger), exporter.consume(resolve))
    assert [e["event_action"] for e in pd.events] == ["trigger", "resolve"]
    assert pd.open_incidents() == []
    await exporter.shutdown()


async def test_two_collectors_with_the_same_alert_open_one_incident(pd: PagerDutyServer) -> None:
    cfg = config({"routing_key": ROUTING_KEY, "url": pd.url})
    first = new_pagerduty_exporter(settings("a"), cfg, **DeliveryClock().clocks())
    await first.start(NoExtensions())
    second = new_pagerduty_exporter(settings("b"), cfg, **DeliveryClock().clocks())
    await second.start(NoExtensions())
    # each instance evaluates the same rule on the same data: same fingerprint, own ids
    await first.consume(alerts_to_request([sample_alert(notification_id="a-1")], now=1.0))
    await second.consume(alerts_to_request([sample_alert(notification_id="b-1")], now=1.0))
    assert len(pd.incidents) == 1 and len(pd.incidents[0].events) == 2
    resolved = sample_alert(status="resolved", notification_id="a-2")
    await first.consume(alerts_to_request([resolved], now=2.0))
    await second.consume(alerts_to_request([replace(resolved, notification_id="b-2")], now=2.0))
    assert pd.open_incidents() == [] and len(pd.incidents) == 1
    await first.shutdown()
    await second.shutdown()


async def test_an_alert_without_fingerprint_is_dropped_permanently(pd: PagerDutyServer) -> None:
    cfg = config({"routing_key": ROUTING_KEY, "url": pd.url})
    exporter = new_pagerduty_exporter(settings(), cfg, **DeliveryClock().clocks())
    await exporter.start(NoExtensions())
    with pytest.raises(PermanentError, match="dropped: alert has no fingerprint"):
        await exporter.consume(alerts_to_request([sample_alert(fingerprint="")], now=1.0))
    assert pd.received == []
    assert shared_history().query()[0].outcome == "dropped"
    await exporter.shutdown()


def test_exporters_of_one_process_share_the_rate_limit_per_routing_key() -> None:
    from routewatch.collector.exporters.pagerduty.pagerduty import notifier_from

    cfg = config({"routing_key": ROUTING_KEY})
    first, second = notifier_from(settings("a"), cfg), notifier_from(settings("b"), cfg)
    assert first.buckets is second.buckets
    own = notifier_from(settings("c"), cfg, **DeliveryClock().clocks())
    assert own.buckets is not first.buckets
