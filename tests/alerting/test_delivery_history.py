"""The delivery history: bounded, queryable, persisted through a storage client."""

from __future__ import annotations

from pathlib import Path

import pytest

from routewatch.collector.alerting.history import (
    Delivery,
    DeliveryHistory,
    reset_shared_history,
    shared_history,
)
from routewatch.collector.storage import SQLiteStorageClient


def delivery(i: int, **changes: object) -> Delivery:
    fields: dict[str, object] = {
        "time": 1000.0 + i,
        "receiver": "pagerduty",
        "channel": "pagerduty",
        "fingerprint": f"fp-{i % 3}",
        "alertname": "RouteLatencyHigh",
        "status": "firing",
        "severity": "critical",
        "outcome": "delivered",
        "attempts": 1,
        "action": "trigger",
        "destination": "https://events.pagerduty.com/v2/enqueue",
        "notification_id": f"n-{i}",
    }
    fields.update(changes)
    return Delivery(**fields)  # type: ignore[arg-type]


def test_query_newest_first_with_filters_and_limit() -> None:
    history = DeliveryHistory()
    for i in range(10):
        history.record(delivery(i))
    assert [d.notification_id for d in history.query(limit=3)] == ["n-9", "n-8", "n-7"]
    assert [d.notification_id for d in history.query(fingerprint="fp-1")] == ["n-7", "n-4", "n-1"]
    assert [d.notification_id for d in history.query(since=1008.0)] == ["n-9", "n-8"]
    assert history.query(receiver="sns") == []


def test_ring_is_bounded() -> None:
    history = DeliveryHistory(max_entries=4)
    for i in range(10):
        history.record(delivery(i))
    assert [d.notification_id for d in history.query()] == ["n-9", "n-8", "n-7", "n-6"]
    with pytest.raises(ValueError):
        DeliveryHistory(max_entries=0)


def test_open_destinations_follow_delivered_triggers_and_resolves() -> None:
    history = DeliveryHistory()
    assert history.open_destinations("pagerduty", "fp") is None
    history.record(delivery(0, fingerprint="fp", outcome="filtered", action=""))
    assert history.open_destinations("pagerduty", "fp") == {}
    history.record(delivery(1, fingerprint="fp", destination="a"))
    history.record(delivery(2, fingerprint="fp", destination="b", severity="warning"))
    history.record(delivery(3, fingerprint="fp", destination="c", outcome="failed"))
    history.record(delivery(4, fingerprint="fp", destination="a", action="resolve"))
    assert history.open_destinations("pagerduty", "fp") == {"b": "warning"}
    assert history.open_destinations("sns", "fp") is None


def test_persisted_history_survives_a_restart_and_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    storage = SQLiteStorageClient(path, "history")
    history = DeliveryHistory(max_entries=5)
    history.record(delivery(0))  # before attaching: kept and written on attach
    history.attach(storage)
    for i in range(1, 8):
        history.record(delivery(i))
    storage.close()

    reopened = SQLiteStorageClient(path, "history")
    assert len(reopened.keys("delivery/")) == 5
    restarted = DeliveryHistory(max_entries=5)
    restarted.record(delivery(100, notification_id="after-restart"))
    restarted.attach(reopened)
    assert [d.notification_id for d in restarted.query()] == [
        "after-restart",
        "n-7",
        "n-6",
        "n-5",
        "n-4",
    ]
    assert restarted.query()[1] == delivery(7)
    restarted.clear()
    assert restarted.query() == [] and reopened.keys("delivery/") == []
    reopened.close()


def test_a_damaged_entry_costs_only_itself(tmp_path: Path) -> None:
    storage = SQLiteStorageClient(tmp_path / "h.db", "history")
    history = DeliveryHistory()
    history.attach(storage)
    history.record(delivery(1))
    storage.set("delivery/00000000000000000002", b"{not json")
    restarted = DeliveryHistory()
    restarted.attach(storage)
    assert [d.notification_id for d in restarted.query()] == ["n-1"]
    storage.close()


def test_shared_history_is_process_wide() -> None:
    reset_shared_history()
    assert shared_history() is shared_history()
    shared_history().record(delivery(1))
    reset_shared_history()
    assert shared_history().query() == []


def test_a_second_attach_does_not_load_twice(tmp_path: Path) -> None:
    history = DeliveryHistory()
    first = SQLiteStorageClient(tmp_path / "h.db", "history")
    history.attach(first)
    history.record(delivery(1))
    second = SQLiteStorageClient(tmp_path / "h.db", "history")
    history.attach(second)  # another exporter, another client of the same table
    history.record(delivery(2))
    assert [d.notification_id for d in history.query()] == ["n-2", "n-1"]
    assert len(first.keys("delivery/")) == 2
    first.close()
    second.close()
