"""The `routewatch_alerts` connector: metrics in, `routewatch.alert` log records out."""
