"""Which rule windows an observation goes to: per metric, the rules that read it, their
`where` filters and, for ratios, which part (numerator, denominator or both) it counts for."""

from __future__ import annotations

from collections.abc import Mapping

from routewatch.collector.alerting.series import Observation
from routewatch.collector.alerting.windows import RuleWindows, SeriesKey

Where = tuple[tuple[str, frozenset[str]], ...]


def compile_where(where: Mapping[str, str | list[str]]) -> Where:
    return tuple(
        (k, frozenset([v] if isinstance(v, str) else [str(x) for x in v])) for k, v in where.items()
    )


def _matches(where: Where, labels: Mapping[str, str]) -> bool:
    # A loop, not all(generator): this runs for every point, and the generator costs more.
    for key, allowed in where:  # noqa: SIM110
        if labels.get(key) not in allowed:
            return False
    return True


class Target:
    """Routes observations of one metric into one rule's windows."""

    def __init__(self, rw: RuleWindows, metric: str) -> None:
        self.rw = rw
        c = rw.rule.config
        self.kind = c.kind
        self.where = compile_where(c.where)
        self.num: Where | None = None
        self.den: Where | None = None
        if c.kind == "ratio":
            assert c.numerator is not None and c.denominator is not None
            if c.numerator.metric == metric:
                self.num = compile_where(c.numerator.where)
            if c.denominator.metric == metric:
                self.den = compile_where(c.denominator.where)

    def accept(self, obs: Observation, now: float) -> SeriesKey | None:
        """The series the observation went to, or None when the rule does not take it."""
        rw, kind = self.rw, self.kind
        if kind == "ratio":
            if obs.kind == "gauge":
                return None
            in_num = self.num is not None and _matches(self.num, obs.labels)
            in_den = self.den is not None and _matches(self.den, obs.labels)
            if not (in_num or in_den):
                return None
            # Exemplars of the denominator's remainder only: the failures of a success rate.
            return rw.add(
                obs,
                obs.amount if in_num else 0.0,
                obs.amount if in_den else 0.0,
                now,
                () if in_num else obs.exemplars,
            )
        if not _matches(self.where, obs.labels):
            return None
        if kind == "absent":
            key = rw.key_of(obs.labels)
            window = rw.window_for(key, now)
            window.last_seen = max(window.last_seen, min(obs.time, now))
            return key
        if kind == "quantile":
            if obs.hist is None:
                return None
            return rw.add(obs, obs.amount, obs.hist, now)
        if kind == "imbalance":
            if obs.kind == "gauge":
                return None
            return rw.add(obs, obs.amount, obs.labels.get(rw.rule.config.label, ""), now)
        return rw.add(obs, obs.amount, None, now)
