"""UCUM units (as OpenTelemetry instruments declare them) to CloudWatch units."""

from __future__ import annotations

from functools import lru_cache

CLOUDWATCH_UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)

_BASE = {
    "s": "Seconds",
    "ms": "Milliseconds",
    "us": "Microseconds",
    "By": "Bytes",
    # CloudWatch's "Kilobytes" etc. are decimal or binary depending on the reader; both UCUM
    # prefixes map onto them rather than losing the unit.
    "kBy": "Kilobytes",
    "KBy": "Kilobytes",
    "KiBy": "Kilobytes",
    "MBy": "Megabytes",
    "MiBy": "Megabytes",
    "GBy": "Gigabytes",
    "GiBy": "Gigabytes",
    "TBy": "Terabytes",
    "TiBy": "Terabytes",
    "bit": "Bits",
    "kbit": "Kilobits",
    "Kibit": "Kilobits",
    "Mbit": "Megabits",
    "Mibit": "Megabits",
    "Gbit": "Gigabits",
    "Gibit": "Gigabits",
    "Tbit": "Terabits",
    "Tibit": "Terabits",
    "%": "Percent",
    "1": "None",
}


@lru_cache(maxsize=1024)
def cloudwatch_unit(ucum: str | None, counter: bool = False) -> str:
    """The CloudWatch unit for a UCUM unit string.

    `1` (dimensionless) is `Count` for counters and `None` otherwise; annotations such as
    `{token}` or `{request}` are counts; per-second rates map onto the `/Second` units;
    a CloudWatch unit name passes through; anything else (`USD`, `Cel`) is `None`.
    """
    if not ucum:
        return "None"
    if ucum in CLOUDWATCH_UNITS:
        return ucum
    if ucum == "1":
        return "Count" if counter else "None"
    base, sep, per = ucum.partition("/")
    if sep:
        if per != "s":
            return "None"
        inner = _annotation_or_base(base, counter=True)
        rate = f"{inner}/Second"
        return rate if rate in CLOUDWATCH_UNITS else "None"
    return _annotation_or_base(base, counter)


def _annotation_or_base(unit: str, counter: bool) -> str:
    if unit.startswith("{") and unit.endswith("}"):
        return "Count"
    if unit == "1":
        return "Count" if counter else "None"
    return _BASE.get(unit, "None")
