"""The `pagerduty` exporter: alert log records -> PagerDuty Events API v2."""
