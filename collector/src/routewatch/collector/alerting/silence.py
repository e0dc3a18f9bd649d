"""Silences: from config and from the HTTP API; the API's are persisted through storage."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from routewatch.collector.alerting.matchers import Matcher, all_match, parse_matchers
from routewatch.collector.alerting.snapshot import decoded, stored_items
from routewatch.collector.storage import StorageClient

KEY_PREFIX = "silence/"
# Expired silences stay listed this long (Alertmanager's default retention is 5 days).
RETENTION = 5 * 86400.0
FOREVER = 253402300799.0  # 9999-12-31T23:59:59Z


def parse_time(text: str) -> float:
    """ISO 8601 / RFC 3339 to epoch seconds; ValueError otherwise."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"invalid time {text!r}: expected RFC 3339, e.g. 2026-01-02T15:04:05Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def format_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class SilenceConfig:
    matchers: list[str] = field(default_factory=list)
    starts_at: str = ""  # empty: from the start
    ends_at: str = ""  # empty: never ends
    comment: str = ""
    created_by: str = ""

    def validate(self) -> None:
        if not self.matchers:
            raise ValueError("matchers: at least one matcher is required")
        try:
            parse_matchers(self.matchers)
        except ValueError as err:
            raise ValueError(f"matchers: {err}") from None
        for key in ("starts_at", "ends_at"):
            text = getattr(self, key)
            if text:
                try:
                    parse_time(text)
                except ValueError as err:
                    raise ValueError(f"{key}: {err}") from None


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    comment: str = ""
    created_by: str = ""
    updated_at: float = 0.0
    from_config: bool = False

    def active(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at

    def state(self, now: float) -> str:
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"

    def to_api(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "matchers": [m.to_api() for m in self.matchers],
            "startsAt": format_time(self.starts_at),
            "endsAt": format_time(self.ends_at),
            "updatedAt": format_time(self.updated_at),
            "createdBy": self.created_by,
            "comment": self.comment,
            "status": {"state": self.state(now)},
        }

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "id": self.id,
                "matchers": [m.to_api() for m in self.matchers],
                "starts_at": self.starts_at,
                "ends_at": self.ends_at,
                "comment": self.comment,
                "created_by": self.created_by,
                "updated_at": self.updated_at,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> Silence:
        raw = orjson.loads(data)
        return cls(
            id=raw["id"],
            matchers=parse_matchers(raw["matchers"]),
            starts_at=raw["starts_at"],
            ends_at=raw["ends_at"],
            comment=raw.get("comment", ""),
            created_by=raw.get("created_by", ""),
            updated_at=raw.get("updated_at", 0.0),
        )


def silence_from_api(body: Mapping[str, Any], now: float) -> Silence:
    """A new silence from an Alertmanager-style POST body (camelCase or snake_case keys)."""
    if not isinstance(body, Mapping):
        raise ValueError("body must be a JSON object")
    matchers = parse_matchers(body.get("matchers") or [])
    if not matchers:
        raise ValueError("matchers: at least one matcher is required")
    starts = body.get("startsAt", body.get("starts_at"))
    ends = body.get("endsAt", body.get("ends_at"))
    if not ends:
        raise ValueError("endsAt is required")
    starts_at = parse_time(str(starts)) if starts else now
    ends_at = parse_time(str(ends))
    if ends_at <= starts_at:
        raise ValueError("endsAt must be after startsAt")
    if ends_at <= now:
        raise ValueError("endsAt is in the past")
    return Silence(
        id=str(uuid.uuid4()),
        matchers=matchers,
        starts_at=max(starts_at, now) if starts_at < now else starts_at,
        ends_at=ends_at,
        comment=str(body.get("comment", "")),
        created_by=str(body.get("createdBy", body.get("created_by", ""))),
        updated_at=now,
    )


class Silences:
    """The silence store. Answers `mutes(labels, now)`."""

    def __init__(
        self,
        configured: Iterable[SilenceConfig] = (),
        storage: StorageClient | None = None,
        damaged: list[str] | None = None,
    ):
        self._storage = storage
        self._items: dict[str, Silence] = {}
        for i, cfg in enumerate(configured):
            self._items[f"config-{i}"] = Silence(
                id=f"config-{i}",
                matchers=parse_matchers(cfg.matchers),
                starts_at=parse_time(cfg.starts_at) if cfg.starts_at else 0.0,
                ends_at=parse_time(cfg.ends_at) if cfg.ends_at else FOREVER,
                comment=cfg.comment,
                created_by=cfg.created_by,
                from_config=True,
            )
        if storage is not None:
            items = stored_items(storage, KEY_PREFIX)
            for silence in decoded(
                items, KEY_PREFIX, Silence.from_json, damaged if damaged is not None else []
            ):
                self._items[silence.id] = silence

    def mutes(self, labels: Mapping[str, str], now: float) -> bool:
        return any(s.active(now) and all_match(s.matchers, labels) for s in self._items.values())

    def list(self) -> list[Silence]:
        return sorted(self._items.values(), key=lambda s: (s.starts_at, s.id))

    def get(self, silence_id: str) -> Silence | None:
        return self._items.get(silence_id)

    def add(self, silence: Silence) -> Silence:
        """Save, then apply: a silence that could not be saved is not in effect either."""
        if self._storage is not None:
            self._storage.set(KEY_PREFIX + silence.id, silence.to_json())
        self._items[silence.id] = silence
        return silence

    def expire(self, silence_id: str, now: float) -> Silence:
        """End a silence now. KeyError when unknown, ValueError for config or expired ones."""
        silence = self._items[silence_id]
        if silence.from_config:
            raise ValueError("silence is defined in the config file; edit the config instead")
        if silence.ends_at <= now:
            raise ValueError("silence already expired")
        return self.add(
            replace(silence, ends_at=now, starts_at=min(silence.starts_at, now), updated_at=now)
        )

    def gc(self, now: float) -> int:
        expired = [
            s.id for s in self._items.values() if not s.from_config and s.ends_at + RETENTION < now
        ]
        for sid in expired:
            del self._items[sid]
        if expired and self._storage is not None:
            self._storage.batch([], [KEY_PREFIX + sid for sid in expired])
        return len(expired)
