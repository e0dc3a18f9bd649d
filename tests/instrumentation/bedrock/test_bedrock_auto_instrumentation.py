"""Under `opentelemetry-instrument`, with opentelemetry-instrumentation-botocore installed too
(both are loaded from their entry points): one span per Bedrock call, routewatch's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from routewatch.collector.devservers.bedrock import BedrockServer

APP = """
import boto3
from botocore.config import Config
import os
client = boto3.client(
    "bedrock-runtime", endpoint_url=os.environ["BEDROCK_URL"], region_name="us-east-1",
    aws_access_key_id="a", aws_secret_access_key="b",
    config=Config(retries={"total_max_attempts": 1}),
)
messages = [{"role": "user", "content": [{"text": "Hi"}]}]
client.converse(modelId="us.anthropic.claude-3-5-sonnet-20240620-v1:0", messages=messages)
list(client.converse_stream(modelId="amazon.nova-micro-v1:0", messages=messages)["stream"])
"""


def _console_spans(output: str) -> list[dict[str, Any]]:
    decoder, spans, index = json.JSONDecoder(), [], 0
    while (start := output.find("{", index)) != -1:
        span, index = decoder.raw_decode(output, start)
        spans.append(span)
    return spans


def test_one_span_per_call_under_opentelemetry_instrument(server: BedrockServer) -> None:
    command = [
        str(Path(sys.executable).with_name("opentelemetry-instrument")),
        sys.executable,
        "-c",
        textwrap.dedent(APP),
    ]
    env = {
        **os.environ,
        "BEDROCK_URL": server.url,
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    spans = _console_spans(result.stdout)
    assert sorted(s["name"] for s in spans) == [
        "chat amazon.nova-micro-v1:0",
        "chat us.anthropic.claude-3-5-sonnet-20240620-v1:0",
    ]
    for span in spans:
        assert span["kind"] == "SpanKind.CLIENT"
        assert span["attributes"]["gen_ai.provider.name"] == "aws.bedrock"
        assert span["attributes"]["gen_ai.usage.input_tokens"] == 19
