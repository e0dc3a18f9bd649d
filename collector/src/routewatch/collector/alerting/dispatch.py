"""Aggregation groups and their timers, as Alertmanager's dispatcher.

An alert that fires joins the group of its `group_by` labels. A new group flushes after
`group_wait`, then every `group_interval`; each flush asks dedup, per alert, whether it needs a
notification. The dispatcher only decides; it never sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass
class Group:
    key: str
    labels: dict[str, str]
    next_flush: float
    fingerprints: set[str] = field(default_factory=set)


def group_key(group_by: Sequence[str], labels: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """Alertmanager's group key form; `group_by: ['...']` groups by every label."""
    if list(group_by) == ["..."]:
        chosen = dict(labels)
    else:
        chosen = {k: labels[k] for k in group_by if labels.get(k)}
    body = ",".join(f'{k}="{v}"' for k, v in sorted(chosen.items()))
    return "{" + body + "}", chosen


class Dispatcher:
    def __init__(self, group_by: Sequence[str], group_wait: float, group_interval: float) -> None:
        self.group_by = tuple(group_by)
        self.group_wait = group_wait
        self.group_interval = group_interval
        self.groups: dict[str, Group] = {}

    def add(self, fp: str, labels: Mapping[str, str], now: float) -> str:
        """Put an alert in its group (created to flush after group_wait); the group's key."""
        key, chosen = group_key(self.group_by, labels)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key, chosen, now + self.group_wait)
        group.fingerprints.add(fp)
        return key

    def due(self, now: float) -> list[Group]:
        return [g for g in self.groups.values() if g.next_flush <= now]

    def flushed(self, group: Group, now: float, keep: Iterable[str]) -> None:
        """After a flush: keep only alerts still relevant; schedule or drop the group."""
        group.fingerprints = set(keep)
        if group.fingerprints:
            group.next_flush = now + self.group_interval
        else:
            del self.groups[group.key]

    def next_flush(self) -> float | None:
        return min((g.next_flush for g in self.groups.values()), default=None)


def add_to_key(dispatcher: Dispatcher, key: str, fp: str, now: float) -> None:
    """Put an alert back into a group known only by its key (restored from the log)."""
    group = dispatcher.groups.get(key)
    if group is None:
        group = dispatcher.groups[key] = Group(key, {}, now + dispatcher.group_wait)
    group.fingerprints.add(fp)
