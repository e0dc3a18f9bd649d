"""Client TLS settings (the Go collector's configtls client keys) for gRPC and HTTP clients."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc


@dataclass
class ClientTLSConfig:
    # Plaintext gRPC (no TLS at all); an `http://` endpoint means the same.
    insecure: bool = False
    # TLS without verifying the server's certificate.
    insecure_skip_verify: bool = False
    # CA bundle to verify the server with; empty means the system roots.
    ca_file: str = ""
    # Client certificate and key, for mutual TLS.
    cert_file: str = ""
    key_file: str = ""
    server_name_override: str = ""

    def validate(self) -> None:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("tls: both cert_file and key_file must be set for client TLS")


def grpc_credentials(tls: ClientTLSConfig) -> grpc.ChannelCredentials:
    """Channel credentials for a TLS gRPC connection (blocking: reads the files)."""

    def read(path: str) -> bytes | None:
        return Path(path).read_bytes() if path else None

    return grpc.ssl_channel_credentials(
        root_certificates=read(tls.ca_file),
        private_key=read(tls.key_file),
        certificate_chain=read(tls.cert_file),
    )


def ssl_context(tls: ClientTLSConfig) -> ssl.SSLContext:
    """An SSL context for HTTPS clients (blocking: reads the files)."""
    context = ssl.create_default_context(cafile=tls.ca_file or None)
    if tls.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.cert_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context
