"""Dependencies of the routes, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Query, Request
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.security import Principal, principal_of, token_subject
from api.temporal import TemporalGateway
from api.throttle import LoginThrottle
from config.settings import Settings
from domain.errors import Unauthorized
from persistence.repositories.pagination import MAX_LIMIT

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


@asynccontextmanager
async def request_session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """The session a request works in (`nopic bench queue` opens its own the same way): one
    transaction, committed when the block ends, rolled back if it raises."""
    async with sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


# The endpoints of the routes that only read (`reads_only`).
_READING_ENDPOINTS: set[Callable[..., Any]] = set()
E = TypeVar("E", bound=Callable[..., Any])


def reads_only(endpoint: E) -> E:
    """Marks a route whose request only reads: its session runs each statement without a
    transaction of its own (persistence.db.reading_sessions), two round trips fewer, and refuses
    a write. Put it under the route's decorator: `@router.get(...)`, then `@reads_only`."""
    _READING_ENDPOINTS.add(endpoint)
    return endpoint


def reading_route(route: object) -> bool:
    """Whether `route` is an operation marked `reads_only`."""
    return isinstance(route, APIRoute) and route.endpoint in _READING_ENDPOINTS


def request_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """Where the request's session comes from: for a route marked `reads_only`, sessions for
    reads only; for any other, the app's sessions."""
    if reading_route(request.scope.get("route")):
        reading: async_sessionmaker[AsyncSession] = request.app.state.reading_sessions
        return reading
    return get_sessions(request)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back if it raises
    (a route that only reads has no transaction to commit: `reads_only`)."""
    async with request_session(request_sessions(request)) as session:
        yield session


async def get_temporal(request: Request) -> TemporalGateway:
    gateway: TemporalGateway = request.app.state.temporal
    return gateway


# Dependencies that only read the app's state are coroutines: FastAPI runs a plain function in
# its thread pool, a hop to another thread and back on every request for nothing.
SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the commit happens before the response is sent, so a client that got a
# 2xx can read what it wrote, and a failing commit is reported instead of swallowed.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
TemporalDep = Annotated[TemporalGateway, Depends(get_temporal)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
# Every list: how many items a page holds at most, and where the previous page ended.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


async def get_current_user(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    settings: SettingsDep,
    session: SessionDep,
) -> Principal:
    if not token:
        raise Unauthorized("not authenticated", code="not_authenticated")
    return await principal_of(session, token_subject(settings, token))


CurrentUser = Annotated[Principal, Depends(get_current_user)]


async def get_login_throttle(settings: SettingsDep) -> LoginThrottle:
    return LoginThrottle.of(settings)


async def get_client_address(request: Request) -> str | None:
    """The client's address as uvicorn gives it: behind a proxy, the proxy's, unless uvicorn
    runs with `--proxy-headers` and `--forwarded-allow-ips` naming that proxy."""
    return request.client.host if request.client is not None else None


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
ClientAddress = Annotated[str | None, Depends(get_client_address)]
