"""Config of the `routewatch_alerts` connector (keys as in the issue's YAML shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from routewatch.collector.alerting.inhibit import InhibitRuleConfig
from routewatch.collector.alerting.silence import SilenceConfig
from routewatch.collector.component import ComponentID
from routewatch.collector.confmap import Duration

DEFAULT_EVALUATION_INTERVAL = Duration(15.0)
# Alertmanager's route defaults.
DEFAULT_GROUP_BY = ("alertname",)
DEFAULT_GROUP_WAIT = Duration(30.0)
DEFAULT_GROUP_INTERVAL = Duration(300.0)
DEFAULT_REPEAT_INTERVAL = Duration(4 * 3600.0)
DEFAULT_MAX_SERIES = 20_000


@dataclass
class Config:
    evaluation_interval: Duration = DEFAULT_EVALUATION_INTERVAL
    # Rule files: absolute, or relative to the working directory; a relative path that does
    # not exist there is looked up in the collector package, so `rules/default.yaml` is the
    # shipped rule pack.
    rule_files: list[str] = field(default_factory=list)
    # Inline rules, same shape as in a rule file (decoded when the component is created, so
    # errors name `connectors::<id>::rules[i]::<key>`).
    rules: list[Any] = field(default_factory=list)
    group_by: list[str] = field(default_factory=lambda: list(DEFAULT_GROUP_BY))
    group_wait: Duration = DEFAULT_GROUP_WAIT
    group_interval: Duration = DEFAULT_GROUP_INTERVAL
    repeat_interval: Duration = DEFAULT_REPEAT_INTERVAL
    send_resolved: bool = True
    inhibit_rules: list[InhibitRuleConfig] = field(default_factory=list)
    silences: list[SilenceConfig] = field(default_factory=list)
    # e.g. `http://localhost:16686/trace/{trace_id}`: adds annotations `trace_url` (the
    # slowest / most recent exemplar) and `trace_url_2` .. `trace_url_5` (the others).
    trace_url_template: str = ""
    # Prefix for relative `runbook_url` annotations (the rule pack's are repo paths).
    runbook_base_url: str = ""
    # `file_storage[/name]`: alert state, notification log and silences survive restarts.
    # Empty: kept in memory only.
    storage: str = ""
    # Silence/alert/notification HTTP API (`host:port`). Empty: off.
    endpoint: str = ""
    # Series per rule; beyond it the least recently updated series is evicted (counted).
    max_series: int = DEFAULT_MAX_SERIES

    def validate(self) -> None:
        if self.evaluation_interval <= 0:
            raise ValueError("evaluation_interval must be positive")
        for key in ("group_wait", "group_interval", "repeat_interval"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must not be negative")
        if self.group_interval <= 0:
            raise ValueError("group_interval must be positive")
        if self.max_series <= 0:
            raise ValueError("max_series must be positive")
        if self.storage:
            try:
                ComponentID.parse(self.storage)
            except ValueError as err:
                raise ValueError(f"storage: {err}") from None
        if self.endpoint:
            _host, sep, port = self.endpoint.rpartition(":")
            if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
                raise ValueError(f"endpoint: expected host:port, got {self.endpoint!r}")
        if "{trace_id}" not in self.trace_url_template and self.trace_url_template:
            raise ValueError("trace_url_template must contain {trace_id}")
