"""Alert rules: their config shape (the YAML keys are a contract) and the compiled form.

A rule file is a YAML mapping with `rules:` (a list of rules) and optionally `inhibit_rules:`.
`for` is a Python keyword, so it is decoded into the `for_` field; errors still say `for`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from routewatch.collector.alerting.comparison import Comparison
from routewatch.collector.alerting.inhibit import InhibitRuleConfig
from routewatch.collector.alerting.template import Template
from routewatch.collector.confmap import Duration, decode
from routewatch.collector.errors import ConfigError

SEVERITY_ORDER = ("critical", "error", "warning", "info")
Kind = Literal["quantile", "ratio", "value", "absent", "imbalance"]
Aggregate = Literal["last", "avg", "min", "max", "sum"]
# The shipped rule pack and anything else under this directory resolve as `rules/<file>`.
DEFAULT_WINDOW = Duration(300.0)
ZERO = Duration(0.0)
PACKAGE_DIR = Path(__file__).parent
DEFAULT_RULE_FILE = PACKAGE_DIR / "rules" / "default.yaml"


@dataclass
class SelectorConfig:
    """A metric and the point labels it must carry (a value, or a list of allowed values)."""

    metric: str = ""
    where: dict[str, str | list[str]] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.metric:
            raise ValueError("metric is required")


@dataclass
class ThresholdsConfig:
    critical: str | None = None
    error: str | None = None
    warning: str | None = None
    info: str | None = None

    def validate(self) -> None:
        for severity in SEVERITY_ORDER:
            text = getattr(self, severity)
            if text is not None:
                try:
                    Comparison.parse(text)
                except ValueError as err:
                    raise ValueError(f"{severity}: {err}") from None
        if all(getattr(self, s) is None for s in SEVERITY_ORDER):
            raise ValueError("at least one of critical, error, warning, info is required")


@dataclass
class RuleConfig:
    alert: str = ""
    kind: Kind = "value"
    metric: str = ""
    where: dict[str, str | list[str]] = field(default_factory=dict)
    quantile: float | None = None
    numerator: SelectorConfig | None = None
    denominator: SelectorConfig | None = None
    # Series labels; unset = every label except instance-identifying resource attributes.
    by: list[str] | None = None
    window: Duration = DEFAULT_WINDOW
    # value rules: compare the window's rate with the rate over this longer window before it,
    # as a percent change.
    baseline_window: Duration | None = None
    for_: Duration = ZERO
    keep_firing_for: Duration = ZERO
    # Fewer samples in the window (observations, denominator total, points) -> "insufficient
    # data": the alert keeps its state instead of resolving.
    min_samples: float = 0.0
    thresholds: ThresholdsConfig | None = None
    clear: str | None = None
    severity: str = "warning"  # absent rules (they have no thresholds)
    rate: bool = False
    aggregate: Aggregate | None = None
    complement: bool = False  # ratio: compare 1 - numerator/denominator
    label: str = ""  # imbalance: the label whose values share the traffic
    between: list[str] = field(default_factory=list)  # imbalance: the two values compared
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    inhibits: list[str] = field(default_factory=list)

    def validate(self) -> None:
        if not self.alert:
            raise ValueError("alert is required")
        if self.window <= 0:
            raise ValueError("window must be positive")
        needs_metric = self.kind != "ratio"
        if needs_metric and not self.metric:
            raise ValueError(f"metric is required for kind {self.kind}")
        if self.kind == "quantile" and not (self.quantile is not None and 0 <= self.quantile <= 1):
            raise ValueError("quantile must be a number in [0, 1] for kind quantile")
        if self.kind == "ratio" and (self.numerator is None or self.denominator is None):
            raise ValueError("numerator and denominator are required for kind ratio")
        if self.kind == "imbalance" and (not self.label or len(self.between) != 2):
            raise ValueError("imbalance needs label and between: [a, b]")
        if self.kind == "absent":
            if self.thresholds is not None:
                raise ValueError("thresholds: not allowed for kind absent (use severity)")
            if self.severity not in SEVERITY_ORDER:
                raise ValueError(f"severity must be one of {', '.join(SEVERITY_ORDER)}")
        elif self.thresholds is None:
            raise ValueError(f"thresholds is required for kind {self.kind}")
        if self.clear is not None:
            try:
                Comparison.parse(self.clear)
            except ValueError as err:
                raise ValueError(f"clear: {err}") from None
        for key, text in self.annotations.items():
            try:
                Template.compile(text)
            except ValueError as err:
                raise ValueError(f"annotations::{key}: {err}") from None


@dataclass(frozen=True)
class Rule:
    """A compiled rule: thresholds parsed most severe first, templates compiled."""

    config: RuleConfig
    thresholds: tuple[tuple[str, Comparison], ...]
    clear: Comparison | None
    annotations: Mapping[str, Template]
    _checks: tuple[tuple[Callable[[float, float], bool], float], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        checks = tuple((c.fn, c.bound) for _, c in self.thresholds)
        object.__setattr__(self, "_checks", checks)  # frozen: set once here

    @property
    def name(self) -> str:
        return self.config.alert

    @property
    def span(self) -> float:
        """How far back the rule looks."""
        return self.config.window + (self.config.baseline_window or 0.0)

    def metrics(self) -> set[str]:
        c = self.config
        if c.kind == "ratio":
            assert c.numerator is not None and c.denominator is not None
            return {c.numerator.metric, c.denominator.metric}
        return {c.metric}

    def crosses(self, value: float) -> bool:
        """Whether `value` crosses any threshold (`severity_for` is not None), answered from
        flat (operator, bound) pairs: this runs for every changed series on every tick."""
        if value != value:  # NaN crosses none (`!=` would say it does)
            return False
        for fn, bound in self._checks:  # noqa: SIM110 (a loop is cheaper than any())
            if fn(value, bound):
                return True
        return False

    def severity_for(self, value: float) -> tuple[str, Comparison] | None:
        """The most severe threshold `value` crosses (NaN crosses none)."""
        if value != value:
            return None
        for severity, comparison in self.thresholds:
            if comparison.fn(value, comparison.bound):
                return severity, comparison
        return None

    @classmethod
    def compile(cls, config: RuleConfig) -> Rule:
        thresholds: list[tuple[str, Comparison]] = []
        if config.thresholds is not None:
            for severity in SEVERITY_ORDER:
                text = getattr(config.thresholds, severity)
                if text is not None:
                    thresholds.append((severity, Comparison.parse(text)))
        return cls(
            config=config,
            thresholds=tuple(thresholds),
            clear=Comparison.parse(config.clear) if config.clear is not None else None,
            annotations={k: Template.compile(v) for k, v in config.annotations.items()},
        )


def decode_rule(raw: Any, path: str) -> Rule:
    """Decode one rule mapping; errors name the key path (`...::rules[2]::thresholds: ...`)."""
    if isinstance(raw, Mapping) and "for" in raw:
        raw = {("for_" if k == "for" else k): v for k, v in raw.items()}
    try:
        return Rule.compile(decode(RuleConfig, raw, path))
    except ConfigError as err:
        raise ConfigError(str(err).replace("::for_:", "::for:").replace("for_", "for")) from None


@dataclass
class RuleFileConfig:
    rules: list[Any] = field(default_factory=list)
    inhibit_rules: list[InhibitRuleConfig] = field(default_factory=list)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = ()
    inhibit_rules: tuple[InhibitRuleConfig, ...] = ()


def resolve_rule_file(name: str, base_dirs: Sequence[Path]) -> Path:
    """Absolute paths as they are; relative ones against `base_dirs` in order, then the
    package directory (so `rules/default.yaml` names the shipped pack when no such file exists
    in the working directory)."""
    path = Path(name)
    if path.is_absolute():
        return path
    for base in (*base_dirs, PACKAGE_DIR):
        candidate = base / path
        if candidate.is_file():
            return candidate
    return Path.cwd() / path


def load_rule_file(path: Path, key_path: str) -> RuleSet:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{key_path}: cannot read rule file {str(path)!r}: {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{key_path}: rule file {str(path)!r} is not valid YAML: {err}") from None
    file_cfg = decode(RuleFileConfig, raw, key_path)
    rules = tuple(decode_rule(r, f"{key_path}::rules[{i}]") for i, r in enumerate(file_cfg.rules))
    return RuleSet(rules, tuple(file_cfg.inhibit_rules))


def build_rule_set(
    inline: Sequence[Any],
    files: Sequence[str],
    inhibit_rules: Sequence[InhibitRuleConfig],
    key_path: str,
    base_dirs: Sequence[Path] = (),
) -> RuleSet:
    """Rules from files and inline config; alert names must be unique across them."""
    located: list[tuple[Rule, str]] = []
    inhibits = list(inhibit_rules)
    for i, name in enumerate(files):
        file_path = f"{key_path}::rule_files[{i}]({name})"
        loaded = load_rule_file(resolve_rule_file(name, base_dirs or (Path.cwd(),)), file_path)
        located.extend((r, f"{file_path}::rules[{j}]") for j, r in enumerate(loaded.rules))
        inhibits.extend(loaded.inhibit_rules)
    for i, raw in enumerate(inline):
        path = f"{key_path}::rules[{i}]"
        located.append((decode_rule(raw, path), path))
    seen: set[str] = set()
    for rule, path in located:
        if rule.name in seen:
            raise ConfigError(f"{path}: alert {rule.name!r} is defined twice")
        seen.add(rule.name)
    for rule, path in located:
        unknown = [n for n in rule.config.inhibits if n not in seen]
        if unknown:
            raise ConfigError(f"{path}::inhibits: unknown alert(s) {', '.join(unknown)}")
    return RuleSet(tuple(r for r, _ in located), tuple(inhibits))
