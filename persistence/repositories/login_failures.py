"""Failed sign-ins, counted per key ("account:<email>", "address:<host>") for the login throttle.

A row is written when an attempt begins and stays as its failure unless the attempt succeeds:
counting after the row is committed means that of many attempts at once, only as many as the
limit allows see a count within it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import LoginFailure


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class LoginFailureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, keys: Iterable[str], *, at: datetime) -> list[int]:
        """One row for each key; their ids, to take them back if the attempt succeeds."""
        rows = [{"key_hash": _hash(key), "at": at} for key in keys]
        ids = await self.session.scalars(insert(LoginFailure).returning(LoginFailure.id), rows)
        return list(ids)

    async def since(self, key: str, since: datetime) -> list[tuple[int, datetime]]:
        """The failures counted against `key` after `since`, oldest first."""
        rows = await self.session.execute(
            select(LoginFailure.id, LoginFailure.at)
            .where(LoginFailure.key_hash == _hash(key), LoginFailure.at > since)
            .order_by(LoginFailure.at, LoginFailure.id)
        )
        return [(row.id, row.at) for row in rows]

    async def forget(self, *, keys: Sequence[str] = (), ids: Sequence[int] = ()) -> None:
        """Deletes every failure of `keys` and the rows `ids`."""
        if not keys and not ids:
            return
        await self.session.execute(
            delete(LoginFailure).where(
                or_(
                    LoginFailure.key_hash.in_([_hash(key) for key in keys]),
                    LoginFailure.id.in_(ids),
                )
            )
        )

    async def prune(self, *, before: datetime) -> None:
        """Deletes the failures too old to count for anything."""
        await self.session.execute(delete(LoginFailure).where(LoginFailure.at < before))
