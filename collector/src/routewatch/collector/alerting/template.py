"""A tiny, safe template renderer for alert annotations (no code execution, no jinja2).

Inside `{{ ... }}` it knows a fixed set of expressions, checked when the rule is loaded:

    labels['name']  labels["name"]  labels.name  $labels.name   a label of the alert ("" if unset)
    value  $value                                                the observed value
    threshold  severity  alertname  samples                      the alert's other numbers/names

followed by optional filters: `| percent` (x100, one decimal), `| round(N)`, `| humanize`
(three significant digits). Anything else is a load-time error naming the expression. jinja2
is not a dependency on purpose: annotations need substitution, not a language, and a sandbox
would still be code from the config file running on every notification.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

_BLOCK = re.compile(r"\{\{(.*?)\}\}", re.S)
_LABEL = re.compile(
    r"""^\$?labels(?:\[\s*(?:'([^']*)'|"([^"]*)")\s*\]|\.([A-Za-z_][A-Za-z0-9_]*))$"""
)
_ROUND = re.compile(r"^round\(\s*(\d+)\s*\)$")
_FIELDS = ("value", "threshold", "severity", "alertname", "samples")


@dataclass(frozen=True)
class TemplateData:
    labels: Mapping[str, str] = field(default_factory=dict)
    value: float | None = None
    threshold: str = ""
    severity: str = ""
    alertname: str = ""
    samples: float | None = None


Getter = Callable[[TemplateData], object]
Filter = Callable[[object], object]


def _number(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _fmt(x: object) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return str(x)
        return f"{x:.4g}" if abs(x) < 1e4 else f"{x:.0f}"
    return str(x)


def _percent(x: object) -> object:
    n = _number(x)
    return f"{n * 100:.1f}" if n is not None else x


def _humanize(x: object) -> object:
    n = _number(x)
    return f"{n:.3g}" if n is not None else x


def _round(digits: int) -> Filter:
    def apply(x: object) -> object:
        n = _number(x)
        return f"{n:.{digits}f}" if n is not None else x

    return apply


def _getter(expr: str) -> Getter:
    match = _LABEL.match(expr)
    if match:
        name = next(g for g in match.groups() if g is not None)
        return lambda d: d.labels.get(name, "")
    bare = expr.lstrip("$")
    if bare in _FIELDS:
        return lambda d: getattr(d, bare)
    raise ValueError(f"unknown template expression {expr!r}")


def _filter(text: str) -> Filter:
    if text == "percent":
        return _percent
    if text == "humanize":
        return _humanize
    match = _ROUND.match(text)
    if match:
        return _round(int(match.group(1)))
    raise ValueError(f"unknown template filter {text!r} (percent, humanize, round(N))")


@dataclass(frozen=True)
class Template:
    source: str
    _parts: tuple[str | tuple[Getter, tuple[Filter, ...]], ...] = field(repr=False, default=())

    @classmethod
    def compile(cls, source: str) -> Template:
        """Compile `source`; ValueError naming the bad expression."""
        parts: list[str | tuple[Getter, tuple[Filter, ...]]] = []
        pos = 0
        for match in _BLOCK.finditer(source):
            if match.start() > pos:
                parts.append(source[pos : match.start()])
            head, *filters = (p.strip() for p in match.group(1).split("|"))
            parts.append((_getter(head), tuple(_filter(f) for f in filters)))
            pos = match.end()
        rest = source[pos:]
        if "{{" in rest:
            raise ValueError(f"unclosed '{{{{' in template {source!r}")
        if rest:
            parts.append(rest)
        return cls(source, tuple(parts))

    def render(self, data: TemplateData) -> str:
        out = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            getter, filters = part
            value = getter(data)
            for f in filters:
                value = f(value)
            out.append(_fmt(value))
        return "".join(out)
