"""Options of the EMF core, named after otelcol-contrib's awsemfexporter."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from routewatch.exporters.emf.limits import MAX_DIMENSION_KEYS


class DimensionRollup(StrEnum):
    NONE = "NoDimensionRollup"
    ZERO_AND_SINGLE = "ZeroAndSingleDimensionRollup"
    SINGLE_ONLY = "SingleDimensionRollupOnly"


@dataclass(frozen=True)
class LabelMatcher:
    """Matches when the values of `label_names`, joined by `separator`, match `regex`."""

    label_names: tuple[str, ...]
    regex: str
    separator: str = ";"

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(self.regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        try:
            joined = self.separator.join(labels[name] for name in self.label_names)
        except KeyError:
            return False
        return self.pattern.search(joined) is not None


@dataclass(frozen=True)
class MetricDeclaration:
    """Which metrics go into the EMF directive, and with which dimension sets.

    A metric matches when one of `metric_name_selectors` matches its name and, if there are
    `label_matchers`, one of them matches its labels. Only the dimension sets whose keys all
    exist on the point are used.
    """

    dimensions: tuple[tuple[str, ...], ...] = ()
    metric_name_selectors: tuple[str, ...] = ()
    label_matchers: tuple[LabelMatcher, ...] = ()

    def __post_init__(self) -> None:
        for dims in self.dimensions:
            if len(dims) > MAX_DIMENSION_KEYS:
                raise ValueError(
                    f"a dimension set has {len(dims)} keys, more than {MAX_DIMENSION_KEYS}"
                )
        if not self.metric_name_selectors:
            raise ValueError("metric_name_selectors must not be empty")

    @cached_property
    def selectors(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(s) for s in self.metric_name_selectors)

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        if not any(p.search(name) for p in self.selectors):
            return False
        return not self.label_matchers or any(m.matches(labels) for m in self.label_matchers)


@dataclass(frozen=True)
class MetricDescriptor:
    """Overrides the unit of `metric_name`; without `overwrite` only when the unit is empty."""

    metric_name: str
    unit: str
    overwrite: bool = False


@dataclass(frozen=True)
class EmfConfig:
    # Empty: `service.namespace/service.name` of each resource, else "default".
    namespace: str = ""
    dimension_rollup_option: DimensionRollup = DimensionRollup.NONE
    metric_declarations: Sequence[MetricDeclaration] = ()
    metric_descriptors: Sequence[MetricDescriptor] = ()
    # Copy resource attributes onto every point (and so into its dimensions).
    resource_to_telemetry_conversion: bool = False
    retain_initial_value_of_delta_metric: bool = False
    # Summaries: also send each quantile as its own metric with a `quantile` dimension.
    detailed_metrics: bool = False
    # At most this many exemplar trace ids are written per event (root property `traceIds`).
    max_trace_ids: int = 10
    # routewatch addition: attribute key -> name it has in EMF (dimension and property), e.g.
    # {"hybrid_routing.route": "RoutePath"} for dashboards built on the original names.
    dimension_names: Mapping[str, str] = field(default_factory=dict)
    descriptors_by_name: Mapping[str, MetricDescriptor] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "descriptors_by_name", {d.metric_name: d for d in self.metric_descriptors}
        )
