"""OTLP/JSON: property round trips proto -> JSON -> proto for every request type (every
field the descriptors have, so every metric point type), the encoder checked against
protobuf's own proto3 JSON parser (after turning hex ids back into base64), and the
decoder's leniency and errors."""

from __future__ import annotations

import base64
import math
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from routewatch.collector import otlpjson
from routewatch.collector.component import Signal
from routewatch.collector.otlpjson.schema import ID_FIELDS

REQUEST_TYPES = [ExportTraceServiceRequest, ExportMetricsServiceRequest, ExportLogsServiceRequest]
_ID_LENGTH = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}
_INT_RANGES = {
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
}


def _single(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any] | None:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return None if depth <= 0 else kwargs_of(field.message_type, depth - 1)
    if field.type in _INT_RANGES:
        low, high = _INT_RANGES[field.type]
        return st.integers(low, high)
    if field.type == FieldDescriptor.TYPE_DOUBLE:
        return st.floats(allow_nan=False)  # NaN != NaN: tested on its own below
    if field.type == FieldDescriptor.TYPE_STRING:
        return st.text(max_size=8)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_ENUM:
        return st.one_of(
            st.sampled_from([v.number for v in field.enum_type.values]), st.integers(0, 99)
        )
    if field.name in ID_FIELDS:
        length = _ID_LENGTH.get(field.name, 16)
        return st.one_of(st.just(b""), st.binary(min_size=length, max_size=length))
    return st.binary(max_size=8)


def kwargs_of(descriptor: Descriptor, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        single = _single(field, depth)
        if single is None:
            continue
        optional[field.name] = st.lists(single, max_size=2) if field.is_repeated else single
    return st.fixed_dictionaries({}, optional=optional)


def requests(message_type: Any) -> st.SearchStrategy[Any]:
    return kwargs_of(message_type.DESCRIPTOR, 9).map(lambda kw: message_type(**kw))


PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("message_type", REQUEST_TYPES, ids=lambda t: t.__name__)
def test_round_trip_proto_json_proto(message_type: Any) -> None:
    @PROPERTY
    @given(requests(message_type))
    def check(message: Any) -> None:
        assert otlpjson.decode(otlpjson.encode(message), message_type) == message

    check()


def _ids_to_base64(node: Any) -> Any:
    """OTLP/JSON -> proto3 JSON: hex ids become base64 (the only difference left)."""
    if isinstance(node, list):
        return [_ids_to_base64(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
            out[key] = base64.b64encode(bytes.fromhex(value)).decode()
        else:
            out[key] = _ids_to_base64(value)
    return out


@pytest.mark.parametrize("message_type", REQUEST_TYPES, ids=lambda t: t.__name__)
def test_encoder_agrees_with_protobufs_json_parser(message_type: Any) -> None:
    @PROPERTY
    @given(requests(message_type))
    def check(message: Any) -> None:
        doc = _ids_to_base64(orjson.loads(otlpjson.encode(message)))
        assert json_format.ParseDict(doc, message_type()) == message

    check()


@pytest.mark.parametrize("message_type", REQUEST_TYPES, ids=lambda t: t.__name__)
def test_decoder_reads_protobufs_json_after_id_fixing(message_type: Any) -> None:
    """json_format writes base64 ids and enum names; with the ids made hex we read it."""

    @PROPERTY
    @given(requests(message_type))
    def check(message: Any) -> None:
        doc = json_format.MessageToDict(message)
        _base64_ids_to_hex(doc)
        assert otlpjson.decode(orjson.dumps(doc), message_type) == message

    check()


def _base64_ids_to_hex(node: Any) -> None:
    if isinstance(node, list):
        for v in node:
            _base64_ids_to_hex(v)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _base64_ids_to_hex(value)


def test_decoder_is_lenient_as_the_go_collector() -> None:
    doc = {
        "resource_spans": [  # snake_case keys
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "s", "futureField": 1},
                        "spans": [
                            {
                                "traceId": "5B8EFFF798038103D269B633813FC60C",  # upper-case hex
                                "span_id": "eee19b7ec3c1b174",
                                "parentSpanId": "",
                                "name": "x",
                                "kind": "SPAN_KIND_CLIENT",  # enum name
                                "startTimeUnixNano": 1544712660000000000,  # number
                                "endTimeUnixNano": "1544712661000000000",  # string
                                "droppedAttributesCount": "3",
                                "status": {"code": 2, "message": None},  # null = unset
                                "attributes": [
                                    {"key": "i", "value": {"intValue": "-42"}},
                                    {"key": "d", "value": {"doubleValue": "Infinity"}},
                                    {"key": "b", "value": {"bytesValue": "AQID"}},
                                    {"key": "u", "value": {"bytes_value": "-_8"}},  # url-safe
                                    {
                                        "key": "l",
                                        "value": {
                                            "kvlistValue": {
                                                "values": [
                                                    {
                                                        "key": "arr",
                                                        "value": {
                                                            "arrayValue": {
                                                                "values": [
                                                                    {"boolValue": True},
                                                                    {"intValue": 7},
                                                                ]
                                                            }
                                                        },
                                                    }
                                                ]
                                            }
                                        },
                                    },
                                ],
                                "unknownThing": {"nested": [1, 2, 3]},
                            }
                        ],
                    }
                ],
            }
        ],
        "extra": True,
    }
    request = otlpjson.decode(orjson.dumps(doc), ExportTraceServiceRequest)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id == bytes.fromhex("5b8efff798038103d269b633813fc60c")
    assert span.span_id == bytes.fromhex("eee19b7ec3c1b174")
    assert span.kind == 3
    assert span.start_time_unix_nano == 1544712660000000000
    assert span.end_time_unix_nano == 1544712661000000000
    assert span.dropped_attributes_count == 3
    assert span.status.code == 2 and span.status.message == ""
    attrs = {kv.key: kv.value for kv in span.attributes}
    assert attrs["i"].int_value == -42
    assert attrs["d"].double_value == math.inf
    assert attrs["b"].bytes_value == b"\x01\x02\x03"
    assert attrs["u"].bytes_value == b"\xfb\xff"
    arr = attrs["l"].kvlist_value.values[0].value.array_value.values
    assert arr[0].bool_value is True and arr[1].int_value == 7


