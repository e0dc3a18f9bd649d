"""`memory_limiter` settings, keys and messages as the Go collector's memorylimiterprocessor."""

from __future__ import annotations

from dataclasses import dataclass

from routewatch.collector.confmap import Duration

DEFAULT_CHECK_INTERVAL = Duration(1.0)
# spike_limit_mib defaults to this share of limit_mib (and likewise for the percentages).
DEFAULT_SPIKE_SHARE = 0.2


@dataclass
class MemoryLimiterConfig:
    # How often memory is measured; must be > 0.
    check_interval: Duration = DEFAULT_CHECK_INTERVAL
    # Hard limit in MiB; 0 means use limit_percentage.
    limit_mib: int = 0
    # Headroom below the hard limit; data is refused above limit - spike (the soft limit).
    # 0 means 20% of limit_mib.
    spike_limit_mib: int = 0
    # Hard limit as a percentage of total system memory; 0 means unused.
    limit_percentage: int = 0
    spike_limit_percentage: int = 0

    def validate(self) -> None:
        if self.check_interval <= 0:
            raise ValueError("'check_interval' must be greater than zero")
        if self.limit_mib <= 0 and self.limit_percentage <= 0:
            raise ValueError("'limit_mib' or 'limit_percentage' must be greater than zero")
        if self.limit_mib > 0:
            if self.spike_limit_mib >= self.limit_mib:
                raise ValueError("'spike_limit_mib' must be smaller than 'limit_mib'")
            return
        if not (0 < self.limit_percentage <= 100 and 0 <= self.spike_limit_percentage <= 100):
            raise ValueError(
                "'limit_percentage' and 'spike_limit_percentage' must be greater than zero "
                "and less than or equal to hundred"
            )
        if self.spike_limit_percentage >= self.limit_percentage:
            raise ValueError("'spike_limit_percentage' must be smaller than 'limit_percentage'")

    def limits_bytes(self, total_memory: int) -> tuple[int, int]:
        """(hard limit, soft limit) in bytes."""
        mib = 1024 * 1024
        if self.limit_mib > 0:
            hard = self.limit_mib * mib
            spike = (
                self.spike_limit_mib * mib if self.spike_limit_mib else hard * DEFAULT_SPIKE_SHARE
            )
        else:
            hard = total_memory * self.limit_percentage // 100
            spike = (
                total_memory * self.spike_limit_percentage // 100
                if self.spike_limit_percentage
                else hard * DEFAULT_SPIKE_SHARE
            )
        return int(hard), int(hard - spike)
