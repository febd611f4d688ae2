"""Ids in the path, query values, cursors and sign-in names that are not printable get a 4xx,
never the 500 that PostgreSQL's refusal of a NUL would make: on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.security import issue_token
from persistence.seed import demo_user_id
from tests.api.conftest import serve, settings_for
from tests.api.flow import CERTIFIER, EXPORTER
from tests.conftest import free_port

NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_api(
    request: pytest.FixtureRequest, database_url: str, seeded_postgres_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, dict[str, str]]]]:
    """The API on either database, without Temporal: nothing here reaches a workflow."""
    url = database_url if request.param == "sqlite" else seeded_postgres_url
    settings = settings_for(url, tmp_path, temporal_address=f"127.0.0.1:{free_port()}")
    headers = {
        email: {"Authorization": f"Bearer {issue_token(settings, demo_user_id(email))}"}
        for email in (EXPORTER, CERTIFIER)
    }
    async for http in serve(create_app(settings)):
        yield http, headers


def forged_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        ("GET", "/api/certificates/a%00b", "certificate_id"),
        ("GET", "/api/certificates/a%E2%80%AEb/events", "certificate_id"),
        ("GET", f"/api/certificates/{'x' * 1001}", "certificate_id"),
        ("GET", "/api/certificates?q=L-2026%00", "q"),
        ("GET", "/api/certificates?hts_code=0804%0A", "hts_code"),
        ("GET", "/api/requests/%E2%80%8B", "request_id"),
        ("POST", "/api/tasks/%00/claim", "task_id"),
        ("GET", "/api/verify/555-%00?code=ABC", "number"),
        ("GET", "/api/verify/555-5550000001-000001?code=%E2%80%A8", "code"),
    ],
)
async def test_an_unprintable_id_or_query_value_gets_422_naming_it(
    any_api: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
    method: str,
    url: str,
    field: str,
):
    api, headers = any_api

    response = await api.request(method, url, headers=headers[CERTIFIER])

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert response.json()["detail"].startswith(f"{field}: ")


async def test_a_forged_cursor_carrying_a_nul_is_refused(
    any_api: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
):
    api, headers = any_api

    for url in ("/api/certificates", "/api/tasks", f"/api/certificates/{NO_SUCH_ID}/events"):
        cursor = forged_cursor("2026-11-05T10:00:00+00:00", "x\x00")
        response = await api.get(url, params={"cursor": cursor}, headers=headers[CERTIFIER])

        assert response.status_code in (404, 422), (url, response.text)
        assert response.json()["code"] in ("invalid_cursor", "not_found", "certificate_not_found")


async def test_a_sign_in_name_that_is_not_printable_is_no_one(
    any_api: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
):
    api, _ = any_api

    for username in ("exporter@demo.test\x00", "\u202eexporter@demo.test"):
        response = await api.post(
            "/api/auth/token", data={"username": username, "password": "demo"}
        )

        assert response.status_code == 401, response.text
        assert response.json()["code"] == "invalid_credentials"


async def test_parameters_an_operation_does_not_take_are_not_judged(
    any_api: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
):
    api, headers = any_api

    me = await api.get("/api/me?unused=%00", headers=headers[EXPORTER])
    missing = await api.get(f"/api/certificates/{NO_SUCH_ID}", headers=headers[EXPORTER])

    assert me.status_code == 200, me.text
    assert missing.status_code == 404, missing.text
