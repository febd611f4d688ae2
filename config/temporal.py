"""How every process of NOP-IC reaches Temporal: the TLS and the API key its settings give.

Both the API (api.temporal) and the worker (cli.worker) connect with `connection_options`, so
neither can forget the TLS the other uses.
"""

from __future__ import annotations

from typing import TypedDict

from temporalio.service import TLSConfig

from config.settings import Settings, pem_bytes


class ConnectionOptions(TypedDict):
    namespace: str
    tls: TLSConfig | bool
    api_key: str | None


def tls_config(settings: Settings) -> TLSConfig | bool:
    """False for plaintext; else the client certificate and key (mTLS) and the server's CA and
    name when given (the system's CAs and the address's host otherwise)."""
    if not settings.temporal_tls_on:
        return False

    def optional(text: str) -> bytes | None:
        return pem_bytes(text) if text else None

    return TLSConfig(
        server_root_ca_cert=optional(settings.temporal_tls_server_ca_pem),
        domain=settings.temporal_tls_server_name or None,
        client_cert=optional(settings.temporal_tls_client_cert_pem),
        client_private_key=optional(settings.temporal_tls_client_key_pem),
    )


def connection_options(settings: Settings) -> ConnectionOptions:
    """The keyword arguments of `Client.connect` that say where and how to connect."""
    return ConnectionOptions(
        namespace=settings.temporal_namespace,
        tls=tls_config(settings),
        api_key=settings.temporal_api_key or None,
    )
