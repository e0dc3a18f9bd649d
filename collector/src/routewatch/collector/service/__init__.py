"""The running collector: graph, lifecycle, internal telemetry."""

from routewatch.collector.service.graph import Graph, Node, build_graph
from routewatch.collector.service.service import Service

__all__ = ["Graph", "Node", "Service", "build_graph"]
