"""The `awsemf` exporter: OTLP metrics to CloudWatch EMF, with otelcol-contrib's options."""

from routewatch.collector.exporters.awsemf.config import Config
from routewatch.collector.exporters.awsemf.factory import FACTORY, TYPE, create_default_config

__all__ = ["FACTORY", "TYPE", "Config", "create_default_config"]
