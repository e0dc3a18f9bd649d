"""The notification log: what the connector emitted, keyed by (receiver, group), nflog-style.

`NotificationLog` holds, per group, the alerts whose trigger went out (severity, starts_at,
time, notification id); dedup queries it before a flush and the emit stage writes it after the
next consumer accepted the records. `EmittedLog` is the plain record of every notification
emitted (served by the HTTP API). Both are snapshotted through storage in the engine's
transaction and garbage-collected when expired.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from routewatch.collector.alerting.snapshot import decoded

NFLOG_PREFIX = "nflog/"
EMITTED_PREFIX = "emitted/"
DEFAULT_RETENTION = 120 * 3600.0  # Alertmanager's --data.retention
EMITTED_KEEP = 1000


@dataclass
class NotifiedAlert:
    severity: str
    starts_at: float | None
    notified_at: float
    notification_id: str
    # The alert's labels, so that its resolve can be written even when its state is gone
    # (it went pending -> inactive before the resolve was flushed).
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class LogEntry:
    receiver: str
    group_key: str
    alerts: dict[str, NotifiedAlert] = field(default_factory=dict)
    timestamp: float = 0.0
    expires_at: float = 0.0

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> LogEntry:
        raw = orjson.loads(data)
        raw["alerts"] = {fp: NotifiedAlert(**a) for fp, a in raw["alerts"].items()}
        return cls(**raw)


class NotificationLog:
    def __init__(self, receiver: str, retention: float = DEFAULT_RETENTION) -> None:
        self.receiver = receiver
        self.retention = retention
        self.entries: dict[str, LogEntry] = {}
        self.dirty: set[str] = set()

    def storage_key(self, group_key: str) -> str:
        return f"{NFLOG_PREFIX}{self.receiver}/{group_key}"

    def query(self, group_key: str, fp: str) -> NotifiedAlert | None:
        entry = self.entries.get(group_key)
        return entry.alerts.get(fp) if entry else None

    def notified(self) -> set[str]:
        return {fp for e in self.entries.values() for fp in e.alerts}

    def record_trigger(self, group_key: str, fp: str, sent: NotifiedAlert) -> None:
        entry = self.entries.setdefault(group_key, LogEntry(self.receiver, group_key))
        entry.alerts[fp] = sent
        entry.timestamp = sent.notified_at
        entry.expires_at = sent.notified_at + self.retention
        self.dirty.add(group_key)

    def record_resolve(self, group_key: str, fp: str, now: float) -> None:
        entry = self.entries.get(group_key)
        if entry is None or fp not in entry.alerts:
            return
        del entry.alerts[fp]
        entry.timestamp = now
        entry.expires_at = now + self.retention
        self.dirty.add(group_key)

    def gc(self, now: float, active: set[str]) -> None:
        """Drop expired alerts, never one still active: its resolve must be sendable."""
        for key, entry in self.entries.items():
            if entry.expires_at > now:
                continue
            stale = [fp for fp in entry.alerts if fp not in active]
            for fp in stale:
                del entry.alerts[fp]
            if stale:
                self.dirty.add(key)
        for key in [k for k, e in self.entries.items() if not e.alerts]:
            del self.entries[key]
            self.dirty.add(key)

    def restore(self, items: list[tuple[str, bytes]], damaged: list[str]) -> None:
        prefix = f"{NFLOG_PREFIX}{self.receiver}/"
        for entry in decoded(items, prefix, LogEntry.from_json, damaged):
            self.entries[entry.group_key] = entry

    def changes(self) -> tuple[list[tuple[str, bytes]], list[str]]:
        """Writes pending since the last `saved()`."""
        sets, deletes = [], []
        for key in self.dirty:
            entry = self.entries.get(key)
            if entry is None:
                deletes.append(self.storage_key(key))
            else:
                sets.append((self.storage_key(key), entry.to_json()))
        return sets, deletes

    def saved(self) -> None:
        self.dirty.clear()


@dataclass(frozen=True)
class Emitted:
    """One notification the connector emitted to its next consumer."""

    at: float
    notification_id: str
    fingerprint: str
    alertname: str
    status: str
    severity: str
    reason: str
    group_key: str
    labels: dict[str, str]
    value: float | None

    def to_api(self) -> dict[str, Any]:
        return asdict(self)


class EmittedLog:
    def __init__(self, keep: int = EMITTED_KEEP) -> None:
        self.items: deque[Emitted] = deque(maxlen=keep)
        self._new: list[Emitted] = []
        self._dropped: list[str] = []

    @staticmethod
    def key(item: Emitted) -> str:
        return f"{EMITTED_PREFIX}{int(item.at * 1000):015d}-{item.notification_id}"

    def append(self, item: Emitted) -> None:
        if len(self.items) == self.items.maxlen:
            self._dropped.append(self.key(self.items[0]))
        self.items.append(item)
        self._new.append(item)

    def restore(self, items: list[tuple[str, bytes]], damaged: list[str]) -> None:
        for item in decoded(sorted(items), EMITTED_PREFIX, _emitted_from_json, damaged):
            self.append(item)
        self._new.clear()  # already stored; `_dropped` still deletes what exceeds `keep`

    def changes(self) -> tuple[list[tuple[str, bytes]], list[str]]:
        """Writes pending since the last `saved()`."""
        return [(self.key(i), orjson.dumps(asdict(i))) for i in self._new], list(self._dropped)

    def saved(self) -> None:
        self._new, self._dropped = [], []


def _emitted_from_json(data: bytes) -> Emitted:
    return Emitted(**orjson.loads(data))
