"""The routes that only read run without a transaction (api.deps.reads_only), and are as strict."""

from __future__ import annotations

import pkgutil
from collections.abc import Callable
from importlib import import_module

import httpx
from fastapi.routing import APIRoute
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import api.routers
from api.deps import reading_route
from persistence.models import User
from persistence.seed import demo_user_id

CERTIFIER = "certifier@demo.test"
# The reads `nopic bench queue` times, its SQL side in sessions without a transaction.
BENCHED = {
    "/api/tasks",
    "/api/certificates",
    "/api/certificates/{certificate_id}/events",
    "/api/admin/stats",
}


def test_only_get_operations_read_without_a_transaction() -> None:
    routers = (
        import_module(f"api.routers.{module.name}").router
        for module in pkgutil.iter_modules(api.routers.__path__)
    )
    reading = {
        route.path: set(route.methods or ())
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and reading_route(route)
    }
    assert set(reading) >= BENCHED
    assert all(methods == {"GET"} for methods in reading.values())


async def test_a_disabled_user_is_refused_at_once_on_a_route_that_only_reads(
    api: httpx.AsyncClient,
    auth: Callable[[str], dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers = auth(CERTIFIER)
    assert (await api.get("/api/tasks", headers=headers)).status_code == 200
    async with sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.id == demo_user_id(CERTIFIER)).values(active=False)
        )
    refused = await api.get("/api/tasks", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
