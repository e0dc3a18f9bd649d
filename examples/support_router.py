"""A small support router of the shape routewatch instruments: a response cache in front of a
direct Amazon Bedrock call. Nothing here knows about OpenTelemetry; run it under
`opentelemetry-instrument` with the router and the cache declared in the environment (see the
README, "Instrument an existing app")."""

from __future__ import annotations

import os

import boto3

MODEL_ID = "amazon.nova-lite-v1:0"


class Router:
    def __init__(self) -> None:
        # BEDROCK_ENDPOINT_URL points the example at a local Bedrock-compatible server.
        self._bedrock = boto3.client(
            "bedrock-runtime",
            endpoint_url=os.environ.get("BEDROCK_ENDPOINT_URL"),
            region_name=os.environ.get("AWS_REGION", "us-east-1"),
        )
        self._answers: dict[str, str] = {}

    def lookup(self, question: str) -> str | None:
        """The cache: a hit returns the stored answer, a miss None."""
        return self._answers.get(question)

    def handle(self, request: dict[str, str]) -> str:
        cached = self.lookup(request["question"])
        if cached is not None:
            return cached
        response = self._bedrock.converse(
            modelId=MODEL_ID,
            messages=[{"role": "user", "content": [{"text": request["question"]}]}],
            inferenceConfig={"maxTokens": 256},
        )
        answer = str(response["output"]["message"]["content"][0]["text"])
        self._answers[request["question"]] = answer
        return answer
