"""Limits of CloudWatch Embedded Metric Format, as the service enforces them.

See https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

MAX_METRICS_PER_DIRECTIVE = 100
MAX_DIMENSION_KEYS = 30
MAX_VALUES_PER_ARRAY = 100
MAX_NAME_LENGTH = 255
MAX_DIMENSION_VALUE_LENGTH = 1024
# Magnitudes CloudWatch accepts; zero is allowed.
MIN_MAGNITUDE = 8.515920e-109
MAX_MAGNITUDE = 1.174271e108
# One PutLogEvents event: the whole batch is 1,048,576 bytes including 26 bytes per event.
MAX_EVENT_BYTES = 1_048_576 - 26
