"""PutLogEvents batching at each limit and one past it."""

from __future__ import annotations

import pytest

from routewatch.exporters.cloudwatch_logs import (
    EVENT_OVERHEAD,
    MAX_BATCH_BYTES,
    MAX_BATCH_SPAN_MS,
    MAX_EVENT_BYTES,
    plan_batches,
)

T0 = 1_700_000_000_000


def sized(total: int, ts: int = T0, char: str = "x") -> tuple[int, bytes]:
    """An event whose message is `total` UTF-8 bytes."""
    width = len(char.encode())
    body = char * (total // width) + "y" * (total % width)
    return ts, body.encode()


@pytest.mark.parametrize(("extra", "batches"), [(0, 1), (1, 2)])
def test_batch_bytes_at_limit(extra: int, batches: int) -> None:
    # four events filling exactly 1,048,576 bytes with their 26-byte overheads
    per = MAX_BATCH_BYTES // 4 - EVENT_OVERHEAD
    events = [sized(per, T0 + i) for i in range(4)]
    events[-1] = sized(per + extra, T0 + 3)
    planned, oversize = plan_batches(events)
    assert not oversize
    assert len(planned) == batches
    assert all(sum(len(m) + EVENT_OVERHEAD for _, m in b) <= MAX_BATCH_BYTES for b in planned)
    assert sum(len(b) for b in planned) == 4


@pytest.mark.parametrize(("extra", "batches"), [(0, 1), (1, 2)])
def test_batch_bytes_count_utf8_not_characters(extra: int, batches: int) -> None:
    per = MAX_BATCH_BYTES // 2 - EVENT_OVERHEAD
    # 3-byte characters: a third as many characters as bytes
    events = [sized(per, T0, "€"), sized(per + extra, T0 + 1, "€")]
    assert len(events[0][1].decode()) < per
    planned, _ = plan_batches(events)
    assert len(planned) == batches


@pytest.mark.parametrize(("n", "batches"), [(10_000, 1), (10_001, 2)])
def test_batch_event_count(n: int, batches: int) -> None:
    planned, _ = plan_batches([(T0 + i, b"{}") for i in range(n)])
    assert [len(b) for b in planned] == ([10_000] if n == 10_000 else [10_000, 1])


@pytest.mark.parametrize(("gap", "batches"), [(MAX_BATCH_SPAN_MS, 1), (MAX_BATCH_SPAN_MS + 1, 2)])
def test_batch_span_24_hours(gap: int, batches: int) -> None:
    planned, _ = plan_batches([(T0 + gap, b"b"), (T0, b"a"), (T0 + 1, b"c")])
    assert len(planned) == batches
    assert [e for b in planned for e in b] == [(T0, b"a"), (T0 + 1, b"c"), (T0 + gap, b"b")]


def test_events_sorted_chronologically() -> None:
    planned, _ = plan_batches([(3, b"c"), (1, b"a"), (2, b"b")])
    assert planned == [[(1, b"a"), (2, b"b"), (3, b"c")]]


@pytest.mark.parametrize(("size", "fits"), [(MAX_EVENT_BYTES, True), (MAX_EVENT_BYTES + 1, False)])
def test_single_event_size_limit(size: int, fits: bool) -> None:
    event = sized(size)
    planned, oversize = plan_batches([event, (T0 + 1, b"small")])
    assert (event in oversize) is not fits
    assert sum(len(b) for b in planned) == (2 if fits else 1)
