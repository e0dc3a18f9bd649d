"""The `debug` exporter: prints what flows through a pipeline (Go's debugexporter)."""
