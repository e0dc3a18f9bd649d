"""Which notifications a channel sends for one alert notification.

A channel has destinations (PagerDuty: its endpoint and routing key; SNS: a topic per
severity) and `severities` it is for. The rule, stated once for both channels:

- A firing alert whose severity the channel is for is sent to that severity's destination
  (PagerDuty: `trigger`, again on repeat or level change, under the same dedup_key).
- Every destination that was told "firing" and is not the current one is told "resolved":
  when a level change takes an alert below the channel's severities (critical -> warning on a
  PagerDuty receiver for [critical, error]) the paging condition is over, so the incident is
  resolved, as Alertmanager resolves a critical-only receiver's alert; when it moves to
  another topic, the old topic's subscribers see it end.
- A resolved alert is sent to every destination that was told "firing". When nothing is known
  about the alert (it fired before a restart and no history was kept) it goes to
  `unknown_resolve_to`: PagerDuty resolves anyway (a resolve of an unknown dedup_key is a
  no-op there, a lost resolve is an incident open forever); SNS to the severity's topic.
- Anything else is filtered: a warning never reaches a critical-only receiver.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from routewatch.exporters.alerts import Alert


class Action(StrEnum):
    TRIGGER = "trigger"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Step:
    destination: str
    action: Action
    # The severity the destination saw (a resolve carries the one of its trigger, so that an
    # SNS filter policy on `severity` lets it through).
    severity: str


def plan(
    alert: Alert,
    home: str | None,
    open_: Mapping[str, str] | None,
    unknown_resolve_to: str | None,
) -> list[Step]:
    """Steps for `alert`. `home`: destination of its severity, None when filtered out;
    `open_`: destination -> severity told "firing", None when unknown."""
    known = open_ or {}
    if alert.status == "firing":
        steps = [Step(home, Action.TRIGGER, alert.severity)] if home is not None else []
        steps += [Step(d, Action.RESOLVE, s) for d, s in known.items() if d != home]
        return steps
    if open_ is None:
        if unknown_resolve_to is None:
            return []
        return [Step(unknown_resolve_to, Action.RESOLVE, alert.severity)]
    return [Step(d, Action.RESOLVE, s) for d, s in known.items()]


class OpenNotifications:
    """fingerprint -> {destination: severity} of what this channel left firing.

    Bounded (oldest forgotten first). On a miss it asks `seed` (the persisted delivery
    history) so that a restart neither forgets a resolve nor invents one.
    """

    def __init__(
        self,
        seed: Callable[[str], dict[str, str] | None] | None = None,
        max_entries: int = 100_000,
    ) -> None:
        self._seed = seed
        self._max = max_entries
        self._entries: OrderedDict[str, dict[str, str]] = OrderedDict()

    def get(self, fingerprint: str) -> dict[str, str] | None:
        if fingerprint in self._entries:
            self._entries.move_to_end(fingerprint)
            return dict(self._entries[fingerprint])
        seeded = self._seed(fingerprint) if self._seed is not None else None
        if seeded is not None:
            self._put(fingerprint, dict(seeded))
        return seeded

    def delivered(self, fingerprint: str, step: Step) -> None:
        entry = dict(self._entries.get(fingerprint) or {})
        if step.action is Action.TRIGGER:
            entry[step.destination] = step.severity
        else:
            entry.pop(step.destination, None)
        self._put(fingerprint, entry)

    def filtered(self, fingerprint: str) -> None:
        """Nothing was sent and nothing is open: remember that we know it."""
        if fingerprint not in self._entries:
            self._put(fingerprint, {})

    def _put(self, fingerprint: str, entry: dict[str, str]) -> None:
        self._entries[fingerprint] = entry
        self._entries.move_to_end(fingerprint)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
