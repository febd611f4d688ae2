"""What every page answers, in process: the headers, and refusals and outages as pages with
the API's status."""

from __future__ import annotations

from pathlib import Path

import httpx
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from persistence.db import create_engine, create_sessionmaker
from tests.api.conftest import serve


async def test_pages_allow_only_own_scripts_no_framing_and_no_referrer(api: httpx.AsyncClient):
    login = await api.get("/")

    assert login.status_code == 200
    assert login.headers["content-type"].startswith("text/html")
    policy = login.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert login.headers["referrer-policy"] == "no-referrer"
    assert login.headers["cache-control"] == "no-store"
    stylesheet = await api.get("/static/pico.classless.min.css")
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")


async def test_a_verification_without_its_code_is_a_422_page(api: httpx.AsyncClient):
    response = await api.get("/verify/555-5550000001-000001")

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "Something is missing" in response.text
    assert "code" in response.text


async def test_an_unknown_number_or_code_is_a_404_page_that_says_not_valid(
    api: httpx.AsyncClient,
):
    response = await api.get("/verify/555-5550000001-000001", params={"code": "<b>guess</b>"})

    assert response.status_code == 404
    assert "Not valid" in response.text
    assert "<b>guess</b>" not in response.text


async def test_a_database_that_does_not_answer_is_a_503_page(
    settings: Settings, temporal_client: Client, tmp_path: Path
):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'nopic.db'}")
    app = create_app(settings, sessions=create_sessionmaker(engine), temporal=temporal_client)
    async for api in serve(app):
        response = await api.get("/verify/555-5550000001-000001", params={"code": "ABC"})
    await engine.dispose()

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == "1"
    assert "the database did not answer in time" in response.text
