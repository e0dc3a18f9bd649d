"""Validate a whole config document and resolve it into a `Config`.

The checks and their messages follow the Go collector (otelcol/config.go,
service/pipelines/config.go, service/internal/graph): every message starts with the key path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from routewatch.collector.component import ComponentID, Factory, Kind, Signal
from routewatch.collector.config.model import (
    SECTIONS,
    ComponentConfig,
    Config,
    Pipeline,
    PipelineID,
    ServiceConfig,
    TopLevelConfig,
)
from routewatch.collector.confmap import decode
from routewatch.collector.errors import ConfigError
from routewatch.collector.registry import Registry


def resolve(raw: Mapping[str, Any], registry: Registry) -> Config:
    """Decode and validate `raw` (already merged and expanded); ConfigError on the first fault."""
    top = decode(TopLevelConfig, raw, "")
    components: dict[Kind, dict[ComponentID, ComponentConfig]] = {}
    for kind, section in SECTIONS.items():
        components[kind] = _decode_section(kind, section, getattr(top, section), registry)
    service = decode(ServiceConfig, top.service, "service")

    if not any(components.values()):
        raise ConfigError("empty configuration file")
    if not components[Kind.RECEIVER]:
        raise ConfigError("no receiver configuration specified in config")
    if not components[Kind.EXPORTER]:
        raise ConfigError("no exporter configuration specified in config")

    for cid in components[Kind.CONNECTOR]:
        for kind in (Kind.EXPORTER, Kind.RECEIVER):
            if cid in components[kind]:
                raise ConfigError(
                    f'connectors::{cid}: ambiguous ID: Found both "{cid}" {kind.value} and '
                    f'"{cid}" connector. Change one of the components\' IDs to eliminate '
                    f'ambiguity (e.g. rename "{cid}" connector to "{cid}/connector")'
                )

    extensions = []
    for ref in service.extensions:
        id = _parse_ref(ref, "service::extensions")
        if id not in components[Kind.EXTENSION]:
            raise ConfigError(
                f'service::extensions: references extension "{id}" which is not configured'
            )
        extensions.append(id)

    _check_queue_storage(components[Kind.EXPORTER], extensions)
    pipelines = _resolve_pipelines(service, components)
    _check_signals(pipelines, components)
    _check_connectors(pipelines, components)
    return Config(components, extensions, pipelines, service.telemetry)


def _parse_ref(text: Any, path: str) -> ComponentID:
    try:
        return ComponentID.parse(str(text))
    except ValueError as err:
        raise ConfigError(f"{path}: {err}") from err


def _check_queue_storage(
    exporters: dict[ComponentID, ComponentConfig], extensions: list[ComponentID]
) -> None:
    """A persistent sending queue names a storage extension that runs."""
    for id, cc in exporters.items():
        queue = getattr(cc.config, "sending_queue", None)
        storage = getattr(queue, "storage", None)
        if not storage or not getattr(queue, "enabled", True):
            continue
        path = f"exporters::{id}::sending_queue::storage"
        if _parse_ref(storage, path) not in extensions:
            raise ConfigError(
                f'{path}: references extension "{storage}" which is not enabled in '
                "service::extensions"
            )


def _decode_section(
    kind: Kind, section: str, raw: Mapping[str, Any], registry: Registry
) -> dict[ComponentID, ComponentConfig]:
    out: dict[ComponentID, ComponentConfig] = {}
    for key, value in raw.items():
        id = _parse_ref(key, section)
        if id in out:
            raise ConfigError(f'{section}: duplicate id "{id}"')
        factory = registry.factory(kind, id.type)
        if factory is None:
            valid = " ".join(registry.types(kind))
            raise ConfigError(
                f'{section}: unknown type: "{id.type}" for id: "{id}" (valid values: [{valid}])'
            )
        out[id] = ComponentConfig(id, kind, factory, _decode_component(factory, value, section, id))
    return out


def _decode_component(factory: Factory, raw: Any, section: str, id: ComponentID) -> Any:
    default = factory.create_default_config()
    path = f"{section}::{id}"
    if dataclasses.is_dataclass(default) and not isinstance(default, type):
        return decode(type(default), raw, path, base=default)
    if raw is None:
        return default
    if isinstance(default, dict) and isinstance(raw, Mapping):
        return {**default, **raw}
    return raw


def _resolve_pipelines(
    service: ServiceConfig, components: dict[Kind, dict[ComponentID, ComponentConfig]]
) -> dict[PipelineID, Pipeline]:
    if not service.pipelines:
        raise ConfigError("service::pipelines: service must have at least one pipeline")
    pipelines: dict[PipelineID, Pipeline] = {}
    for key, cfg in service.pipelines.items():
        path = f"service::pipelines::{key}"
        pid = PipelineID.parse(key, path)
        if not cfg.receivers:
            raise ConfigError(f"{path}: must have at least one receiver")
        if not cfg.exporters:
            raise ConfigError(f"{path}: must have at least one exporter")

        receivers = [_parse_ref(r, f"{path}::receivers") for r in cfg.receivers]
        processors = [_parse_ref(p, f"{path}::processors") for p in cfg.processors]
        exporters = [_parse_ref(e, f"{path}::exporters") for e in cfg.exporters]
        seen: set[ComponentID] = set()
        for p in processors:
            if p in seen:
                raise ConfigError(f'{path}: references processor "{p}" multiple times')
            seen.add(p)
        connectors = components[Kind.CONNECTOR]
        for r in receivers:
            if r not in components[Kind.RECEIVER] and r not in connectors:
                raise ConfigError(f'{path}: references receiver "{r}" which is not configured')
        for p in processors:
            if p not in components[Kind.PROCESSOR]:
                raise ConfigError(f'{path}: references processor "{p}" which is not configured')
        for e in exporters:
            if e not in components[Kind.EXPORTER] and e not in connectors:
                raise ConfigError(f'{path}: references exporter "{e}" which is not configured')
        pipelines[pid] = Pipeline(
            pid, list(dict.fromkeys(receivers)), processors, list(dict.fromkeys(exporters))
        )
    return pipelines


def _check_signals(
    pipelines: dict[PipelineID, Pipeline],
    components: dict[Kind, dict[ComponentID, ComponentConfig]],
) -> None:
    """Every receiver, processor and exporter supports its pipeline's signal."""
    connectors = components[Kind.CONNECTOR]
    for pid, p in pipelines.items():
        signal = pid.signal
        uses = [
            *((Kind.RECEIVER, r) for r in p.receivers if r not in connectors),
            *((Kind.PROCESSOR, x) for x in p.processors),
            *((Kind.EXPORTER, e) for e in p.exporters if e not in connectors),
        ]
        for kind, id in uses:
            factory = components[kind][id].factory
            if signal not in factory.create:
                raise ConfigError(
                    f'service::pipelines::{pid}: failed to create "{id}" {kind.value} for data '
                    f'type "{signal.value}": telemetry type is not supported'
                )


