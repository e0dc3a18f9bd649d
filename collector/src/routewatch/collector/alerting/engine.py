"""The alert engine: windows, rule evaluation, alert state, dispatch decisions, persistence.

The engine never sends. `ingest` feeds windows, `evaluate` steps every alert's state machine,
`flush` returns the notifications due (with their `NotifyReason`), and the caller, after the
next consumer accepted them, calls `commit`, which writes the notification log. `persist`
snapshots everything changed in one storage transaction. Every method takes the tick's time.

After a restart the windows are empty: for one rule span, a series without data counts as
"insufficient data" (state held) rather than as "no data" (resolve), so a restart does not
resolve what is still broken; the notification log stops it from paging twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from routewatch.collector.alerting.clock import Tick
from routewatch.collector.alerting.dedup import NotifyReason, needs_update
from routewatch.collector.alerting.dispatch import Dispatcher, add_to_key
from routewatch.collector.alerting.inhibit import Inhibitor, InhibitRule
from routewatch.collector.alerting.matchers import Matcher
from routewatch.collector.alerting.nflog import (
    Emitted,
    EmittedLog,
    NotificationLog,
    NotifiedAlert,
)
from routewatch.collector.alerting.rules import Rule, RuleSet
from routewatch.collector.alerting.series import Converter, Observation
from routewatch.collector.alerting.silence import SilenceConfig, Silences
from routewatch.collector.alerting.snapshot import decoded, stored_items
from routewatch.collector.alerting.state import AlertState, State, alert_labels, step
from routewatch.collector.alerting.targets import Target
from routewatch.collector.alerting.windows import (
    NO_DATA,
    Reading,
    RuleWindows,
    SeriesKey,
    SeriesWindow,
)
from routewatch.collector.storage import StorageClient
from routewatch.exporters.alerts import Alert

STATE_PREFIX = "alert/"
# A resolved alert that was never notified is forgotten after this long.
RESOLVED_RETENTION = 15 * 60.0


@dataclass(frozen=True)
class EngineSettings:
    rules: RuleSet
    receiver: str = "routewatch_alerts"
    group_by: tuple[str, ...] = ("alertname",)
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 4 * 3600.0
    send_resolved: bool = True
    silences: tuple[SilenceConfig, ...] = ()
    trace_url_template: str = ""
    runbook_base_url: str = ""
    max_series: int = 20_000


@dataclass(frozen=True)
class Notification:
    alert: Alert
    reason: NotifyReason


Touched = dict[str, set[SeriesKey]]


def _freeze(key: Iterable[Any]) -> SeriesKey:
    return tuple(tuple(x) if isinstance(x, list) else x for x in key)


class Engine:
    def __init__(
        self, settings: EngineSettings, storage: StorageClient | None, started_at: float
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.started_at = started_at
        self.rules = {r.name: r for r in settings.rules.rules}
        self.windows = {
            r.name: RuleWindows(r, settings.max_series, started_at) for r in settings.rules.rules
        }
        self.converter = Converter(
            started_at, max_age=max((r.span for r in settings.rules.rules), default=3600.0)
        )
        self._targets: dict[str, list[Target]] = {}
        for rw in self.windows.values():
            for metric in rw.rule.metrics():
                self._targets.setdefault(metric, []).append(Target(rw, metric))
        # Metrics whose histogram buckets some rule reads (the others need only counts).
        self._bucket_metrics = frozenset(
            r.config.metric for r in settings.rules.rules if r.config.kind == "quantile"
        )
        self.states: dict[str, AlertState] = {}
        self._index: dict[str, dict[SeriesKey, str]] = {name: {} for name in self.rules}
        # Alerts to save: after a transition (`_dirty`, every tick), or when only their value,
        # samples or timers moved (`_refreshed`, by `persist(refreshed=True)`), which keeps a
        # busy firing alert from costing an fsync per metrics batch.
        self._dirty: set[str] = set()
        self._refreshed: set[str] = set()
        self.dispatcher = Dispatcher(
            settings.group_by, settings.group_wait, settings.group_interval
        )
        self.inhibitor = Inhibitor(_inhibit_rules(settings.rules))
        # Keys of saved entries that could not be read back (skipped; logged by the caller).
        self.damaged: list[str] = []
        self.silences = Silences(settings.silences, storage, self.damaged)
        self.nflog = NotificationLog(settings.receiver)
        self.emitted = EmittedLog()
        if storage is not None:
            self._restore(storage)

    # --- restart -------------------------------------------------------------------------

    def _restore(self, storage: StorageClient) -> None:
        items = stored_items(storage)
        for st in decoded(items, STATE_PREFIX, AlertState.from_json, self.damaged):
            self.states[st.fingerprint] = st
            series_key = _freeze(st.series_key)
            self._index.setdefault(st.rule, {})[series_key] = st.fingerprint
            rule = self.rules.get(st.rule)
            if rule is not None and rule.config.kind == "absent":
                # known to be missing: counts from the restart
                self.windows[st.rule].window_for(series_key, self.started_at)
        self.nflog.restore(items, self.damaged)
        self.emitted.restore(items, self.damaged)
        # Groups are rebuilt: what was notified (to resolve it) and what fires (to notify it
        # after group_wait, counted from the restart).
        for entry in self.nflog.entries.values():
            for fp in entry.alerts:
                add_to_key(self.dispatcher, entry.group_key, fp, self.started_at)
        for st in self.states.values():
            if st.state == State.FIRING:
                self.dispatcher.add(st.fingerprint, st.labels, self.started_at)

    # --- ingest and evaluate -------------------------------------------------------------

    def metric_names(self) -> set[str]:
        return set(self._targets)

    def ingest(self, request: ExportMetricsServiceRequest, tick: Tick) -> Touched:
        """Add a metrics request to the windows; the series it touched, per rule."""
        touched: Touched = {}
        self.ingest_observations(self.observations(request), tick, touched)
        return touched

    def observations(self, request: ExportMetricsServiceRequest) -> Iterator[Observation]:
        """The request's observations of metrics some rule reads, read as they are consumed
        (`ingest_observations` can take them a slice at a time)."""
        return self.converter.observations(request, self._targets, self._bucket_metrics)

    def ingest_observations(
        self, observations: Iterable[Observation], tick: Tick, touched: Touched
    ) -> int:
        """Add observations to the windows; adds the series they touched to `touched`. How
        many observations there were."""
        now, targets = tick.now, self._targets
        taken = 0
        for obs in observations:
            taken += 1
            for target in targets[obs.metric]:
                key = target.accept(obs, now)
                if key is not None:
                    keys = touched.get(target.name)
                    if keys is None:
                        keys = touched[target.name] = set()
                    keys.add(key)
        return taken

    def evaluate(self, tick: Tick, touched: Touched | None = None) -> None:
        """Step the alerts of every series (`touched` None), or only of the series given."""
        now = tick.now
        if touched is None:
            for rw in self.windows.values():
                self._evaluate_rule(rw, now, None)
            self._resolve_orphans(now)
            return
        for name, keys in touched.items():
            self._evaluate_rule(self.windows[name], now, keys)

    def _evaluate_rule(self, rw: RuleWindows, now: float, keys: set[SeriesKey] | None) -> None:
        rule = rw.rule
        index = self._index.setdefault(rule.name, {})
        states = self.states
        min_samples = rule.config.min_samples
        warming = now - self.started_at < rule.span
        absent = rule.config.kind == "absent"
        crosses = rule.crosses
        cutoff = now - rule.span
        time_dependent, compute = rw.time_dependent, rw.compute
        if keys is None:
            windows: Iterable[tuple[SeriesKey, SeriesWindow]] = rw.series.items()
        else:
            windows = [(k, w) for k in keys if (w := rw.series.get(k)) is not None]
        seen: set[SeriesKey] = set()
        # The hot loop of an evaluation (10,000s of series): kept flat on purpose.
        for key, window in windows:
            entries = window.entries
            if entries and entries[0][0] <= cutoff:
                window.evict(cutoff)
            if window.dirty or time_dependent:
                reading = window.reading = compute(window, now)
                window.dirty, changed = False, True
            else:
                reading = window.reading
                changed = not window.stepped
            window.stepped = True
            fp = index.get(key)
            if fp is None:
                # No alert: only a new reading that crosses a threshold can start one.
                value = reading[0]
                if not changed or value is None or (not absent and not crosses(value)):
                    continue
                current = None
            else:
                current = states.get(fp)
            seen.add(key)
            self._step(rule, key, current, reading, min_samples, warming, now)
        if keys is not None:
            return
        for key, fp in list(index.items()):
            if key not in seen:
                self._step(rule, key, states.get(fp), NO_DATA, min_samples, warming, now)
        rw.gc(now, set(index))

    def _step(
        self,
        rule: Rule,
        key: SeriesKey,
        current: AlertState | None,
        reading: Reading,
        min_samples: float,
        warming: bool,
        now: float,
    ) -> None:
        if rule.config.kind == "absent":
            # No point since a restart is not yet "absent for the window": hold.
            insufficient = (
                warming and reading.value is not None and reading.value >= now - self.started_at
            )
        else:
            insufficient = (reading.value is None and warming) or (
                min_samples > 0 and reading.samples < min_samples
            )
        labels = (
            current.labels
            if current
            else alert_labels(rule, self.windows[rule.name].labels_of(key))
        )
        before = current.transition_key() if current else None
        new = step(rule, current, reading, insufficient, labels, list(key), now)
        if new is not None and new.last_true_at == now:
            new.exemplars = list(self.windows[rule.name].exemplars(key, now))
        index = self._index[rule.name]
        if new is None:
            if current is not None:
                self._forget(current)
            return
        if new is not current:
            if current is not None and current.fingerprint != new.fingerprint:
                self._forget(current)
            self.states[new.fingerprint] = new
            index[key] = new.fingerprint
        after = new.transition_key()
        if new is not current or after != before:
            self._dirty.add(new.fingerprint)  # saved with this tick
        else:
            self._refreshed.add(new.fingerprint)  # only numbers moved: saved periodically
        if new.state == State.FIRING and (before is None or before[:2] != after[:2]):
            self.dispatcher.add(new.fingerprint, new.labels, now)

    def _forget(self, st: AlertState) -> None:
        self.states.pop(st.fingerprint, None)
        index = self._index.get(st.rule, {})
        key = _freeze(st.series_key)
        if index.get(key) == st.fingerprint:
            del index[key]
        self._dirty.add(st.fingerprint)

    def _resolve_orphans(self, now: float) -> None:
        """Alerts restored for a rule no longer configured: resolve what fired, drop the rest."""
        for st in list(self.states.values()):
            if st.rule in self.rules:
                continue
            if st.state == State.PENDING:
                self._forget(st)
            elif st.state == State.FIRING:
                st.state, st.resolved_at = State.RESOLVED, now
                self._dirty.add(st.fingerprint)

    # --- dispatch ------------------------------------------------------------------------

    def muted_by(self, st: AlertState, now: float) -> NotifyReason | None:
        labels = st.mute_labels()
        if self.silences.mutes(labels, now):
            return NotifyReason.SILENCED
        if self.inhibitor.mutes(labels, now):
            return NotifyReason.INHIBITED
        return None

    def flush(self, tick: Tick) -> list[Notification]:
        """The notifications due now, decided per alert in every group whose timer ran out."""
        now = tick.now
        for alert in self.states.values():  # a firing alert belongs to a group (also after restart)
            if alert.state == State.FIRING:
                self.dispatcher.add(alert.fingerprint, alert.labels, now)
        self.inhibitor.set_firing(
            a.mute_labels() for a in self.states.values() if a.state == State.FIRING
        )
        s = self.settings
        out: list[Notification] = []
        for group in self.dispatcher.due(now):
            keep: list[str] = []
            for fp in sorted(group.fingerprints):
                st = self.states.get(fp)
                entry = self.nflog.query(group.key, fp)
                firing = st is not None and st.state == State.FIRING
                muted = self.muted_by(st, now) if st is not None and firing else None
                reason = needs_update(entry, st, muted, now, s.repeat_interval, s.send_resolved)
                if reason.notifies:
                    assert st is not None or entry is not None
                    out.append(self._notification(st, fp, entry, reason, group.key, now))
                if firing or reason == NotifyReason.RESOLVED:
                    keep.append(fp)  # a resolve stays until it was emitted
                elif reason == NotifyReason.SEND_RESOLVED_DISABLED:
                    self.nflog.record_resolve(group.key, fp, now)
                    self._drop_resolved(fp)
                else:
                    self._drop_resolved(fp)
            self.dispatcher.flushed(group, now, keep)
        return out

    def _drop_resolved(self, fp: str) -> None:
        st = self.states.get(fp)
        if st is not None and st.state == State.RESOLVED:
            self._forget(st)

    def _notification(
        self,
        st: AlertState | None,
        fp: str,
        entry: NotifiedAlert | None,
        reason: NotifyReason,
        group_key: str,
        now: float,
    ) -> Notification:
        resolved = reason == NotifyReason.RESOLVED
        if st is None:  # the state is gone but the trigger went out: resolve what was sent
            labels = dict(entry.labels) if entry else {}
            st = AlertState(
                fp, labels.get("alertname", ""), labels, [], State.RESOLVED, "info", resolved_at=now
            )
        severity = entry.severity if resolved and entry is not None else st.severity
        starts = (entry.starts_at if resolved and entry is not None else st.fired_at) or now
        alert = Alert(
            alertname=st.labels.get("alertname", st.rule),
            fingerprint=fp,
            status="resolved" if resolved else "firing",
            severity=severity,
            labels=dict(st.labels),
            annotations=self.annotations_of(st),
            starts_at=starts,
            ends_at=(st.resolved_at or now) if resolved else None,
            value=st.value,
            threshold=st.threshold or None,
            exemplar_trace_ids=tuple(st.exemplars),
            group_key=group_key,
            notification_id=notification_id(fp, resolved, severity, starts, now),
        )
        return Notification(alert, reason)

    def annotations_of(self, st: AlertState) -> dict[str, str]:
        out = dict(st.annotations)
        base = self.settings.runbook_base_url
        runbook = out.get("runbook_url", "")
        if base and runbook and "://" not in runbook:
            out["runbook_url"] = base.rstrip("/") + "/" + runbook.lstrip("/")
        template = self.settings.trace_url_template
        # One `*_url` annotation per link (`trace_url`, `trace_url_2`, ...): exporters turn
        # each into a link (PagerDuty `links[]`).
        for i, trace_id in enumerate(st.exemplars if template else ()):
            out["trace_url" if i == 0 else f"trace_url_{i + 1}"] = template.replace(
                "{trace_id}", trace_id
            )
        return out

    def commit(self, notifications: Iterable[Notification], tick: Tick) -> None:
        """Record notifications the next consumer accepted (never before: a failed emit is
        retried at the group's next flush)."""
        now = tick.now
        for n in notifications:
            a = n.alert
            if a.status == "firing":
                sent = NotifiedAlert(
                    a.severity, a.starts_at, now, a.notification_id, dict(a.labels)
                )
                self.nflog.record_trigger(a.group_key, a.fingerprint, sent)
            else:
                self.nflog.record_resolve(a.group_key, a.fingerprint, now)
                self._drop_resolved(a.fingerprint)
            self.emitted.append(
                Emitted(
                    at=now,
                    notification_id=a.notification_id,
                    fingerprint=a.fingerprint,
                    alertname=a.alertname,
                    status=a.status,
                    severity=a.severity,
                    reason=n.reason.value,
                    group_key=a.group_key,
                    labels=dict(a.labels),
                    value=a.value,
                )
            )

    # --- housekeeping --------------------------------------------------------------------

    def gc(self, tick: Tick) -> None:
        now = tick.now
        notified = self.nflog.notified()
        for st in list(self.states.values()):
            if (
                st.state == State.RESOLVED
                and st.fingerprint not in notified
                and (st.resolved_at or now) + RESOLVED_RETENTION <= now
            ):
                self._forget(st)
        self.nflog.gc(now, set(self.states))
        self.silences.gc(now)

    def persist(self, refreshed: bool = True) -> None:
        """Snapshot what changed since the last successful call, in one transaction; alerts
        whose numbers only moved are included when `refreshed`. On a storage error nothing is
        marked saved: the next call writes it again."""
        fingerprints = self._dirty | self._refreshed if refreshed else self._dirty
        if self.storage is not None:
            sets: list[tuple[str, bytes]] = []
            deletes: list[str] = []
            for fp in fingerprints:
                st = self.states.get(fp)
                if st is None:
                    deletes.append(STATE_PREFIX + fp)
                else:
                    sets.append((STATE_PREFIX + fp, st.to_json()))
            for s, d in (self.nflog.changes(), self.emitted.changes()):
                sets.extend(s)
                deletes.extend(d)
            if sets or deletes:
                self.storage.batch(sets, deletes)
        self._dirty.clear()
        if refreshed:
            self._refreshed.clear()
        self.nflog.saved()
        self.emitted.saved()

    def next_flush(self) -> float | None:
        return self.dispatcher.next_flush()

    def series_count(self) -> int:
        return sum(len(rw.series) for rw in self.windows.values())

    def dropped_points(self) -> int:
        return self.converter.invalid_points + sum(
            rw.dropped_points for rw in self.windows.values()
        )

    def evictions(self) -> dict[str, int]:
        return {name: rw.evictions for name, rw in self.windows.items()}

    # --- views ---------------------------------------------------------------------------

    def firing(self) -> list[AlertState]:
        return [st for st in self.states.values() if st.state == State.FIRING]


def _inhibit_rules(rule_set: RuleSet) -> list[InhibitRule]:
    rules = [InhibitRule.from_config(c) for c in rule_set.inhibit_rules]
    for rule in rule_set.rules:
        if rule.config.inhibits:
            targets = "|".join(re.escape(n) for n in rule.config.inhibits)
            rules.append(
                InhibitRule(
                    (Matcher("alertname", rule.name),),
                    (Matcher("alertname", targets, is_regex=True),),
                    tuple(rule.config.by or ()),
                )
            )
    return rules


# Seconds of the buckets that make notification ids equal across collectors: two instances
# that evaluate the same data notify within milliseconds of each other.
NOTIFICATION_ID_BUCKET = 10.0


def notification_id(
    fingerprint: str, resolved: bool, severity: str, starts_at: float, now: float
) -> str:
    """A notification's id, the same on every collector that sends it (SNS FIFO dedup id).

    A trigger, a repeat and a level change differ by their time bucket or severity; a resolve
    is tied to the trigger it ends (its start), so it never reuses the trigger's id.
    """
    started = int(starts_at // NOTIFICATION_ID_BUCKET)
    if resolved:
        key = f"{fingerprint}|resolved|{started}"
    else:
        key = f"{fingerprint}|firing|{severity}|{started}|{int(now // NOTIFICATION_ID_BUCKET)}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]
