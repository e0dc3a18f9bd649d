"""`sns` exporter settings.

```yaml
exporters:
  sns:
    topic_arns:                      # one topic per severity (as the original system had)
      critical: arn:aws:sns:eu-west-1:123456789012:prod-hybrid-routing-critical-alerts
      error: arn:aws:sns:eu-west-1:123456789012:prod-hybrid-routing-critical-alerts
      warning: arn:aws:sns:eu-west-1:123456789012:prod-hybrid-routing-warning-alerts
      info: arn:aws:sns:eu-west-1:123456789012:prod-hybrid-routing-info-alerts
    # topic_arn: arn:...             # or one topic for all (the fallback for unlisted ones)
    region: eu-west-1
    severities: [critical, error, warning, info]   # default: all
    message_format: json             # json (the alert) | text (message_template)
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from routewatch.collector.exporterhelper import ExporterHelperConfig
from routewatch.exporters.alerts.alert import SEVERITIES
from routewatch.exporters.sns import attribute_name_error
from routewatch.exporters.sns.message import DEFAULT_SUBJECT, DEFAULT_TEXT

_TOPIC_ARN = re.compile(r"^arn:aws[a-z\-]*:sns:[a-z0-9\-]*:\d{12}:[A-Za-z0-9_\-]{1,256}(\.fifo)?$")
# Set by the exporter itself; a configured attribute must not shadow them.
RESERVED_ATTRIBUTES = ("severity", "alertname", "status", "route", "truncated")


@dataclass
class Config(ExporterHelperConfig):
    topic_arn: str = ""
    # severity -> topic ARN; `topic_arn` is used for a severity not listed.
    topic_arns: dict[str, str] = field(default_factory=dict)
    # Empty: the topics' region (from their ARNs), else botocore's (AWS_REGION, the profile).
    region: str = ""
    # Empty: the AWS endpoint of the region (tests and LocalStack set their own).
    endpoint: str = ""
    severities: list[str] = field(default_factory=lambda: list(SEVERITIES))
    message_format: Literal["json", "text"] = "json"
    # For `message_format: text`: `{placeholder}` template over the alert.
    message_template: str = DEFAULT_TEXT
    # Cleaned to printable ASCII, at most 99 characters.
    subject_template: str = DEFAULT_SUBJECT
    # Extra message attributes: name -> template (empty results are left out).
    message_attributes: dict[str, str] = field(default_factory=dict)
    # A `file_storage` extension id: keep the delivery history across restarts.
    history_storage: str | None = None

    def validate(self) -> None:
        super().validate()
        if not self.topic_arn and not self.topic_arns:
            raise ValueError("topic_arn or topic_arns is required")
        for where, arn in [("topic_arn", self.topic_arn)] + [
            (f"topic_arns::{k}", v) for k, v in self.topic_arns.items()
        ]:
            if arn and not _TOPIC_ARN.match(arn):
                raise ValueError(f"{where}: {arn!r} is not an SNS topic ARN")
        for severity in list(self.topic_arns) + list(self.severities):
            if severity not in SEVERITIES:
                raise ValueError(
                    f"unknown severity {severity!r}, expected one of " + ", ".join(SEVERITIES)
                )
        if not self.topic_arn:
            missing = [s for s in self.severities if s not in self.topic_arns]
            if missing:
                raise ValueError(
                    f"topic_arns has no topic for severity {missing[0]!r}: add one, set "
                    "topic_arn as the fallback, or leave it out of severities"
                )
        if self.message_format == "text" and not self.message_template.strip():
            raise ValueError("message_template must not be empty with message_format: text")
        for name in self.message_attributes:
            problem = attribute_name_error(name)
            if problem:
                raise ValueError(f"message_attributes::{name}: name {problem}")
            if name in RESERVED_ATTRIBUTES:
                raise ValueError(f"message_attributes::{name}: set by the exporter itself")
