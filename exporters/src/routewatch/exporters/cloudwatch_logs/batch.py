"""Splitting log events into PutLogEvents batches that the service accepts.

A batch holds at most 10,000 events and 1,048,576 bytes, counted as each message's UTF-8
bytes plus 26; its events are in chronological order and span at most 24 hours. One event is
at most 1,048,550 bytes (the batch limit less its overhead).
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_BATCH_BYTES = 1_048_576
MAX_BATCH_EVENTS = 10_000
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = MAX_BATCH_BYTES - EVENT_OVERHEAD
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000

# (timestamp ms, UTF-8 message)
LogEvent = tuple[int, bytes]


def event_size(event: LogEvent) -> int:
    return len(event[1]) + EVENT_OVERHEAD


def plan_batches(
    events: Iterable[LogEvent],
    max_bytes: int = MAX_BATCH_BYTES,
    max_events: int = MAX_BATCH_EVENTS,
    max_span_ms: int = MAX_BATCH_SPAN_MS,
) -> tuple[list[list[LogEvent]], list[LogEvent]]:
    """(batches in chronological order, events too large to send at all)."""
    ordered = sorted(events, key=_timestamp)
    batches: list[list[LogEvent]] = []
    oversize: list[LogEvent] = []
    current: list[LogEvent] = []
    size = 0
    first_ts = 0
    for event in ordered:
        esize = len(event[1]) + EVENT_OVERHEAD
        if esize > max_bytes:
            oversize.append(event)
            continue
        if current and (
            size + esize > max_bytes
            or len(current) >= max_events
            or event[0] - first_ts > max_span_ms
        ):
            batches.append(current)
            current, size = [], 0
        if not current:
            first_ts = event[0]
        current.append(event)
        size += esize
    if current:
        batches.append(current)
    return batches, oversize


def _timestamp(event: LogEvent) -> int:
    return event[0]
