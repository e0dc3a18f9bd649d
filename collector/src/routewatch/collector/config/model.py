"""The `service` section and the resolved collector config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from routewatch.collector.component import ComponentID, Factory, Kind, Signal
from routewatch.collector.errors import ConfigError

DEFAULT_METRICS_ADDRESS = "localhost:8888"

# Section name in the document for each kind.
SECTIONS: dict[Kind, str] = {
    Kind.RECEIVER: "receivers",
    Kind.PROCESSOR: "processors",
    Kind.EXPORTER: "exporters",
    Kind.CONNECTOR: "connectors",
    Kind.EXTENSION: "extensions",
}


@dataclass
class PipelineConfig:
    receivers: list[str] = field(default_factory=list)
    processors: list[str] = field(default_factory=list)
    exporters: list[str] = field(default_factory=list)


@dataclass
class MetricsTelemetryConfig:
    # `none` turns the internal metrics endpoint off.
    level: Literal["none", "basic", "normal", "detailed"] = "normal"
    # host:port of the Prometheus endpoint (path /metrics).
    address: str = DEFAULT_METRICS_ADDRESS
    # The Go collector's newer form: `- pull: {exporter: {prometheus: {host, port}}}`.
    readers: list[Any] = field(default_factory=list)

    def endpoint(self) -> str:
        """host:port to serve on, from `readers` when given, else `address`."""
        for reader in self.readers:
            prom = (
                reader.get("pull", {}).get("exporter", {}).get("prometheus")
                if isinstance(reader, dict)
                else None
            )
            if isinstance(prom, dict):
                return f"{prom.get('host', 'localhost')}:{prom.get('port', 8888)}"
        return self.address

    def validate(self) -> None:
        for i, reader in enumerate(self.readers):
            try:
                prom = reader["pull"]["exporter"]["prometheus"]
            except (KeyError, TypeError):
                prom = None
            if not isinstance(prom, dict):
                raise ValueError(
                    f"readers[{i}]: only `pull: {{exporter: {{prometheus: ...}}}}` is supported"
                )


@dataclass
class LogsTelemetryConfig:
    level: Literal["debug", "info", "warn", "error"] = "info"
    encoding: Literal["console", "json"] = "console"


@dataclass
class TelemetryConfig:
    metrics: MetricsTelemetryConfig = field(default_factory=MetricsTelemetryConfig)
    logs: LogsTelemetryConfig = field(default_factory=LogsTelemetryConfig)
    resource: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServiceConfig:
    extensions: list[str] = field(default_factory=list)
    pipelines: dict[str, PipelineConfig] = field(default_factory=dict)
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)


@dataclass
class TopLevelConfig:
    receivers: dict[str, Any] = field(default_factory=dict)
    processors: dict[str, Any] = field(default_factory=dict)
    exporters: dict[str, Any] = field(default_factory=dict)
    connectors: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)
    service: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, order=True)
class PipelineID:
    """`traces[/name]`, `metrics[/name]`, `logs[/name]`."""

    signal: Signal
    name: str = ""

    @classmethod
    def parse(cls, text: str, path: str) -> PipelineID:
        signal, sep, name = text.partition("/")
        if signal not in {s.value for s in Signal}:
            raise ConfigError(f'{path}: unknown signal "{signal}"')
        if sep and not name:
            raise ConfigError(f"{path}: the part after / should not be empty")
        return cls(Signal(signal), name)

    def __str__(self) -> str:
        return f"{self.signal.value}/{self.name}" if self.name else self.signal.value


@dataclass
class ComponentConfig:
    """One configured component: its id, factory and decoded config."""

    id: ComponentID
    kind: Kind
    factory: Factory
    config: Any


@dataclass
class Pipeline:
    id: PipelineID
    receivers: list[ComponentID]
    processors: list[ComponentID]
    exporters: list[ComponentID]


@dataclass
class Config:
    """A validated collector config: every reference resolved to a configured component."""

    components: dict[Kind, dict[ComponentID, ComponentConfig]]
    extensions: list[ComponentID]
    pipelines: dict[PipelineID, Pipeline]
    telemetry: TelemetryConfig

    def component(self, kind: Kind, id: ComponentID) -> ComponentConfig:
        return self.components[kind][id]
