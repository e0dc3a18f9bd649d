"""CloudWatch Embedded Metric Format: one core (`encode`) fed by an SDK reader and an OTLP
reader, used by the SDK exporter here and by the collector's `awsemf` exporter.

What goes out, and the decisions behind it:

- One event per (destination, timestamp, attribute set): metric values and attribute values
  at the root, `_aws.CloudWatchMetrics` with one directive (per distinct dimension sets when
  `metric_declarations` are used; undeclared metrics stay in the event as plain properties).
- Gauges and non-monotonic sums as numbers; monotonic sums as deltas (cumulative ones
  converted, see `delta`); explicit-bucket and exponential histograms as `{Values, Counts,
  Count, Sum, Min, Max}` with the midpoints of the non-empty buckets (outermost ones clamped
  into [Min, Max]); summaries as `{Count, Sum, Min, Max}` (quantiles 0 and 1), plus one metric
  per quantile with a `quantile` dimension when `detailed_metrics` is set.
- Limits are kept by splitting: 100 metrics per event, 100 values per histogram object (the
  parts of one point go to several events; their Counts and Sums add up), 1,048,550 bytes
  per event. More than 30 dimension keys: the first 30 by name are the dimension set and the
  rest stay as properties (counted).
- Invalid values are dropped (NaN, infinities, beyond 1.17e108) or zeroed (below 8.5e-109);
  invalid dimensions stay properties; every case is counted in `Stats` under
  `dropped_points`, `sanitized_values` or `delta_series_evicted` with a reason, and logged
  once per reason.
- Exemplar trace ids go to the root property `traceIds` (at most 10 per event), so a Logs
  Insights query can go from an event to its traces:
  `filter ispresent(traceIds.0) | fields traceIds.0, hybrid_routing.route`.
- Units: UCUM to CloudWatch (`s` Seconds, `ms` Milliseconds, `By` Bytes, `{token}` Count,
  `1` Count for counters and None otherwise, `%` Percent, `USD` None); `metric_descriptors`
  override them.
"""

from routewatch.exporters.emf.config import (
    DimensionRollup,
    EmfConfig,
    LabelMatcher,
    MetricDeclaration,
    MetricDescriptor,
)
from routewatch.exporters.emf.delta import DeltaTracker
from routewatch.exporters.emf.destination import Destinations, fill_placeholders
from routewatch.exporters.emf.encode import EmfBatch, EmfEncoder, LogEvent
from routewatch.exporters.emf.otlp_reader import (
    MalformedRequestError,
    read_otlp_metrics,
    read_otlp_metrics_bytes,
)
from routewatch.exporters.emf.sdk_exporter import CloudWatchEMFMetricExporter
from routewatch.exporters.emf.sdk_reader import read_sdk_metrics
from routewatch.exporters.emf.stats import Stats

__all__ = [
    "CloudWatchEMFMetricExporter",
    "DeltaTracker",
    "Destinations",
    "DimensionRollup",
    "EmfBatch",
    "EmfConfig",
    "EmfEncoder",
    "LabelMatcher",
    "LogEvent",
    "MalformedRequestError",
    "MetricDeclaration",
    "MetricDescriptor",
    "Stats",
    "fill_placeholders",
    "read_otlp_metrics",
    "read_otlp_metrics_bytes",
    "read_sdk_metrics",
]
