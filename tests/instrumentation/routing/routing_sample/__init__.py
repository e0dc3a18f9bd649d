"""A routing app with no OpenTelemetry import, declared to routewatch through the environment."""
