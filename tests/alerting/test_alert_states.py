"""Every state transition of an alert on a fake clock, each also across a restart over the
same SQLite storage (a new connector and engine instance)."""

from pathlib import Path

import pytest
from alerting.engine_helpers import T0, Harness, gauge_config

# Each test runs twice: straight through, and with a restart at the marked point.
RESTART = pytest.mark.parametrize("restart", [False, True], ids=["live", "restart"])


async def harness(tmp_path: Path, **kw: object) -> Harness:
    return await Harness(gauge_config(**kw), tmp_path / "state.db").start()  # type: ignore[arg-type]


@RESTART
async def test_inactive_pending_firing_resolved_with_for(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path, rule={"for": "2m"})
    assert await h.at(0, 120) == []  # pending
    assert await h.at(60, 120) == []
    if restart:
        await h.restart()
    (fired,) = await h.at(120, 120)  # `for` counted from the pending start at 0
    assert (fired.status, fired.severity) == ("firing", "critical")
    assert fired.starts_at == h.clock.now
    assert await h.at(180, 10) != []  # resolved
    assert h.conn and h.conn.engine and h.conn.engine.states == {}
    await h.stop()


@RESTART
async def test_pending_that_clears_before_for_never_notifies(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path, rule={"for": "2m"})
    assert await h.at(0, 120) == []
    if restart:
        await h.restart()
    assert await h.at(60, 10) == []
    assert await h.at(200, 120) == []  # a new pending period starts
    assert await h.at(319, 120) == []
    (fired,) = await h.at(320, 120)
    assert fired.status == "firing"
    await h.stop()


@RESTART
async def test_firing_then_resolved_sends_one_trigger_and_one_resolve(
    tmp_path: Path, restart: bool
) -> None:
    h = await harness(tmp_path)
    (fired,) = await h.at(0, 120)
    assert await h.at(30, 130) == []  # same severity: no repeat before repeat_interval
    if restart:
        await h.restart()
    assert await h.at(60, 125) == []  # a restart does not page again
    (resolved,) = await h.at(90, 10)
    assert resolved.status == "resolved"
    assert resolved.fingerprint == fired.fingerprint
    assert resolved.starts_at == fired.starts_at
    assert resolved.ends_at == h.clock.now
    assert await h.at(150, 10) == []
    await h.stop()


@RESTART
async def test_keep_firing_for_holds_after_the_condition_clears(
    tmp_path: Path, restart: bool
) -> None:
    h = await harness(tmp_path, rule={"keep_firing_for": "2m"})
    (fired,) = await h.at(0, 120)
    assert await h.at(30, 10) == []  # condition false, kept firing
    if restart:
        await h.restart()
    assert await h.at(110, 10) == []  # 110 s after the last crossing < 2m
    assert await h.at(145, 120) == []  # true again: the keep timer restarts
    assert await h.at(200, 10) == []
    (resolved,) = await h.at(265, 10)
    assert resolved.status == "resolved" and resolved.fingerprint == fired.fingerprint
    await h.stop()


@RESTART
async def test_hysteresis_holds_until_clear(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path, rule={"clear": "< 30"})
    (fired,) = await h.at(0, 60)
    assert fired.severity == "warning"
    assert await h.at(30, 45) == []  # below 50 but not below 30: still firing
    if restart:
        await h.restart()
    assert await h.at(60, 35) == []
    (resolved,) = await h.at(90, 29)
    assert resolved.status == "resolved"
    await h.stop()


@RESTART
async def test_level_change_renotifies_under_the_same_fingerprint(
    tmp_path: Path, restart: bool
) -> None:
    h = await harness(tmp_path)
    (warning,) = await h.at(0, 60)
    assert warning.severity == "warning"
    if restart:
        await h.restart()
    (critical,) = await h.at(60, 150)
    assert (critical.status, critical.severity) == ("firing", "critical")
    assert critical.fingerprint == warning.fingerprint
    assert critical.notification_id != warning.notification_id
    assert critical.starts_at == warning.starts_at
    (back,) = await h.at(120, 60)
    assert back.severity == "warning" and back.fingerprint == warning.fingerprint
    emitted = [e.reason for e in h.conn.engine.emitted.items] if h.conn and h.conn.engine else []
    assert emitted == ["new_alert", "severity_changed", "severity_changed"]
    await h.stop()


@RESTART
async def test_min_samples_reports_insufficient_data_instead_of_resolving(
    tmp_path: Path, restart: bool
) -> None:
    h = await harness(tmp_path, rule={"min_samples": 3, "window": "1m"})
    assert await h.at(0, 120) == []  # one sample: not enough to start
    assert await h.at(10, 120) == []
    (fired,) = await h.at(20, 120)
    if restart:
        await h.restart()
    # The window empties: fewer than 3 samples is "insufficient data", not resolved.
    assert await h.at(200) == []
    assert h.conn and h.conn.engine
    (st,) = h.conn.engine.states.values()
    assert st.state == "firing" and st.insufficient
    assert await h.at(210, 10) == []
    assert await h.at(220, 10) == []
    (resolved,) = await h.at(230, 10)
    assert resolved.status == "resolved" and resolved.fingerprint == fired.fingerprint
    await h.stop()


