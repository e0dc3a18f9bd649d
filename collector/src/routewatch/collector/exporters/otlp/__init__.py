"""The `otlp` exporter (also `otlp_grpc`): OTLP/gRPC to any OTLP backend."""
