"""Every call to Temporal has a timeout: no answer in time is a 503, never a hang."""

from __future__ import annotations

import time

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from cli.worker import build_worker
from config.settings import Settings
from tests.api.conftest import serve
from tests.api.flow import EXPORTER, Auth, in_review, submit


async def test_a_command_with_no_worker_running_gets_503_in_time(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    auth: Auth,
):
    impatient = settings.model_copy(update={"temporal_rpc_timeout_seconds": 1.0})
    app = create_app(impatient, sessions=sessions, temporal=temporal_client)
    async for api in serve(app):
        async with build_worker(temporal_client, impatient, sessions):
            certificate_id, _ = await in_review(api, auth)
        # The worker is gone: Temporal is up, but nobody takes the update.

        started = time.monotonic()
        response = await api.post(
            f"/api/certificates/{certificate_id}/withdraw",
            json={"reason": "too slow"},
            headers=auth(EXPORTER),
        )
        waited = time.monotonic() - started
        read = await api.get(f"/api/certificates/{certificate_id}", headers=auth(EXPORTER))

    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert waited < 5
    assert read.json()["status"] == "in_review"


async def test_a_command_before_the_workflow_started_gets_409(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    auth: Auth,
):
    # No worker at all: the request is recorded by the API but not fanned out yet.
    app = create_app(settings, sessions=sessions, temporal=temporal_client)
    async for api in serve(app):
        created = await submit(api, auth)
        certificate = created["certificates"][0]
        response = await api.post(
            f"/api/certificates/{certificate['id']}/withdraw",
            json={"reason": "too early"},
            headers=auth(EXPORTER),
        )

    assert certificate["status"] == "submitted"
    assert (response.status_code, response.json()["code"]) == (409, "invalid_state")


async def test_an_unexpected_error_is_a_500_in_the_error_shape(settings: Settings):
    app = create_app(settings)

    @app.get("/api/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as api,
    ):
        response = await api.get("/api/broken")

    assert response.status_code == 500
    assert response.json() == {"detail": "internal error", "code": "internal"}