def test_nan_and_infinities_round_trip() -> None:
    request = ExportMetricsServiceRequest(
        resource_metrics=[
            {
                "scope_metrics": [
                    {
                        "metrics": [
                            {
                                "name": "g",
                                "gauge": {
                                    "data_points": [
                                        {"as_double": math.nan},
                                        {"as_double": -math.inf},
                                    ]
                                },
                            }
                        ]
                    }
                ]
            }
        ]
    )
    encoded = otlpjson.encode(request)
    assert b'"asDouble":"NaN"' in encoded and b'"asDouble":"-Infinity"' in encoded
    points = otlpjson.decode(encoded, ExportMetricsServiceRequest).resource_metrics[0]
    values = [p.as_double for p in points.scope_metrics[0].metrics[0].gauge.data_points]
    assert math.isnan(values[0]) and values[1] == -math.inf


def test_encoder_writes_the_otlp_json_forms() -> None:
    request = ExportTraceServiceRequest(
        resource_spans=[
            {
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": bytes.fromhex("5b8efff798038103d269b633813fc60c"),
                                "span_id": bytes.fromhex("eee19b7ec3c1b174"),
                                "kind": 2,
                                "start_time_unix_nano": 1544712660000000000,
                                "attributes": [{"key": "b", "value": {"bytes_value": b"\x01\x02"}}],
                            }
                        ]
                    }
                ]
            }
        ]
    )
    span = orjson.loads(otlpjson.encode(request))["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span == {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "kind": 2,
        "startTimeUnixNano": "1544712660000000000",
        "attributes": [{"key": "b", "value": {"bytesValue": "AQI="}}],
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "invalid JSON"),
        (b"[1]", "expected an object, got an array"),
        (b'{"resourceSpans": 3}', "resourceSpans: expected an array, got an integer"),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abcd"}]}]}]}',
            "resourceSpans[0].scopeSpans[0].spans[0].traceId: id 'abcd' must be 32 hex digits",
        ),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"zz00000000000000"}]}]}]}',
            "spans[0].spanId: invalid hex id",
        ),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":5}]}]}]}',
            "spans[0].name: expected a string, got an integer",
        ),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}',
            "startTimeUnixNano: invalid integer 'soon'",
        ),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"-5"}]}]}]}',
            "invalid value",
        ),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]}',
            "kind: unknown SpanKind value 'SPAN_KIND_NOPE'",
        ),
        (
            b'{"resourceSpans":[{"resource":{"attributes":[{"value":{"bytesValue":"%%"}}]}}]}',
            "resourceSpans[0].resource.attributes[0].value.bytesValue: invalid base64",
        ),
        (
            b'{"resourceSpans":[{"resource":{"attributes":[{"key":"a","value":{"intValue":"1e3"}}]}}]}',
            "resourceSpans[0].resource.attributes[0].value.intValue: invalid integer '1e3'",
        ),
        (
            b'{"resourceSpans":[{"resource":{"attributes":[{"key":"a","value":{"boolValue":1}}]}}]}',
            "attributes[0].value.boolValue: expected a boolean, got an integer",
        ),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"status":{"code":true}}]}]}]}',
            "status.code: expected an integer or a StatusCode name, got a boolean",
        ),
    ],
)
def test_decoder_errors_name_the_path(body: bytes, message: str) -> None:
    with pytest.raises(otlpjson.OtlpJsonError) as caught:
        otlpjson.decode(body, ExportTraceServiceRequest)
    assert message in str(caught.value)


def test_every_metric_point_type_round_trips(sdk_data: Any) -> None:
    """Gauge, sum, histogram and exponential histogram from the SDK, plus a summary."""
    request = ExportMetricsServiceRequest()
    request.CopyFrom(sdk_data.requests[Signal.METRICS])
    kinds = {m.WhichOneof("data") for m in request.resource_metrics[0].scope_metrics[0].metrics}
    assert kinds == {"gauge", "sum", "histogram", "exponential_histogram"}
    request.resource_metrics[0].scope_metrics[0].metrics.add(
        name="latency.summary",
        summary={
            "data_points": [
                {
                    "count": 3,
                    "sum": 1.5,
                    "quantile_values": [{"quantile": 0.99, "value": 1.2}],
                    "start_time_unix_nano": 1,
                    "time_unix_nano": 2,
                }
            ]
        },
    )
    assert otlpjson.decode(otlpjson.encode(request), ExportMetricsServiceRequest) == request


def test_attribute_fast_paths_keep_newer_key_value_fields() -> None:
    request = ExportLogsServiceRequest(
        resource_logs=[
            {
                "resource": {
                    "attributes": [
                        {"key": "", "value": {"string_value": "x"}, "key_strindex": 3},
                        {"key": "k", "value": {"int_value": -(2**63)}},
                        {"key": "b", "value": {"bool_value": False}},
                    ]
                }
            }
        ]
    )
    encoded = otlpjson.encode(request)
    assert b'"keyStrindex":3' in encoded
    assert b'{"key":"k","value":{"intValue":"-9223372036854775808"}}' in encoded
    assert otlpjson.decode(encoded, ExportLogsServiceRequest) == request
