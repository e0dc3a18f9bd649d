"""Alertmanager label matchers: `name="value"`, `name!="v"`, `name=~"re"`, `name!~"re"`.

Used by silences and inhibit rules. Regexes are anchored at both ends, as in Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_MATCHER_RE = re.compile(
    r'^\s*([a-zA-Z_][a-zA-Z0-9_.:-]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]*))\s*$'
)


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    is_equal: bool = True
    is_regex: bool = False

    def __post_init__(self) -> None:
        if self.is_regex:
            try:
                re.compile(self.value)
            except re.error as err:
                raise ValueError(f"invalid regex {self.value!r} in matcher: {err}") from err

    @classmethod
    def parse(cls, text: str) -> Matcher:
        match = _MATCHER_RE.match(text)
        if not match:
            raise ValueError(f'invalid matcher {text!r}: expected name="value" (=, !=, =~, !~)')
        name, op = match.group(1), match.group(2)
        raw = match.group(3)
        value = bytes(raw, "utf-8").decode("unicode_escape") if raw is not None else match.group(4)
        return cls(name, value, is_equal=not op.startswith("!"), is_regex="~" in op)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Matcher:
        """The Alertmanager API form `{name, value, isRegex, isEqual}`."""
        try:
            return cls(
                str(raw["name"]),
                str(raw["value"]),
                is_equal=bool(raw.get("isEqual", True)),
                is_regex=bool(raw.get("isRegex", False)),
            )
        except KeyError as err:
            raise ValueError(f"matcher needs {err.args[0]!r}") from err

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.is_regex:
            hit = re.fullmatch(self.value, actual) is not None
        else:
            hit = actual == self.value
        return hit == self.is_equal

    def to_api(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.is_regex,
            "isEqual": self.is_equal,
        }

    def __str__(self) -> str:
        op = (
            ("=" if self.is_equal else "!=")
            if not self.is_regex
            else "=~"
            if self.is_equal
            else "!~"
        )
        return f'{self.name}{op}"{self.value}"'


def parse_matchers(items: Iterable[object]) -> tuple[Matcher, ...]:
    """Matchers written as strings or as API mappings."""
    out = []
    for item in items:
        if isinstance(item, Matcher):
            out.append(item)
        elif isinstance(item, str):
            out.append(Matcher.parse(item))
        elif isinstance(item, Mapping):
            out.append(Matcher.from_api(item))
        else:
            raise ValueError(f"invalid matcher {item!r}")
    return tuple(out)


def all_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
