"""Latency distributions shared by the local servers: `fixed`, `uniform`, `lognormal`, seeded.

A distribution is written as a short spec so that it fits a flag, an environment variable or a
control-API field: `fixed:0.05`, `uniform:0.01:0.2`, `lognormal:0.1:0.5` (median seconds and
sigma of the underlying normal), or a bare number (fixed). All values are seconds.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field


@dataclass
class Latency:
    """A seeded latency distribution; `sample()` returns seconds (never negative)."""

    kind: str = "fixed"
    a: float = 0.0
    b: float = 0.0
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "uniform", "lognormal"):
            raise ValueError(
                f"latency: unknown distribution {self.kind!r} (fixed|uniform|lognormal)"
            )
        if self.a < 0 or self.b < 0:
            raise ValueError(f"latency: parameters must not be negative, got {self.spec()!r}")
        if self.kind == "uniform" and self.b < self.a:
            raise ValueError(f"latency: uniform upper bound below lower bound in {self.spec()!r}")
        self._rng = random.Random(self.seed)

    @classmethod
    def parse(cls, spec: str | float | int, seed: int | None = None) -> Latency:
        """Read `fixed:S`, `uniform:LO:HI`, `lognormal:MEDIAN:SIGMA` or a bare number of seconds."""
        if isinstance(spec, int | float):
            return cls("fixed", float(spec), seed=seed)
        parts = spec.strip().split(":")
        try:
            if len(parts) == 1:
                return cls("fixed", float(parts[0]), seed=seed)
            kind, values = parts[0], [float(p) for p in parts[1:]]
        except ValueError:
            raise ValueError(f"latency: {spec!r} is not a number or KIND:PARAMS") from None
        arity = {"fixed": 1, "uniform": 2, "lognormal": 2}.get(kind)
        if arity is None:
            raise ValueError(f"latency: unknown distribution {kind!r} in {spec!r}")
        if len(values) != arity:
            raise ValueError(f"latency: {kind} takes {arity} parameter(s), got {spec!r}")
        return cls(kind, values[0], values[1] if arity == 2 else 0.0, seed=seed)

    def spec(self) -> str:
        if self.kind == "fixed":
            return f"fixed:{self.a:g}"
        return f"{self.kind}:{self.a:g}:{self.b:g}"

    def sample(self) -> float:
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return self._rng.uniform(self.a, self.b)
        if self.a == 0:
            return 0.0
        return self._rng.lognormvariate(math.log(self.a), self.b)
