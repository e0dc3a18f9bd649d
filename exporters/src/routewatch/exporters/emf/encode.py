"""The EMF core: metric points in, CloudWatch Embedded Metric Format events out.

Readers (`sdk_reader`, `otlp_reader`) walk their own data model and call an `EmfBatch`
directly — resource, then metric, then its points, one at a time or a column at a time
(`gauges`, `sums`, `histograms`: each field of every point of a metric) — so neither converts
into the other's form. Per metric, the unit, name check and declaration lookup are done once
(`MetricInfo`); per attribute set, dimension sanitising is cached (SDK mappings also by
identity, and a recurring column of them by its identity); per point, the work is a few dict
lookups and stores. Points sharing a destination, timestamp and attribute set become one
event, as in otelcol-contrib's awsemfexporter; the events of a column of attribute sets are
found once per batch and time, for all the metrics of that column.

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
import operator
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from itertools import compress, pairwise, repeat
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
# A point's attributes: a mapping, or a tuple of (key, value) pairs (cheaper for readers that
# build them, and directly usable as a cache key).
Attributes = Mapping[str, Any] | tuple[tuple[str, Any], ...]
# An explicit-bucket histogram point whose value object is built when its event is rendered
# (`EmfBatch._built`): (layout, count, sum, min, max, bucket counts), its extremes checked
# and its buckets matching the layout. Building it then, event by event, keeps a batch's
# memory to a small tuple a point: the Values/Counts lists and the object are garbage a
# moment later and their memory is reused, where a batch holding them all touches new memory
# for every point and hands the garbage collector three containers a point to traverse.
Deferred = tuple[Any, int, float, float | None, float | None, Sequence[int]]
# The root property carrying exemplar trace ids.
TRACE_IDS_KEY = "traceIds"
# An exemplar's trace id as a reader has it: the SDK's int, OTLP's 16 bytes, or its hex text.
# Events keep them so, deduplicated, and write at most `max_trace_ids` of them as hex.
TraceId = int | bytes | str
_TRACE_ID = operator.attrgetter("trace_id")
_RESERVED = frozenset({"_aws", TRACE_IDS_KEY})
_INT_SAFE = 9.2e18  # orjson writes ints up to 64 bits; larger ones go out as floats
_CACHE_LIMIT = 65_536
# Exponential buckets computed ahead each side of what a point needs, and at most this many
# per scale.
_EXP_WINDOW_MARGIN = 64
_EXP_WINDOW_LIMIT = 2_048
# the scales the OpenTelemetry SDKs produce: the only ones with a window
_MIN_EXP_SCALE, _MAX_EXP_SCALE = -10, 20
# The columns of dimensions remembered, bounded by their points: each holds its attribute
# column too (two references a point).
_COLUMNS_POINTS_LIMIT = 1_000_000
_NEVER_CACHED: dict[int, Any] = {}
_EMPTY: dict[str, Any] = {}
DEFAULT_NAMESPACE = "default"


class MetricInfo:
    """What is decided once per metric: its CloudWatch unit, whether it can be sent, and the
    bucket layout of its last explicit-bucket point (points of a metric share it)."""

    __slots__ = ("bounds", "decl_cache", "entry", "layout", "name", "unit", "valid")

    def __init__(self, name: str, unit: str, valid: bool) -> None:
        self.name = name
        self.unit = unit
        self.valid = valid
        self.entry = {"Name": name, "Unit": unit}
        self.decl_cache: dict[Hashable, DimensionSets | None] = {}
        self.bounds: Any = None
        self.layout: _Layout | None = None


class _Layout:
    """Edges and midpoints of buckets; open edges are -inf/+inf (clamped per point). `position`
    maps a midpoint back to its bucket (midpoints of sorted distinct bounds are distinct)."""

    __slots__ = ("lower", "mids", "position", "size", "start", "upper")

    def __init__(self, lower: list[float], upper: list[float]) -> None:
        self.lower = lower
        self.upper = upper
        self.mids = [(a + b) / 2 for a, b in zip(lower, upper, strict=True)]
        self.position = {m: i for i, m in enumerate(self.mids)}
        self.size = len(self.mids)
        # the index in `lower`/`upper` (and `position`'s) of the first bucket of `mids`
        self.start = 0

    @classmethod
    def window(cls, buckets: _ExpBuckets, start: int, size: int) -> _Layout:
        """The layout of `size` of an exponential scale's buckets from `start` on: its
        midpoints a slice, its edges and positions those of the whole window (shared)."""
        layout = cls.__new__(cls)
        layout.lower, layout.upper = buckets.lower, buckets.upper
        layout.position = buckets.position
        layout.mids = buckets.mids[start : start + size]
        layout.size = size
        layout.start = start
        return layout


class _ExpBuckets:
    """One exponential scale's buckets over a window of indices, widened as points need: bucket
    `i` holds (base**i, base**(i+1)] with base = 2**(2**-scale). Layouts of positive buckets
    are slices of it, so that a point's layout costs no arithmetic."""

    __slots__ = ("base", "factor", "lower", "mids", "position", "upper")

    def __init__(self, scale: int) -> None:
        self.factor = 2.0**-scale
        self.base = 0  # the bucket index of lower[0]
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.mids: list[float] = []
        self.position: dict[float, int] = {}

    def layout(self, offset: int, size: int) -> _Layout | None:
        """The layout of buckets offset .. offset+size-1; None when out of reach (edges
        that overflow or underflow, or a window grown too wide)."""
        start = offset - self.base
        if start < 0 or start + size > len(self.mids):
            if not self._cover(offset, offset + size):
                return None
            start = offset - self.base
        return _Layout.window(self, start, size)

    def _cover(self, lo: int, hi: int) -> bool:
        if self.mids:
            lo, hi = min(lo, self.base), max(hi, self.base + len(self.mids))
        lo, hi = lo - _EXP_WINDOW_MARGIN, hi + _EXP_WINDOW_MARGIN
        if hi - lo > _EXP_WINDOW_LIMIT:
            return False
        factor = self.factor
        try:
            edges = [2.0 ** (i * factor) for i in range(lo, hi + 1)]
        except OverflowError:
            return False
        mids = [(a + b) / 2 for a, b in pairwise(edges)]
        position = {m: i for i, m in enumerate(mids)}
        if len(position) != len(mids) or not edges[0]:
            return False  # edges underflowed to 0: midpoints not distinct
        self.base, self.mids, self.position = lo, mids, position
        self.lower, self.upper = edges[:-1], edges[1:]
        return True


