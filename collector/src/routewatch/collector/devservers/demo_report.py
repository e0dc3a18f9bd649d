"""The demo's closing report, and its verdict (what must have happened for exit 0)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from routewatch.collector.devservers.bedrock.state import RequestRecord
from routewatch.collector.devservers.demo_config import DemoLayout
from routewatch.collector.devservers.demo_outputs import DURATION_METRIC, DemoOutputs, p95
from routewatch.collector.devservers.pagerduty_server import PagerDutyServer

CRITICAL_ALERT = "RouteLatencyHigh"


def phase_lines(outputs: DemoOutputs, phases: Sequence[tuple[str, float, float]]) -> list[str]:
    """Requests and p95 per route before, during and after the incident."""
    if not phases:
        return []
    header = "".join(f"{name:>18}" for name, _, _ in phases)
    lines = ["  by phase of the incident (requests, p95):", f"  {'route':<10}{header}"]
    for route in sorted(outputs.route_durations):
        cells = []
        for _, start, end in phases:
            values = outputs.durations_between(route, start, end)
            value = p95(values)
            cells.append(f"{len(values):>8}  {'-' if value is None else f'{value:.2f} s':>8}")
        lines.append(f"  {route:<10}{''.join(cells)}")
    return lines


def _clock(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def alert_timeline(outputs: DemoOutputs) -> list[str]:
    lines = []
    for event in outputs.alert_events:
        a = event.alert
        at = a.ends_at if a.status == "resolved" else a.starts_at
        route = a.labels.get("hybrid_routing.route")
        lines.append(
            f"  +{event.seen_at:5.1f} s  {_clock(at)} UTC  {a.status:<8} {a.severity:<8} "
            f"{a.alertname}{f' route={route}' if route else ''}: {a.summary}"
        )
    return lines or ["  (no alert notifications)"]


def report_lines(
    outputs: DemoOutputs,
    component_counts: dict[str, dict[str, float]],
    layout: DemoLayout,
    bedrock_records: Sequence[RequestRecord],
    elapsed: float,
    pagerduty: PagerDutyServer | None = None,
    phases: Sequence[tuple[str, float, float]] = (),
) -> list[str]:
    errors = sum(1 for r in bedrock_records if r.error)
    lines = [
        "",
        "== routewatch demo report",
        f"traffic: {outputs.requests} routed requests in {outputs.spans} spans; Bedrock server "
        f"answered {len(bedrock_records)} calls ({errors} errors)",
        "  route       requests   p95",
    ]
    for route, values in sorted(outputs.route_durations.items()):
        value = p95(values)
        lines.append(f"  {route:<10}{len(values):>10}   {value or 0:.2f} s")
    lines += phase_lines(outputs, phases)
    rate = outputs.emf.cache_hit_rate
    lines += [
        f"  cache hit rate {'-' if rate is None else f'{rate:.0%}'}, "
        f"model cost {outputs.emf.cost_usd:.4f} USD (from the EMF file)",
        "received and sent, per component (the collector's internal metrics):",
    ]
    for exporter, counts in sorted(
        component_counts.items(), key=lambda kv: (not kv[0].startswith("receiver "), kv[0])
    ):
        detail = ", ".join(f"{what} {value:g}" for what, value in sorted(counts.items()))
        lines.append(f"  {exporter:<14} {detail}")
    if not component_counts:
        lines.append("  (internal metrics not available)")
    lines += [
        "alert timeline (+seconds since the traffic began):",
        *alert_timeline(outputs),
        "critical alerts:",
        *episode_lines(outputs),
        *(pagerduty_lines(pagerduty) if pagerduty is not None else []),
        "written:",
        f"  EMF log        {layout.emf}  ({outputs.emf.lines} records)",
        f"  alert log      {layout.alerts}  ({len(outputs.alert_events)} notifications)",
        f"  traces         {layout.traces}  (OTLP/JSON, {outputs.spans} spans)",
        f"  collector log  {layout.collector_log}",
        f"  config overlay {layout.overlay}, rules {layout.rules}",
        f"done in {elapsed:.1f} s",
    ]
    return lines


@dataclass(frozen=True)
class CriticalEpisode:
    """A CRITICAL_ALERT that fired as critical, and when (if) it resolved, in seconds since
    the traffic began (whatever severity it had fallen to by then)."""

    fingerprint: str
    labels: str
    fired_at: float
    resolved_at: float | None


def critical_episodes(outputs: DemoOutputs) -> list[CriticalEpisode]:
    fired: dict[str, tuple[str, float]] = {}  # fingerprint -> (labels, fired at)
    episodes: list[CriticalEpisode] = []
    for event in outputs.alert_events:
        a = event.alert
        if a.alertname != CRITICAL_ALERT:
            continue
        if a.status == "firing" and a.severity == "critical" and a.fingerprint not in fired:
            labels = ",".join(
                f"{k}={v}" for k, v in sorted(a.labels.items()) if k not in ("team", "alertname")
            )
            fired[a.fingerprint] = (labels, event.seen_at)
        elif a.status == "resolved" and a.fingerprint in fired:
            labels, at = fired.pop(a.fingerprint)
            episodes.append(CriticalEpisode(a.fingerprint, labels, at, event.seen_at))
    episodes += [CriticalEpisode(fp, labels, at, None) for fp, (labels, at) in fired.items()]
    return sorted(episodes, key=lambda e: e.fired_at)


def episode_lines(outputs: DemoOutputs) -> list[str]:
    return [
        f"  {CRITICAL_ALERT}{{{e.labels}}}: fired critical at +{e.fired_at:.1f} s, "
        + (
            f"resolved at +{e.resolved_at:.1f} s"
            if e.resolved_at is not None
            else "still firing at the end"
        )
        for e in critical_episodes(outputs)
    ] or [f"  no critical {CRITICAL_ALERT}"]


def verdict(outputs: DemoOutputs, incident: bool) -> list[str]:
    """What went wrong, if anything: no traffic, invalid EMF, no per-route latency
    histograms, or (with an incident) no critical alert firing then resolving."""
    problems = []
    if not outputs.requests:
        problems.append("no routed request reached the traces file")
    if outputs.emf.invalid:
        problems.append(f"invalid EMF records: {'; '.join(outputs.emf.invalid[:3])}")
    if not outputs.emf.duration_routes:
        problems.append(f"no per-route {DURATION_METRIC} histogram in the EMF file")
    episodes = critical_episodes(outputs)
    if incident and not episodes:
        problems.append(f"the incident did not fire a critical {CRITICAL_ALERT}")
    elif incident and not any(e.resolved_at is not None for e in episodes):
        problems.append(f"the critical {CRITICAL_ALERT} did not resolve within the run")
    return problems


def pagerduty_lines(server: PagerDutyServer) -> list[str]:
    """What the local PagerDuty server received and the incidents it holds."""
    incidents = list(server.incidents)
    lines = [
        f"pagerduty (local server {server.url}): {len(server.events)} events accepted, "
        f"{len(incidents)} incidents"
    ]
    lines += [
        f"  #{i.id} {i.status:<9} {i.severity:<8} dedup_key {i.dedup_key}: {i.summary}"
        for i in incidents
    ]
    return lines


def pagerduty_verdict(outputs: DemoOutputs, server: PagerDutyServer) -> list[str]:
    """The critical alert's PagerDuty incident (dedup_key = its fingerprint) was opened and
    resolved."""
    fingerprints = {e.fingerprint for e in critical_episodes(outputs)}
    incidents = [i for i in server.incidents if i.dedup_key in fingerprints]
    if not incidents:
        return [f"no PagerDuty incident for the critical {CRITICAL_ALERT}"]
    if any(i.open for i in incidents):
        return [f"the PagerDuty incident of the critical {CRITICAL_ALERT} is still open"]
    return []
