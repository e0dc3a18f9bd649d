"""Threshold expressions: `"> 15"`, `"<= 0.5"`, `">= 10%"` is not accepted (use fractions)."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_RE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class Comparison:
    op: str
    bound: float
    fn: Callable[[float, float], bool] = field(repr=False, compare=False, default=operator.gt)

    @classmethod
    def parse(cls, text: object) -> Comparison:
        """Parse `"> 15"`; ValueError naming the accepted form otherwise."""
        match = _RE.match(str(text)) if isinstance(text, str) else None
        if not match:
            raise ValueError(
                f"invalid comparison {text!r}: expected an operator (>, >=, <, <=, ==, !=) "
                'and a number, e.g. "> 15"'
            )
        op = match.group(1)
        return cls(op, float(match.group(2)), _OPS[op])

    def holds(self, value: float) -> bool:
        return not math.isnan(value) and self.fn(value, self.bound)

    def __str__(self) -> str:
        return f"{self.op} {self.bound:g}"
