"""The workspace installs its three distributions and the instrumentor entry point."""

from importlib.metadata import entry_points


def test_three_distributions_import() -> None:
    import routewatch.collector
    import routewatch.exporters
    import routewatch.instrumentation

    assert routewatch.instrumentation.RoutewatchInstrumentor is not None
    assert routewatch.exporters and routewatch.collector


def test_routewatch_is_a_namespace_package() -> None:
    import routewatch

    assert getattr(routewatch, "__file__", None) is None
    assert len(list(routewatch.__path__)) == 3


def test_instrumentor_entry_point_is_registered() -> None:
    eps = entry_points(group="opentelemetry_instrumentor", name="routewatch")
    assert [ep.value for ep in eps] == ["routewatch.instrumentation:RoutewatchInstrumentor"]
