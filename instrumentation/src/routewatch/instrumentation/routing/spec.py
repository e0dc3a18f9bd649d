"""Parse the router and cache declarations of OTEL_PYTHON_ROUTEWATCH_ROUTERS / _CACHES.

An entry is `module.path:Qualified.name` with an optional `(operation=arg.attr.key)`; entries
are separated by `;` or `,` outside parentheses, in the spirit of the Java agent's
`otel.instrumentation.methods.include`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_IDENTIFIER: Final = r"[A-Za-z_]\w*"
_DOTTED: Final = rf"{_IDENTIFIER}(?:\.{_IDENTIFIER})*"
_ENTRY: Final = re.compile(
    rf"^(?P<module>{_DOTTED})\s*:\s*(?P<qualname>{_DOTTED})\s*(?:\((?P<options>[^()]*)\))?$"
)
# The first step names an argument; later steps may be dict keys such as `op-type`.
_OPTION: Final = re.compile(rf"^operation\s*=\s*(?P<path>{_IDENTIFIER}(?:\.[\w-]+)*)$")


class SpecError(ValueError):
    """A declaration that cannot be understood; the message names the entry."""


@dataclass(frozen=True)
class Target:
    """One declared router or cache."""

    entry: str  # the text as written, for log messages
    module: str
    qualname: str
    operation_path: tuple[str, ...] | None = None


def split_entries(raw: str) -> list[str]:
    """Split at `;` and `,` outside parentheses; an unclosed `(` keeps the rest as one entry."""
    entries: list[str] = []
    depth = 0
    current: list[str] = []
    for char in raw:
        if char in ";," and depth == 0:
            entries.append("".join(current))
            current = []
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        current.append(char)
    entries.append("".join(current))
    return [entry.strip() for entry in entries if entry.strip()]


def parse_entry(entry: str) -> Target:
    match = _ENTRY.match(entry)
    if match is None:
        raise SpecError(
            f"{entry!r}: expected 'module.path:Name.attr' optionally followed by "
            "'(operation=argument.path)'"
        )
    options = match["options"]
    path: tuple[str, ...] | None = None
    if options is not None:
        option = _OPTION.match(options.strip())
        if option is None:
            raise SpecError(
                f"{entry!r}: inside the parentheses expected 'operation=argument[.attribute...]',"
                f" got {options.strip()!r}"
            )
        path = tuple(option["path"].split("."))
    return Target(entry, match["module"], match["qualname"], path)


def parse_targets(raw: str) -> tuple[list[Target], list[SpecError]]:
    """Every entry that parses, and one error per entry that does not."""
    targets: list[Target] = []
    errors: list[SpecError] = []
    for entry in split_entries(raw):
        try:
            targets.append(parse_entry(entry))
        except SpecError as err:
            errors.append(err)
    return targets, errors
