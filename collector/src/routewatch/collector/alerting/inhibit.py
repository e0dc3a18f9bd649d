"""Inhibition as Alertmanager's: a firing source alert mutes target alerts with equal labels.

Besides `inhibit_rules`, a rule may name dependants (`inhibits: [RouteSuccessRateLow]`): while
it fires, those alerts with the same `by` labels are muted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from routewatch.collector.alerting.matchers import Matcher, all_match, parse_matchers


@dataclass
class InhibitRuleConfig:
    source_matchers: list[str] = field(default_factory=list)
    target_matchers: list[str] = field(default_factory=list)
    equal: list[str] = field(default_factory=list)

    def validate(self) -> None:
        for key in ("source_matchers", "target_matchers"):
            try:
                parse_matchers(getattr(self, key))
            except ValueError as err:
                raise ValueError(f"{key}: {err}") from None
        if not self.target_matchers:
            raise ValueError("target_matchers: at least one matcher is required")


@dataclass(frozen=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    @classmethod
    def from_config(cls, cfg: InhibitRuleConfig) -> InhibitRule:
        return cls(
            parse_matchers(cfg.source_matchers),
            parse_matchers(cfg.target_matchers),
            tuple(cfg.equal),
        )


class Inhibitor:
    """Answers `mutes(labels, now)` against the firing alerts last given to `set_firing`."""

    def __init__(self, rules: Iterable[InhibitRule]) -> None:
        self.rules = tuple(rules)
        self._sources: list[list[Mapping[str, str]]] = [[] for _ in self.rules]

    def set_firing(self, firing: Iterable[Mapping[str, str]]) -> None:
        self._sources = [[] for _ in self.rules]
        for labels in firing:
            for i, rule in enumerate(self.rules):
                if all_match(rule.source, labels):
                    self._sources[i].append(labels)

    def mutes(self, labels: Mapping[str, str], now: float) -> bool:
        del now  # sources are the alerts firing at this tick, set by set_firing
        for rule, sources in zip(self.rules, self._sources, strict=True):
            if not sources or not all_match(rule.target, labels):
                continue
            for source in sources:
                if source is labels or dict(source) == dict(labels):
                    continue  # an alert never inhibits itself
                if all(source.get(k, "") == labels.get(k, "") for k in rule.equal):
                    return True
        return False
