"""The API under test: in-process over ASGI, with a real Temporal dev server, worker and SMTP."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.security import issue_token
from cli.dev import REPORTED_PROBLEMS_AFTER
from cli.worker import build_worker
from config.settings import Settings
from persistence.seed import demo_user_id
from tests.conftest import SmtpServer
from workflows.contracts import SEARCH_ATTRIBUTES


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
        # The server marks a workflow whose workflow task failed twice in a row (the
        # `TemporalReportedProblems` search attribute), as `nopic dev` configures it.
        dev_server_extra_args=["--dynamic-config-value", REPORTED_PROBLEMS_AFTER],
    )
    async with env:
        yield env


@pytest.fixture
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


def settings_for(
    database_url: str, data_dir: Path, *, temporal_address: str, smtp: SmtpServer | None = None
) -> Settings:
    host, port = temporal_address.rsplit(":", 1)
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        jwt_secret="api-tests-secret-that-is-long-enough-for-hs256",
        temporal_host=host,
        temporal_port=int(port),
        temporal_task_queue=f"api-{uuid.uuid4()}",
        temporal_rpc_timeout_seconds=5,
        smtp_host=smtp.host if smtp else "127.0.0.1",
        smtp_port=smtp.port if smtp else 1,
    )


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, temporal_client: Client, smtp_server: SmtpServer
) -> Settings:
    address = temporal_client.service_client.config.target_host
    return settings_for(database_url, tmp_path, temporal_address=address, smtp=smtp_server)


@pytest.fixture
async def worker(
    temporal_client: Client, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    async with build_worker(temporal_client, settings, sessions):
        yield


async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # httpx's ASGI transport sends no lifespan events: run the app's lifespan around it.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield http


@pytest.fixture
async def api(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], temporal_client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    """The API, without a worker: enough for everything that does not reach a workflow."""
    async for http in serve(create_app(settings, sessions=sessions, temporal=temporal_client)):
        yield http


@pytest.fixture
async def live_api(api: httpx.AsyncClient, worker: None) -> httpx.AsyncClient:  # noqa: ARG001
    """The API with a worker of its own task queue running the real workflows."""
    return api


@pytest.fixture
def auth(settings: Settings) -> Callable[[str], dict[str, str]]:
    """Bearer headers of a demo user, signed as `POST /api/auth/token` would sign them."""

    def headers(email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(settings, demo_user_id(email))}"}

    return headers
