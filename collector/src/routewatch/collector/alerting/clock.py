"""Time for decision logic: an injected clock read once per tick, never `time.time()` inside."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


def system_clock() -> float:
    return time.time()


@dataclass(frozen=True)
class Tick:
    """One evaluation or flush: the only time reference of everything done within it."""

    now: float
