"""The receiver's self-telemetry, under the Go collector's names.

One function, so that the collector core's shared obsreport helper can replace it in one place.
"""

from __future__ import annotations

from routewatch.collector.component import CreateSettings, Signal
from routewatch.collector.receivers.otlp.items import ITEM_NAMES


def record_export(
    settings: CreateSettings, transport: str, signal: Signal, accepted: int, refused: int
) -> None:
    """Count one export call: `otelcol_receiver_{accepted,refused}_<items>`."""
    labels = {"receiver": str(settings.id), "transport": transport}
    items = ITEM_NAMES[signal]
    if accepted:
        settings.telemetry.add(f"otelcol_receiver_accepted_{items}", accepted, labels)
    if refused:
        settings.telemetry.add(f"otelcol_receiver_refused_{items}", refused, labels)
