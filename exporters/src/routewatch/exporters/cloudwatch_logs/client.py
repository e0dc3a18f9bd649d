"""Delivering one PutLogEvents batch: lazy group/stream creation and retries with backoff.

botocore's own retries are switched off (one attempt per call) so that every retry is ours:
counted, with our backoff and jitter, and with an injectable sleep and clock for tests.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from routewatch.exporters.cloudwatch_logs.batch import LogEvent

_LOGGER = logging.getLogger("routewatch.exporters.cloudwatch_logs")

EMF_FORMAT_HEADER = "x-amzn-logs-format"
EMF_FORMAT = "json/emf"

_RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
_ALREADY_EXISTS = "ResourceAlreadyExistsException"
_NOT_FOUND = "ResourceNotFoundException"

# Counter callback: (counter name, reason, amount).
CountFunc = Callable[[str, str, int], None]

REJECTED_EVENTS = "rejected_log_events"
RETRIES = "put_log_events_retries"
SENT_EVENTS = "sent_log_events"


class DeliveryError(Exception):
    """A batch could not be delivered; `retryable` says whether trying later may succeed."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(max, initial*m^n))."""

    initial_interval: float = 0.2
    multiplier: float = 2.0
    max_interval: float = 5.0
    max_attempts: int = 6

    def delay(self, attempt: int, rnd: Callable[[], float]) -> float:
        ceiling = min(self.max_interval, self.initial_interval * self.multiplier**attempt)
        return ceiling * rnd()


def new_logs_client(
    region: str | None = None,
    endpoint: str | None = None,
    emf: bool = True,
    session: boto3.session.Session | None = None,
) -> Any:
    """A botocore CloudWatch Logs client without its own retries; with `emf`, every
    PutLogEvents carries `x-amzn-logs-format: json/emf`."""
    session = session or boto3.session.Session()
    client = session.client(
        "logs",
        region_name=region or None,
        endpoint_url=endpoint or None,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    if emf:
        client.meta.events.register("before-sign.cloudwatch-logs.PutLogEvents", _add_emf_header)
    return client


def _add_emf_header(request: Any, **_: Any) -> None:
    request.headers[EMF_FORMAT_HEADER] = EMF_FORMAT


@dataclass
class LogsClient:
    """Sends batches to one account/region. Thread-safe (botocore clients are)."""

    client: Any
    retention_days: int = 0
    tags: Mapping[str, str] = field(default_factory=dict)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    count: CountFunc | None = None
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    logger: logging.Logger = _LOGGER
    _created: set[tuple[str, str]] = field(default_factory=set, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def put_batch(self, group: str, stream: str, events: Sequence[LogEvent]) -> None:
        """Deliver one planned batch (sorted, within limits), creating the group and stream
        when missing. Raises DeliveryError when it gives up."""
        request = {
            "logGroupName": group,
            "logStreamName": stream,
            "logEvents": [
                {"timestamp": ts, "message": message.decode("utf-8")} for ts, message in events
            ],
        }
        attempt = 0
        created = False
        while True:
            try:
                response = self.client.put_log_events(**request)
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if code == _NOT_FOUND and not created:
                    self.ensure(group, stream, force=True)
                    created = True
                    continue
                # Still not found right after creating it: eventual consistency, retry.
                retryable = code in _RETRYABLE_CODES or code == _NOT_FOUND
                if not retryable and status < 500 and status != 429:
                    raise DeliveryError(f"PutLogEvents to {group}/{stream}: {err}", False) from err
                last: Exception = err
                reason = code or str(status)
            except BotoCoreError as err:  # connection refused/reset, read timeout
                last = err
                reason = type(err).__name__
            else:
                self._count_sent(group, stream, len(events), response)
                return
            if attempt + 1 >= self.policy.max_attempts:
                raise DeliveryError(
                    f"PutLogEvents to {group}/{stream}: no more retries left: {last}", True
                ) from last
            self._tally(RETRIES, reason, 1)
            self.sleep(self.policy.delay(attempt, self.random))
            attempt += 1

    def ensure(self, group: str, stream: str, force: bool = False) -> None:
        """Create the group (with retention and tags) and the stream, if not done yet."""
        with self._lock:
            if not force and (group, stream) in self._created:
                return
        self._call_tolerating_exists(
            lambda: self.client.create_log_group(
                logGroupName=group, **({"tags": dict(self.tags)} if self.tags else {})
            ),
            created_group=group,
        )
        self._call_tolerating_exists(
            lambda: self.client.create_log_stream(logGroupName=group, logStreamName=stream)
        )
        with self._lock:
            self._created.add((group, stream))

    def _call_tolerating_exists(self, call: Callable[[], Any], created_group: str = "") -> None:
        attempt = 0
        while True:
            try:
                call()
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if code == _ALREADY_EXISTS:
                    return
                retryable = code in _RETRYABLE_CODES or status >= 500 or status == 429
                if not retryable or attempt + 1 >= self.policy.max_attempts:
                    raise DeliveryError(str(err), retryable) from err
            except BotoCoreError as err:
                if attempt + 1 >= self.policy.max_attempts:
                    raise DeliveryError(str(err), True) from err
            else:
                if created_group:
                    self._after_group_created(created_group)
                return
            self._tally(RETRIES, "create", 1)
            self.sleep(self.policy.delay(attempt, self.random))
            attempt += 1

    def _after_group_created(self, group: str) -> None:
        # Tags were passed at creation; the retention policy needs its own call.
        if self.retention_days:
            self._call_tolerating_exists(
                lambda: self.client.put_retention_policy(
                    logGroupName=group, retentionInDays=self.retention_days
                )
            )

    def _count_sent(self, group: str, stream: str, n: int, response: Mapping[str, Any]) -> None:
        rejected = response.get("rejectedLogEventsInfo") or {}
        too_new = (
            n - rejected["tooNewLogEventStartIndex"]
            if "tooNewLogEventStartIndex" in rejected
            else 0
        )
        too_old = rejected.get("tooOldLogEventEndIndex", -1) + 1
        expired = rejected.get("expiredLogEventEndIndex", -1) + 1
        for reason, k in (("too_new", too_new), ("too_old", too_old), ("expired", expired)):
            if k > 0:
                self._tally(REJECTED_EVENTS, reason, k)
                self.logger.warning(
                    "CloudWatch Logs rejected %d %s event(s) in %s/%s", k, reason, group, stream
                )
        self._tally(SENT_EVENTS, "", n - max(too_new, 0) - max(too_old, expired, 0))

    def _tally(self, counter: str, reason: str, n: int) -> None:
        if self.count is not None:
            try:
                self.count(counter, reason, n)
            except Exception:  # counting must not break delivery
                self.logger.debug("count callback failed", exc_info=True)
