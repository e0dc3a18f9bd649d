"""The result of one delivery attempt sequence: what the history records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# delivered: the channel accepted it; failed: refused (400) or retries ran out;
# dropped: not sendable at all (no fingerprint); filtered: not for this channel (severities).
Outcome = Literal["delivered", "failed", "dropped", "filtered"]


@dataclass(frozen=True)
class DeliveryResult:
    fingerprint: str
    alertname: str
    status: str  # the alert's status: firing | resolved
    severity: str
    # trigger | resolve (what the channel was told), "" when nothing was sent.
    action: str
    # Where it went: the SNS topic ARN, or the PagerDuty URL (never the routing key).
    destination: str
    outcome: Outcome
    attempts: int = 0
    error: str = ""
    latency_s: float = 0.0
    # PagerDuty dedup_key or SNS MessageId.
    remote_id: str = ""
    notification_id: str = ""
    # The payload was shrunk to fit the channel's size limit (and says so).
    truncated: bool = False
    # A failure that a later try may fix (429, 5xx, network), as opposed to a refusal (400).
    retryable: bool = False
    # When the delivery finished (epoch seconds, from the channel's wall clock).
    time: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome in ("delivered", "filtered")
