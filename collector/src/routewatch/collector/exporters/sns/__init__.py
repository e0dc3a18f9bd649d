"""The `sns` exporter: alert log records -> Amazon SNS Publish."""
