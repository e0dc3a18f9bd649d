"""The demo's live view: a progress bar and a small table, redrawn in place on a terminal,
one plain line every few seconds otherwise (CI, pipes, tests)."""

from __future__ import annotations

from typing import TextIO

from routewatch.collector.devservers.demo_config import latency_window
from routewatch.collector.devservers.demo_outputs import DemoOutputs, p95

BAR_WIDTH = 30
# p95 over the last RECENT seconds: the window RouteLatencyHigh looks at in the demo.
RECENT = latency_window()
PLAIN_EVERY = 5.0  # seconds between plain lines
_UP_AND_CLEAR = "\x1b[{n}F\x1b[J"


def _fmt_p95(values: list[float]) -> str:
    value = p95(values)
    return "-" if value is None else f"{value:.2f} s"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def firing_text(outputs: DemoOutputs) -> str:
    firing = outputs.firing().values()
    return (
        ", ".join(
            f"{a.alertname}{{{a.labels.get('hybrid_routing.route', '')}}} {a.severity}"
            for a in firing
        )
        or "none"
    )


def table_lines(
    elapsed: float, duration: float, outputs: DemoOutputs, phase: str = ""
) -> list[str]:
    done = min(1.0, elapsed / duration)
    filled = round(done * BAR_WIDTH)
    lines = [
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {elapsed:5.1f}/{duration:.0f} s  {phase}",
        f"{'route':<10}{'requests':>10}{f'p95 {RECENT:g}s':>10}",
    ]
    for route in sorted(outputs.route_durations):
        recent = outputs.recent_durations(route, RECENT)
        total = len(outputs.route_durations[route])
        lines.append(f"{route:<10}{total:>10}{_fmt_p95(recent):>10}")
    lines += [
        f"cache hit rate {_rate(outputs.emf.cache_hit_rate)}   "
        f"cost so far {outputs.emf.cost_usd:.4f} USD   spans {outputs.spans}",
        f"alerts firing: {firing_text(outputs)}",
    ]
    return lines


def plain_line(elapsed: float, outputs: DemoOutputs, phase: str = "") -> str:
    routes = " ".join(
        f"{route}={len(v)} p95 {_fmt_p95(outputs.recent_durations(route, RECENT))}"
        for route, v in sorted(outputs.route_durations.items())
    )
    return (
        f"demo: {elapsed:5.1f} s  {phase + '  ' if phase else ''}"
        f"requests {outputs.requests} ({routes or 'none yet'}; "
        f"p95 of the last {RECENT:g} s)  "
        f"cache {_rate(outputs.emf.cache_hit_rate)}  cost {outputs.emf.cost_usd:.4f} USD  "
        f"firing: {firing_text(outputs)}"
    )


class LiveView:
    def __init__(self, stream: TextIO, duration: float, tty: bool | None = None) -> None:
        self.stream = stream
        self.duration = duration
        self.tty = stream.isatty() if tty is None else tty
        self._drawn = 0
        self._last_plain = -PLAIN_EVERY
        self._alerts_shown = 0

    def update(self, elapsed: float, outputs: DemoOutputs, phase: str = "") -> None:
        """Redraw (terminal) or print a line (otherwise); `phase` says what the run is doing
        (e.g. that the incident is on)."""
        # Alert notifications are news: a line each, in both modes, above the table.
        news = [
            f"demo: {e.seen_at:5.1f} s  ALERT {e.alert.status.upper()} {e.alert.severity} "
            f"{e.alert.alertname}: {e.alert.summary}"
            for e in outputs.alert_events[self._alerts_shown :]
        ]
        self._alerts_shown = len(outputs.alert_events)
        if self.tty:
            lines = [line.rstrip() for line in table_lines(elapsed, self.duration, outputs, phase)]
            clear = _UP_AND_CLEAR.format(n=self._drawn) if self._drawn else ""
            self.stream.write(clear + "".join(f"{line}\n" for line in [*news, *lines]))
            self._drawn = len(lines)
        else:
            for line in news:
                self.stream.write(line + "\n")
            if elapsed - self._last_plain >= PLAIN_EVERY:
                self.stream.write(plain_line(elapsed, outputs, phase) + "\n")
                self._last_plain = elapsed
        self.stream.flush()

    def finish(self) -> None:
        self._drawn = 0
        self.stream.flush()
