"""The time-skipping Temporal test server, once per run, and a worker of our code per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from tests.conftest import SmtpServer
from tests.workflows.support import Harness, time_skipping_server


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as environment:
        yield environment


@pytest.fixture
async def harness(
    env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> AsyncIterator[Harness]:
    """A worker on a fresh task queue, with the real activities on this test's database."""
    async with Harness.running(env, sessions, smtp_server, tmp_path) as harness:
        yield harness
