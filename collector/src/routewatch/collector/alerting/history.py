"""The delivery history: every notification an alert exporter sent, or failed to send.

Alertmanager's users ask "did the page go out, when, and what did PagerDuty say?"; this
answers it. One process-wide store (`shared_history()`), a bounded ring in memory, optionally
persisted to a `file_storage` client so that it survives a restart. Both alert exporters
record every delivery (delivered, failed, dropped, filtered); the `routewatch_alerts`
connector's HTTP API serves it at GET /api/v2/notifications. It also tells an exporter what
it left firing before a restart (`open_destinations`), so that a resolve is not forgotten.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from routewatch.collector.storage import StorageClient
from routewatch.exporters.delivery import DeliveryResult

DEFAULT_MAX_ENTRIES = 10_000
STORAGE_OWNER = "routewatch_alert_history"
_KEY_PREFIX = "delivery/"


@dataclass(frozen=True)
class Delivery:
    time: float  # epoch seconds, when the delivery finished
    receiver: str  # exporter id, e.g. `pagerduty/eu`
    channel: str  # sns | pagerduty
    fingerprint: str
    alertname: str
    status: str  # the alert's: firing | resolved
    severity: str
    outcome: str  # delivered | failed | dropped | filtered
    attempts: int = 0
    error: str = ""
    latency_s: float = 0.0
    remote_id: str = ""  # PagerDuty dedup_key / SNS MessageId
    action: str = ""  # trigger | resolve: what the channel was told
    destination: str = ""  # SNS topic ARN / PagerDuty URL (never a routing key)
    notification_id: str = ""
    truncated: bool = False

    @classmethod
    def from_result(cls, receiver: str, channel: str, result: DeliveryResult) -> Delivery:
        return cls(
            time=result.time,
            receiver=receiver,
            channel=channel,
            fingerprint=result.fingerprint,
            alertname=result.alertname,
            status=result.status,
            severity=result.severity,
            outcome=result.outcome,
            attempts=result.attempts,
            error=result.error,
            latency_s=result.latency_s,
            remote_id=result.remote_id,
            action=result.action,
            destination=result.destination,
            notification_id=result.notification_id,
            truncated=result.truncated,
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Delivery:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})


class DeliveryHistory:
    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries <= 0:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: deque[tuple[int, Delivery]] = deque()
        self._seq = 0
        self._storage: StorageClient | None = None

    @property
    def persistent(self) -> bool:
        return self._storage is not None

    def attach(self, storage: StorageClient) -> None:
        """Persist to `storage` from now on, after loading what it holds (older first).

        The first attach wins: every exporter with `history_storage` attaches the one shared
        history, and a second client (of the same table) must not load it twice.
        """
        with self._lock:
            if self._storage is not None:
                return
            loaded: list[tuple[int, Delivery]] = []
            for key in storage.keys(_KEY_PREFIX):
                raw = storage.get(key)
                if raw is None:
                    continue
                try:
                    seq = int(key.removeprefix(_KEY_PREFIX))
                    loaded.append((seq, Delivery.from_json(orjson.loads(raw))))
                except (ValueError, TypeError, orjson.JSONDecodeError):
                    continue  # a damaged entry costs that entry only
            base = max((seq for seq, _ in loaded), default=0)
            # Entries recorded before attaching keep their order after the loaded ones.
            pending = [(base + i + 1, d) for i, (_, d) in enumerate(self._entries)]
            merged = loaded + pending
            self._entries = deque(merged[-self.max_entries :])
            self._seq = max((seq for seq, _ in merged), default=0)
            self._storage = storage
            dropped = [f"{_KEY_PREFIX}{seq:020d}" for seq, _ in merged[: -self.max_entries]]
            storage.batch(
                [(f"{_KEY_PREFIX}{seq:020d}", orjson.dumps(d.to_json())) for seq, d in pending],
                dropped,
            )

    def detach(self) -> None:
        with self._lock:
            self._storage = None

    def record(self, delivery: Delivery) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append((self._seq, delivery))
            evicted = []
            while len(self._entries) > self.max_entries:
                evicted.append(self._entries.popleft()[0])
            if self._storage is not None:
                self._storage.batch(
                    [(f"{_KEY_PREFIX}{self._seq:020d}", orjson.dumps(delivery.to_json()))],
                    [f"{_KEY_PREFIX}{seq:020d}" for seq in evicted],
                )

    def query(
        self,
        fingerprint: str | None = None,
        since: float | None = None,
        limit: int = 100,
        receiver: str | None = None,
    ) -> list[Delivery]:
        """Newest first, at most `limit`; filtered by fingerprint, time and receiver."""
        out: list[Delivery] = []
        with self._lock:
            entries = list(self._entries)
        for _, d in reversed(entries):
            if len(out) >= limit:
                break
            if fingerprint is not None and d.fingerprint != fingerprint:
                continue
            if since is not None and d.time < since:
                continue
            if receiver is not None and d.receiver != receiver:
                continue
            out.append(d)
        return out

    def open_destinations(self, receiver: str, fingerprint: str) -> dict[str, str] | None:
        """destination -> severity that `receiver` left firing for `fingerprint`; None when
        the history knows nothing about it."""
        with self._lock:
            entries = [d for _, d in self._entries]
        state: dict[str, str] | None = None
        for d in entries:
            if d.receiver != receiver or d.fingerprint != fingerprint:
                continue
            state = state if state is not None else {}
            if d.outcome != "delivered":
                continue
            if d.action == "trigger":
                state[d.destination] = d.severity
            elif d.action == "resolve":
                state.pop(d.destination, None)
        return state

    def clear(self) -> None:
        with self._lock:
            keys = [f"{_KEY_PREFIX}{seq:020d}" for seq, _ in self._entries]
            self._entries.clear()
            if self._storage is not None:
                self._storage.batch([], keys)


_shared: DeliveryHistory | None = None
_shared_lock = threading.Lock()


def shared_history() -> DeliveryHistory:
    """The process-wide history every alert exporter records into."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = DeliveryHistory()
        return _shared


def reset_shared_history() -> None:
    """Forget the process-wide history (in memory only; what was persisted stays): a fresh
    start, as after a restart."""
    global _shared
    with _shared_lock:
        _shared = None
