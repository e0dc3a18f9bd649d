"""An EMF validator written from the specification (CloudWatch Embedded Metric Format and the
PutLogEvents limits), independent of routewatch's encoder: it shares no code with it."""

from __future__ import annotations

import json
import math
from typing import Any

UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
}  # fmt: skip
MAX_EVENT = 1_048_576 - 26


class InvalidEMF(AssertionError):
    pass


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise InvalidEMF(msg)


def _number(v: Any, where: str) -> None:
    _check(isinstance(v, int | float) and not isinstance(v, bool), f"{where}: not a number {v!r}")
    _check(math.isfinite(v), f"{where}: not finite")
    a = abs(v)
    _check(a == 0 or 8.515920e-109 <= a <= 1.174271e108, f"{where}: magnitude {v!r} out of range")


def _value(v: Any, where: str) -> None:
    if isinstance(v, list):
        _check(1 <= len(v) <= 100, f"{where}: array of {len(v)} values")
        for i, x in enumerate(v):
            _number(x, f"{where}[{i}]")
    elif isinstance(v, dict):
        for key in ("Count", "Sum", "Min", "Max"):
            _check(key in v, f"{where}: statistic set without {key}")
            _number(v[key], f"{where}.{key}")
        _check(v["Min"] <= v["Max"], f"{where}: Min > Max")
        _check(v["Count"] >= 0, f"{where}: negative Count")
        if "Values" in v or "Counts" in v:
            values, counts = v.get("Values"), v.get("Counts")
            _check(isinstance(values, list) and isinstance(counts, list), f"{where}: arrays")
            _check(len(values) == len(counts), f"{where}: Values/Counts lengths differ")
            _check(1 <= len(values) <= 100, f"{where}: {len(values)} values")
            for i, (x, c) in enumerate(zip(values, counts, strict=True)):
                _number(x, f"{where}.Values[{i}]")
                _number(c, f"{where}.Counts[{i}]")
                _check(c >= 0, f"{where}.Counts[{i}] negative")
        _check(set(v) <= {"Values", "Counts", "Count", "Sum", "Min", "Max"}, f"{where}: keys")
    else:
        _number(v, where)


def validate(message: bytes) -> dict[str, Any]:
    """Parse and validate one EMF event; returns the parsed root."""
    _check(len(message) <= MAX_EVENT, f"event of {len(message)} bytes")
    text = message.decode("utf-8")
    root = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(InvalidEMF(c)))
    _check(isinstance(root, dict), "root is not an object")
    aws = root.get("_aws")
    _check(isinstance(aws, dict), "no _aws object")
    ts = aws.get("Timestamp")
    _check(isinstance(ts, int) and not isinstance(ts, bool) and ts >= 0, "Timestamp")
    directives = aws.get("CloudWatchMetrics")
    _check(isinstance(directives, list) and directives, "CloudWatchMetrics")
    for d in directives:
        _check(isinstance(d, dict), "directive is not an object")
        ns = d.get("Namespace")
        _check(isinstance(ns, str) and 1 <= len(ns) <= 255, f"Namespace {ns!r}")
        dims = d.get("Dimensions")
        _check(isinstance(dims, list), "Dimensions is not an array")
        for dset in dims:
            _check(isinstance(dset, list) and len(dset) <= 30, f"dimension set {dset!r}")
            for key in dset:
                _check(isinstance(key, str) and 1 <= len(key) <= 255, f"dimension name {key!r}")
                _check(not key.startswith(":"), f"dimension name {key!r} starts with ':'")
                _check(key in root, f"dimension {key!r} missing at root")
                value = root[key]
                _check(isinstance(value, str), f"dimension {key!r} value not a string")
                _check(1 <= len(value) <= 1024, f"dimension {key!r} value length {len(value)}")
                _check(value.isascii() and value.strip() != "", f"dimension {key!r} {value!r}")
        metrics = d.get("Metrics")
        _check(isinstance(metrics, list) and 1 <= len(metrics) <= 100, "Metrics count")
        for m in metrics:
            name = m.get("Name")
            _check(isinstance(name, str) and 1 <= len(name) <= 255, f"metric name {name!r}")
            _check(name in root, f"metric {name!r} missing at root")
            if "Unit" in m:
                _check(m["Unit"] in UNITS, f"unit {m['Unit']!r}")
            if "StorageResolution" in m:
                _check(m["StorageResolution"] in (1, 60), "StorageResolution")
            _check(set(m) <= {"Name", "Unit", "StorageResolution"}, f"metric keys {set(m)}")
            _value(root[name], name)
    return root


def metric_names(root: dict[str, Any]) -> set[str]:
    return {m["Name"] for d in root["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
