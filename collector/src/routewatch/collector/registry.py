"""Which component types exist: built-ins loaded lazily by module path, plus plug-ins.

A built-in is named by the module that exposes its `FACTORY`; the module is imported the first
time the type is asked for, so a config that uses two components imports two modules. A module
that is not installed simply means the type is unknown. Third-party packages add factories
through the entry-point group `routewatch.components` (each entry point loads a `Factory`, or a
callable returning one), so a user can add an exporter without forking.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points

from routewatch.collector.component import Factory, Kind

ENTRY_POINT_GROUP = "routewatch.components"
_PKG = "routewatch.collector"

# (kind, type) -> module exposing FACTORY. Aliases point at the same module.
BUILTINS: Mapping[tuple[Kind, str], str] = {
    (Kind.RECEIVER, "otlp"): f"{_PKG}.receivers.otlp.factory",
    (Kind.RECEIVER, "route_probe"): f"{_PKG}.receivers.route_probe.factory",
    (Kind.PROCESSOR, "batch"): f"{_PKG}.processors.batch.factory",
    (Kind.PROCESSOR, "memory_limiter"): f"{_PKG}.processors.memory_limiter.factory",
    (Kind.EXPORTER, "otlp"): f"{_PKG}.exporters.otlp.factory",
    (Kind.EXPORTER, "otlp_grpc"): f"{_PKG}.exporters.otlp.factory",
    (Kind.EXPORTER, "otlp_http"): f"{_PKG}.exporters.otlp_http.factory",
    (Kind.EXPORTER, "debug"): f"{_PKG}.exporters.debug.factory",
    (Kind.EXPORTER, "file"): f"{_PKG}.exporters.file.factory",
    (Kind.EXPORTER, "awsemf"): f"{_PKG}.exporters.awsemf.factory",
    (Kind.EXPORTER, "sns"): f"{_PKG}.exporters.sns.factory",
    (Kind.EXPORTER, "pagerduty"): f"{_PKG}.exporters.pagerduty.factory",
    (Kind.CONNECTOR, "routewatch_alerts"): f"{_PKG}.connectors.routewatch_alerts.factory",
    (Kind.EXTENSION, "health_check"): f"{_PKG}.extensions.health_check.factory",
    (Kind.EXTENSION, "file_storage"): f"{_PKG}.extensions.file_storage.factory",
}

_log = logging.getLogger(__name__)
_MISSING = object()


class Registry:
    """Factories by kind and type; `register()` adds one (tests, embedding)."""

    def __init__(
        self,
        builtins: Mapping[tuple[Kind, str], str] | None = None,
        load_entry_points: bool = True,
    ) -> None:
        self._modules = dict(BUILTINS if builtins is None else builtins)
        self._loaded: dict[tuple[Kind, str], Factory | object] = {}
        self._entry_points_pending = load_entry_points

    def register(self, factory: Factory, type_: str | None = None) -> None:
        """Add (or replace) a factory, under `type_` when given (an alias)."""
        self._loaded[(factory.kind, type_ or factory.type)] = factory

    def factory(self, kind: Kind, type_: str) -> Factory | None:
        self._load_entry_points()
        key = (kind, type_)
        found = self._loaded.get(key, _MISSING)
        if found is _MISSING:
            found = self._import(key)
            self._loaded[key] = found
        return found if isinstance(found, Factory) else None

    def types(self, kind: Kind) -> list[str]:
        """Every type of `kind` that loads, sorted (imports the built-ins of that kind)."""
        self._load_entry_points()
        candidates = {t for k, t in self._modules if k is kind} | {
            t for k, t in self._loaded if k is kind
        }
        return sorted(t for t in candidates if self.factory(kind, t) is not None)

    def _import(self, key: tuple[Kind, str]) -> Factory | object:
        module_name = self._modules.get(key)
        if module_name is None:
            return _MISSING
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            # Only "this component is not installed" means unknown; a broken import inside an
            # installed component is a bug to surface.
            if err.name and module_name.startswith(err.name):
                return _MISSING
            raise
        factory = getattr(module, "FACTORY", None)
        if not isinstance(factory, Factory) or factory.kind is not key[0]:
            _log.warning("%s does not expose a %s FACTORY", module_name, key[0].value)
            return _MISSING
        return factory

    def _load_entry_points(self) -> None:
        if not self._entry_points_pending:
            return
        self._entry_points_pending = False
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = ep.load()
                factory = loaded if isinstance(loaded, Factory) else _call(loaded)
            except Exception:
                _log.exception("entry point %s of %s failed to load", ep.name, ENTRY_POINT_GROUP)
                continue
            if isinstance(factory, Factory):
                self._loaded.setdefault((factory.kind, factory.type), factory)
            else:
                _log.warning("entry point %s did not give a Factory", ep.name)


def _call(obj: object) -> object:
    return obj() if callable(obj) else obj


def registry_with(factories: Iterable[Factory], builtins: bool = True) -> Registry:
    """A registry holding the built-ins (unless `builtins=False`) plus `factories`."""
    registry = Registry(None if builtins else {}, load_entry_points=builtins)
    for factory in factories:
        registry.register(factory)
    return registry


FactoryLoader = Callable[[Kind, str], Factory | None]
