"""The fenced blocks of a Markdown file and how each is tagged.

Every block must follow an HTML comment `<!-- snippet: KIND -->` that says how the tests
exercise it: `commands` (each line is run), `instrument` (run as one shell script), `config`
(a whole routewatch config: validated), `fragment` (part of a config: merged onto the root
otel-config.yaml, then validated), `otelcol` (an OpenTelemetry Collector config: checked
against the loadbalancing exporter's documented options), `pricing` (a price file: loaded),
`text` (a picture, nothing to run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

KINDS = ("commands", "instrument", "config", "fragment", "otelcol", "pricing", "text")
_BLOCK = re.compile(
    r"(?:<!-- snippet: (?P<kind>[\w-]+) -->\n)?^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```\s*$",
    re.S | re.M,
)


@dataclass(frozen=True)
class Snippet:
    kind: str  # "" when untagged
    lang: str
    body: str
    line: int

    @property
    def id(self) -> str:
        return f"{self.kind or 'untagged'}@{self.line}"


def snippets(path: Path) -> list[Snippet]:
    text = path.read_text()
    return [
        Snippet(
            m["kind"] or "",
            m["lang"],
            m["body"],
            text.count("\n", 0, m.start("body")),
        )
        for m in _BLOCK.finditer(text)
    ]


def commands(path: Path) -> list[str]:
    """Every line of every `commands` block."""
    return [
        line.strip()
        for s in snippets(path)
        if s.kind == "commands"
        for line in s.body.splitlines()
        if line.strip()
    ]
