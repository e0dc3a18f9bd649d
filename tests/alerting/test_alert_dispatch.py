"""Grouping timers, repeat, send_resolved, inhibition and silences on a fake clock, each with
a restart in the middle (a new connector over the same SQLite storage)."""

from pathlib import Path
from typing import Any

import pytest
from alerting.engine_helpers import GAUGE_RULE, T0, Harness, gauge_config

from routewatch.collector.alerting.otlp_build import PointSpec, metrics_request
from routewatch.collector.alerting.silence import format_time, silence_from_api
from routewatch.exporters.alerts import Alert

RESTART = pytest.mark.parametrize("restart", [False, True], ids=["live", "restart"])

AGE_RULE = {
    **GAUGE_RULE,
    "alert": "QueueOld",
    "metric": "queue.age",
    "thresholds": {"warning": "> 60"},
    "annotations": {},
}


async def harness(tmp_path: Path, rules: list[dict[str, Any]] | None = None, **kw: Any) -> Harness:
    cfg = gauge_config(**kw)
    if rules is not None:
        cfg = gauge_config(rules=rules, **kw)
    return await Harness(cfg, tmp_path / "state.db").start()


async def send(h: Harness, t: float, metric: str, value: float, queue: str = "a") -> list[Alert]:
    h.clock.now = T0 + t
    assert h.conn is not None
    request = metrics_request(
        metric, "gauge", [PointSpec({"queue": queue}, h.clock.now, value=value)]
    )
    await h.conn.consume(request)
    await h.conn.run_once()
    return h.rec.take()


def names(alerts: list[Alert]) -> list[tuple[str, str, str]]:
    return sorted((a.labels.get("queue", ""), a.status, a.severity) for a in alerts)


@RESTART
async def test_group_wait_batches_alerts_of_one_group(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path, group_by=["alertname"], group_wait="30s", group_interval="5m")
    assert await h.at(0, 120, "a") == []
    assert await h.at(10, 120, "b") == []
    if restart:
        await h.restart()  # the group is rebuilt and waits group_wait again
        assert await h.at(35) == []
        sent = await h.at(40)
    else:
        assert await h.at(29) == []
        sent = await h.at(30)
    assert names(sent) == [("a", "firing", "critical"), ("b", "firing", "critical")]
    assert len({a.group_key for a in sent}) == 1
    await h.stop()


@RESTART
async def test_group_interval_delays_a_new_alert_in_a_flushed_group(
    tmp_path: Path, restart: bool
) -> None:
    h = await harness(tmp_path, group_by=["alertname"], group_wait="0s", group_interval="5m")
    assert names(await h.at(0, 120, "a")) == [("a", "firing", "critical")]
    assert await h.at(60, 120, "b") == []
    if restart:
        await h.restart()
        # after a restart the group is new: it flushes after group_wait, once
        assert names(await h.at(61)) == [("b", "firing", "critical")]
        assert await h.at(300) == []
    else:
        assert await h.at(200, 120, "a") == []  # keeps a's window filled
        assert await h.at(299) == []
        assert names(await h.at(300)) == [("b", "firing", "critical")]
    await h.stop()


@RESTART
async def test_repeat_interval_renotifies_firing_alerts(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path, group_interval="1m", repeat_interval="10m")
    (first,) = await h.at(0, 120)
    for t in range(60, 600, 60):
        assert await h.at(t, 120) == []
        if restart and t == 300:
            await h.restart()
    (repeat,) = await h.at(600, 120)
    assert repeat.status == "firing" and repeat.fingerprint == first.fingerprint
    assert repeat.notification_id != first.notification_id
    assert h.conn and h.conn.engine
    assert h.conn.engine.emitted.items[-1].reason == "repeat_interval_elapsed"
    await h.stop()


@RESTART
async def test_send_resolved_false_sends_no_resolve(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path, send_resolved=False)
    assert len(await h.at(0, 120)) == 1
    if restart:
        await h.restart()
    assert await h.at(10, 10) == []
    assert h.conn and h.conn.engine and h.conn.engine.states == {}
    assert h.conn.engine.nflog.notified() == set()
    await h.restart()  # nothing is left to resolve after a later restart either
    assert await h.at(400) == []
    assert h.conn.engine is not None and h.conn.engine.states == {}
    await h.stop()


INHIBIT = [
    {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["queue"],
    }
]


