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


# What a target derived from a label set: the series key and, for ratios, whether the labels
# count in the numerator and in the denominator; for imbalance rules, the shared label's value.
Route = tuple[SeriesKey, object, object]
_UNSEEN = object()


class Target:
    """Routes observations of one metric into one rule's windows."""

    def __init__(self, rw: RuleWindows, metric: str) -> None:
        self.rw = rw
        self.name = rw.rule.name
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

    def route(self, labels: Mapping[str, str]) -> Route | None:
        """Where observations with these labels go; None when the rule does not take them."""
        key = self.rw.key_of(labels)
        if self.kind == "ratio":
            in_num = self.num is not None and _matches(self.num, labels)
            in_den = self.den is not None and _matches(self.den, labels)
            return (key, in_num, in_den) if in_num or in_den else None
        if not _matches(self.where, labels):
            return None
        if self.kind == "imbalance":
            return key, labels.get(self.rw.rule.config.label, ""), None
        return key, None, None

    def accept(self, obs: Observation, now: float) -> SeriesKey | None:
        """The series the observation went to, or None when the rule does not take it."""
        memo = obs.label_set.memo  # routes are worked out once per label set
        route = memo.get(self, _UNSEEN)
        if route is _UNSEEN:
            route = memo[self] = self.route(obs.labels)
        if route is None:
            return None
        key, a, b = route
        rw, kind = self.rw, self.kind
        if kind == "quantile":
            if obs.hist is None:
                return None
            return rw.add(key, obs, obs.amount, obs.hist, now)
        if kind == "ratio":
            if obs.kind == "gauge":
                return None
            # Exemplars of the denominator's remainder only: the failures of a success rate.
            return rw.add(
                key,
                obs,
                obs.amount if a else 0.0,
                obs.amount if b else 0.0,
                now,
                () if a else obs.exemplars,
            )
        if kind == "absent":
            window = rw.window_for(key, now)
            window.last_seen = max(window.last_seen, min(obs.time, now))
            return key
        if kind == "imbalance":
            if obs.kind == "gauge":
                return None
            return rw.add(key, obs, obs.amount, a, now)
        return rw.add(key, obs, obs.amount, None, now)
