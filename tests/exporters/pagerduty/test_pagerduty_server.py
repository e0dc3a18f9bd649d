"""The local PagerDuty server validates as the spec says and keeps incidents."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request

import orjson
import pytest
from support.alert_delivery import ROUTING_KEY, DeliveryClock

from routewatch.collector.devservers.pagerduty_server import pagerduty_server, validate_event
from routewatch.exporters.pagerduty import MAX_BODY_BYTES


def _event(**changes: object) -> dict:
    event = {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "fp-1",
        "payload": {
            "summary": "s",
            "source": "prod-hybrid-routing",
            "severity": "critical",
            "timestamp": "2026-11-27T10:00:00.000Z",
        },
    }
    event.update(changes)
    return event


def _post(url: str, doc: object) -> tuple[int, dict]:
    data = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, orjson.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, orjson.loads(err.read())


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"routing_key": "k" * 31}, "'routing_key' must be 32 characters"),
        ({"routing_key": "k" * 33}, "'routing_key' must be 32 characters"),
        ({"event_action": "escalate"}, "'event_action' must be one of"),
        ({"dedup_key": "d" * 256}, "'dedup_key' must be at most 255"),
        ({"payload": {"source": "s", "severity": "critical"}}, "'payload.summary' is required"),
        (
            {"payload": {"summary": "s" * 1025, "source": "s", "severity": "critical"}},
            "'payload.summary' must be at most 1024",
        ),
        ({"payload": {"summary": "s", "severity": "critical"}}, "'payload.source' is required"),
        (
            {"payload": {"summary": "s", "source": "s", "severity": "fatal"}},
            "'payload.severity' must be one of",
        ),
        (
            {"payload": {"summary": "s", "source": "s", "severity": "info", "timestamp": "noon"}},
            "'payload.timestamp' must be an ISO 8601",
        ),
        ({"images": [{"src": "http://x.example.com/a.png"}]}, "'images[0].src' must be an https"),
        ({"links": [{"text": "no href"}]}, "'links[0].href' is required"),
        ({"event_action": "resolve", "dedup_key": None}, "'dedup_key' is required for resolve"),
    ],
)
def test_invalid_events_are_rejected_with_the_reason(change: dict, error: str) -> None:
    event = _event(**change)
    if event.get("dedup_key") is None:
        event.pop("dedup_key")
    parsed, errors = validate_event(orjson.dumps(event))
    assert parsed is None
    assert any(e.startswith(error) for e in errors), errors


def test_limits_exactly_at_the_edge_are_valid() -> None:
    payload = {"summary": "s" * 1024, "source": "s", "severity": "info"}
    assert validate_event(orjson.dumps(_event(dedup_key="d" * 255, payload=payload)))[1] == []
    padded = _event(payload={**payload, "custom_details": {"pad": ""}})
    size = len(orjson.dumps(padded))
    padded["payload"]["custom_details"]["pad"] = "p" * (MAX_BODY_BYTES - size)
    body = orjson.dumps(padded)
    assert len(body) == MAX_BODY_BYTES and validate_event(body)[1] == []
    padded["payload"]["custom_details"]["pad"] += "p"
    assert validate_event(orjson.dumps(padded))[0] is None


def test_incidents_open_resolve_and_reopen_over_http() -> None:
    with pagerduty_server() as pd:
        assert _post(pd.url, _event()) == (
            202,
            {"status": "success", "message": "Event processed", "dedup_key": "fp-1"},
        )
        assert _post(pd.url, _event())[0] == 202  # same dedup_key: same incident
        assert len(pd.open_incidents()) == 1
        other_key = _event(routing_key="Z" * 32, event_action="resolve")
        assert _post(pd.url, other_key)[0] == 202  # another key cannot resolve it
        assert len(pd.open_incidents()) == 1
        assert _post(pd.url, _event(event_action="resolve"))[0] == 202
        assert pd.open_incidents() == []
        assert _post(pd.url, _event())[0] == 202  # reused after resolve: a new incident
        assert [i.status for i in pd.incidents] == ["resolved", "triggered"]
        status, body = _post(pd.url, b"{not json")
        assert status == 400 and body["status"] == "invalid event"
        with urllib.request.urlopen(pd.base_url + "/_inspect/incidents?status=open") as resp:
            incidents = orjson.loads(resp.read())
        assert [i["dedup_key"] for i in incidents] == ["fp-1"]
        assert ROUTING_KEY not in orjson.dumps(incidents).decode()


def test_unknown_routing_key_is_refused_when_keys_are_configured() -> None:
    with pagerduty_server(routing_keys={ROUTING_KEY}) as pd:
        status, body = _post(pd.url, _event(routing_key="Q" * 32))
        assert status == 400 and body["errors"] == ["Invalid routing key"]


def test_rate_limit_per_routing_key_on_the_servers_clock() -> None:
    clock = DeliveryClock()
    with pagerduty_server(rate_limit_per_minute=3, clock=clock) as pd:
        assert [_post(pd.url, _event())[0] for _ in range(4)] == [202, 202, 202, 429]
        assert _post(pd.url, _event(routing_key="Z" * 32))[0] == 202
        clock.advance(20.0)  # 3 per minute: one token back every 20 s
        assert [_post(pd.url, _event())[0] for _ in range(2)] == [202, 429]


def test_fault_injection_over_the_inspection_api() -> None:
    with pagerduty_server() as pd:
        _post(pd.base_url + "/_inspect/faults", {"status": 503, "times": 2})
        assert [_post(pd.url, _event())[0] for _ in range(3)] == [503, 503, 202]
        pd.inject_drop()
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            _post(pd.url, _event())
        assert _post(pd.url, _event())[0] == 202


def test_runs_as_a_module() -> None:
    from support.ports import free_port

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "routewatch.collector.devservers.pagerduty_server",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip().endswith(f"127.0.0.1:{port}/v2/enqueue")
        assert _post(f"http://127.0.0.1:{port}/v2/enqueue", _event())[0] == 202
    finally:
        proc.terminate()
        proc.wait(10)
