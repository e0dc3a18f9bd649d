"""Log sampling as zap's sampler does it: per one-second window, the first `initial` entries
pass, then every `thereafter`-th."""

from __future__ import annotations

import time
from collections.abc import Callable


class Sampler:
    def __init__(
        self, initial: int, thereafter: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._initial = initial
        self._thereafter = max(thereafter, 1)
        self._clock = clock
        self._window = -1
        self._seen = 0

    def allow(self) -> bool:
        window = int(self._clock())
        if window != self._window:
            self._window, self._seen = window, 0
        self._seen += 1
        if self._seen <= self._initial:
            return True
        return (self._seen - self._initial) % self._thereafter == 0
