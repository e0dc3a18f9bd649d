"""The `file` exporter: OTLP/JSON lines (or length-prefixed protobuf) in a file, with rotation."""
