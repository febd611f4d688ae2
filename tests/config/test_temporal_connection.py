"""How the API and the worker reach Temporal: the TLS and API key of the settings, in both."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import TLSConfig

from api.temporal import TemporalGateway
from cli.worker import connect_temporal
from config.settings import Settings
from config.temporal import connection_options

CERT = "-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMC4Cclient\n-----END PRIVATE KEY-----\n"
CA = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"


def settings(**values: Any) -> Settings:
    return Settings(env="test", jwt_secret="t" * 48, temporal_namespace="nopic", **values)


def test_plaintext_when_nothing_says_otherwise_outside_production() -> None:
    assert connection_options(settings()) == {"namespace": "nopic", "tls": False, "api_key": None}


def test_mtls_gives_the_client_certificate_key_and_the_server_ca() -> None:
    # As an environment variable carries them: one line, literal \n.
    options = connection_options(
        settings(
            temporal_tls_client_cert_pem=CERT.replace("\n", "\\n"),
            temporal_tls_client_key_pem=KEY.replace("\n", "\\n"),
            temporal_tls_server_ca_pem=CA,
            temporal_tls_server_name="temporal.internal",
        )
    )
    assert options["tls"] == TLSConfig(
        server_root_ca_cert=CA.encode(),
        domain="temporal.internal",
        client_cert=CERT.encode(),
        client_private_key=KEY.encode(),
    )
    assert options["api_key"] is None


def test_an_api_key_implies_tls_with_the_systems_cas() -> None:
    options = connection_options(settings(temporal_api_key="cloud-api-key"))
    assert options["tls"] == TLSConfig()
    assert options["api_key"] == "cloud-api-key"


def test_tls_on_without_a_credential_outside_production() -> None:
    # A test server with TLS and no client authentication: allowed outside production only.
    assert connection_options(settings(temporal_tls=True))["tls"] == TLSConfig()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every Client.connect the product makes, with its arguments; none reaches a server."""
    calls: list[dict[str, Any]] = []

    async def record(target: str, **options: Any) -> Client:
        calls.append({"target": target, **options})
        raise RuntimeError("recorded, not connected")

    monkeypatch.setattr(Client, "connect", record)
    return calls


async def test_the_worker_and_the_api_connect_with_the_same_tls_and_key(
    connects: list[dict[str, Any]],
) -> None:
    given = settings(temporal_host="temporal.example.org", temporal_api_key="cloud-api-key")

    with pytest.raises(RuntimeError, match="recorded"):
        await connect_temporal(given)
    # The API tells an unreachable engine as Unavailable (503).
    with pytest.raises(Exception, match="not reachable"):
        await TemporalGateway(given).client()

    assert len(connects) == 2
    for call in connects:
        assert call["target"] == "temporal.example.org:7233"
        assert call["namespace"] == "nopic"
        assert call["tls"] == TLSConfig()
        assert call["api_key"] == "cloud-api-key"
