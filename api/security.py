"""Bearer tokens: HS256 JWTs whose subject is the user id, and the person they stand for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from config.settings import Settings
from domain.errors import Unauthorized
from domain.model import Actor, Role
from persistence.models import User

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
