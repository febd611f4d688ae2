from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from persistence.db import create_engine
from persistence.migrate import downgrade, upgrade
from persistence.models import Base
from tests.conftest import sqlite_url
from tests.helpers import postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request, tmp_path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
    else:
        async with postgres_database() as url:
            yield url


async def _inspect(url: str, fn):
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_upgrade_downgrade_upgrade_round_trips(empty_url):
    await upgrade(empty_url)
    assert await _inspect(empty_url, _tables) == set(Base.metadata.tables)
    await downgrade(empty_url)
    assert await _inspect(empty_url, _tables) == set()
    await upgrade(empty_url)
    assert await _inspect(empty_url, _tables) == set(Base.metadata.tables)


async def test_migrated_schema_matches_the_models(empty_url):
    await upgrade(empty_url)
    assert await _inspect(empty_url, _differences) == []