@RESTART
async def test_critical_inhibits_warning_with_equal_labels(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path, rules=[GAUGE_RULE, AGE_RULE], inhibit_rules=INHIBIT)
    assert names(await send(h, 0, "queue.depth", 150, "a")) == [("a", "firing", "critical")]
    if restart:
        await h.restart()
    assert await send(h, 10, "queue.age", 100, "a") == []  # QueueOld/a inhibited
    (other,) = await send(h, 20, "queue.age", 100, "b")  # different queue: not inhibited
    assert other.alertname == "QueueOld" and other.labels["queue"] == "b"
    assert h.conn and h.conn.engine
    views = {
        st.labels["queue"]: h.conn.engine.muted_by(st, h.clock.now)
        for st in h.conn.engine.firing()
        if st.rule == "QueueOld"
    }
    assert views == {"a": "inhibited", "b": None}
    # The source resolves: the target is no longer inhibited and notifies.
    sent = await send(h, 30, "queue.depth", 10, "a")
    sent += await send(h, 31, "queue.age", 100, "a")
    assert sorted((a.alertname, a.status) for a in sent) == [
        ("QueueDeep", "resolved"),
        ("QueueOld", "firing"),
    ]
    await h.stop()


@RESTART
async def test_a_rule_inhibits_its_dependants(tmp_path: Path, restart: bool) -> None:
    deep = {**GAUGE_RULE, "inhibits": ["QueueOld"]}
    h = await harness(tmp_path, rules=[deep, AGE_RULE])
    assert len(await send(h, 0, "queue.depth", 60, "a")) == 1  # warning also inhibits
    if restart:
        await h.restart()  # the source's state is restored, so it still mutes
    assert await send(h, 10, "queue.age", 100, "a") == []
    assert len(await send(h, 20, "queue.age", 100, "b")) == 1
    await h.stop()


@RESTART
async def test_resolve_goes_out_for_a_trigger_inhibited_later(
    tmp_path: Path, restart: bool
) -> None:
    h = await harness(tmp_path, rules=[GAUGE_RULE, AGE_RULE], inhibit_rules=INHIBIT)
    (old,) = await send(h, 0, "queue.age", 100, "a")
    assert old.alertname == "QueueOld"
    assert len(await send(h, 10, "queue.depth", 150, "a")) == 1  # now QueueOld is inhibited
    assert await send(h, 15, "queue.age", 120, "a") == []  # still firing, muted
    if restart:
        await h.restart()
        assert await h.at(16) == []  # muted after the restart too: no repeat of the trigger
    (resolved,) = await send(h, 20, "queue.age", 5, "a")
    assert (resolved.alertname, resolved.status) == ("QueueOld", "resolved")
    assert resolved.fingerprint == old.fingerprint
    assert await send(h, 30, "queue.age", 5, "a") == []  # one resolve, not two
    await h.stop()


@RESTART
async def test_config_silence_mutes(tmp_path: Path, restart: bool) -> None:
    silences = [{"matchers": ['queue="a"'], "comment": "maintenance", "created_by": "ops"}]
    h = await harness(tmp_path, silences=silences)
    assert await h.at(0, 120, "a") == []
    if restart:
        await h.restart()
    assert await h.at(10, 120, "a") == []
    assert len(await h.at(20, 120, "b")) == 1
    await h.stop()


@RESTART
async def test_api_silence_persists_and_expiring_it_notifies(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path)
    assert h.conn and h.conn.engine
    silence = silence_from_api(
        {
            "matchers": [{"name": "alertname", "value": "QueueDeep"}],
            "endsAt": format_time(T0 + 3600),
            "createdBy": "me",
            "comment": "deploy",
        },
        h.clock.now,
    )
    h.conn.engine.silences.add(silence)
    assert await h.at(0, 120) == []
    if restart:
        await h.restart()
    assert await h.at(10, 120) == []
    assert h.conn.engine is not None
    h.conn.engine.silences.expire(silence.id, h.clock.now)
    (fired,) = await h.at(20, 120)
    assert fired.status == "firing"
    await h.stop()


@RESTART
async def test_resolve_goes_out_for_a_trigger_silenced_later(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path)
    (fired,) = await h.at(0, 120)
    assert h.conn and h.conn.engine
    h.conn.engine.silences.add(
        silence_from_api(
            {"matchers": ['alertname="QueueDeep"'], "endsAt": format_time(T0 + 3600)},
            h.clock.now,
        )
    )
    assert await h.at(10, 150) == []  # the level change is muted
    if restart:
        await h.restart()
    (resolved,) = await h.at(20, 10)
    assert resolved.status == "resolved" and resolved.fingerprint == fired.fingerprint
    await h.stop()