def _format_pipelines(ids: list[PipelineID], signal: Signal) -> str:
    return "[" + " ".join(str(p) for p in ids if p.signal is signal) + "]"


def _check_connectors(
    pipelines: dict[PipelineID, Pipeline],
    components: dict[Kind, dict[ComponentID, ComponentConfig]],
) -> None:
    """Each connector is an exporter in a pipeline whose signal it can turn into the signal of a
    pipeline where it is a receiver (the Go collector's graph checks, same messages)."""
    for cid, cc in components[Kind.CONNECTOR].items():
        as_exporter = [pid for pid, p in pipelines.items() if cid in p.exporters]
        as_receiver = [pid for pid, p in pipelines.items() if cid in p.receivers]
        if not as_exporter and not as_receiver:
            continue  # unused components are allowed
        exp_types = {pid.signal: False for pid in as_exporter}
        rec_types = {pid.signal: False for pid in as_receiver}
        for e in exp_types:
            for r in rec_types:
                if (e, r) in cc.factory.create:
                    exp_types[e] = rec_types[r] = True
        for e, ok in exp_types.items():
            if not ok:
                raise ConfigError(
                    f'connectors::{cid}: connector "{cid}" used as exporter in '
                    f"{_format_pipelines(as_exporter, e)} pipeline but not used in any "
                    "supported receiver pipeline"
                )
        for r, ok in rec_types.items():
            if not ok:
                raise ConfigError(
                    f'connectors::{cid}: connector "{cid}" used as receiver in '
                    f"{_format_pipelines(as_receiver, r)} pipeline but not used in any "
                    "supported exporter pipeline"
                )
