"""Alert state per fingerprint and the rule state machine: inactive -> pending -> firing ->
resolved, with `for`, `keep_firing_for`, hysteresis (`clear`) and "insufficient data".

Fingerprint (two collectors must agree): the alert's label set is the rule's name under
`alertname`, the series' `by` labels and the rule's static `labels` (severity is not part of
it, so a level change keeps the identity). Sort the label names; for each, feed the UTF-8 name,
the byte 0xff, the UTF-8 value and 0xff into 64-bit FNV-1a (offset 14695981039346656037,
prime 1099511628211); print the result as 16 lowercase hex digits. This is Alertmanager's
`LabelSet.Fingerprint()`, so the same labels give the same id there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from routewatch.collector.alerting.rules import Rule
from routewatch.collector.alerting.template import TemplateData
from routewatch.collector.alerting.windows import Reading

FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1


def fingerprint(labels: Mapping[str, str]) -> str:
    h = FNV_OFFSET
    for name in sorted(labels):
        for chunk in (name.encode(), b"\xff", labels[name].encode(), b"\xff"):
            for byte in chunk:
                h = ((h ^ byte) * FNV_PRIME) & _MASK
    return f"{h:016x}"


class State(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass
class AlertState:
    fingerprint: str
    rule: str
    labels: dict[str, str]  # alertname + by labels + rule labels
    series_key: list[Any]
    state: State
    severity: str
    threshold: str = ""
    value: float | None = None
    samples: float = 0.0
    active_at: float = 0.0  # pending since
    fired_at: float | None = None  # starts_at of the notification
    resolved_at: float | None = None
    last_true_at: float = 0.0
    insufficient: bool = False
    exemplars: list[str] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)

    def transition_key(self) -> tuple[object, ...]:
        """What a restart must not lose at once: state, severity and the times they began."""
        return (
            self.state,
            self.severity,
            self.insufficient,
            self.active_at,
            self.fired_at,
            self.resolved_at,
        )

    def mute_labels(self) -> dict[str, str]:
        """What silences and inhibit rules match on: the labels plus the current severity."""
        return {**self.labels, "severity": self.severity}

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> AlertState:
        raw = orjson.loads(data)
        raw["state"] = State(raw["state"])
        return cls(**raw)


def alert_labels(rule: Rule, series_labels: Mapping[str, str]) -> dict[str, str]:
    return {**series_labels, **rule.config.labels, "alertname": rule.name}


@dataclass(frozen=True)
class Condition:
    """What one reading says: active or not, and at which severity and threshold."""

    active: bool
    severity: str = ""
    threshold: str = ""


def condition(rule: Rule, reading: Reading, current: AlertState | None) -> Condition:
    c = rule.config
    value = reading.value
    if c.kind == "absent":
        if value is not None and value >= c.window:
            return Condition(True, c.severity, f"no data for {c.window:g}s")
        return Condition(False)
    if value is None:
        return Condition(False)
    hit = rule.severity_for(value)
    if hit is not None:
        return Condition(True, hit[0], str(hit[1]))
    active = current is not None and current.state in (State.PENDING, State.FIRING)
    if active and rule.clear is not None and not rule.clear.holds(value):
        assert current is not None
        return Condition(True, current.severity, current.threshold)  # hysteresis: hold
    return Condition(False)


def step(
    rule: Rule,
    current: AlertState | None,
    reading: Reading,
    insufficient: bool,
    labels: dict[str, str],
    series_key: list[Any],
    now: float,
) -> AlertState | None:
    """The alert's state after this reading; None when inactive. Mutates `current`."""
    c = rule.config
    if insufficient:
        if current is not None:
            current.insufficient = True
            current.samples = reading.samples
        return current
    cond = condition(rule, reading, current)
    if cond.active:
        st = current
        if st is None or st.state == State.RESOLVED:
            st = AlertState(
                fingerprint=fingerprint(labels),
                rule=rule.name,
                labels=labels,
                series_key=series_key,
                state=State.PENDING,
                severity=cond.severity,
                active_at=now,
            )
        st.insufficient = False
        st.severity, st.threshold = cond.severity, cond.threshold
        st.value, st.samples = reading.value, reading.samples
        st.last_true_at = now
        st.annotations = render_annotations(rule, st)
        if st.state == State.PENDING and now - st.active_at >= c.for_:
            st.state, st.fired_at = State.FIRING, now
        return st
    if current is None or current.state == State.PENDING:
        return None
    current.insufficient = False
    current.value, current.samples = reading.value, reading.samples
    if current.state == State.FIRING:
        if now - current.last_true_at < c.keep_firing_for:
            return current
        current.state, current.resolved_at = State.RESOLVED, now
    return current


def render_annotations(rule: Rule, st: AlertState) -> dict[str, str]:
    data = TemplateData(
        labels=st.labels,
        value=st.value,
        threshold=st.threshold,
        severity=st.severity,
        alertname=rule.name,
        samples=st.samples,
    )
    return {k: t.render(data) for k, t in rule.annotations.items()}
