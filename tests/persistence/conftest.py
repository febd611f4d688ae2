"""Every repository test runs twice: on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.db import create_engine, create_sessionmaker
from persistence.models import AuditEvent, Certificate, ImportRequest, OutboxMessage, Task
from tests.conftest import migrate_and_seed
from tests.helpers import postgres_database

# What the tests write, children first; the demo rows of the seed stay for the next test.
WORKLOAD = (OutboxMessage, AuditEvent, Task, Certificate, ImportRequest)


@pytest.fixture(scope="session")
async def _postgres_url() -> AsyncIterator[str]:
    # One migrated and seeded database for the whole run; each test empties the workload tables.
    async with postgres_database() as url:
        await migrate_and_seed(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        url: str = request.getfixturevalue("database_url")
    else:
        url = request.getfixturevalue("_postgres_url")
    return url


@pytest.fixture
async def db(backend_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a seeded database of either backend, with no requests or certificates."""
    engine = create_engine(backend_url)
    sessions = create_sessionmaker(engine)
    try:
        yield sessions
    finally:
        if engine.dialect.name == "postgresql":
            async with sessions() as session, session.begin():
                for model in WORKLOAD:
                    await session.execute(delete(model))
        await engine.dispose()