class _Dims:
    """An attribute set, sanitised: root properties, dimension keys, a canonical key and
    (without declarations) its dimension sets. One object per distinct set (per encoder), so
    event groups are found by identity."""

    __slots__ = ("_json", "key", "keys", "props", "series", "sets")

    def __init__(self, props: dict[str, str], keys: tuple[str, ...]) -> None:
        self.props = props
        self.keys = keys
        self.key = tuple(sorted(props.items()))
        # `key` as bytes, for the delta state's keys: a bytes object keeps its hash, a tuple
        # of pairs is hashed anew at every lookup
        self.series = orjson.dumps(self.key)
        self.sets: DimensionSets | None = None
        self._json: bytes | None = None

    def json(self) -> bytes:
        """The properties as JSON members with a trailing comma (`"k":"v",`), or b""."""
        if self._json is None:
            self._json = orjson.dumps(self.props)[1:-1] + b"," if self.props else b""
        return self._json


class _Layer:
    """Values and metric infos by name: at most one value per name in an event."""

    __slots__ = ("infos", "values")

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.infos: dict[str, MetricInfo] = {}


class _Group(_Layer):
    """Metrics of one event-to-be, and its first layer (where nearly every value goes). A name
    already in a layer goes to the next one (two scopes emitting one name, split histograms),
    so each layer is written without overwriting."""

    __slots__ = ("deferred", "dims", "more", "namespace", "trace_ids", "ts")

    def __init__(self, dims: _Dims, ts: int, namespace: str) -> None:
        self.values = {}
        self.infos = {}
        self.dims = dims
        self.ts = ts
        self.namespace = namespace
        # the layers after the first (not the group itself: no reference cycle)
        self.more: list[_Layer] = []
        # exemplar trace ids, in order of arrival (a dict as an ordered set)
        self.trace_ids: dict[TraceId, None] | None = None
        # whether a layer holds a `Deferred` histogram value
        self.deferred = False

    def layers(self) -> list[_Layer]:
        return [self, *self.more]

    def add_again(self, info: MetricInfo, value: Any) -> None:
        """Add a name that the first layer already has."""
        name = info.name
        for layer in self.more:
            if name not in layer.values:
                break
        else:
            layer = _Layer()
            self.more.append(layer)
        layer.values[name] = value
        layer.infos[name] = info
        if type(value) is tuple:
            self.deferred = True


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
        self._canonical: dict[Hashable, _Dims] = {}
        self.by_identity: dict[int, tuple[Attributes, _Dims]] = {}
        self._res_tokens: dict[Hashable, int] = {}
        self._metric_cache: dict[tuple[str, str | None, bool], MetricInfo] = {}
        self._layouts: dict[tuple[float, ...], _Layout] = {}
        self._exp_buckets: dict[int, _ExpBuckets] = {}
        # (resource token, id of a column of attributes) -> (the column, its dimensions): a
        # reader's column object that recurs (the OTLP reader's cached ones) needs no lookup
        # per point. The entry holds the column, so its id is not reused meanwhile.
        self._dims_columns: dict[tuple[int, int], tuple[Sequence[Attributes], list[_Dims]]] = {}
        self._dims_columns_points = 0

    def batch(self, stable_attributes: bool = False) -> EmfBatch:
        """A batch for one export. `stable_attributes`: the reader's attribute mappings are
        immutable objects that recur across exports (the SDK's are: each data point carries
        its aggregation's mapping), so they can be cached by identity."""
        self.delta.tick()
        return EmfBatch(self, stable_attributes)

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
            return dims.sets
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
                self._forget_dims_columns()
            token = self._res_tokens[res_key] = len(self._res_tokens) + 1
        return token

    def dims(self, token: int, resource: Mapping[str, Any] | None, attrs: Attributes) -> _Dims:
        """`token` identifies `resource` (0 when resource attributes are not dimensions)."""
        try:
            items = attrs if type(attrs) is tuple else tuple(attrs.items())  # type: ignore[union-attr]
            key: Hashable = (token, items)
            found = self._dims_cache.get(key)
        except TypeError:  # unhashable attribute values (lists): not cached
            return self._new_dims(resource, attrs)
        if found is None:
            if len(self._dims_cache) > _CACHE_LIMIT:
                self._dims_cache.clear()
                self._canonical.clear()
                self.by_identity.clear()
                # they hold dimensions no longer canonical: events would split
                self._forget_dims_columns()
            found = self._dims_cache[key] = self._new_dims(resource, attrs)
        return found

    def dims_by_identity(
        self, token: int, resource: Mapping[str, Any] | None, attrs: Attributes
    ) -> _Dims:
        """As `dims`, remembering the mapping by identity: `by_identity[id(attrs)]` then
        finds it. The entry holds the mapping, so its id cannot be reused by another object
        while the entry exists. Only for token 0 (resource attributes are not dimensions)."""
        found = self.dims(token, resource, attrs)
        if len(self.by_identity) > _CACHE_LIMIT:
            self.by_identity.clear()
        self.by_identity[id(attrs)] = (attrs, found)
        return found

    def dims_column(
        self,
        token: int,
        column: Sequence[Attributes],
        compute: Callable[[Sequence[Attributes]], list[_Dims]],
    ) -> list[_Dims]:
        """The dimensions of each attribute set of `column` (`compute`d on first sight),
        remembered by the column's identity: for readers whose columns are immutable objects
        that recur (the OTLP reader's cached ones), so that their points need no lookup."""
        key = (token, id(column))
        found = self._dims_columns.get(key)
        if found is not None and found[0] is column:
            return found[1]
        dims = compute(column)
        if self._dims_columns_points + len(dims) > _COLUMNS_POINTS_LIMIT:
            self._forget_dims_columns()
        self._dims_columns_points += len(dims)
        self._dims_columns[key] = (column, dims)
        return dims

    def _forget_dims_columns(self) -> None:
        self._dims_columns.clear()
        self._dims_columns_points = 0

    def _new_dims(self, resource: Mapping[str, Any] | None, attrs: Attributes) -> _Dims:
        merged: dict[str, Any] = {}
        if resource and self.config.resource_to_telemetry_conversion:
            merged.update(resource)
        merged.update(attrs)
        renames = self.config.dimension_names
        props: dict[str, str] = {}
        keys: list[str] = []
        stats = self.stats
        for key, v in merged.items():
            k = renames.get(key, key) if renames else key
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
        dims = _Dims(props, tuple(keys))
        # One object per distinct attribute set, so that it can key the event groups.
        canonical = self._canonical.get(dims.key)
        if canonical is not None:
            return canonical
        if not self.config.metric_declarations:
            dims.sets = _rollup(dims.keys, self.config.dimension_rollup_option, ())
        self._canonical[dims.key] = dims
        return dims

    # -- per explicit-bucket layout ----------------------------------------------------------

    def exp_buckets(self, scale: int) -> _ExpBuckets | None:
        """The window of buckets of `scale`; None outside the scales SDKs produce (-10 to
        20), so that no input can make one window per scale."""
        if not _MIN_EXP_SCALE <= scale <= _MAX_EXP_SCALE:
            return None
        found = self._exp_buckets.get(scale)
        if found is None:
            found = self._exp_buckets[scale] = _ExpBuckets(scale)
        return found

    def layout(self, info: MetricInfo, bounds: Sequence[float]) -> _Layout:
        """The bucket layout for `bounds`, remembered on the metric (its points share it)."""
        if bounds is info.bounds:
            return info.layout  # type: ignore[return-value]
        if info.layout is not None and bounds == info.bounds:
            if isinstance(bounds, list | tuple):
                # the reader's new object for the same bounds (a new request): found by
                # identity from the next point on
                info.bounds = bounds
            return info.layout
        key = tuple(bounds)
        found = self._layouts.get(key)
        if found is None:
            if len(self._layouts) > _CACHE_LIMIT:
                self._layouts.clear()
            found = self._layouts[key] = _Layout([-math.inf, *key], [*key, math.inf])
        # a plain list: holding the reader's container would keep its message alive
        info.bounds = bounds if isinstance(bounds, list | tuple) else list(bounds)
        info.layout = found
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


