"""Notification ids are the same on every collector that sends the notification (SNS FIFO
deduplication id) and differ between a trigger, a repeat, a level change and a resolve."""

from routewatch.collector.alerting.engine import notification_id


def test_two_collectors_a_few_milliseconds_apart_agree() -> None:
    first = notification_id("fp", False, "critical", 1000.003, 1000.004)
    second = notification_id("fp", False, "critical", 1000.011, 1000.012)
    assert first == second
    assert notification_id("fp", True, "critical", 1000.003, 1060.0) == notification_id(
        "fp", True, "critical", 1000.011, 1060.2
    )


def test_trigger_repeat_level_change_and_resolve_differ() -> None:
    trigger = notification_id("fp", False, "critical", 1000.0, 1000.0)
    repeat = notification_id("fp", False, "critical", 1000.0, 1000.0 + 4 * 3600)
    level_change = notification_id("fp", False, "warning", 1000.0, 1030.0)
    resolve = notification_id("fp", True, "critical", 1000.0, 1060.0)
    again = notification_id("fp", False, "critical", 1090.0, 1090.0)
    assert len({trigger, repeat, level_change, resolve, again}) == 5
    assert notification_id("other", False, "critical", 1000.0, 1000.0) != trigger
    assert all(len(i) == 32 for i in (trigger, resolve))  # well under SNS's 128 characters
