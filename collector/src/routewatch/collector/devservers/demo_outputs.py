"""What the demo shows, read from what the collector wrote: the traces file (OTLP/JSON lines),
the EMF file and the alert log (OTLP/JSON lines of `routewatch.alert` records), plus the
collector's internal metrics for the counts per exporter. No second pipeline: if the
collector did not write it, the demo does not show it.
"""

from __future__ import annotations

import math
import re
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from routewatch.collector.otlpjson.decode import decode
from routewatch.exporters.alerts import Alert, alerts_from_request

ROUTE_ATTRIBUTE = "hybrid_routing.route"
ROUTE_SPAN_PREFIX = "route "
COST_METRIC = "hybrid_routing.cost"
CACHE_METRIC = "hybrid_routing.cache.lookups"
CACHE_RESULT = "hybrid_routing.cache.result"
DURATION_METRIC = "hybrid_routing.request.duration"
_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


class LineTail:
    """Complete lines appended to a file since the last call (a partial last line waits)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""

    def new_lines(self) -> list[bytes]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        return [line for line in lines if line.strip()]


def _attribute(attributes: list[dict[str, Any]], key: str) -> Any:
    for kv in attributes:
        if kv.get("key") == key:
            value = kv.get("value", {})
            return next(iter(value.values()), None)
    return None


def p95(values: list[float]) -> float | None:
    """Nearest-rank 95th percentile; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class EmfSummary:
    lines: int = 0
    cost_usd: float = 0.0
    cache: Counter[str] = field(default_factory=Counter)
    # Route -> observations in its hybrid_routing.request.duration histograms (Values/Counts).
    duration_routes: Counter[str] = field(default_factory=Counter)
    invalid: list[str] = field(default_factory=list)

    def add(self, line: bytes) -> None:
        self.lines += 1
        try:
            doc = orjson.loads(line)
            names = {
                m["Name"]
                for directive in doc["_aws"]["CloudWatchMetrics"]
                for m in directive["Metrics"]
            }
        except (orjson.JSONDecodeError, KeyError, TypeError) as err:
            self.invalid.append(f"line {self.lines}: {err!r}")
            return
        if COST_METRIC in names and isinstance(doc.get(COST_METRIC), int | float):
            self.cost_usd += doc[COST_METRIC]
        if CACHE_METRIC in names and CACHE_RESULT in doc:
            value = doc[CACHE_METRIC]
            if isinstance(value, int | float):
                self.cache[str(doc[CACHE_RESULT])] += int(value)
        if DURATION_METRIC in names and ROUTE_ATTRIBUTE in doc:
            value = doc[DURATION_METRIC]
            if isinstance(value, dict) and "Values" in value and "Counts" in value:
                self.duration_routes[str(doc[ROUTE_ATTRIBUTE])] += int(sum(value["Counts"]))

    @property
    def cache_hit_rate(self) -> float | None:
        total = self.cache["hit"] + self.cache["miss"]
        return self.cache["hit"] / total if total else None


@dataclass
class AlertEvent:
    alert: Alert
    # When the demo read it, seconds since the traffic began.
    seen_at: float


class DemoOutputs:
    """Incremental reader of the collector's output files."""

    def __init__(self, traces: Path, emf: Path, alerts: Path) -> None:
        self._traces = LineTail(traces)
        self._emf = LineTail(emf)
        self._alerts = LineTail(alerts)
        self.spans = 0
        self.route_durations: dict[str, list[float]] = defaultdict(list)
        # Route -> [(end time in seconds since the epoch, duration)], for recent p95s.
        self._route_ends: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self._last_end = 0.0
        self.emf = EmfSummary()
        self.alert_events: list[AlertEvent] = []

    def poll(self, now: float) -> None:
        for line in self._traces.new_lines():
            self._add_traces(orjson.loads(line))
        for line in self._emf.new_lines():
            self.emf.add(line)
        for line in self._alerts.new_lines():
            request = decode(line, ExportLogsServiceRequest)
            self.alert_events += [AlertEvent(a, now) for a in alerts_from_request(request)]

    def _add_traces(self, request: dict[str, Any]) -> None:
        for rs in request.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for span in ss.get("spans", []):
                    self.spans += 1
                    if not span.get("name", "").startswith(ROUTE_SPAN_PREFIX):
                        continue
                    route = _attribute(span.get("attributes", []), ROUTE_ATTRIBUTE)
                    end = int(span["endTimeUnixNano"]) / 1e9
                    seconds = end - int(span["startTimeUnixNano"]) / 1e9
                    self.route_durations[str(route or "other")].append(seconds)
                    self._route_ends[str(route or "other")].append((end, seconds))
                    self._last_end = max(self._last_end, end)

    def recent_durations(self, route: str, window: float) -> list[float]:
        """Durations of `route`'s requests that ended within `window` seconds of the last
        request seen (any route)."""
        since = self._last_end - window
        return [d for end, d in self._route_ends.get(route, []) if end >= since]

    def durations_between(self, route: str, start: float, end: float) -> list[float]:
        """Durations of `route`'s requests that ended in [start, end) (epoch seconds)."""
        return [d for at, d in self._route_ends.get(route, []) if start <= at < end]

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.route_durations.values())

    def firing(self) -> dict[str, Alert]:
        """Alerts whose last notification is `firing`, by fingerprint."""
        last: dict[str, Alert] = {}
        for event in self.alert_events:
            last[event.alert.fingerprint] = event.alert
        return {fp: a for fp, a in last.items() if a.status == "firing"}


def component_counts(metrics_url: str, timeout: float = 2.0) -> dict[str, dict[str, float]]:
    """The counts per component from the collector's internal metrics endpoint (see
    `parse_component_counts`); empty when the endpoint does not answer."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=timeout) as response:
            return parse_component_counts(response.read().decode())
    except OSError:
        return {}


def parse_component_counts(text: str) -> dict[str, dict[str, float]]:
    """What each component moved, from a Prometheus text exposition of the internal metrics:
    `otelcol_exporter_sent_*`/`_send_failed_*` per exporter and
    `otelcol_receiver_accepted_*`/`_refused_*` per receiver (keyed `receiver <id>`):
    {"file/traces": {"sent spans": 12.0}, "receiver otlp": {"accepted spans": 12.0}, ...}."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if not match:
            continue
        labels = dict(_LABEL.findall(match["labels"]))
        name = match["name"]
        if name.startswith("otelcol_exporter_") and "exporter" in labels:
            key, what = labels["exporter"], name.removeprefix("otelcol_exporter_")
            if not what.startswith(("sent_", "send_failed_")):
                continue
        elif name.startswith("otelcol_receiver_") and "receiver" in labels:
            key, what = f"receiver {labels['receiver']}", name.removeprefix("otelcol_receiver_")
        else:
            continue
        what = what.replace("_", " ")
        out[key][what] = out[key].get(what, 0.0) + float(match["value"])
    return dict(out)
