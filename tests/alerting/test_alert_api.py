"""The HTTP API over real HTTP: silences (create, list, get, expire), alerts, notifications."""

import importlib
import importlib.util
import socket
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from alerting.engine_helpers import T0, Harness, gauge_config
from support.ports import free_port

from routewatch.collector.alerting.api import HISTORY_MODULE
from routewatch.collector.alerting.silence import format_time
from routewatch.collector.errors import ConfigError


async def api_harness(tmp_path: Path) -> tuple[Harness, str]:
    port = free_port()
    h = await Harness(gauge_config(endpoint=f"localhost:{port}"), tmp_path / "s.db").start()
    return h, f"http://localhost:{port}/api/v2"


async def test_silence_lifecycle_over_http_mutes_and_survives_restart(tmp_path: Path) -> None:
    h, base = await api_harness(tmp_path)
    body = {
        "matchers": [{"name": "queue", "value": "a", "isRegex": False, "isEqual": True}],
        "startsAt": format_time(T0),
        "endsAt": format_time(T0 + 3600),
        "createdBy": "oncall",
        "comment": "deploying queue a",
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/silences", json=body) as resp:
            assert resp.status == 200
            silence_id = (await resp.json())["silenceID"]
        assert await h.at(0, 120, "a") == []  # muted
        async with http.get(f"{base}/alerts") as resp:
            (alert,) = await resp.json()
        assert alert["state"] == "firing"
        assert alert["status"] == {"state": "suppressed", "mutedBy": "silenced"}

        await h.restart()  # the silence comes back from storage
        assert await h.at(10, 120, "a") == []
        async with http.get(f"{base}/silences") as resp:
            (listed,) = await resp.json()
        assert listed["id"] == silence_id and listed["status"]["state"] == "active"
        assert listed["matchers"] == body["matchers"]
        assert listed["comment"] == "deploying queue a" and listed["createdBy"] == "oncall"

        async with http.delete(f"{base}/silence/{silence_id}") as resp:
            assert resp.status == 200
        (fired,) = await h.at(20, 120, "a")
        assert fired.status == "firing"
        async with http.get(f"{base}/silence/{silence_id}") as resp:
            assert (await resp.json())["status"]["state"] == "expired"
        async with http.delete(f"{base}/silence/{silence_id}") as resp:
            assert resp.status == 400
        async with http.delete(f"{base}/silence/nope") as resp:
            assert resp.status == 404
    await h.stop()


async def test_bad_silences_are_refused_with_the_reason(tmp_path: Path) -> None:
    h, base = await api_harness(tmp_path)
    async with aiohttp.ClientSession() as http:
        for body, reason in (
            (b"{", "unexpected"),
            (b'{"matchers": [], "endsAt": "2100-01-01T00:00:00Z"}', "at least one matcher"),
            (b'{"matchers": ["a=\\"b\\""]}', "endsAt is required"),
            (b'{"matchers": ["a=\\"b\\""], "endsAt": "yesterday"}', "invalid time"),
            (b'{"matchers": ["a=~\\"(\\""], "endsAt": "2100-01-01T00:00:00Z"}', "invalid regex"),
        ):
            async with http.post(f"{base}/silences", data=body) as resp:
                assert resp.status == 400
                assert reason in (await resp.json())["error"]
    await h.stop()


async def test_notifications_history_and_emitted_log(tmp_path: Path) -> None:
    h, base = await api_harness(tmp_path)
    (fired,) = await h.at(0, 120, "a")
    assert [a.status for a in await h.at(10, 1, "a")] == ["resolved"]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/notifications/emitted") as resp:
            items = await resp.json()
        assert [(i["status"], i["reason"]) for i in items] == [
            ("resolved", "resolved"),
            ("firing", "new_alert"),
        ]
        assert {i["fingerprint"] for i in items} == {fired.fingerprint}
        assert items[1]["notification_id"] == fired.notification_id
        async with http.get(f"{base}/notifications/emitted?status=firing&limit=5") as resp:
            assert len(await resp.json()) == 1
        # Delivery history lives in the alert exporters' module (alert-notify's), once merged.
        if importlib.util.find_spec(HISTORY_MODULE) is None:
            async with http.get(f"{base}/notifications") as resp:
                assert resp.status == 501
                assert "/api/v2/notifications/emitted" in (await resp.json())["error"]
        else:
            history = importlib.import_module(HISTORY_MODULE)
            history.shared_history().record(
                history.Delivery(
                    time=h.clock.now,
                    receiver="pagerduty",
                    channel="pagerduty",
                    fingerprint=fired.fingerprint,
                    alertname=fired.alertname,
                    status="firing",
                    severity=fired.severity,
                    outcome="delivered",
                )
            )
            query = f"fingerprint={fired.fingerprint}&limit=5"
            async with http.get(f"{base}/notifications?{query}") as resp:
                assert resp.status == 200
                (delivery,) = await resp.json()
            assert delivery["outcome"] == "delivered"
    await h.restart()  # the emitted log is persisted
    async with aiohttp.ClientSession() as http, http.get(f"{base}/notifications/emitted") as resp:
        assert len(await resp.json()) == 2
    await h.stop()


async def test_endpoint_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        h = Harness(gauge_config(endpoint=f"127.0.0.1:{port}"), None)
        with pytest.raises(ConfigError, match=rf"::endpoint: cannot listen on 127.0.0.1:{port}"):
            await h.start()


async def test_silence_that_cannot_be_saved_is_refused_and_not_applied(tmp_path: Path) -> None:
    h, base = await api_harness(tmp_path)
    other = sqlite3.connect(tmp_path / "s.db")
    other.execute('DROP TABLE "routewatch_alerts/alerts"')  # a real storage fault
    other.commit()
    other.close()
    body = {"matchers": ['queue="a"'], "endsAt": format_time(T0 + 3600)}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/silences", json=body) as resp:
            assert resp.status == 503
            assert "could not save the silence" in (await resp.json())["error"]
        async with http.get(f"{base}/silences") as resp:
            assert await resp.json() == []
    assert len(await h.at(0, 120, "a")) == 1  # not muted
    await h.stop()


async def test_posting_a_silence_with_an_id_replaces_it(tmp_path: Path) -> None:
    h, base = await api_harness(tmp_path)
    body = {"matchers": ['queue="a"'], "endsAt": format_time(T0 + 600), "comment": "short"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/silences", json=body) as resp:
            first = (await resp.json())["silenceID"]
        longer = {**body, "id": first, "endsAt": format_time(T0 + 7200), "comment": "longer"}
        async with http.post(f"{base}/silences", json=longer) as resp:
            second = (await resp.json())["silenceID"]
        async with http.get(f"{base}/silences") as resp:
            states = {s["id"]: (s["status"]["state"], s["comment"]) for s in await resp.json()}
        assert states == {first: ("expired", "short"), second: ("active", "longer")}
        async with http.post(f"{base}/silences", json={**body, "id": "nope"}) as resp:
            assert resp.status == 404
    assert await h.at(0, 120, "a") == []  # still silenced by the replacement
    await h.stop()
