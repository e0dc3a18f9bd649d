"""The EMF core: metric points in, CloudWatch Embedded Metric Format events out.

Readers (`sdk_reader`, `otlp_reader`) walk their own data model and call an `EmfBatch`
directly — resource, then metric, then its points — so neither converts into the other's
form. Per metric, the unit, name check and declaration lookup are done once (`MetricInfo`);
per attribute set, dimension sanitising is cached; per point, the work is a dict lookup and
an append. Points sharing a destination, timestamp (ms) and attribute set become one event,
as in otelcol-contrib's awsemfexporter.

Limits are kept by splitting:
- at most 100 metrics per event (so per directive);
- a histogram with more than 100 non-empty buckets becomes several value objects, each in
  its own event (a metric name can appear once per event), whose Count/Sum add up to the
  point's and whose Min/Max bound it;
- a metric name already present in an event (two scopes emitting the same name) goes into
  a further event rather than overwriting;
- an event over the PutLogEvents size limit is split in halves until it fits.
What cannot be valid is sanitised or dropped, counted in `Stats` and logged once per cause:
- values NaN, +-Inf or beyond 1.17e108 in magnitude: the point is dropped (`nan`, `inf`,
  `out_of_range`); magnitudes below 8.5e-109 are written as 0 (`underflow`);
- metric names empty or over 255 characters: dropped (`invalid_metric_name`); a name that
  collides with a dimension or `_aws`: dropped (`name_conflict`);
- dimension values that are blank or longer than 1024 characters, and dimension names that
  are empty, too long or start with `:`, stay in the event as properties but are not
  dimensions (`invalid_dimension`); non-ASCII characters in a dimension value are replaced
  by `_` (`non_ascii_dimension_value`);
- more than 30 dimension keys: the first 30 in name order are the dimension set, the rest
  stay in the event as properties (`too_many_dimensions`). Splitting them over several
  dimension sets would publish partial series under the same metric name, which double
  counts in CloudWatch; keeping them as properties loses nothing for Logs Insights.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from routewatch.exporters.emf.config import DimensionRollup, EmfConfig
from routewatch.exporters.emf.delta import DeltaTracker
from routewatch.exporters.emf.limits import (
    MAX_DIMENSION_KEYS,
    MAX_DIMENSION_VALUE_LENGTH,
    MAX_EVENT_BYTES,
    MAX_MAGNITUDE,
    MAX_METRICS_PER_DIRECTIVE,
    MAX_NAME_LENGTH,
    MAX_VALUES_PER_ARRAY,
    MIN_MAGNITUDE,
)
from routewatch.exporters.emf.stats import DROPPED_POINTS, SANITIZED_VALUES, Stats
from routewatch.exporters.emf.units import cloudwatch_unit

# (timestamp ms, UTF-8 JSON) as PutLogEvents wants them.
LogEvent = tuple[int, bytes]
DimensionSets = tuple[tuple[str, ...], ...]
# The root property carrying exemplar trace ids.
TRACE_IDS_KEY = "traceIds"
_RESERVED = frozenset({"_aws", TRACE_IDS_KEY})
_INT_SAFE = 9.2e18  # orjson writes ints up to 64 bits; larger ones go out as floats
_CACHE_LIMIT = 65_536
DEFAULT_NAMESPACE = "default"


class MetricInfo:
    """What is decided once per metric: its CloudWatch unit and whether it can be sent."""

    __slots__ = ("decl_cache", "entry", "name", "unit", "valid")

    def __init__(self, name: str, unit: str, valid: bool) -> None:
        self.name = name
        self.unit = unit
        self.valid = valid
        self.entry = {"Name": name, "Unit": unit}
        self.decl_cache: dict[Hashable, DimensionSets | None] = {}


class _Dims:
    """An attribute set, sanitised: root properties, dimension keys and a canonical key."""

    __slots__ = ("key", "keys", "props")

    def __init__(self, props: dict[str, str], keys: tuple[str, ...]) -> None:
        self.props = props
        self.keys = keys
        self.key = tuple(sorted(props.items()))


class _Group:
    """Metrics of one event-to-be. `layers[i]` maps a name to (info, value); a name already in
    a layer goes to the next one, so each layer can be written without overwriting."""

    __slots__ = ("dims", "layers", "namespace", "trace_ids", "ts")

    def __init__(self, dims: _Dims, ts: int, namespace: str) -> None:
        self.dims = dims
        self.ts = ts
        self.namespace = namespace
        self.layers: list[dict[str, tuple[MetricInfo, DimensionSets | None, Any]]] = [{}]
        self.trace_ids: list[str] | None = None

    def add(self, info: MetricInfo, dimsets: DimensionSets | None, value: Any) -> None:
        for layer in self.layers:
            if info.name not in layer:
                layer[info.name] = (info, dimsets, value)
                return
        self.layers.append({info.name: (info, dimsets, value)})


class EmfEncoder:
    """Long-lived: config, delta state and caches shared by every batch."""

    def __init__(
        self,
        config: EmfConfig,
        stats: Stats | None = None,
        delta: DeltaTracker | None = None,
        destination_of: Callable[[Mapping[str, Any]], Hashable] | None = None,
    ) -> None:
        self.config = config
        self.stats = stats or Stats()
        self.delta = delta or DeltaTracker(
            self.stats, retain_initial=config.retain_initial_value_of_delta_metric
        )
        self.destination_of = destination_of
        self._dims_cache: dict[Hashable, _Dims] = {}
        self._res_tokens: dict[Hashable, int] = {}
        self._dimsets_cache: dict[tuple[str, ...], DimensionSets] = {}
        self._metric_cache: dict[tuple[str, str | None, bool], MetricInfo] = {}
        self._bounds_cache: dict[tuple[float, ...], tuple[list[float], list[float]]] = {}

    def batch(self) -> EmfBatch:
        self.delta.tick()
        return EmfBatch(self)

    # -- per metric ---------------------------------------------------------------------------

    def metric_info(self, name: str, unit: str | None, counter: bool) -> MetricInfo:
        key = (name, unit, counter)
        info = self._metric_cache.get(key)
        if info is None:
            if len(self._metric_cache) > _CACHE_LIMIT:
                self._metric_cache.clear()
            info = self._metric_cache[key] = self._new_metric_info(name, unit, counter)
        return info

    def _new_metric_info(self, name: str, unit: str | None, counter: bool) -> MetricInfo:
        descriptor = self.config.descriptors_by_name.get(name)
        if descriptor is not None and (descriptor.overwrite or not unit):
            cw_unit = cloudwatch_unit(descriptor.unit, counter)
        else:
            cw_unit = cloudwatch_unit(unit, counter)
        valid = 0 < len(name) <= MAX_NAME_LENGTH and name not in _RESERVED
        return MetricInfo(name, cw_unit, valid)

    def dimension_sets(self, info: MetricInfo, dims: _Dims) -> DimensionSets | None:
        """The directive's dimension sets for a metric on these dimensions; None = none (the
        value stays in the event as a property, as contrib does with undeclared metrics)."""
        if not self.config.metric_declarations:
            sets = self._dimsets_cache.get(dims.keys)
            if sets is None:
                sets = self._dimsets_cache[dims.keys] = _rollup(
                    dims.keys, self.config.dimension_rollup_option, ()
                )
            return sets
        cached = info.decl_cache.get(dims.key, False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        result = self._declared_sets(info.name, dims)
        if len(info.decl_cache) > _CACHE_LIMIT:
            info.decl_cache.clear()
        info.decl_cache[dims.key] = result
        return result

    def _declared_sets(self, name: str, dims: _Dims) -> DimensionSets | None:
        present = set(dims.keys)
        declared: list[tuple[str, ...]] = []
        matched = False
        for decl in self.config.metric_declarations:
            if not decl.matches(name, dims.props):
                continue
            matched = True
            for dset in decl.dimensions:
                if set(dset) <= present and dset not in declared:
                    declared.append(tuple(dset))
        if not matched:
            return None
        return _rollup(dims.keys, self.config.dimension_rollup_option, tuple(declared))

    # -- per attribute set ----------------------------------------------------------------------

    def resource_token(self, res_key: Hashable) -> int:
        """A small int standing for a resource's attributes in the dimension cache's keys."""
        token = self._res_tokens.get(res_key)
        if token is None:
            if len(self._res_tokens) > _CACHE_LIMIT:
                self._res_tokens.clear()
                self._dims_cache.clear()
            token = self._res_tokens[res_key] = len(self._res_tokens) + 1
        return token

    def dims(
        self, token: int, resource: Mapping[str, Any] | None, attrs: Mapping[str, Any]
    ) -> _Dims:
        """`token` identifies `resource` (0 when resource attributes are not dimensions)."""
        try:
            key: Hashable = (token, tuple(attrs.items()))
            found = self._dims_cache.get(key)
        except TypeError:  # unhashable attribute values (lists): not cached
            return self._new_dims(resource, attrs)
        if found is None:
            if len(self._dims_cache) > _CACHE_LIMIT:
                self._dims_cache.clear()
            found = self._dims_cache[key] = self._new_dims(resource, attrs)
        return found

    def _new_dims(self, resource: Mapping[str, Any] | None, attrs: Mapping[str, Any]) -> _Dims:
        merged: dict[str, Any] = {}
        if resource and self.config.resource_to_telemetry_conversion:
            merged.update(resource)
        merged.update(attrs)
        props: dict[str, str] = {}
        keys: list[str] = []
        stats = self.stats
        for k, v in merged.items():
            if k in _RESERVED:
                stats.count(SANITIZED_VALUES, "reserved_attribute", detail=k)
                continue
            text = attribute_text(v)
            if not text.isascii():
                text = "".join(c if c.isascii() else "_" for c in text)
                stats.count(SANITIZED_VALUES, "non_ascii_dimension_value", detail=k)
            props[k] = text
            if (
                not k
                or len(k) > MAX_NAME_LENGTH
                or k[0] == ":"
                or not text.strip()
                or len(text) > MAX_DIMENSION_VALUE_LENGTH
            ):
                stats.count(SANITIZED_VALUES, "invalid_dimension", detail=k)
                continue
            keys.append(k)
        keys.sort()
        if len(keys) > MAX_DIMENSION_KEYS:
            stats.count(SANITIZED_VALUES, "too_many_dimensions", detail=str(len(keys)))
            del keys[MAX_DIMENSION_KEYS:]
        return _Dims(props, tuple(keys))

    # -- per explicit-bucket layout ----------------------------------------------------------

    def bounds(self, bounds: Sequence[float]) -> tuple[list[float], list[float]]:
        """(lower, upper) edge of every bucket, open edges as -inf/+inf."""
        key = tuple(bounds)
        found = self._bounds_cache.get(key)
        if found is None:
            if len(self._bounds_cache) > _CACHE_LIMIT:
                self._bounds_cache.clear()
            lower = [-math.inf, *key]
            upper = [*key, math.inf]
            found = self._bounds_cache[key] = (lower, upper)
        return found


def _rollup(
    keys: tuple[str, ...], option: DimensionRollup, declared: DimensionSets
) -> DimensionSets:
    sets: list[tuple[str, ...]] = list(declared) if declared else [keys]
    if option is DimensionRollup.ZERO_AND_SINGLE:
        sets.append(())
    if option is not DimensionRollup.NONE:
        sets.extend((k,) for k in keys)
    unique: list[tuple[str, ...]] = []
    for s in sets:
        if s not in unique:
            unique.append(s)
    return tuple(unique)


def namespace_of(resource: Mapping[str, Any]) -> str:
    """The namespace when none is configured: `service.namespace/service.name`, as contrib."""
    service = resource.get("service.name")
    if not service:
        return DEFAULT_NAMESPACE
    ns = resource.get("service.namespace")
    return f"{ns}/{service}" if ns else str(service)


def attribute_text(value: Any) -> str:
    """An attribute value as a dimension string (JSON for arrays, hex for bytes)."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, bytes):
        return value.hex()
    if value is None:
        return ""
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return str(value)


