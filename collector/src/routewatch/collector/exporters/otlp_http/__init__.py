"""The `otlp_http` exporter: OTLP/HTTP (protobuf or JSON) to any OTLP backend."""
