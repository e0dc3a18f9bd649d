"""Permanent versus retryable errors, as the Go collector's `consumererror` package splits them.

Receivers map them to wire codes (permanent -> HTTP 400 / gRPC INVALID_ARGUMENT; retryable ->
HTTP 503 or 429 with Retry-After / gRPC UNAVAILABLE with RetryInfo). The exporter helper drops
permanent errors (counted and logged) and retries everything else.
"""

from __future__ import annotations


class PermanentError(Exception):
    """Data that can never be accepted: do not retry."""


class RetryableError(Exception):
    """Try again later; `retry_after` (seconds) when the peer said how long to wait."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ThrottledError(RetryableError):
    """The peer throttled us (HTTP 429, ThrottlingException): honour `retry_after`."""


class ConfigError(ValueError):
    """A configuration error; the message names the key path (`exporters::otlp: ...`)."""


def is_permanent(err: BaseException) -> bool:
    return isinstance(err, PermanentError)


class PartialSuccessError(Exception):
    """The consumer accepted part of the data and rejected `rejected` items for good.

    Not an error to retry: receivers answer success with OTLP partial success
    (`rejected_spans`/`rejected_data_points`/`rejected_log_records` + `error_message`), as
    the OTLP specification asks, and count the rejected items as refused.
    """

    def __init__(self, rejected: int, message: str) -> None:
        super().__init__(message)
        self.rejected = rejected
        self.message = message
