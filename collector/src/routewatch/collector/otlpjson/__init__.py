"""OTLP/JSON encoding and decoding of the OTLP protobuf messages."""

from routewatch.collector.otlpjson.decode import OtlpJsonError, decode
from routewatch.collector.otlpjson.encode import encode, to_dict

__all__ = ["OtlpJsonError", "decode", "encode", "to_dict"]
