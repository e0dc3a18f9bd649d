"""Amazon SNS: Publish parameters within SNS's limits, FIFO ids that keep a resolve apart
from its trigger, retries on throttling. No collector imports: the `sns` collector exporter
and `routewatch alerts send-test` are thin layers over this core."""

from routewatch.exporters.sns.message import (
    MAX_ATTRIBUTE_NAME,
    MAX_FIFO_ID,
    MAX_MESSAGE_BYTES,
    MAX_SUBJECT,
    MessageOptions,
    PublishInput,
    attribute_name_error,
    fifo_id,
    publish_input,
    publish_size,
    sanitize_subject,
)
from routewatch.exporters.sns.publisher import SnsNotifier, SnsOptions, classify

__all__ = [
    "MAX_ATTRIBUTE_NAME",
    "MAX_FIFO_ID",
    "MAX_MESSAGE_BYTES",
    "MAX_SUBJECT",
    "MessageOptions",
    "PublishInput",
    "SnsNotifier",
    "SnsOptions",
    "attribute_name_error",
    "classify",
    "fifo_id",
    "publish_input",
    "publish_size",
    "sanitize_subject",
]