class EmfBatch:
    """Collects the points of one export and renders them as EMF events per destination."""

    def __init__(self, encoder: EmfEncoder) -> None:
        self._enc = encoder
        self._stats = encoder.stats
        self._delta = encoder.delta
        self._groups: dict[Hashable, _Group] = {}
        self._group_dest: dict[Hashable, Hashable] = {}
        self._resource: Mapping[str, Any] | None = None
        self._res_key: Hashable = ()
        self._res_token = 0
        self._r2t = encoder.config.resource_to_telemetry_conversion
        self._dest: Hashable = None
        self._namespace = encoder.config.namespace or DEFAULT_NAMESPACE
        self.points = 0

    # -- reader interface -------------------------------------------------------------------

    def resource(self, attrs: Mapping[str, Any] | None) -> None:
        """Start the points of a resource (its attributes select the destination)."""
        self._resource = attrs
        try:
            self._res_key = tuple(sorted((attrs or {}).items()))
        except TypeError:
            self._res_key = tuple(sorted((k, attribute_text(v)) for k, v in (attrs or {}).items()))
        self._res_token = self._enc.resource_token(self._res_key) if self._r2t else 0
        if not self._enc.config.namespace:
            self._namespace = namespace_of(attrs or {})
        dest_of = self._enc.destination_of
        self._dest = dest_of(attrs or {}) if dest_of is not None else None

    def metric(self, name: str, unit: str | None, counter: bool = False) -> MetricInfo:
        info = self._enc.metric_info(name, unit, counter)
        if not info.valid:
            self._stats.count(DROPPED_POINTS, "invalid_metric_name", detail=name[:64])
        return info

    def gauge(
        self,
        info: MetricInfo,
        attrs: Mapping[str, Any],
        ts: int,
        value: float,
        trace_ids: Iterable[str] | None = None,
    ) -> None:
        self.points += 1
        if not info.valid:
            return
        value = self._value(value)  # type: ignore[assignment]
        if value is None:
            return
        dims = self._enc.dims(self._res_token, self._resource, attrs)
        self._add(info, dims, ts, value, trace_ids)

    def sum(
        self,
        info: MetricInfo,
        attrs: Mapping[str, Any],
        start: int,
        ts: int,
        value: float,
        cumulative: bool,
        trace_ids: Iterable[str] | None = None,
    ) -> None:
        """A monotonic sum (non-monotonic ones are gauges: the reader sends them there)."""
        self.points += 1
        if not info.valid:
            return
        checked = self._value(value)
        if checked is None:
            return
        dims = self._enc.dims(self._res_token, self._resource, attrs)
        if cumulative:
            checked = self._delta.number((self._res_key, info.name, dims.key), start, ts, checked)
            if checked is None:
                return
        self._add(info, dims, ts, checked, trace_ids)

    def histogram(
        self,
        info: MetricInfo,
        attrs: Mapping[str, Any],
        start: int,
        ts: int,
        count: int,
        total: float,
        vmin: float | None,
        vmax: float | None,
        bounds: Sequence[float],
        counts: Sequence[int],
        cumulative: bool,
        trace_ids: Iterable[str] | None = None,
    ) -> None:
        self.points += 1
        vmin, vmax = _known(vmin), _known(vmax)
        if not info.valid or not self._finite_stats(total, vmin, vmax):
            return
        if len(counts) != len(bounds) + 1:
            self._stats.count(DROPPED_POINTS, "malformed_histogram", detail=info.name)
            return
        dims = self._enc.dims(self._res_token, self._resource, attrs)
        if cumulative:
            state = self._delta.histogram(
                (self._res_key, info.name, dims.key), start, ts, (count, total, tuple(counts))
            )
            if state is None:
                return
            count, total, counts = state
        if not count:
            return
        lower, upper = self._enc.bounds(bounds)
        self._add_buckets(info, dims, ts, count, total, vmin, vmax, lower, upper, counts)
        if trace_ids:
            self._trace_ids(dims, ts, trace_ids)

    def exp_histogram(
        self,
        info: MetricInfo,
        attrs: Mapping[str, Any],
        start: int,
        ts: int,
        count: int,
        total: float,
        vmin: float | None,
        vmax: float | None,
        scale: int,
        zero_count: int,
        pos_offset: int,
        pos_counts: Sequence[int],
        neg_offset: int,
        neg_counts: Sequence[int],
        cumulative: bool,
        trace_ids: Iterable[str] | None = None,
    ) -> None:
        self.points += 1
        vmin, vmax = _known(vmin), _known(vmax)
        if not info.valid or not self._finite_stats(total, vmin, vmax):
            return
        dims = self._enc.dims(self._res_token, self._resource, attrs)
        if cumulative:
            state = self._delta.exp_histogram(
                (self._res_key, info.name, dims.key),
                start,
                ts,
                (
                    count,
                    total,
                    scale,
                    zero_count,
                    pos_offset,
                    tuple(pos_counts),
                    neg_offset,
                    tuple(neg_counts),
                ),
            )
            if state is None:
                return
            count, total, scale, zero_count, pos_offset, pos_counts, neg_offset, neg_counts = state
        if not count:
            return
        try:
            lower, upper, counts = _exponential_buckets(
                scale, zero_count, pos_offset, pos_counts, neg_offset, neg_counts
            )
        except OverflowError:
            self._stats.count(DROPPED_POINTS, "out_of_range", detail=info.name)
            return
        self._add_buckets(info, dims, ts, count, total, vmin, vmax, lower, upper, counts)
        if trace_ids:
            self._trace_ids(dims, ts, trace_ids)

    def summary(
        self,
        info: MetricInfo,
        attrs: Mapping[str, Any],
        start: int,
        ts: int,
        count: int,
        total: float,
        quantiles: Sequence[tuple[float, float]],
    ) -> None:
        self.points += 1
        if not info.valid or not self._finite_stats(total, None, None):
            return
        dims = self._enc.dims(self._res_token, self._resource, attrs)
        if self._enc.config.detailed_metrics:
            for q, v in quantiles:
                qattrs = dict(attrs)
                qattrs["quantile"] = q
                checked = self._value(v)
                if checked is not None:
                    qdims = self._enc.dims(self._res_token, self._resource, qattrs)
                    self._add(info, qdims, ts, checked, None)
        # OTLP summaries are cumulative (count and sum since start).
        state = self._delta.summary((self._res_key, info.name, dims.key), start, ts, (count, total))
        if state is None or not state[0]:
            return
        count, total = state
        qmap = dict(quantiles)
        mean = total / count
        vmin, vmax = qmap.get(0.0, mean), qmap.get(1.0, mean)
        if not self._finite_stats(vmin, vmin, vmax):
            return
        self._add(info, dims, ts, {"Count": count, "Sum": total, "Min": vmin, "Max": vmax}, None)

    # -- output -----------------------------------------------------------------------------

    def events(self) -> dict[Hashable, list[LogEvent]]:
        """Render every group as EMF JSON, per destination, oldest first."""
        out: dict[Hashable, list[LogEvent]] = {}
        for gkey, group in self._groups.items():
            target = out.setdefault(self._group_dest[gkey], [])
            for layer in group.layers:
                entries = list(layer.values())
                for i in range(0, len(entries), MAX_METRICS_PER_DIRECTIVE):
                    self._render(target, group, entries[i : i + MAX_METRICS_PER_DIRECTIVE])
        for events in out.values():
            events.sort(key=_event_time)
        return out

    def _render(
        self,
        target: list[LogEvent],
        group: _Group,
        entries: list[tuple[MetricInfo, DimensionSets | None, Any]],
    ) -> None:
        root: dict[str, Any] = dict(group.dims.props)
        directives: dict[DimensionSets, list[dict[str, str]]] = {}
        for info, dimsets, value in entries:
            root[info.name] = value
            if dimsets is not None:
                metrics = directives.get(dimsets)
                if metrics is None:
                    metrics = directives[dimsets] = []
                metrics.append(info.entry)
        if group.trace_ids:
            root[TRACE_IDS_KEY] = group.trace_ids
        if directives:
            root["_aws"] = {
                "Timestamp": group.ts,
                "CloudWatchMetrics": [
                    {"Namespace": group.namespace, "Dimensions": dimsets, "Metrics": metrics}
                    for dimsets, metrics in directives.items()
                ],
            }
        data = orjson.dumps(root)
        if len(data) <= MAX_EVENT_BYTES:
            target.append((group.ts, data))
        elif len(entries) > 1:
            half = len(entries) // 2
            self._render(target, group, entries[:half])
            self._render(target, group, entries[half:])
        else:
            self._stats.count(DROPPED_POINTS, "event_too_large", detail=entries[0][0].name)

    # -- helpers ----------------------------------------------------------------------------

    def _add(
        self,
        info: MetricInfo,
        dims: _Dims,
        ts_ns: int,
        value: Any,
        trace_ids: Iterable[str] | None,
    ) -> None:
        if info.name in dims.props:
            self._stats.count(DROPPED_POINTS, "name_conflict", detail=info.name)
            return
        ts = ts_ns // 1_000_000
        key = (self._dest, self._namespace, ts, dims.key)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(dims, ts, self._namespace)
            self._group_dest[key] = self._dest
        group.add(info, self._enc.dimension_sets(info, dims), value)
        if trace_ids:
            self._trace_ids(dims, ts_ns, trace_ids)

    def _trace_ids(self, dims: _Dims, ts_ns: int, trace_ids: Iterable[str]) -> None:
        group = self._groups.get((self._dest, self._namespace, ts_ns // 1_000_000, dims.key))
        if group is None:
            return
        known = group.trace_ids
        if known is None:
            known = group.trace_ids = []
        limit = self._enc.config.max_trace_ids
        for tid in trace_ids:
            if len(known) >= limit:
                break
            if tid not in known:
                known.append(tid)

    def _add_buckets(
        self,
        info: MetricInfo,
        dims: _Dims,
        ts: int,
        count: int,
        total: float,
        vmin: float | None,
        vmax: float | None,
        lower: Sequence[float],
        upper: Sequence[float],
        counts: Sequence[int],
    ) -> None:
        nonzero = [i for i, c in enumerate(counts) if c]
        if not nonzero:
            self._stats.count(DROPPED_POINTS, "malformed_histogram", detail=info.name)
            return
        first, last = nonzero[0], nonzero[-1]
        # Min/Max of the point, or (after delta conversion, or when absent) the tightest bound
        # the buckets and the cumulative extremes allow.
        lo, hi = lower[first], upper[last]
        vmin = lo if vmin is None else max(vmin, lo)
        vmax = hi if vmax is None else min(vmax, hi)
        mean = total / count
        if math.isinf(vmin):
            vmin = min(upper[first], mean)
        if math.isinf(vmax):
            vmax = max(lower[last], mean)
        values: list[float] = []
        nums: list[int] = []
        for i in nonzero:
            a, b = lower[i], upper[i]
            a = vmin if a < vmin else a
            b = vmax if b > vmax else b
            values.append((a + b) / 2 if a <= b else vmin)
            nums.append(counts[i])
        bounded = self._in_range(values, vmin, vmax, info.name)
        if bounded is None:
            return
        vmin, vmax = bounded
        if len(values) <= MAX_VALUES_PER_ARRAY:
            obj = {
                "Values": values,
                "Counts": nums,
                "Count": count,
                "Sum": total,
                "Min": vmin,
                "Max": vmax,
            }
            self._add(info, dims, ts, obj, None)
            return
        for obj in _split_buckets(values, nums, count, total, vmin, vmax, lower, upper, nonzero):
            self._add(info, dims, ts, obj, None)

    def _in_range(
        self, values: list[float], vmin: float, vmax: float, name: str
    ) -> tuple[float, float] | None:
        """(Min, Max) when every value is sendable; magnitudes too small to send become 0."""
        if abs(vmin) > MAX_MAGNITUDE or abs(vmax) > MAX_MAGNITUDE:
            self._stats.count(DROPPED_POINTS, "out_of_range", detail=name)
            return None
        if 0 < abs(vmin) < MIN_MAGNITUDE or 0 < abs(vmax) < MIN_MAGNITUDE:
            self._stats.count(SANITIZED_VALUES, "underflow", detail=name)
            vmin = 0.0 if abs(vmin) < MIN_MAGNITUDE else vmin
            vmax = 0.0 if abs(vmax) < MIN_MAGNITUDE else vmax
        if vmin < MIN_MAGNITUDE:  # only then can a midpoint be a tiny non-zero magnitude
            for i, v in enumerate(values):
                if 0 < abs(v) < MIN_MAGNITUDE:
                    values[i] = 0.0
        return vmin, vmax

    def _value(self, value: float) -> float | None:
        a = abs(value)
        if MIN_MAGNITUDE <= a < _INT_SAFE:
            return value
        if a == 0:
            return value
        if a != a:
            self._stats.count(DROPPED_POINTS, "nan")
            return None
        if a == math.inf:
            self._stats.count(DROPPED_POINTS, "inf")
            return None
        if a > MAX_MAGNITUDE:
            self._stats.count(DROPPED_POINTS, "out_of_range")
            return None
        if a < MIN_MAGNITUDE:
            self._stats.count(SANITIZED_VALUES, "underflow")
            return 0.0
        return float(value)

    def _finite_stats(self, total: float, vmin: float | None, vmax: float | None) -> bool:
        for v in (total, vmin, vmax):
            if v is None:
                continue
            if v != v:
                self._stats.count(DROPPED_POINTS, "nan")
                return False
            if abs(v) > MAX_MAGNITUDE:
                self._stats.count(DROPPED_POINTS, "inf" if math.isinf(v) else "out_of_range")
                return False
        return True


def _known(v: float | None) -> float | None:
    """The SDK writes +-inf as min/max of an empty histogram: that is "unknown"."""
    return None if v is None or v in (math.inf, -math.inf) else v


def _event_time(event: LogEvent) -> int:
    return event[0]


def _exponential_buckets(
    scale: int,
    zero_count: int,
    pos_offset: int,
    pos_counts: Sequence[int],
    neg_offset: int,
    neg_counts: Sequence[int],
) -> tuple[list[float], list[float], list[int]]:
    """Edges and counts of an exponential histogram, most negative bucket first.

    Bucket `i` holds (base**i, base**(i+1)] with base = 2**(2**-scale); negative buckets mirror.
    """
    factor = 2.0**-scale
    lower: list[float] = []
    upper: list[float] = []
    counts: list[int] = []
    for j in range(len(neg_counts) - 1, -1, -1):
        c = neg_counts[j]
        if c:
            i = neg_offset + j
            lower.append(-(2.0 ** ((i + 1) * factor)))
            upper.append(-(2.0 ** (i * factor)))
            counts.append(c)
    if zero_count:
        lower.append(0.0)
        upper.append(0.0)
        counts.append(zero_count)
    for j, c in enumerate(pos_counts):
        if c:
            i = pos_offset + j
            lower.append(2.0 ** (i * factor))
            upper.append(2.0 ** ((i + 1) * factor))
            counts.append(c)
    return lower, upper, counts


def _split_buckets(
    values: list[float],
    nums: list[int],
    count: int,
    total: float,
    vmin: float,
    vmax: float,
    lower: Sequence[float],
    upper: Sequence[float],
    nonzero: list[int],
) -> list[dict[str, Any]]:
    """Value objects of at most 100 buckets each. Count adds up exactly; Sum adds up (the
    first object carries the remainder after the others' midpoint sums); the first object's
    Min is the point's Min and the last one's Max its Max."""
    parts: list[dict[str, Any]] = []
    n = len(values)
    for start in range(0, n, MAX_VALUES_PER_ARRAY):
        end = min(start + MAX_VALUES_PER_ARRAY, n)
        pv, pc = values[start:end], nums[start:end]
        lo = vmin if start == 0 else max(vmin, lower[nonzero[start]])
        hi = vmax if end == n else min(vmax, upper[nonzero[end - 1]])
        parts.append(
            {
                "Values": pv,
                "Counts": pc,
                "Count": sum(pc),
                "Sum": sum(v * c for v, c in zip(pv, pc, strict=True)),
                "Min": lo,
                "Max": hi,
            }
        )
    parts[0]["Sum"] = total - sum(p["Sum"] for p in parts[1:])
    # Count is exact only when the buckets account for every observation.
    parts[0]["Count"] += count - sum(nums)
    return parts
