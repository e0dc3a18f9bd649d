"""moto in server mode on 127.0.0.1 and a free port: real botocore over real HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from support.ports import free_port

REGION = "us-east-1"


@dataclass
class MotoServer:
    endpoint_url: str
    region: str = REGION

    def client(self, service: str, **kwargs: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **kwargs,
        )

    def reset(self) -> None:
        import urllib.request

        req = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    """Start moto's threaded server, emptied; boto3 credentials are set in the environment too."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ.setdefault(key, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    moto = MotoServer(endpoint_url=f"http://127.0.0.1:{port}")
    # moto's backends are process-wide: start every server empty.
    moto.reset()
    try:
        yield moto
    finally:
        server.stop()
