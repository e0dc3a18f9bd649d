"""The aiohttp application: Bedrock Runtime's four operations and the /_control/ API.

SigV4 headers are accepted and not verified. Errors use the restJson1 wire format
(`x-amzn-errortype` + `{"message": ...}`); streams use AWS event-stream framing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from routewatch.collector.confmap import decode
from routewatch.collector.devservers.bedrock import converse, eventstream
from routewatch.collector.devservers.bedrock.families import Family, family_of, malformed
from routewatch.collector.devservers.bedrock.faults import Fault, ServiceError
from routewatch.collector.devservers.bedrock.generation import Generation, Prompt
from routewatch.collector.devservers.bedrock.state import (
    Behaviour,
    Incident,
    Plan,
    RequestRecord,
    ServerState,
)
from routewatch.collector.errors import ConfigError

EVENTSTREAM = "application/vnd.amazon.eventstream"


def _json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ServiceError.of("validation") from None
    if not isinstance(body, dict):
        raise malformed("#: expected type: JSONObject")
    return body


def _error_response(err: ServiceError, request_id: str) -> web.Response:
    return web.Response(status=err.status, body=err.body(), headers=err.headers(request_id))


def _invocation_metrics(gen: Generation) -> dict[str, int]:
    return {
        "inputTokenCount": gen.input_tokens,
        "outputTokenCount": gen.output_tokens,
        "invocationLatency": gen.latency_ms,
        "firstByteLatency": gen.latency_ms,
    }


def _padded(payload: dict[str, Any]) -> bytes:
    # Bedrock pads stream payloads with a "p" member so sizes do not leak the text; botocore
    # ignores it. Kept so clients are exercised against what the real service sends.
    return json.dumps(
        payload | {"p": "abcdefghijklmnopqrstuvwxyz"[: 1 + len(payload) % 26]}
    ).encode()


def _converse_frames(gen: Generation, family: Family) -> list[bytes]:
    return [eventstream.event(name, _padded(payload)) for name, payload in converse.events(gen)]


def _invoke_frames(gen: Generation, family: Family) -> list[bytes]:
    chunks = family.chunks(gen)
    chunks[-1] = chunks[-1] | {"amazon-bedrock-invocationMetrics": _invocation_metrics(gen)}
    return [
        eventstream.event(
            "chunk",
            json.dumps({"bytes": base64.b64encode(json.dumps(chunk).encode()).decode()}).encode(),
        )
        for chunk in chunks
    ]


Finish = Callable[[int, str | None], None]


class _Handlers:
    def __init__(self, state: ServerState) -> None:
        self.state = state

    async def serve(self, request: web.Request, operation: str) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        model_id = request.match_info["model_id"]
        raw = await request.read()
        plan = self.state.plan(operation, model_id)
        gen: Generation | None = None
        prompt: Prompt | None = None
        recorded = False

        def finish(status: int, error: str | None) -> None:
            # Called before the client can see the end of the answer, so that a test reading
            # the log right after its call finds the request there.
            nonlocal recorded
            if recorded:
                return
            recorded = True
            self.state.record(
                RequestRecord(
                    operation=operation,
                    model_id=model_id,
                    status=status,
                    error=error,
                    delay=plan.delay,
                    fault=plan.fault.kind if plan.fault else None,
                    input_tokens=gen.input_tokens if gen else 0,
                    output_tokens=gen.output_tokens if gen else 0,
                    max_tokens=prompt.max_tokens if prompt else None,
                    temperature=prompt.temperature if prompt else None,
                )
            )

        try:
            if plan.delay:
                await asyncio.sleep(plan.delay)
            if plan.fault is not None and plan.fault.kind != "stream_break":
                raise plan.fault.error()
            family = family_of(model_id)
            body = _json_body(raw)
            prompt = (
                converse.parse(body) if operation.startswith("converse") else family.parse(body)
            )
            gen = plan.generation(request_id, model_id, prompt)
            if operation == "converse":
                finish(200, None)
                return web.json_response(
                    converse.response(gen), headers={"x-amzn-RequestId": request_id}
                )
            if operation == "invoke":
                finish(200, None)
                return self._invoke_response(gen, family, request_id)
            frames = (_converse_frames if operation == "converse-stream" else _invoke_frames)(
                gen, family
            )
            return await self._stream(request, frames, plan, request_id, finish)
        except ServiceError as err:
            finish(err.status, err.code)
            return _error_response(err, request_id)
        finally:
            finish(200, "stream_aborted")  # a no-op unless the stream ended abnormally

    def _invoke_response(self, gen: Generation, family: Family, request_id: str) -> web.Response:
        return web.Response(
            body=json.dumps(family.body(gen)).encode(),
            content_type="application/json",
            headers={
                "x-amzn-RequestId": request_id,
                "X-Amzn-Bedrock-Input-Token-Count": str(gen.input_tokens),
                "X-Amzn-Bedrock-Output-Token-Count": str(gen.output_tokens),
                "X-Amzn-Bedrock-Invocation-Latency": str(gen.latency_ms),
            },
        )

    async def _stream(
        self,
        request: web.Request,
        frames: list[bytes],
        plan: Plan,
        request_id: str,
        finish: Finish,
    ) -> web.StreamResponse:
        """Write the frames with the configured spacing; a `stream_break` fault ends the
        stream early with an exception event or a cut connection."""
        response = web.StreamResponse(
            headers={
                "Content-Type": EVENTSTREAM,
                "x-amzn-RequestId": request_id,
                "X-Amzn-Bedrock-Content-Type": "application/json",
            }
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        fault = plan.fault
        for i, frame in enumerate(frames):
            if fault is not None and i == fault.after_chunks:
                await self._break(request, response, fault, finish)
                return response
            if i:
                interval = plan.chunk_interval.sample()
                if interval:
                    await asyncio.sleep(interval)
            if i == len(frames) - 1:
                finish(200, None)
            await response.write(frame)
        await response.write_eof()
        return response

    async def _break(
        self, request: web.Request, response: web.StreamResponse, fault: Fault, finish: Finish
    ) -> None:
        if fault.mode == "cut":
            finish(200, "connection_cut")
            # Close without the terminating zero-length chunk: the client sees a truncated body.
            if request.transport is not None:
                request.transport.close()
            return
        finish(200, fault.stream_exception)
        message = fault.message or "The stream was interrupted by an injected fault."
        payload: dict[str, Any] = {"message": message}
        if fault.stream_exception == "modelStreamErrorException":
            payload |= {"originalStatusCode": 500, "originalMessage": message}
        await response.write(
            eventstream.exception(fault.stream_exception, json.dumps(payload).encode())
        )
        await response.write_eof()


def _control_error(message: str) -> web.Response:
    return web.json_response({"message": message}, status=400)


async def _control_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"message": "body is not JSON"}), content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"message": "body must be a JSON object"}),
            content_type="application/json",
        )
    return body


def _control_routes(state: ServerState) -> list[web.RouteDef]:
    """The control API: the same operations as ServerState's Python methods."""

    def handler(
        action: Callable[[dict[str, Any]], Any],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            body = await _control_body(request)
            try:
                result = action(body)
            except (ConfigError, ValueError, TypeError) as err:
                return _control_error(str(err))
            return web.json_response(result if result is not None else {"ok": True})

        return handle

    def inject(body: dict[str, Any]) -> dict[str, Any]:
        return asdict(state.inject(decode(Fault, body, "fault")))

    def incident(body: dict[str, Any]) -> dict[str, Any]:
        value = decode(Incident, body, "incident")
        state.start_incident(value)
        return asdict(value)

    def configure(body: dict[str, Any]) -> dict[str, Any]:
        merged = decode(Behaviour, body, "behaviour", base=state.behaviour)
        return asdict(state.configure(**asdict(merged)))

    return [
        web.post("/_control/faults", handler(inject)),
        web.delete("/_control/faults", handler(lambda _: state.clear_faults())),
        web.post("/_control/incident", handler(incident)),
        web.delete("/_control/incident", handler(lambda _: state.end_incident())),
        web.patch("/_control/behaviour", handler(configure)),
        web.post("/_control/reset", handler(lambda _: state.reset())),
        web.get("/_control/stats", handler(lambda _: state.stats())),
        web.get(
            "/_control/requests",
            handler(lambda _: {"requests": [asdict(r) for r in state.records()]}),
        ),
    ]


def create_app(state: ServerState) -> web.Application:
    app = web.Application(client_max_size=20 * 1024 * 1024)
    handlers = _Handlers(state)

    def route(operation: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await handlers.serve(request, operation)

        return handle

    # Model ids arrive percent-encoded (`:` and, in ARNs, `/`): match anything up to the verb.
    app.add_routes(
        [
            web.post(r"/model/{model_id:.+}/converse", route("converse")),
            web.post(r"/model/{model_id:.+}/converse-stream", route("converse-stream")),
            web.post(r"/model/{model_id:.+}/invoke", route("invoke")),
            web.post(
                r"/model/{model_id:.+}/invoke-with-response-stream",
                route("invoke-with-response-stream"),
            ),
            *_control_routes(state),
        ]
    )
    return app
