"""Build the pipeline graph from a resolved config: every component created, nothing started.

Instances (after the Go collector, without its hidden global maps):
- a receiver: ONE per id, whatever the signals it serves; it gets a `SignalRouter` (and,
  if it has `add_consumer(signal, consumer)`, each other signal's consumer through it);
- a processor: one per (pipeline, id), chained in the pipeline's order;
- an exporter: one per (id, signal), shared by the pipelines of that signal;
- a connector: one per (id, input signal, output signal);
- an extension: one per id.
`nodes` lists them consumers-first (the start order); shutdown walks it backwards, so every
producer stops and flushes before what it feeds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from routewatch.collector.component import (
    ComponentID,
    Consumer,
    CreateSettings,
    Kind,
    Signal,
)
from routewatch.collector.config.model import ComponentConfig, Config, PipelineID
from routewatch.collector.errors import ConfigError
from routewatch.collector.service.fanout import SignalRouter, fanout
from routewatch.collector.telemetry import Telemetry

_SIGNAL_ORDER = (Signal.TRACES, Signal.METRICS, Signal.LOGS)
DEFAULT_SHUTDOWN_TIMEOUT = 10.0


@dataclass
class Node:
    kind: Kind
    id: ComponentID
    component: Any
    # Which signal(s) the instance serves, for logs: "traces", "metrics->logs", "".
    label: str = ""

    def __str__(self) -> str:
        suffix = f" ({self.label})" if self.label else ""
        return f"{self.kind.value} {self.id}{suffix}"


class Graph:
    def __init__(
        self,
        config: Config,
        telemetry: Telemetry,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
    ) -> None:
        self.config = config
        self.telemetry = telemetry
        self.shutdown_timeout = shutdown_timeout
        self.extensions: dict[ComponentID, Node] = {}
        self.nodes: list[Node] = []
        self.exporters: dict[tuple[ComponentID, Signal], Any] = {}
        self.receivers: dict[ComponentID, Any] = {}
        self._entries: dict[PipelineID, Consumer] = {}
        self._connectors: dict[tuple[ComponentID, Signal, Signal], Any] = {}
        self._building: set[PipelineID] = set()

    def build(self) -> Graph:
        for id in self.config.extensions:
            cc = self.config.component(Kind.EXTENSION, id)
            self.extensions[id] = Node(Kind.EXTENSION, id, self._create_extension(cc))
        for pid in self.config.pipelines:
            self._entry(pid)
        self._build_receivers()
        return self

    def _settings(self, cc: ComponentConfig, signal: Signal | None) -> CreateSettings:
        return CreateSettings(
            id=cc.id,
            kind=cc.kind,
            telemetry=self.telemetry,
            logger=logging.getLogger(f"routewatch.{cc.kind.value}.{cc.id}"),
            signal=signal,
            shutdown_timeout=self.shutdown_timeout,
        )

    def _create_extension(self, cc: ComponentConfig) -> Any:
        create = cc.factory.create_extension
        if create is None:
            raise ConfigError(f"extensions::{cc.id}: factory has no create_extension")
        return _guard(f"extensions::{cc.id}", lambda: create(self._settings(cc, None), cc.config))

    def _create(
        self, cc: ComponentConfig, key: Any, signal: Signal, next_consumer: Consumer | None
    ) -> Any:
        create = cc.factory.create[key]
        section = f"{cc.kind.value}s::{cc.id}"
        return _guard(section, lambda: create(self._settings(cc, signal), cc.config, next_consumer))

    def _entry(self, pid: PipelineID) -> Consumer:
        """The first consumer of a pipeline (its first processor, or its exporters)."""
        if pid in self._entries:
            return self._entries[pid]
        if pid in self._building:
            raise ConfigError(f"service::pipelines::{pid}: cycle detected through connectors")
        self._building.add(pid)
        pipeline = self.config.pipelines[pid]
        signal = pid.signal
        consumers: list[Consumer] = []
        for eid in pipeline.exporters:
            if eid in self.config.components[Kind.CONNECTOR]:
                consumers.extend(self._connectors_from(eid, signal))
            else:
                consumers.append(self._exporter(eid, signal))
        current = fanout(consumers)
        for prid in reversed(pipeline.processors):
            cc = self.config.component(Kind.PROCESSOR, prid)
            current = self._create(cc, signal, signal, current)
            self.nodes.append(Node(Kind.PROCESSOR, prid, current, str(pid)))
        self._building.discard(pid)
        self._entries[pid] = current
        return current

    def _exporter(self, eid: ComponentID, signal: Signal) -> Any:
        key = (eid, signal)
        if key not in self.exporters:
            cc = self.config.component(Kind.EXPORTER, eid)
            exporter = self._create(cc, signal, signal, None)
            self.exporters[key] = exporter
            self.nodes.append(Node(Kind.EXPORTER, eid, exporter, signal.value))
        return self.exporters[key]

    def _connectors_from(self, cid: ComponentID, in_signal: Signal) -> list[Consumer]:
        """The connector instances a pipeline of `in_signal` exports to, one per output signal."""
        cc = self.config.component(Kind.CONNECTOR, cid)
        out: list[Consumer] = []
        for out_signal in _SIGNAL_ORDER:
            downstream = [
                pid
                for pid, p in self.config.pipelines.items()
                if pid.signal is out_signal and cid in p.receivers
            ]
            if not downstream or (in_signal, out_signal) not in cc.factory.create:
                continue
            key = (cid, in_signal, out_signal)
            if key not in self._connectors:
                next_consumer = fanout([self._entry(pid) for pid in downstream])
                conn = self._create(cc, (in_signal, out_signal), in_signal, next_consumer)
                self._connectors[key] = conn
                label = f"{in_signal.value}->{out_signal.value}"
                self.nodes.append(Node(Kind.CONNECTOR, cid, conn, label))
            out.append(self._connectors[key])
        return out

    def _build_receivers(self) -> None:
        for rid, cc in self.config.components[Kind.RECEIVER].items():
            per_signal: dict[Signal, Consumer] = {}
            for signal in _SIGNAL_ORDER:
                entries = [
                    self._entries[pid]
                    for pid, p in self.config.pipelines.items()
                    if pid.signal is signal and rid in p.receivers
                ]
                if entries:
                    per_signal[signal] = fanout(entries)
            if not per_signal:
                continue  # configured but unused: not created, as in the Go collector
            receiver = self._create_receiver(cc, per_signal)
            self.receivers[rid] = receiver
            self.nodes.append(
                Node(Kind.RECEIVER, rid, receiver, ",".join(s.value for s in per_signal))
            )

    def _create_receiver(self, cc: ComponentConfig, per_signal: dict[Signal, Consumer]) -> Any:
        first = next(iter(per_signal))
        only: Signal | None = first if len(per_signal) == 1 else None
        router = SignalRouter(per_signal)
        create = cc.factory.create[first]
        settings = self._settings(cc, only)
        receiver = _guard(f"receivers::{cc.id}", lambda: create(settings, cc.config, router))
        # A receiver may instead take one consumer per signal: hand it the others explicitly.
        add_consumer = getattr(receiver, "add_consumer", None)
        if callable(add_consumer):
            for signal, consumer in per_signal.items():
                if signal is not first:
                    add_consumer(signal, consumer)
        return receiver


def _guard(path: str, create: Any) -> Any:
    """Run a create function; its errors are config errors naming the component."""
    try:
        return create()
    except ConfigError:
        raise
    except ValueError as err:
        raise ConfigError(f"{path}: {err}") from err


def build_graph(
    config: Config, telemetry: Telemetry, shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
) -> Graph:
    return Graph(config, telemetry, shutdown_timeout).build()
