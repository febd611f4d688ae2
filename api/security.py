"""Bearer tokens: HS256 JWTs whose subject is the user id, and the person they stand for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from api.throttle import LoginThrottle
from config.settings import Settings
from domain.errors import Unauthorized
from domain.model import Actor, Role
from persistence.models import User
from persistence.passwords import check_password
from persistence.repositories import UserRepository

ALGORITHM = "HS256"
# Who signs the tokens and whom they are for: a token of another service sharing the secret by
# mistake (or of a later, different kind of NOP-IC token) is not taken for a bearer token.
ISSUER = "nopic"
AUDIENCE = "nopic-api"


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


async def authenticate(
    session: AsyncSession,
    email: str,
    password: str,
    *,
    throttle: LoginThrottle,
    address: str | None,
) -> User:
    """The active user with this email and password; the API's token and the pages' login both
    sign in here. Refuses with 429 (TooManyAttempts) an email or an address that failed too
    often of late, the same for an email that no account has.

    Commits `session` before the password is checked: the attempt is counted whatever comes of
    it, and no database connection is held while the check waits for its turn."""
    attempt = await throttle.admit(session, email, address, now=datetime.now(UTC))
    user = await UserRepository(session).by_email(email)
    await session.commit()
    # Unknown emails are checked against a decoy: both refusals take the same time.
    valid = await check_password(user.password_hash if user is not None else None, password)
    if user is None or not user.active or not valid:
        raise Unauthorized("wrong email or password", code="invalid_credentials")
    await throttle.succeeded(session, attempt)
    return user


async def principal_of(session: AsyncSession, user_id: str) -> Principal:
    """The person a valid token names, read on every request: a user disabled or removed since
    the token was issued is refused at once, not when the token expires."""
    user = await UserRepository(session).by_id(user_id)
    if user is None or not user.active:
        raise Unauthorized("the token is not valid", code="invalid_token")
    return Principal.of(user)


def issue_token(settings: Settings, user_id: str, *, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "sub": user_id,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + timedelta(minutes=settings.jwt_ttl_minutes),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def token_subject(settings: Settings, token: str) -> str:
    """The user id a valid, unexpired token was issued to, by us and for this API."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["sub", "iss", "aud", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the token has expired", code="token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("the token is not valid", code="invalid_token") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthorized("the token is not valid", code="invalid_token")
    return subject