async def test_restart_keeps_firing_while_windows_refill(tmp_path: Path) -> None:
    """Empty windows after a restart mean "not known yet", not "recovered"."""
    h = await harness(tmp_path)
    (fired,) = await h.at(0, 120)
    await h.restart()
    assert await h.at(100) == []
    assert await h.at(250) == []  # still inside one window (5m) of the restart
    (resolved,) = await h.at(301)  # a full window without data: no data resolves
    assert resolved.status == "resolved" and resolved.fingerprint == fired.fingerprint
    await h.stop()


@RESTART
async def test_resolve_is_sent_for_alerts_of_a_removed_rule(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path)
    (fired,) = await h.at(0, 120)
    await h.stop()
    other = gauge_config(rule={"alert": "Other"})
    h.cfg = other
    await h.start()
    if restart:  # the resolve could not go out before the next restart
        h.rec.fail = True
        assert await h.at(10) == []
        await h.restart()
        h.rec.fail = False
    (resolved,) = await h.at(20)
    assert resolved.status == "resolved" and resolved.fingerprint == fired.fingerprint
    assert await h.at(400) == []  # one resolve, and the state is gone
    assert h.conn and h.conn.engine and h.conn.engine.states == {}
    await h.stop()


@RESTART
async def test_failed_emit_is_retried_and_not_recorded(tmp_path: Path, restart: bool) -> None:
    h = await harness(tmp_path, group_interval="1m")
    h.rec.fail = True
    assert await h.at(0, 120) == []
    assert h.conn and h.conn.engine and h.conn.engine.nflog.notified() == set()
    if restart:
        await h.restart()  # nothing was recorded: the firing alert's group starts over
        h.rec.fail = False
        (fired,) = await h.at(10)  # after group_wait (0s) from the restart
    else:
        h.rec.fail = False
        assert await h.at(30) == []  # the group waits for its next flush (group_interval 1m)
        (fired,) = await h.at(60)
    assert fired.status == "firing" and fired.starts_at == T0
    assert await h.at(130) == []  # recorded once it went out: no second trigger
    await h.stop()


ABSENT = {
    "alert": "QueueSilent",
    "kind": "absent",
    "metric": "queue.depth",
    "by": ["queue"],
    "window": "2m",
    "severity": "warning",
}


@RESTART
async def test_absent_series_fires_and_a_restart_neither_resolves_nor_repages(
    tmp_path: Path, restart: bool
) -> None:
    h = await Harness(gauge_config(rules=[ABSENT]), tmp_path / "state.db").start()
    assert await h.at(0, 1, "a") == []
    assert await h.at(0, 1, "b") == []
    assert await h.at(100, 1, "b") == []
    (gone,) = await h.at(120)  # a: no point for 2m
    assert (gone.labels["queue"], gone.status, gone.severity) == ("a", "firing", "warning")
    if restart:
        await h.restart()
    assert await h.at(200, 1, "b") == []
    assert await h.at(400, 1, "b") == []  # a still missing, after a full window too
    assert await h.at(402) == []
    (back,) = await h.at(410, 1, "a")
    assert (back.labels["queue"], back.status) == ("a", "resolved")
    await h.stop()


async def test_resolve_carries_the_labels_when_the_alert_went_pending_and_away(
    tmp_path: Path,
) -> None:
    h = await harness(tmp_path, rule={"for": "1m"}, group_interval="5m")
    assert await h.at(0, 120) == []
    (fired,) = await h.at(60, 120)
    assert await h.at(70, 10) == []  # resolved; the resolve waits for the group's next flush
    assert await h.at(80, 120) == []  # pending again
    assert await h.at(90, 10) == []  # and inactive: its state is gone
    (resolved,) = await h.at(360)
    assert resolved.status == "resolved" and resolved.fingerprint == fired.fingerprint
    assert resolved.labels == fired.labels and resolved.alertname == "QueueDeep"
    await h.stop()


@RESTART
async def test_a_resolved_alert_that_fires_again_is_a_new_trigger(
    tmp_path: Path, restart: bool
) -> None:
    h = await harness(tmp_path)
    (first,) = await h.at(0, 120)
    (resolved,) = await h.at(30, 10)
    assert resolved.status == "resolved"
    if restart:
        await h.restart()
    (again,) = await h.at(60, 120)
    assert (again.status, again.fingerprint) == ("firing", first.fingerprint)
    assert again.starts_at == h.clock.now != first.starts_at
    assert h.conn and h.conn.engine
    assert [e.reason for e in h.conn.engine.emitted.items] == [
        "new_alert",
        "resolved",
        "new_alert",
    ]
    await h.stop()