def valid_namespace(namespace: str) -> bool:
    """CloudWatch namespaces: 1..255 ASCII characters, not starting with `AWS/`."""
    return (
        0 < len(namespace) <= MAX_NAME_LENGTH
        and namespace.isascii()
        and namespace.isprintable()
        and not namespace.startswith("AWS/")
    )


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

    def __init__(self, encoder: EmfEncoder, stable_attributes: bool = False) -> None:
        self._enc = encoder
        # Mappings that recur as the same objects are found by identity first (SDK data).
        stable = stable_attributes and not encoder.config.resource_to_telemetry_conversion
        self._by_id = encoder.by_identity if stable else _NEVER_CACHED
        self._dims = encoder.dims_by_identity if stable else encoder.dims
        self._group_columns: dict[tuple[int, int, int], tuple[list[_Dims], list[_Group]]] = {}
        self._directive_json: dict[tuple[Any, ...], bytes] = {}
        self._stats = encoder.stats
        self._delta = encoder.delta
        self._plain = not encoder.config.metric_declarations
        self._r2t = encoder.config.resource_to_telemetry_conversion
        # (context, group) in creation order: the output order
        self._groups: list[tuple[int, _Group]] = []
        # Groups by (context, time), then by attribute set; `_slot` is the one of the last
        # point's (context, time), which the next points nearly always share.
        self._slots: dict[tuple[int, int], dict[_Dims, _Group]] = {}
        self._slot: dict[_Dims, _Group] = {}
        self._slot_ts: int | None = None
        # (destination, namespace) pairs, numbered: group keys stay tuples of ints
        self._contexts: dict[tuple[Hashable, str], int] = {}
        self._context_dest: list[Hashable] = []
        self._resource: Mapping[str, Any] | None = None
        self._res_key: Hashable = ()
        self._res_series = b"[]"  # `_res_key` as bytes (see `_Dims.series`)
        self._res_token = 0
        self._namespace = encoder.config.namespace or DEFAULT_NAMESPACE
        self._ctx = self._context(None, self._namespace)

    # -- reader interface -------------------------------------------------------------------

    def resource(self, attrs: Mapping[str, Any] | None) -> None:
        """Start the points of a resource (its attributes select the destination)."""
        attrs = attrs or {}
        self._resource = attrs
        # hashable whatever the values (arrays): it keys the delta state
        self._res_key = tuple(sorted((k, attribute_text(v)) for k, v in attrs.items()))
        self._res_series = orjson.dumps(self._res_key)
        self._res_token = self._enc.resource_token(self._res_key) if self._r2t else 0
        if not self._enc.config.namespace:
            self._namespace = namespace_of(attrs)
            if not valid_namespace(self._namespace):
                self._stats.count(SANITIZED_VALUES, "invalid_namespace", detail=self._namespace)
                self._namespace = DEFAULT_NAMESPACE
        dest_of = self._enc.destination_of
        self._ctx = self._context(dest_of(attrs) if dest_of else None, self._namespace)
        self._slot_ts = None

    def _context(self, dest: Hashable, namespace: str) -> int:
        ctx = self._contexts.get((dest, namespace))
        if ctx is None:
            ctx = self._contexts[(dest, namespace)] = len(self._context_dest)
            self._context_dest.append(dest)
        return ctx

    def metric(self, name: str, unit: str | None, counter: bool = False) -> MetricInfo:
        info = self._enc.metric_info(name, unit, counter)
        if not info.valid:
            self._stats.count(DROPPED_POINTS, "invalid_metric_name", detail=name[:64])
        return info

    def gauge(
        self,
        info: MetricInfo,
        attrs: Attributes,
        ts: int,
        value: float,
        trace_ids: Iterable[TraceId] | None = None,
    ) -> None:
        if not info.valid:
            return
        a = abs(value)
        if not (MIN_MAGNITUDE <= a < _INT_SAFE or a == 0):
            value = self._value(value)  # type: ignore[assignment]
            if value is None:
                return
        entry = self._by_id.get(id(attrs))
        dims = self._dims(self._res_token, self._resource, attrs) if entry is None else entry[1]
        self._add(info, dims, ts, value, trace_ids)

    def sum(
        self,
        info: MetricInfo,
        attrs: Attributes,
        start: int,
        ts: int,
        value: float,
        cumulative: bool,
        trace_ids: Iterable[TraceId] | None = None,
    ) -> None:
        """A monotonic sum (non-monotonic ones are gauges: the reader sends them there)."""
        if not info.valid:
            return
        a = abs(value)
        if not (MIN_MAGNITUDE <= a < _INT_SAFE or a == 0):
            value = self._value(value)  # type: ignore[assignment]
            if value is None:
                return
        entry = self._by_id.get(id(attrs))
        dims = self._dims(self._res_token, self._resource, attrs) if entry is None else entry[1]
        if cumulative:
            delta = self._delta.number((self._res_series, info.name, dims.series), start, ts, value)
            if delta is None:
                return
            value = delta
        self._add(info, dims, ts, value, trace_ids)

    def histogram(
        self,
        info: MetricInfo,
        attrs: Attributes,
        start: int,
        ts: int,
        count: int,
        total: float,
        vmin: float | None,
        vmax: float | None,
        bounds: Sequence[float],
        counts: Sequence[int],
        cumulative: bool,
        trace_ids: Iterable[TraceId] | None = None,
        *,
        layout: _Layout | None = None,
    ) -> None:
        """An explicit-bucket histogram point as Values (midpoints of the non-empty buckets)
        and Counts. `layout` instead of `bounds`: buckets given by their edges (exponential
        histograms, already checked and converted). The value object is built when the
        event is rendered (see `_built`), or now when it may need splitting.
        """
        if not info.valid:
            return
        if layout is None:
            if (
                vmin is None
                or vmax is None
                or not (-MAX_MAGNITUDE <= total <= MAX_MAGNITUDE)
                or not (-MAX_MAGNITUDE <= vmin <= vmax <= MAX_MAGNITUDE)
            ):
                checked = self._extremes(total, vmin, vmax)
                if checked is None:
                    return
                vmin, vmax = checked
            layout = info.layout
            if bounds is not info.bounds or layout is None:
                layout = self._enc.layout(info, bounds)
            if len(counts) != layout.size:
                self._stats.count(DROPPED_POINTS, "malformed_histogram", detail=info.name)
                return
        entry = self._by_id.get(id(attrs))
        dims = self._dims(self._res_token, self._resource, attrs) if entry is None else entry[1]
        if cumulative:
            state = self._delta.histogram(
                (self._res_series, info.name, dims.series), start, ts, (count, total, tuple(counts))
            )
            if state is None:
                return
            count, total, counts = state
        if not count:
            return
        deferred = (layout, count, total, vmin, vmax, counts)
        if layout.size <= MAX_VALUES_PER_ARRAY:
            self._add(info, dims, ts, deferred, trace_ids)
            return
        # may need splitting, into several events: built now
        value = self._built_now(info, deferred)
        if type(value) is dict:
            self._add(info, dims, ts, value, trace_ids)
        elif value is not None:
            for obj in value:
                self._add(info, dims, ts, obj, trace_ids)

    def exp_histogram(
        self,
        info: MetricInfo,
        attrs: Attributes,
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
        trace_ids: Iterable[TraceId] | None = None,
    ) -> None:
        if not info.valid:
            return
        checked = self._extremes(total, vmin, vmax)
        if checked is None:
            return
        vmin, vmax = checked
        entry = self._by_id.get(id(attrs))
        dims = self._dims(self._res_token, self._resource, attrs) if entry is None else entry[1]
        if cumulative:
            state = self._delta.exp_histogram(
                (self._res_series, info.name, dims.series),
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
        layout = None
        window = None if zero_count or any(neg_counts) else self._enc.exp_buckets(scale)
        if window is not None:
            # positive buckets only (nearly always): a slice of the scale's window
            layout = window.layout(pos_offset, len(pos_counts))
            counts = pos_counts
        if layout is None:
            try:
                lower, upper, counts = _exponential_buckets(
                    scale, zero_count, pos_offset, pos_counts, neg_offset, neg_counts
                )
            except OverflowError:
                self._stats.count(DROPPED_POINTS, "out_of_range", detail=info.name)
                return
            layout = _Layout(lower, upper)
        self.histogram(
            info,
            attrs,
            0,
            ts,
            count,
            total,
            vmin,
            vmax,
            (),
            counts,
            False,
            trace_ids,
            layout=layout,
        )

    def summary(
        self,
        info: MetricInfo,
        attrs: Attributes,
        start: int,
        ts: int,
        count: int,
        total: float,
        quantiles: Sequence[tuple[float, float]],
    ) -> None:
        if not info.valid or self._extremes(total, None, None) is None:
            return
        dims = self._dims(self._res_token, self._resource, attrs)
        if self._enc.config.detailed_metrics:
            for q, v in quantiles:
                checked = self._value(v)
                if checked is not None:
                    qattrs = {**dict(attrs), "quantile": q}
                    qdims = self._dims(self._res_token, self._resource, qattrs)
                    self._add(info, qdims, ts, checked, None)
        # OTLP summaries are cumulative (count and sum since start).
        state = self._delta.summary(
            (self._res_series, info.name, dims.series), start, ts, (count, total)
        )
        if state is None or not state[0]:
            return
        count, total = state
        qmap = dict(quantiles)
        mean = total / count
        stats = [self._value(v) for v in (total, qmap.get(0.0, mean), qmap.get(1.0, mean))]
        if None in stats:
            return
        total, vmin, vmax = stats  # type: ignore[assignment]
        self._add(info, dims, ts, {"Count": count, "Sum": total, "Min": vmin, "Max": vmax}, None)

    # -- reader interface, a metric's points as objects -----------------------------------------
    # For readers whose points are objects with the fields of the OTel SDK's data points
    # (`attributes` a mapping, `start_time_unix_nano`, `time_unix_nano`, `value` or `count`,
    # `sum`, `min`, `max`, `explicit_bounds`, `bucket_counts`, and `exemplars`): a metric's
    # points in one call, with what is per metric looked up once and, for points whose
    # attributes are known by identity, the per-point methods' work done in the loop (one
    # Python call per point instead of three). Any other point goes through the per-point
    # method with the same arguments: the results are the same, point for point.

    def number_points(
        self,
        info: MetricInfo,
        points: Iterable[Any],
        cumulative: bool,
        monotonic: bool,
    ) -> None:
        """The points of a sum (`monotonic`: a counter) or, not monotonic, of a gauge."""
        if not info.valid:
            return
        by_id = self._by_id
        name = info.name
        number = self._delta.number if cumulative and monotonic else None
        res = self._res_series
        for p in points:
            value = p.value
            a = abs(value)
            entry = by_id.get(id(attrs := p.attributes or _EMPTY))
            if entry is None or not (MIN_MAGNITUDE <= a < _INT_SAFE or a == 0):
                trace_ids = exemplar_trace_ids(p.exemplars)
                if monotonic:
                    start = p.start_time_unix_nano
                    self.sum(info, attrs, start, p.time_unix_nano, value, cumulative, trace_ids)
                else:
                    self.gauge(info, attrs, p.time_unix_nano, value, trace_ids)
                continue
            dims = entry[1]
            ts = p.time_unix_nano
            if number is not None:
                value = number((res, name, dims.series), p.start_time_unix_nano, ts, value)
                if value is None:
                    continue
            # as `_add`, inlined
            slot = self._slot if ts == self._slot_ts else self._select(ts)
            group = slot.get(dims) or self._new_group(slot, dims, ts)
            values = group.values
            if name in values:
                group.add_again(info, value)
            else:
                values[name] = value
                group.infos[name] = info
            if p.exemplars:
                self._exemplars(group, p.exemplars)

    def histogram_points(
        self,
        info: MetricInfo,
        points: Iterable[Any],
        cumulative: bool,
    ) -> None:
        """The points of an explicit-bucket histogram."""
        if not info.valid:
            return
        by_id = self._by_id
        name = info.name
        delta = self._delta.histogram
        res = self._res_series
        # the metric's bucket layout, as the per-point method finds it (read again after it);
        # layouts that may need splitting go through the per-point method
        known, layout = info.bounds, info.layout
        size = -1 if layout is None or layout.size > MAX_VALUES_PER_ARRAY else layout.size
        for p in points:
            attrs = p.attributes or _EMPTY
            entry = by_id.get(id(attrs))
            count, total, vmin, vmax = p.count, p.sum, p.min, p.max
            bounds, counts = p.explicit_bounds, p.bucket_counts
            if (
                entry is None
                # the SDK gives each series its own tuple of the same bounds
                or (bounds is not known and bounds != known)
                or len(counts) != size
                or vmin is None
                or vmax is None
                or not (-MAX_MAGNITUDE <= total <= MAX_MAGNITUDE)
                or not (-MAX_MAGNITUDE <= vmin <= vmax <= MAX_MAGNITUDE)
            ):
                self.histogram(
                    info,
                    attrs,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    count,
                    total,
                    vmin,
                    vmax,
                    bounds,
                    counts,
                    cumulative,
                    exemplar_trace_ids(p.exemplars),
                )
                known, layout = info.bounds, info.layout
                size = -1 if layout is None or layout.size > MAX_VALUES_PER_ARRAY else layout.size
                continue
            dims = entry[1]
            ts = p.time_unix_nano
            if cumulative:
                state = delta(
                    (res, name, dims.series),
                    p.start_time_unix_nano,
                    ts,
                    (count, total, tuple(counts)),
                )
                if state is None:
                    continue
                count, total, counts = state
            if not count:
                continue
            # as `_add`, inlined
            slot = self._slot if ts == self._slot_ts else self._select(ts)
            group = slot.get(dims) or self._new_group(slot, dims, ts)
            values = group.values
            value = (layout, count, total, vmin, vmax, counts)
            if name in values:
                group.add_again(info, value)
            else:
                values[name] = value
                group.infos[name] = info
                group.deferred = True
            if p.exemplars:
                self._exemplars(group, p.exemplars)

    # -- reader interface, a metric's points at a time ------------------------------------------
    # The same results as the per-point methods, point for point (a metric whose points are
    # not all plain goes through them); each argument is a column: one item per point.
    # `recurring`: `attrs` is an immutable object that the reader passes again for the same
    # attribute sets (the OTLP reader's cached columns), so its dimensions are remembered by
    # its identity.

    def gauges(
        self,
        info: MetricInfo,
        attrs: Sequence[Attributes],
        times: Sequence[int],
        values: Sequence[float],
        *,
        recurring: bool = False,
        exemplars: Sequence[Sequence[Any]] | None = None,
    ) -> None:
        """The points of a gauge (or non-monotonic sum)."""
        if not info.valid:
            return
        if not _sendable(values):
            gauge = self.gauge
            each = _each(exemplars, len(values))
            for a, ts, value, ex in zip(attrs, times, values, each, strict=True):
                gauge(info, a, ts, value, exemplar_trace_ids(ex))
            return
        self._put_column(info, self._dims_column(attrs, recurring), times, values, exemplars)

    def sums(
        self,
        info: MetricInfo,
        attrs: Sequence[Attributes],
        starts: Sequence[int],
        times: Sequence[int],
        values: Sequence[float],
        cumulative: bool,
        *,
        recurring: bool = False,
        exemplars: Sequence[Sequence[Any]] | None = None,
    ) -> None:
        """The points of a monotonic sum (`starts` only matter when `cumulative`)."""
        if not info.valid:
            return
        if not _sendable(values):
            add_sum = self.sum
            each = _each(exemplars, len(values))
            for a, start, ts, value, ex in zip(attrs, starts, times, values, each, strict=True):
                add_sum(info, a, start, ts, value, cumulative, exemplar_trace_ids(ex))
            return
        dims = self._dims_column(attrs, recurring)
        if cumulative:
            number, res_key, name = self._delta.number, self._res_series, info.name
            deltas = [
                number((res_key, name, d.series), start, ts, value)
                for d, start, ts, value in zip(dims, starts, times, values, strict=True)
            ]
            self._put_column(info, dims, times, deltas, exemplars)
            return
        self._put_column(info, dims, times, values, exemplars)

    def histograms(
        self,
        info: MetricInfo,
        attrs: Sequence[Attributes],
        starts: Sequence[int],
        times: Sequence[int],
        counts: Sequence[int],
        sums: Sequence[float],
        mins: Sequence[float | None],
        maxs: Sequence[float | None],
        bounds: Sequence[float],
        buckets: Sequence[Sequence[int]],
        cumulative: bool,
        *,
        recurring: bool = False,
        exemplars: Sequence[Sequence[Any]] | None = None,
    ) -> None:
        """The points of an explicit-bucket histogram whose points share `bounds` (`buckets`:
        each point's bucket counts)."""
        if not (info.valid and attrs):
            return
        layout = info.layout
        if bounds is not info.bounds or layout is None:
            layout = self._enc.layout(info, bounds)
        size = layout.size
        if not (
            _plain_extremes(sums, mins, maxs)
            # rows that know their width (the OTLP reader's, unpacked as read) are not
            # unpacked to be measured
            and (
                getattr(buckets, "width", None) == size
                or list(map(len, buckets)).count(size) == len(buckets)
            )
        ):
            histogram = self.histogram
            each = _each(exemplars, len(counts))
            for a, start, ts, count, total, vmin, vmax, b, ex in zip(
                attrs, starts, times, counts, sums, mins, maxs, buckets, each, strict=True
            ):
                trace_ids = exemplar_trace_ids(ex)
                histogram(
                    info, a, start, ts, count, total, vmin, vmax, bounds, b, cumulative, trace_ids
                )
            return
        dims = self._dims_column(attrs, recurring)
        if cumulative:
            delta, res_key, name = self._delta.histogram, self._res_series, info.name
            states = [
                delta((res_key, name, d.series), start, ts, (count, total, tuple(b)))
                or (0, 0.0, ())  # nothing to send: no count
                for d, start, ts, count, total, b in zip(
                    dims, starts, times, counts, sums, buckets, strict=True
                )
            ]
            counts, sums, buckets = (list(c) for c in zip(*states, strict=True))
        deferred = [
            (layout, count, total, vmin, vmax, b) if count else None
            for count, total, vmin, vmax, b in zip(counts, sums, mins, maxs, buckets, strict=True)
        ]
        if size <= MAX_VALUES_PER_ARRAY:
            self._put_column(info, dims, times, deferred, exemplars, deferred=True)
            return
        build = self._built_now
        built = [d and build(info, d) for d in deferred]
        self._put_column(info, dims, times, built, exemplars)

    def _dims_column(self, attrs: Sequence[Attributes], recurring: bool) -> list[_Dims]:
        if recurring:
            return self._enc.dims_column(self._res_token, attrs, self._new_dims_column)
        return self._new_dims_column(attrs)

    def _new_dims_column(self, attrs: Sequence[Attributes]) -> list[_Dims]:
        by_id, dims, token, resource = self._by_id, self._dims, self._res_token, self._resource
        return [
            dims(token, resource, a) if (entry := by_id.get(id(a))) is None else entry[1]
            for a in attrs
        ]

    def _put_column(
        self,
        info: MetricInfo,
        dims: list[_Dims],
        times: Sequence[int],
        values: Sequence[Any],
        exemplars: Sequence[Sequence[Any]] | None = None,
        deferred: bool = False,
    ) -> None:
        """`values[i]` (None: nothing to send; a list: the parts of a split histogram) into
        the event of `dims[i]` at `times[i]`, with the trace ids of `exemplars[i]` (`deferred`:
        the values are `Deferred`). When every point has one value and the points share their
        time, their events are found a column at a time, and that column of events is reused
        by the next metrics of the same attribute sets."""
        if not values:
            return
        ts = times[0]
        if len(times) == times.count(ts) and None not in values and list not in map(type, values):
            name = info.name
            groups = self._groups_column(dims, ts)
            for group, value in zip(groups, values, strict=True):
                known = group.values
                if name in known:
                    group.add_again(info, value)
                else:
                    known[name] = value
                    group.infos[name] = info
                    if deferred:
                        group.deferred = True
            if exemplars is not None:
                for group, ex in zip(groups, exemplars, strict=True):
                    if ex:
                        self._exemplars(group, ex)
            return
        add = self._add
        for d, ts, value, ex in zip(
            dims, times, values, _each(exemplars, len(values)), strict=True
        ):
            if value is None:
                continue
            trace_ids = exemplar_trace_ids(ex)
            if type(value) is list:
                for part in value:
                    add(info, d, ts, part, trace_ids)
            else:
                add(info, d, ts, value, trace_ids)

    def _groups_column(self, dims: list[_Dims], ts_ns: int) -> list[_Group]:
        key = (self._ctx, ts_ns, id(dims))
        found = self._group_columns.get(key)
        if found is not None and found[0] is dims:
            return found[1]
        slot = self._slot if ts_ns == self._slot_ts else self._select(ts_ns)
        groups = [slot.get(d) or self._new_group(slot, d, ts_ns) for d in dims]
        # the entry holds `dims`, so that its id is not reused during the batch
        self._group_columns[key] = (dims, groups)
        return groups

    # -- output -----------------------------------------------------------------------------

    def events(self) -> dict[Hashable, list[LogEvent]]:
        """Render every group as EMF JSON, per destination, oldest first."""
        out: dict[Hashable, list[LogEvent]] = {}
        for ctx, group in self._groups:
            target = out.setdefault(self._context_dest[ctx], [])
            for layer in group.layers():
                for values, infos in _chunks(layer):
                    if group.deferred:
                        # built event by event: garbage once the event is rendered
                        values, infos = self._built(values, infos)
                    if values:
                        self._render(target, group, values, list(infos.values()))
        for events in out.values():
            events.sort(key=_event_time)
        return out

    def _built(
        self, values: dict[str, Any], infos: dict[str, MetricInfo]
    ) -> tuple[dict[str, Any], dict[str, MetricInfo]]:
        """An event's values (a layer's, or a chunk of them) with each `Deferred` one built
        into its value object (a copy, garbage once the event is rendered); the infos without
        those of points dropped then.

        A histogram's object: Values are the midpoints of its non-empty buckets, Counts their
        counts. Min/Max are the point's, tightened to the outermost non-empty buckets (after
        delta conversion the cumulative extremes are loose) and taken from them when absent;
        the outermost midpoints are clamped into [Min, Max] (open buckets need it). Over 100
        non-empty buckets, the object is a list of objects (`_split_buckets`)."""
        built = dict(values)
        dropped = []
        for name, value in values.items():
            if type(value) is not tuple:
                continue
            layout, count, total, vmin, vmax, counts = value
            mids = [*compress(layout.mids, counts)]
            if not mids:
                self._stats.count(DROPPED_POINTS, "malformed_histogram", detail=name)
                dropped.append(name)
                continue
            # the outermost non-empty buckets, found from their midpoints (no Python loop)
            position = layout.position
            first, last = position[mids[0]], position[mids[-1]]
            lower, upper = layout.lower, layout.upper
            lo, hi = lower[first], upper[last]
            if vmin is None or vmin < lo or vmax is None or vmax > hi:
                # absent, or loose: from the buckets
                if vmin is None or vmin < lo:
                    vmin = lo if lo != -math.inf else min(upper[first], total / count)
                if vmax is None or vmax > hi:
                    vmax = hi if hi != math.inf else max(lower[last], total / count)
                if vmin < -MAX_MAGNITUDE or vmax > MAX_MAGNITUDE:
                    self._stats.count(DROPPED_POINTS, "out_of_range", detail=name)
                    dropped.append(name)
                    continue
            # Only the outermost non-empty buckets reach past Min/Max (vmin >= lower[first]
            # and vmax <= upper[last] by now): clamp their midpoints.
            if first == last:
                mids[0] = (vmin + vmax) / 2
            else:
                b = upper[first]
                mids[0] = (vmin + (vmax if b > vmax else b)) / 2
                a = lower[last]
                mids[-1] = ((vmin if a < vmin else a) + vmax) / 2
            if vmin < MIN_MAGNITUDE or total < MIN_MAGNITUDE:
                # only then can a value or the sum be a tiny non-zero magnitude
                total, vmin, vmax = self._underflow(mids, total, vmin, vmax, name)
            nums = [*filter(None, counts)]
            if len(mids) <= MAX_VALUES_PER_ARRAY:
                built[name] = {
                    "Values": mids,
                    "Counts": nums,
                    "Count": count,
                    "Sum": total,
                    "Min": vmin,
                    "Max": vmax,
                }
            else:
                nonzero = [i for i, c in enumerate(counts, layout.start) if c]
                built[name] = _split_buckets(
                    mids, nums, count, total, vmin, vmax, lower, upper, nonzero
                )
        if dropped:
            for name in dropped:
                del built[name]
            infos = {n: i for n, i in infos.items() if n in built}
        return built, infos

    def _built_now(
        self, info: MetricInfo, deferred: Deferred
    ) -> dict[str, Any] | list[dict[str, Any]] | None:
        """A `Deferred` value's object (a list of them when split; None when dropped)."""
        built, _ = self._built({info.name: deferred}, {info.name: info})
        return built.get(info.name)

    def _render(
        self,
        target: list[LogEvent],
        group: _Group,
        values: dict[str, Any],
        infos: list[MetricInfo],
    ) -> None:
        dims = group.dims
        props = dims.props
        if not props.keys().isdisjoint(values):
            values, infos = self._without_conflicts(props, values, infos)
            if not infos:
                return
        # The event's JSON is orjson's rendering of {**props, **values, traceIds, _aws}, put
        # together from parts (the keys are distinct): the attributes' part is rendered once
        # per attribute set, the directives once per set of metrics, the values per event.
        parts = [b"{", dims.json(), orjson.dumps(values)[1:-1]]
        if group.trace_ids:
            # (deduplicated again as text: an int and its hex text are one trace)
            texts = [*dict.fromkeys(map(_trace_id_text, group.trace_ids))]
            parts += (b',"traceIds":', orjson.dumps(texts))
        directives = self._directives(group, infos)
        if directives:
            parts += (b',"_aws":{"Timestamp":%d,"CloudWatchMetrics":' % group.ts, directives, b"}")
        parts.append(b"}")
        data = b"".join(parts)
        if len(data) <= MAX_EVENT_BYTES:
            target.append((group.ts, data))
        elif len(infos) > 1:
            half = len(infos) // 2
            for part in (infos[:half], infos[half:]):
                self._render(target, group, {i.name: values[i.name] for i in part}, part)
        else:
            self._stats.count(DROPPED_POINTS, "event_too_large", detail=infos[0].name)

    def _directives(self, group: _Group, infos: list[MetricInfo]) -> bytes:
        """The JSON of the event's `CloudWatchMetrics` (empty when there is none)."""
        if not self._plain:
            declared = self._declared_directives(group, infos)
            return orjson.dumps(declared) if declared else b""
        key = (group.namespace, group.dims.sets, *infos)
        found = self._directive_json.get(key)
        if found is None:
            directive = {
                "Namespace": group.namespace,
                "Dimensions": group.dims.sets,
                "Metrics": [info.entry for info in infos],
            }
            found = self._directive_json[key] = orjson.dumps([directive])
        return found

    def _without_conflicts(
        self, props: dict[str, str], values: dict[str, Any], infos: list[MetricInfo]
    ) -> tuple[dict[str, Any], list[MetricInfo]]:
        """Drop metrics whose name is also a dimension of the event (counted)."""
        for name in props.keys() & values.keys():
            self._stats.count(DROPPED_POINTS, "name_conflict", detail=name)
        kept = [i for i in infos if i.name not in props]
        return {i.name: values[i.name] for i in kept}, kept

    def _declared_directives(self, group: _Group, infos: list[MetricInfo]) -> list[Any]:
        """One directive per distinct dimension sets; undeclared metrics stay properties."""
        by_sets: dict[DimensionSets, list[dict[str, str]]] = {}
        for info in infos:
            sets = self._enc.dimension_sets(info, group.dims)
            if sets is not None:
                by_sets.setdefault(sets, []).append(info.entry)
        return [
            {"Namespace": group.namespace, "Dimensions": sets, "Metrics": metrics}
            for sets, metrics in by_sets.items()
        ]

    # -- helpers ----------------------------------------------------------------------------

    def _add(
        self,
        info: MetricInfo,
        dims: _Dims,
        ts_ns: int,
        value: Any,
        trace_ids: Iterable[TraceId] | None,
    ) -> None:
        # Keyed by the nanosecond time (points of one collection share it); the event's
        # Timestamp is in milliseconds.
        slot = self._slot if ts_ns == self._slot_ts else self._select(ts_ns)
        group = slot.get(dims) or self._new_group(slot, dims, ts_ns)
        name = info.name
        values = group.values
        if name in values:
            group.add_again(info, value)
        else:
            values[name] = value
            group.infos[name] = info
            if type(value) is tuple:
                group.deferred = True
        if trace_ids:
            self._trace_ids(group, trace_ids)

    def _new_group(self, slot: dict[_Dims, _Group], dims: _Dims, ts_ns: int) -> _Group:
        group = slot[dims] = _Group(dims, ts_ns // 1_000_000, self._namespace)
        self._groups.append((self._ctx, group))
        return group

    def _select(self, ts_ns: int) -> dict[_Dims, _Group]:
        key = (self._ctx, ts_ns)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = {}
        self._slot, self._slot_ts = slot, ts_ns
        return slot

    def _exemplars(self, group: _Group, exemplars: Sequence[Any]) -> None:
        """A point's exemplars' trace ids into its event: none read once it has its fill."""
        known = group.trace_ids
        if known is None or len(known) < self._enc.config.max_trace_ids:
            self._trace_ids(group, map(_TRACE_ID, exemplars))

    def _trace_ids(self, group: _Group, trace_ids: Iterable[TraceId]) -> None:
        """Exemplar trace ids into the event (deduplicated, at most `max_trace_ids`; empty
        ones skipped). Read lazily: nothing once the event has its fill."""
        known = group.trace_ids
        if known is None:
            known = group.trace_ids = {}
        limit = self._enc.config.max_trace_ids
        if len(known) >= limit:
            return
        for tid in trace_ids:
            if tid and tid not in known:
                known[tid] = None
                if len(known) >= limit:
                    break

    def _underflow(
        self, values: list[float], total: float, vmin: float, vmax: float, name: str
    ) -> tuple[float, float, float]:
        """Magnitudes too small for CloudWatch become 0 (counted once per point)."""
        changed = False
        for i, v in enumerate(values):
            if 0 < abs(v) < MIN_MAGNITUDE:
                values[i] = 0.0
                changed = True
        stats = [total, vmin, vmax]
        for i, v in enumerate(stats):
            if 0 < abs(v) < MIN_MAGNITUDE:
                stats[i], changed = 0.0, True
        if changed:
            self._stats.count(SANITIZED_VALUES, "underflow", detail=name)
        return stats[0], stats[1], stats[2]

    def _value(self, value: float) -> float | None:
        a = abs(value)
        if MIN_MAGNITUDE <= a < _INT_SAFE or a == 0:
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

    def _extremes(
        self, total: float, vmin: float | None, vmax: float | None
    ) -> tuple[float | None, float | None] | None:
        """(min, max) with the SDK's +-inf "no data" as None; None if the sum, min or max
        cannot be sent (NaN, infinite sum, out of range)."""
        if vmin is not None and (vmin == math.inf or vmin == -math.inf):
            vmin = None
        if vmax is not None and (vmax == math.inf or vmax == -math.inf):
            vmax = None
        for v in (total, vmin, vmax):
            if v is None:
                continue
            if v != v:
                self._stats.count(DROPPED_POINTS, "nan")
                return None
            if abs(v) > MAX_MAGNITUDE:
                self._stats.count(DROPPED_POINTS, "inf" if math.isinf(v) else "out_of_range")
                return None
        if vmin is not None and vmax is not None and vmin > vmax:
            # contradicts itself: derive both from the buckets instead
            self._stats.count(SANITIZED_VALUES, "min_above_max")
            return None, None
        return vmin, vmax


def _sendable(values: Sequence[float]) -> bool:
    """Whether every value goes out as it is (see `EmfBatch._value`), in C loops: none NaN
    (which makes the sum NaN), none of magnitude 2**63 or more, none tiny but not zero."""
    total = sum(values)
    return (
        total == total
        and max(map(abs, values), default=0) < _INT_SAFE
        and min(map(abs, filter(None, values)), default=MIN_MAGNITUDE) >= MIN_MAGNITUDE
    )


def _in_range(values: Sequence[float]) -> bool:
    total = sum(values)  # NaN when any is
    return total == total and min(values) >= -MAX_MAGNITUDE and max(values) <= MAX_MAGNITUDE


def _plain_extremes(
    sums: Sequence[float], mins: Sequence[float | None], maxs: Sequence[float | None]
) -> bool:
    """Whether `EmfBatch._extremes` would pass every point's sum, min and max as they are:
    sums in range, and min <= max in range for every point or no min and max at all."""
    if not sums or not _in_range(sums):
        return not sums
    if mins.count(None) == len(mins) and maxs.count(None) == len(maxs):
        return True
    return (
        None not in mins
        and None not in maxs
        and _in_range(mins)  # type: ignore[arg-type]
        and _in_range(maxs)  # type: ignore[arg-type]
        and all(map(operator.le, mins, maxs))  # type: ignore[arg-type]
    )


def _chunks(layer: _Layer) -> Iterator[tuple[dict[str, Any], dict[str, MetricInfo]]]:
    """A layer's values and infos, at most 100 metrics at a time (a directive's limit)."""
    if len(layer.values) <= MAX_METRICS_PER_DIRECTIVE:
        yield layer.values, layer.infos
        return
    names = list(layer.values)
    for i in range(0, len(names), MAX_METRICS_PER_DIRECTIVE):
        chunk = names[i : i + MAX_METRICS_PER_DIRECTIVE]
        yield {n: layer.values[n] for n in chunk}, {n: layer.infos[n] for n in chunk}


def exemplar_trace_ids(exemplars: Sequence[Any] | None) -> Iterator[TraceId] | None:
    """The trace ids of a point's exemplars (objects with a `trace_id`: the SDK's int,
    OTLP's bytes), read as its event takes them; None without exemplars."""
    return map(_TRACE_ID, exemplars) if exemplars else None


def _each(column: Sequence[Any] | None, n: int) -> Iterable[Any]:
    """An optional column of `n` items: None for each when absent."""
    return column if column is not None else repeat(None, n)


def _trace_id_text(tid: TraceId) -> str:
    """A trace id as 32 hex digits (as OpenTelemetry writes them)."""
    if type(tid) is int:
        return format(tid, "032x")
    if type(tid) is bytes:
        return tid.hex()
    return tid  # type: ignore[return-value]


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
    nums: Sequence[int],
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
