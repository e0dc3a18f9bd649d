"""Alerting: rule evaluation on routing metrics, grouping, muting and the notification log.

Evaluation (windows, rules, alert state, dispatch decisions) never sends anything; the
`routewatch_alerts` connector's emit stage turns decisions into `routewatch.alert` log records.
"""
