"""The API as production runs it: the public signing key only, never the private one; it still
publishes the key (and those it replaced) and answers verifications."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.app import create_app
from config.settings import ApiSettings
from domain.signing import generate_private_key_pem, key_id, public_key_pem
from tests.api.conftest import serve

CURRENT = public_key_pem(generate_private_key_pem())
REPLACED = public_key_pem(generate_private_key_pem())


@pytest.fixture
def settings(
    seeded_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ApiSettings:
    monkeypatch.delenv("NOPIC_SIGNING_KEY_PEM", raising=False)
    return ApiSettings(
        env="production",
        data_dir=tmp_path,
        database_url=seeded_postgres_url,
        jwt_secret="p" * 48,
        temporal_host="127.0.0.1",
        temporal_port=1,
        temporal_namespace="default",
        temporal_tls=False,
        smtp_host="127.0.0.1",
        smtp_port=1,
        smtp_tls="none",
        public_url="https://nopic.example.org",
        # One line with literal \n, as an environment variable carries it.
        signing_public_key_pem=CURRENT.decode().replace("\n", "\\n"),
        signing_previous_public_keys_pem=REPLACED.decode(),
    )


async def test_the_api_publishes_the_public_key_without_the_private(settings: ApiSettings) -> None:
    assert not settings.signing_key_pem
    async for http in serve(create_app(settings)):
        response = await http.get("/api/keys/signing")
    assert response.status_code == 200
    assert response.json() == {
        "algorithm": "Ed25519",
        "key_id": key_id(CURRENT),
        "public_key_pem": CURRENT.decode(),
        "previous": [
            {
                "algorithm": "Ed25519",
                "key_id": key_id(REPLACED),
                "public_key_pem": REPLACED.decode(),
            }
        ],
    }
    # Production never makes a key of its own, in the data folder or elsewhere.
    assert not settings.signing_key_path.exists()


async def test_the_api_answers_verifications_without_the_private_key(settings: ApiSettings) -> None:
    async for http in serve(create_app(settings)):
        response = await http.get(
            "/api/verify/555-5550000001-000001", params={"code": "NOSUCHCODE"}
        )
    # The database was asked (PostgreSQL, as production): no such certificate, nothing told.
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
