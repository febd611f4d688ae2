"""The time-skipping Temporal test server, once per run, and a worker of our code per test."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.conftest import SmtpServer
from tests.workflows.support import Harness
from workflows.contracts import SEARCH_ATTRIBUTES


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
    )
    await environment.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=environment.client.namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in SEARCH_ATTRIBUTES
            },
        )
    )
    yield environment
    await environment.shutdown()


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
