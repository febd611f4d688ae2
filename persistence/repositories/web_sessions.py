"""Sessions of the web pages: started at sign-in, read on every page, ended at logout."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import User, WebSession


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StartedSession:
    token: str  # what the cookie carries; never stored
    csrf_token: str


@dataclass(frozen=True)
class LiveSession:
    user: User
    csrf_token: str


class WebSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def start(self, user_id: str, *, now: datetime, lifetime: timedelta) -> StartedSession:
        token = secrets.token_urlsafe(32)
        csrf_token = secrets.token_urlsafe(32)
        self.session.add(
            WebSession(
                token_hash=_hash(token),
                user_id=user_id,
                csrf_token=csrf_token,
                created_at=now,
                expires_at=now + lifetime,
                ended_at=None,
            )
        )
        await self.session.flush()
        return StartedSession(token=token, csrf_token=csrf_token)

    async def live(self, token: str, *, now: datetime) -> LiveSession | None:
        """The session of `token` while it runs: not ended, not expired, its user active."""
        row = await self.session.execute(
            select(WebSession.csrf_token, User)
            .join(User, User.id == WebSession.user_id)
            .where(
                WebSession.token_hash == _hash(token),
                WebSession.ended_at.is_(None),
                WebSession.expires_at > now,
                User.active,
            )
        )
        found = row.one_or_none()
        return None if found is None else LiveSession(user=found[1], csrf_token=found[0])

    async def end(self, token: str, *, now: datetime) -> None:
        await self.session.execute(
            update(WebSession)
            .where(WebSession.token_hash == _hash(token), WebSession.ended_at.is_(None))
            .values(ended_at=now)
        )
