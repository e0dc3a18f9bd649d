"""The PagerDuty channel against the local server over real HTTP, on a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

import pytest
from support.alert_delivery import ROUTING_KEY, DeliveryClock, sample_alert

from routewatch.collector.devservers.pagerduty_server import PagerDutyServer, pagerduty_server
from routewatch.exporters.delivery import Backoff, TokenBuckets
from routewatch.exporters.pagerduty import PagerDutyNotifier, PagerDutyOptions

BACKOFF = Backoff(
    initial_interval=1.0,
    multiplier=2.0,
    max_interval=8.0,
    max_elapsed_time=60.0,
    randomization_factor=0.0,
)


@pytest.fixture
def pd() -> Iterator[PagerDutyServer]:
    with pagerduty_server() as server:
        yield server


def notifier(pd: PagerDutyServer, clock: DeliveryClock, **options: object) -> PagerDutyNotifier:
    opts = PagerDutyOptions(routing_key=ROUTING_KEY, url=pd.url, backoff=BACKOFF, timeout=5.0)
    return PagerDutyNotifier(replace(opts, **options), **clock.clocks())


async def test_trigger_then_resolve_opens_and_closes_one_incident(pd: PagerDutyServer) -> None:
    clock = DeliveryClock()
    channel = notifier(pd, clock)
    [trigger] = await channel.notify(sample_alert())
    assert (trigger.outcome, trigger.action, trigger.attempts) == ("delivered", "trigger", 1)
    assert trigger.remote_id == "7f3a9c1e5b2d4f60"
    assert [i.dedup_key for i in pd.open_incidents()] == ["7f3a9c1e5b2d4f60"]
    [resolve] = await channel.notify(sample_alert(status="resolved", notification_id="n-2"))
    assert (resolve.outcome, resolve.action) == ("delivered", "resolve")
    assert pd.open_incidents() == []
    assert [e["routing_key"] for e in pd.events] == [ROUTING_KEY, ROUTING_KEY]
    await channel.close()


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_429_and_5xx_are_retried_with_backoff_then_delivered(
    pd: PagerDutyServer, status: int
) -> None:
    clock = DeliveryClock()
    channel = notifier(pd, clock)
    pd.inject(status, times=2)
    [result] = await channel.notify(sample_alert())
    assert (result.outcome, result.attempts) == ("delivered", 3)
    assert clock.sleeps == [1.0, 2.0]
    assert len(pd.open_incidents()) == 1
    await channel.close()


async def test_retry_after_of_a_429_is_honoured(pd: PagerDutyServer) -> None:
    clock = DeliveryClock()
    channel = notifier(pd, clock)
    pd.inject(429, times=1, retry_after=7)
    [result] = await channel.notify(sample_alert())
    assert result.outcome == "delivered" and clock.sleeps == [7.0]
    await channel.close()


async def test_a_dropped_connection_is_retried(pd: PagerDutyServer) -> None:
    clock = DeliveryClock()
    channel = notifier(pd, clock)
    pd.inject_drop()
    [result] = await channel.notify(sample_alert())
    assert (result.outcome, result.attempts) == ("delivered", 2)
    await channel.close()


async def test_400_is_never_retried(pd: PagerDutyServer) -> None:
    clock = DeliveryClock()
    channel = notifier(pd, clock)
    pd.inject(400, times=5)
    [result] = await channel.notify(sample_alert())
    assert (result.outcome, result.attempts, result.retryable) == ("failed", 1, False)
    assert result.error.startswith("HTTP 400")
    assert clock.sleeps == []
    await channel.close()


async def test_retries_stop_at_max_elapsed_time(pd: PagerDutyServer) -> None:
    clock = DeliveryClock()
    channel = notifier(pd, clock, backoff=replace(BACKOFF, max_elapsed_time=10.0))
    pd.inject(503, times=100)
    [result] = await channel.notify(sample_alert())
    # waits 1 + 2 + 4 = 7 s; the next (8 s) would pass 10 s
    assert (result.outcome, result.retryable, result.attempts) == ("failed", True, 4)
    assert clock.sleeps == [1.0, 2.0, 4.0]
    await channel.close()


async def test_unreachable_endpoint_is_a_retryable_network_error() -> None:
    from support.ports import free_port

    clock = DeliveryClock()
    opts = PagerDutyOptions(
        routing_key=ROUTING_KEY,
        url=f"http://127.0.0.1:{free_port()}/v2/enqueue",
        backoff=replace(BACKOFF, max_elapsed_time=2.0),
    )
    channel = PagerDutyNotifier(opts, **clock.clocks())
    [result] = await channel.notify(sample_alert())
    assert result.outcome == "failed" and result.retryable
    assert result.error.startswith("network error") and ROUTING_KEY not in result.error
    await channel.close()


async def test_token_bucket_waits_on_the_fake_clock() -> None:
    clock = DeliveryClock()
    buckets = TokenBuckets(120, clock=clock, sleep=clock.sleep)
    for _ in range(120):
        assert await buckets.acquire("k") == 0.0
    assert await buckets.acquire("k") == pytest.approx(0.5)
    assert await buckets.acquire("other") == 0.0  # per routing key
    clock.advance(60.0)
    for _ in range(120):
        assert await buckets.acquire("k") == 0.0
    assert clock.sleeps == [pytest.approx(0.5)]


async def test_channel_paces_events_under_the_servers_rate_limit() -> None:
    clock = DeliveryClock()
    with pagerduty_server(rate_limit_per_minute=2, clock=clock) as pd:
        channel = notifier(pd, clock, events_per_minute=2.0)
        for i in range(3):
            [result] = await channel.notify(sample_alert(fingerprint=f"fp-{i}"))
            assert (result.outcome, result.attempts) == ("delivered", 1)
        # the bucket (2 per minute) made the third wait 30 s; the server never said 429
        assert clock.sleeps == [pytest.approx(30.0)]
        assert [r.status for r in pd.received] == [202, 202, 202]
        await channel.close()


async def test_level_change_below_severities_resolves_the_incident(pd: PagerDutyServer) -> None:
    clock = DeliveryClock()
    channel = notifier(pd, clock)  # severities: critical, error
    await channel.notify(sample_alert())
    [downgrade] = await channel.notify(sample_alert(severity="warning", notification_id="n-2"))
    assert (downgrade.outcome, downgrade.action) == ("delivered", "resolve")
    assert pd.open_incidents() == []
    [final] = await channel.notify(
        sample_alert(status="resolved", severity="warning", notification_id="n-3")
    )
    assert final.outcome == "filtered"  # nothing left open: no second resolve
    assert [e["event_action"] for e in pd.events] == ["trigger", "resolve"]
    await channel.close()


async def test_level_change_within_severities_updates_the_same_incident(
    pd: PagerDutyServer,
) -> None:
    channel = notifier(pd, DeliveryClock())
    await channel.notify(sample_alert(severity="error"))
    await channel.notify(sample_alert(severity="critical", notification_id="n-2"))
    [incident] = pd.open_incidents()
    assert incident.severity == "critical" and len(incident.events) == 2
    await channel.close()


async def test_filtered_severities_never_reach_pagerduty(pd: PagerDutyServer) -> None:
    channel = notifier(pd, DeliveryClock())
    [firing] = await channel.notify(sample_alert(severity="warning"))
    [resolved] = await channel.notify(
        sample_alert(severity="warning", status="resolved", notification_id="n-2")
    )
    assert (firing.outcome, resolved.outcome) == ("filtered", "filtered")
    assert pd.received == []
    await channel.close()


async def test_resolve_of_an_unknown_alert_is_sent(pd: PagerDutyServer) -> None:
    # It may have fired before a restart that kept no history: a resolve of an unknown
    # dedup_key is a no-op at PagerDuty, a lost one leaves an incident open forever.
    channel = notifier(pd, DeliveryClock())
    [result] = await channel.notify(sample_alert(status="resolved", severity="warning"))
    assert (result.outcome, result.action) == ("delivered", "resolve")
    await channel.close()


async def test_two_exporters_with_the_same_alert_open_one_incident(pd: PagerDutyServer) -> None:
    first, second = notifier(pd, DeliveryClock()), notifier(pd, DeliveryClock())
    await first.notify(sample_alert())
    await second.notify(sample_alert(notification_id="other-instance-1"))
    assert len(pd.events) == 2 and len(pd.incidents) == 1
    await second.notify(sample_alert(status="resolved", notification_id="other-instance-2"))
    assert pd.open_incidents() == []
    await first.close()
    await second.close()


def test_routing_key_is_not_in_repr() -> None:
    opts = PagerDutyOptions(routing_key=ROUTING_KEY)
    assert ROUTING_KEY not in repr(opts)
    assert ROUTING_KEY not in repr(PagerDutyNotifier(opts))


async def test_token_bucket_serves_concurrent_callers_in_order() -> None:
    clock = DeliveryClock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # all wait at once: time does not move
        slept.append(seconds)

    buckets = TokenBuckets(60, burst=1, clock=clock, sleep=sleep)
    waits = await asyncio.gather(*(buckets.acquire("k") for _ in range(4)))
    # each reserved its token before sleeping: one per second, in the order asked
    assert waits == [0.0, 1.0, 2.0, 3.0] and slept == [1.0, 2.0, 3.0]
