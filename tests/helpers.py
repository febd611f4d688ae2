"""Small helpers shared by the test packages."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import Actor, Role
from persistence.repositories.users import UserRepository


async def actor_for(sessions: async_sessionmaker[AsyncSession], email: str) -> Actor:
    """The Actor of a (demo) user, as the API would build it after sign-in."""
    async with sessions() as session:
        user = await UserRepository(session).by_email(email)
    if user is None:
        raise LookupError(f"no user {email}")
    return Actor(user_id=user.id, role=Role(user.role), organisation_id=user.organisation_id)
