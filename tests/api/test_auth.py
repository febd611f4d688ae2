"""Sign-in, bearer tokens and /api/me."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.security import issue_token
from config.settings import Settings
from persistence.seed import demo_user_id
from tests.api.flow import ADMIN, CERTIFIER, EXPORTER, IMPORTER, OTHER_CERTIFIER

EXPECTED_ORGANISATIONS = {
    EXPORTER: ("exporter", {"id": "5550000001", "name": "Andes Organic Exports"}),
    CERTIFIER: ("certifier", {"id": "555", "name": "Demo Organic Certifiers"}),
    IMPORTER: ("importer", {"id": "5550000002", "name": "Pacific Organic Imports"}),
    OTHER_CERTIFIER: ("certifier", {"id": "777", "name": "Other Certification Body"}),
    ADMIN: ("admin", None),
}


async def sign_in(api: httpx.AsyncClient, email: str, password: str = "demo") -> httpx.Response:
    return await api.post("/api/auth/token", data={"username": email, "password": password})


@pytest.mark.parametrize("email", list(EXPECTED_ORGANISATIONS))
async def test_each_role_signs_in_and_reads_itself(
    api: httpx.AsyncClient, settings: Settings, email: str
):
    response = await sign_in(api, email)
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == settings.jwt_ttl_minutes * 60

    me = await api.get("/api/me", headers={"Authorization": f"Bearer {token['access_token']}"})

    assert me.status_code == 200, me.text
    body = me.json()
    role, organisation = EXPECTED_ORGANISATIONS[email]
    assert (body["id"], body["email"], body["role"]) == (demo_user_id(email), email, role)
    if organisation is None:
        assert body["organisation"] is None
    else:
        assert {k: body["organisation"][k] for k in ("id", "name")} == organisation
        assert body["organisation"]["kind"] in ("certifier", "operation")


async def test_email_is_matched_without_regard_to_case(api: httpx.AsyncClient):
    assert (await sign_in(api, "Exporter@Demo.Test")).status_code == 200


@pytest.mark.parametrize(
    ("email", "password"), [(EXPORTER, "not-demo"), ("nobody@demo.test", "demo")]
)
async def test_wrong_password_or_unknown_email_gets_401(
    api: httpx.AsyncClient, email: str, password: str
):
    response = await sign_in(api, email, password)

    assert response.status_code == 401
    assert response.json() == {"detail": "wrong email or password", "code": "invalid_credentials"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_no_token_gets_401(api: httpx.AsyncClient):
    response = await api.get("/api/me")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_expired_token_gets_401(api: httpx.AsyncClient, settings: Settings):
    long_ago = datetime.now(UTC) - timedelta(minutes=settings.jwt_ttl_minutes + 1)
    token = issue_token(settings, demo_user_id(EXPORTER), now=long_ago)

    response = await api.get("/api/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        # Signed with another secret.
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ."
        "c2lnbmF0dXJlLW9mLWFub3RoZXItc2VjcmV0",
    ],
)
async def test_invalid_token_gets_401(api: httpx.AsyncClient, token: str):
    response = await api.get("/api/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_token_of_an_unknown_user_gets_401(api: httpx.AsyncClient, settings: Settings):
    token = issue_token(settings, "no-such-user")

    response = await api.get("/api/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
