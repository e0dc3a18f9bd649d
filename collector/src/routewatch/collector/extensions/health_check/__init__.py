"""The `health_check` extension."""
