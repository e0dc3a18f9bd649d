"""Helpers for alert delivery tests: a clock for the channels and sample alerts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from routewatch.exporters.alerts import Alert
from support.clocks import ManualClock

ROUTING_KEY = "R0123456789abcdefghijklmnopqrstu"  # 32 characters, as PagerDuty's
assert len(ROUTING_KEY) == 32


class DeliveryClock(ManualClock):
    """Monotonic and wall time in one, from a fixed start, for the delivery channels."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        super().__init__(start)

    def clocks(self) -> dict[str, Any]:
        """Keyword arguments for a channel: clock, wall, sleep and a fixed jitter."""
        return {"clock": self, "wall": self, "sleep": self.sleep, "rand": lambda: 0.5}


def sample_alert(**changes: Any) -> Alert:
    alert = Alert(
        alertname="RouteLatencyHigh",
        fingerprint="7f3a9c1e5b2d4f60",
        status="firing",
        severity="critical",
        labels={
            "alertname": "RouteLatencyHigh",
            "hybrid_routing.route": "direct",
            "hybrid_routing.operation": "emergency",
        },
        annotations={
            "summary": "p95 latency of direct is 16.2 s",
            "description": "p95 above 15 s for 2m",
            "runbook_url": "https://example.com/runbooks/route-latency",
            "trace_url": "https://tempo.example.com/trace/0af7651916cd43dd8448eb211c80319c",
        },
        starts_at=1_700_000_000.0,
        value=16.2,
        threshold="> 15",
        exemplar_trace_ids=("0af7651916cd43dd8448eb211c80319c",),
        notification_id="7f3a9c1e5b2d4f60-1",
    )
    return replace(alert, **changes)
