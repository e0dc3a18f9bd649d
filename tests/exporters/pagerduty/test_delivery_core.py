"""The channel-independent parts: backoff, the plan of what a channel sends, templates."""

from __future__ import annotations

import pytest
from support.alert_delivery import DeliveryClock, sample_alert

from routewatch.exporters.delivery import (
    Action,
    Backoff,
    DeliveryError,
    OpenNotifications,
    Step,
    call_with_retry,
    plan,
    redact,
    render,
)


def test_backoff_grows_is_capped_and_jittered() -> None:
    backoff = Backoff(
        initial_interval=5.0, multiplier=1.5, max_interval=30.0, randomization_factor=0.5
    )
    assert [backoff.delay(n, 0.5) for n in (1, 2, 3)] == [5.0, 7.5, 11.25]
    assert backoff.delay(10, 0.5) == 30.0
    assert (backoff.delay(1, 0.0), backoff.delay(1, 0.999999)) == (2.5, pytest.approx(7.5))


async def test_retry_disabled_makes_one_attempt() -> None:
    clock = DeliveryClock()
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise DeliveryError("503", retryable=True)

    with pytest.raises(DeliveryError) as err:
        await call_with_retry(attempt, Backoff(enabled=False), clock=clock, sleep=clock.sleep)
    assert calls == 1 and err.value.attempts == 1 and clock.sleeps == []


async def test_max_elapsed_time_zero_retries_until_success() -> None:
    clock = DeliveryClock()
    outcomes = iter([True] * 30 + [False])

    async def attempt() -> str:
        if next(outcomes):
            raise DeliveryError("503", retryable=True)
        return "ok"

    backoff = Backoff(
        initial_interval=1.0, max_interval=30.0, max_elapsed_time=0.0, randomization_factor=0.0
    )
    assert await call_with_retry(attempt, backoff, clock=clock, sleep=clock.sleep) == ("ok", 31)
    assert clock.sleeps[-1] == 30.0


A, B = "dest-a", "dest-b"


@pytest.mark.parametrize(
    ("status", "home", "open_", "unknown", "steps"),
    [
        ("firing", A, None, A, [Step(A, Action.TRIGGER, "critical")]),
        ("firing", A, {A: "error"}, A, [Step(A, Action.TRIGGER, "critical")]),
        (
            "firing",
            B,
            {A: "error"},
            B,
            [Step(B, Action.TRIGGER, "critical"), Step(A, Action.RESOLVE, "error")],
        ),
        ("firing", None, {A: "critical"}, A, [Step(A, Action.RESOLVE, "critical")]),
        ("firing", None, None, A, []),
        ("resolved", A, {A: "critical"}, A, [Step(A, Action.RESOLVE, "critical")]),
        ("resolved", A, {}, A, []),
        ("resolved", None, None, A, [Step(A, Action.RESOLVE, "critical")]),
        ("resolved", None, None, None, []),
    ],
)
def test_plan(
    status: str, home: str | None, open_: dict | None, unknown: str | None, steps: list[Step]
) -> None:
    assert plan(sample_alert(status=status), home, open_, unknown) == steps


def test_open_notifications_seed_bound_and_update() -> None:
    seeded: list[str] = []

    def seed(fp: str) -> dict[str, str] | None:
        seeded.append(fp)
        return {A: "critical"} if fp == "known" else None

    ledger = OpenNotifications(seed, max_entries=2)
    assert ledger.get("known") == {A: "critical"}
    assert ledger.get("unknown") is None
    ledger.delivered("known", Step(A, Action.RESOLVE, "critical"))
    assert ledger.get("known") == {}
    ledger.filtered("x")
    ledger.filtered("y")  # evicts "known"
    assert ledger.get("known") == {A: "critical"}  # asked the seed again
    assert seeded == ["known", "unknown", "known"]


def test_templates_and_redaction() -> None:
    alert = sample_alert(labels={"hybrid_routing.route": "mcp", "team": "routing"})
    assert render("{alertname}/{route}/{team}/{value}/{nope}/{nope|x}", alert) == (
        "RouteLatencyHigh/mcp/routing/16.2/unknown/x"
    )
    assert render("{hybrid_routing.route}", alert) == "mcp"
    assert redact("key=SECRET in SECRET", "SECRET", "") == "key=<redacted> in <redacted>"
