"""Sessions for reads only, and the pool's check of a connection before it is handed out."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from persistence.db import ReadOnlySession, create_engine, reading_sessions
from persistence.models import User
from persistence.seed import demo_user_id
from tests.helpers import postgres_database

EXPORTER = "exporter@demo.test"


async def test_a_reading_session_reads_and_refuses_every_write(
    db: async_sessionmaker[AsyncSession],
) -> None:
    reading = reading_sessions(db)
    async with reading() as session:
        user = await session.get(User, demo_user_id(EXPORTER))
        assert user is not None
        assert user.active
        assert await session.scalar(select(User.email).where(User.id == user.id)) == EXPORTER
        with pytest.raises(ReadOnlySession):
            await session.execute(update(User).where(User.id == user.id).values(active=False))
        user.full_name = "Someone else"
        with pytest.raises(ReadOnlySession):
            await session.flush()
    async with db() as session:
        unchanged = await session.get(User, demo_user_id(EXPORTER))
        assert unchanged is not None
        assert unchanged.active
        assert unchanged.full_name != "Someone else"


async def test_a_reading_session_runs_each_statement_on_its_own() -> None:
    """No BEGIN: on PostgreSQL each statement is a transaction of its own, so `now()`, the time
    its transaction began, moves from one statement to the next."""
    async with postgres_database() as url:
        engine = create_engine(url)
        try:
            reading = reading_sessions(async_sessionmaker(engine, expire_on_commit=False))
            async with reading() as session:
                first = await session.scalar(select(text("now()")))
                await asyncio.sleep(0.01)
                second = await session.scalar(select(text("now()")))
            assert first is not None
            assert second is not None
            assert second > first
        finally:
            await engine.dispose()


async def test_a_pooled_connection_the_server_dropped_is_replaced_before_use() -> None:
    async with postgres_database() as url:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        server = create_engine(url, poolclass=NullPool, pool_pre_ping=False)
        try:
            async with engine.connect() as connection:
                dropped = await connection.scalar(text("SELECT pg_backend_pid()"))
            async with server.connect() as connection:
                await connection.execute(
                    text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped}
                )
            # The one pooled connection is dead: the check on checkout finds it, the pool
            # connects anew, and the statement runs as if nothing happened.
            async with engine.connect() as connection:
                replacement = await connection.scalar(text("SELECT pg_backend_pid()"))
            assert replacement != dropped
            async with engine.connect() as connection:
                assert await connection.scalar(text("SELECT pg_backend_pid()")) == replacement
        finally:
            await engine.dispose()
            await server.dispose()
