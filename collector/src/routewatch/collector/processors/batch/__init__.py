"""The `batch` processor."""
