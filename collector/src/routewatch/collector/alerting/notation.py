"""promtool's series notation: `a+bxn`, `a-bxn`, `axn`, `_`, `_xn`, `stale`, and selectors
`metric{label="value", ...}` (metric and label names may contain dots; quote a label name with
other characters: `{"my label"="x"}`)."""

from __future__ import annotations

import re
from typing import Final, Literal

Stale = Literal["stale"]
STALE: Final = "stale"
Sample = float | None | Stale  # None: missing

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:Inf|inf|NaN|nan)"
_EXPAND = re.compile(
    rf"^(?P<a>{_NUM})(?:(?P<op>[+-])(?P<b>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))?x(?P<n>\d+)$"
)
_MISSING_N = re.compile(r"^_x(\d+)$")
_SELECTOR = re.compile(r"^\s*(?P<name>[^{}\s]+)?\s*(?:\{(?P<labels>.*)\})?\s*$", re.S)
_LABEL = re.compile(
    r'\s*(?:"(?P<qname>(?:[^"\\]|\\.)*)"|(?P<name>[A-Za-z_][A-Za-z0-9_.:-]*))'
    r'\s*=\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*(?:,|$)'
)


def _number(text: str) -> float:
    lowered = text.lower().lstrip("+")
    if lowered in ("inf", "-inf", "nan"):
        return float(lowered)
    return float(text)


def expand_values(text: str) -> list[Sample]:
    """`'1+1x2 _ stale 4'` -> `[1, 2, 3, None, 'stale', 4]`; ValueError naming the token."""
    out: list[Sample] = []
    for token in str(text).split():
        if token == "_":
            out.append(None)
            continue
        if token == STALE:
            out.append(STALE)
            continue
        missing = _MISSING_N.match(token)
        if missing:
            out.extend([None] * int(missing.group(1)))
            continue
        match = _EXPAND.match(token)
        if match:
            a = _number(match.group("a"))
            b = float(match.group("b") or 0.0) * (-1 if match.group("op") == "-" else 1)
            out.extend(a + i * b for i in range(int(match.group("n")) + 1))
            continue
        try:
            out.append(_number(token))
        except ValueError:
            raise ValueError(f"invalid value {token!r} in series values {text!r}") from None
    return out


def parse_selector(text: str) -> tuple[str, dict[str, str]]:
    """`'m{a="b"}'` -> `('m', {'a': 'b'})`; ValueError when malformed."""
    match = _SELECTOR.match(text)
    if not match or not match.group("name"):
        raise ValueError(f'invalid series {text!r}: expected metric{{label="value", ...}}')
    labels: dict[str, str] = {}
    body = (match.group("labels") or "").strip()
    pos = 0
    while pos < len(body):
        lm = _LABEL.match(body, pos)
        if not lm or lm.end() == pos:
            raise ValueError(f"invalid label matcher in series {text!r} at {body[pos:]!r}")
        name = lm.group("qname") if lm.group("qname") is not None else lm.group("name")
        labels[name] = lm.group("value").replace('\\"', '"').replace("\\\\", "\\")
        pos = lm.end()
    return match.group("name"), labels
