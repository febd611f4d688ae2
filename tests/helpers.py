"""Small helpers shared by the test packages."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from domain.model import Actor, Role
from persistence.repositories.users import UserRepository


async def actor_for(sessions: async_sessionmaker[AsyncSession], email: str) -> Actor:
    """The Actor of a (demo) user, as the API would build it after sign-in."""
    async with sessions() as session:
        user = await UserRepository(session).by_email(email)
    if user is None:
        raise LookupError(f"no user {email}")
    return Actor(user_id=user.id, role=Role(user.role), organisation_id=user.organisation_id)


POSTGRES_SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432"


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """An empty database of its own on the local PostgreSQL server, dropped afterwards."""
    name = f"nopic_test_{uuid.uuid4().hex[:12]}"
    server = create_async_engine(
        f"{POSTGRES_SERVER_URL}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with server.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield f"{POSTGRES_SERVER_URL}/{name}"
        finally:
            async with server.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await server.dispose()
