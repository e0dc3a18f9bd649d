"""The SNS channel: topic per severity, Publish through botocore with our own retries.

botocore's retries are set to a single attempt so that every attempt is ours: counted,
backed off with the exporter's settings, and recorded in the delivery history. Publish blocks,
so it runs in a worker thread (`asyncio.to_thread`) and the event loop keeps going.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config as BotocoreConfig

from routewatch.exporters.alerts import Alert
from routewatch.exporters.alerts.alert import SEVERITIES
from routewatch.exporters.delivery.channel import Channel
from routewatch.exporters.delivery.plan import Step
from routewatch.exporters.delivery.retry import Backoff, DeliveryError
from routewatch.exporters.sns.message import MessageOptions, publish_input

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestThrottled",
        "KMSThrottlingException",
    }
)
SERVER_CODES = frozenset({"InternalError", "InternalFailure", "ServiceUnavailable"})
_NETWORK_ERRORS = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.HTTPClientError,
)


@dataclass(frozen=True)
class SnsOptions:
    topic_arn: str = ""
    # severity -> topic; `topic_arn` is the fallback for severities not listed.
    topic_arns: Mapping[str, str] = field(default_factory=dict)
    region: str = ""
    endpoint: str = ""
    severities: tuple[str, ...] = SEVERITIES
    message: MessageOptions = field(default_factory=MessageOptions)
    backoff: Backoff = field(default_factory=Backoff)
    # Connect and read timeout of one Publish call; 0 means botocore's default.
    timeout: float = 10.0

    @property
    def client_region(self) -> str | None:
        """`region`, else the one of the topic ARNs when they agree (arn:aws:sns:REGION:...)."""
        if self.region:
            return self.region
        regions = {
            arn.split(":")[3]
            for arn in [self.topic_arn, *self.topic_arns.values()]
            if arn.count(":") >= 5
        }
        return regions.pop() if len(regions) == 1 else None

    def topic_for(self, severity: str) -> str | None:
        if severity not in self.severities:
            return None
        return self.topic_arns.get(severity) or self.topic_arn or None


def classify(err: Exception) -> DeliveryError:
    """A botocore failure as a retryable (throttling, 5xx, network) or final DeliveryError."""
    if isinstance(err, botocore.exceptions.ClientError):
        error = err.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        retryable = code in THROTTLING_CODES or code in SERVER_CODES or status >= 500
        return DeliveryError(
            f"{code or 'HTTP ' + str(status)}: {error.get('Message', '')}".rstrip(": "),
            retryable=retryable,
            status=status or None,
        )
    if isinstance(err, _NETWORK_ERRORS):
        return DeliveryError(f"network error: {err}", retryable=True)
    return DeliveryError(f"{type(err).__name__}: {err}", retryable=False)


class SnsNotifier(Channel):
    channel = "sns"

    def __init__(self, options: SnsOptions, **kwargs: Any) -> None:
        super().__init__(options.backoff, **kwargs)
        self.options = options
        self._client: Any = None
        self._client_lock = threading.Lock()

    def home(self, alert: Alert) -> str | None:
        return self.options.topic_for(alert.severity)

    def unknown_resolve_to(self, alert: Alert) -> str | None:
        return self.home(alert)

    def client(self) -> Any:
        """The botocore SNS client, created once (in a worker thread: it reads files)."""
        with self._client_lock:
            if self._client is None:
                timeouts = (
                    {"connect_timeout": self.options.timeout, "read_timeout": self.options.timeout}
                    if self.options.timeout
                    else {}
                )
                self._client = boto3.session.Session().client(
                    "sns",
                    region_name=self.options.client_region,
                    endpoint_url=self.options.endpoint or None,
                    config=BotocoreConfig(
                        retries={"total_max_attempts": 1, "mode": "standard"}, **timeouts
                    ),
                )
            return self._client

    def _publish(self, params: dict[str, Any]) -> str:
        try:
            response = self.client().publish(**params)
        except Exception as err:  # classified: every botocore failure becomes a DeliveryError
            raise classify(err) from None
        return str(response.get("MessageId", ""))

    async def send(self, alert: Alert, step: Step) -> tuple[str, bool]:
        fifo = step.destination.endswith(".fifo")
        publish = publish_input(alert, step, self.options.message, fifo)
        message_id = await asyncio.to_thread(self._publish, publish.kwargs(step.destination))
        return message_id, publish.truncated
