"""Bearer tokens: HS256 JWTs whose subject is the user id, and the person they stand for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from domain.errors import Unauthorized
from domain.model import Actor, Role
from persistence.models import User
from persistence.passwords import hash_password, verify_password
from persistence.repositories import UserRepository

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """The signed-in user: the domain `Actor` plus what the API shows of the person."""

    actor: Actor
    email: str
    full_name: str

    @property
    def id(self) -> str:
        return self.actor.user_id

    @property
    def role(self) -> Role:
        return self.actor.role

    @property
    def organisation_id(self) -> str | None:
        return self.actor.organisation_id

    @classmethod
    def of(cls, user: User) -> Principal:
        actor = Actor(user_id=user.id, role=Role(user.role), organisation_id=user.organisation_id)
        return cls(actor=actor, email=user.email, full_name=user.full_name)


@cache
def _decoy_hash() -> str:
    # Verifying against a decoy for unknown emails makes both refusals take the same time,
    # so the answer time does not tell which emails have accounts.
    return hash_password("decoy password that no account has")


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """The active user with this email and password; the API's token and the pages' login both
    sign in here."""
    user = await UserRepository(session).by_email(email)
    password_hash = user.password_hash if user is not None else _decoy_hash()
    valid = verify_password(password_hash, password)
    if user is None or not user.active or not valid:
        raise Unauthorized("wrong email or password", code="invalid_credentials")
    return user


def issue_token(settings: Settings, user_id: str, *, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "sub": user_id,
        "iat": issued,
        "exp": issued + timedelta(minutes=settings.jwt_ttl_minutes),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def token_subject(settings: Settings, token: str) -> str:
    """The user id a valid, unexpired token was issued to."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the token has expired", code="token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("the token is not valid", code="invalid_token") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthorized("the token is not valid", code="invalid_token")
    return subject
