"""Whether an alert needs a notification now, with the reason named (Alertmanager's
`needsUpdate`, decided per alert so that one new alert in a group does not re-page the rest)."""

from __future__ import annotations

from enum import StrEnum

from routewatch.collector.alerting.nflog import NotifiedAlert
from routewatch.collector.alerting.state import AlertState, State


class NotifyReason(StrEnum):
    # Notify:
    NEW_ALERT = "new_alert"
    SEVERITY_CHANGED = "severity_changed"
    REPEAT_INTERVAL_ELAPSED = "repeat_interval_elapsed"
    RESOLVED = "resolved"
    # Do not notify:
    ALREADY_NOTIFIED = "already_notified"
    SILENCED = "silenced"
    INHIBITED = "inhibited"
    NEVER_NOTIFIED = "never_notified"  # gone before anything was sent: nothing to resolve
    SEND_RESOLVED_DISABLED = "send_resolved_disabled"

    @property
    def notifies(self) -> bool:
        return self in _NOTIFYING


_NOTIFYING = frozenset(
    {
        NotifyReason.NEW_ALERT,
        NotifyReason.SEVERITY_CHANGED,
        NotifyReason.REPEAT_INTERVAL_ELAPSED,
        NotifyReason.RESOLVED,
    }
)


def needs_update(
    entry: NotifiedAlert | None,
    alert: AlertState | None,
    muted_by: NotifyReason | None,
    now: float,
    repeat_interval: float,
    send_resolved: bool,
) -> NotifyReason:
    """`entry` is what was last sent for the alert (None: nothing, or its resolve)."""
    if alert is None or alert.state != State.FIRING:
        if entry is None:
            return NotifyReason.NEVER_NOTIFIED
        # A resolve goes out for every trigger that went out, muted since or not.
        return NotifyReason.RESOLVED if send_resolved else NotifyReason.SEND_RESOLVED_DISABLED
    if muted_by is not None:
        return muted_by
    if entry is None or entry.starts_at != alert.fired_at:
        return NotifyReason.NEW_ALERT
    if entry.severity != alert.severity:
        return NotifyReason.SEVERITY_CHANGED
    if now - entry.notified_at >= repeat_interval:
        return NotifyReason.REPEAT_INTERVAL_ELAPSED
    return NotifyReason.ALREADY_NOTIFIED
