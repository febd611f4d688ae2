"""Users, looked up for sign-in and as mail recipients."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import Role
from domain.text import first_unprintable
from persistence.models import User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_email(self, email: str) -> User | None:
        # PostgreSQL refuses a NUL in a query, and no account's address has a character that is
        # not printable: such an address is no one's.
        if first_unprintable(email) is not None:
            return None
        return await self.session.scalar(
            select(User).where(func.lower(User.email) == email.strip().lower())
        )

    async def by_id(self, user_id: str) -> User | None:
        return await self.session.get(User, user_id)

    async def recipients(self, organisation_id: str, role: Role) -> list[str]:
        rows = await self.session.scalars(
            select(User.email)
            .where(User.organisation_id == organisation_id, User.role == role, User.active)
            .order_by(User.email)
        )
        return list(rows.all())

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(User)) or 0)
